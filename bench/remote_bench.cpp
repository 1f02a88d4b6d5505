// remote_bench: the chain and fan-out workloads of jamjet_bench with the
// handlers in separate worker processes over loopback.
//
// The benchmark process is a scheduler only (`worker_slots = 0`, listening
// on 127.0.0.1, an SQLite FULL store by default). It starts N worker
// processes of the `jamjet` CLI,
//
//   jamjet worker --connect 127.0.0.1:PORT --slots S --name bench-K
//
// waits until every one of them has run a node, then runs the workloads with
// nodes of kind `noop` (the built-in handler the workers have; it runs
// inline on the worker actor and returns `{}`):
//
//   w1 "chain"   one execution of n0000 -> n0001 -> ... -> n(N-1) -> end
//   w2 "fanout"  M executions of start -> m1..mW -> join -> end, started
//                back to back
//
// What is measured. The handlers run in other processes, so their own
// instants cannot be read as jamjet_bench reads them. Instead the store is
// wrapped: every transaction is timed (steady_clock, which is the same clock
// in every process of the machine) and the events it commits are noted. Per
// node that gives these instants on the scheduler:
//
//   sched_in / sched_out  the transaction carrying its NodeScheduled (and its
//                         work item) begins / is durable; the item is handed
//                         to a worker right after sched_out
//   lease_in / lease_out  the transaction carrying its NodeStarted and lease
//                         (a lazy command: it normally rides along with the
//                         completion's transaction)
//   done_in / done_out    the transaction carrying its NodeCompleted begins
//                         (the worker's result has just arrived) / is durable
//
// Hop latency (chain) = done_in(k) - done_in(k-1): from the moment node
// k-1's result reaches the scheduler to the moment node k's does. That is
// jamjet_bench's hop (a handler's end to its successor's start) plus node
// k's handler time (microseconds for a noop) plus the difference of the two
// results' delivery delays (which cancel out on average): slightly
// pessimistic, never flattering. It splits exactly into four parts: the
// completion's commit, the scheduler's work up to the successor's commit,
// that commit, and the remote leg (dispatch, TCP, the worker, TCP back).
//
// Nodes/s (fan-out) = M·(W+2) / (last join's done_in - first start call).
//
// A JSON summary goes to stdout, a table to stderr; `--raw FILE` writes
// every node's instants. See `--help`.

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <cmath>
#include <csignal>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <functional>
#include <future>
#include <iostream>
#include <iterator>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <sstream>
#include <stdexcept>
#include <string>
#include <thread>
#include <unordered_map>
#include <utility>
#include <vector>

#include <fcntl.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>

#include "bench_common.hpp"
#include "jamjet/messages/event.hpp"
#include "jamjet/runtime.hpp"
#include "jamjet/store/memory_store.hpp"
#include "jamjet/store/sqlite_store.hpp"
#include "jamjet/store/store.hpp"

#ifndef JAMJET_CLI_PATH
#define JAMJET_CLI_PATH "jamjet"
#endif

namespace {

using json = nlohmann::json;
/// Output documents keep their fields in the order written.
using ojson = nlohmann::ordered_json;
using jamjet::bench::machine_info;
using jamjet::bench::percentile;
using jamjet::bench::raw_path;
using jamjet::bench::summarize;
using std::chrono::steady_clock;

/// Nanoseconds on the steady clock (CLOCK_MONOTONIC: one epoch for every
/// process of the machine).
int64_t now_ns() noexcept {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
           steady_clock::now().time_since_epoch())
    .count();
}

std::chrono::steady_clock::time_point after_secs(double secs) {
  return steady_clock::now() +
         std::chrono::duration_cast<steady_clock::duration>(
           std::chrono::duration<double>(secs));
}

// -- options ------------------------------------------------------------------

struct options {
  std::string workload = "all";
  uint32_t nodes = 1000;
  uint32_t executions = 1000;
  uint32_t width = 8;
  /// Worker processes; 0: one worker inside this process instead (the same
  /// measurement without the network, for reference).
  uint32_t workers = 2;
  /// Slots of each worker.
  uint32_t slots = 4;
  size_t threads = 0;
  size_t max_in_flight = 16;
  bool warmup = true;
  std::string raw;
  double timeout_secs = 300;
  double connect_secs = 30;
  std::string start_mode = "async";
  std::string store = "sqlite-full";
  std::string db_dir = "/tmp";
  std::string cli = JAMJET_CLI_PATH;
};

// -- clean-up on every exit ---------------------------------------------------

/// SQLite files this run created, removed at the end.
std::vector<std::string> created_dbs;

void remove_dbs() {
  for (auto& path : created_dbs)
    for (auto suffix : {"", "-wal", "-shm", ".lock"})
      std::remove((path + suffix).c_str());
  created_dbs.clear();
}

/// Worker processes not reaped yet (killed by `fail_hard`).
std::set<pid_t> live_pids;

[[noreturn]] void fail_hard(const std::string& what) {
  std::cerr << "remote_bench: " << what << "\n";
  std::cerr.flush();
  for (auto pid : live_pids)
    ::kill(pid, SIGKILL);
  remove_dbs();
  // The runtime may be wedged: do not wait for its actors.
  std::_Exit(3);
}

// -- CPU and load -------------------------------------------------------------

double ticks_per_second() {
  static const double ticks = static_cast<double>(::sysconf(_SC_CLK_TCK));
  return ticks;
}

/// CPU seconds (user + system) of this process so far.
double self_cpu_seconds() noexcept {
  rusage ru{};
  ::getrusage(RUSAGE_SELF, &ru);
  auto secs = [](const timeval& tv) {
    return static_cast<double>(tv.tv_sec) +
           static_cast<double>(tv.tv_usec) / 1e6;
  };
  return secs(ru.ru_utime) + secs(ru.ru_stime);
}

/// CPU seconds of another process so far (from /proc, 10 ms resolution);
/// 0 when it cannot be read.
double process_cpu_seconds(pid_t pid) {
  std::ifstream in{"/proc/" + std::to_string(pid) + "/stat"};
  std::string text{std::istreambuf_iterator<char>{in},
                   std::istreambuf_iterator<char>{}};
  auto paren = text.rfind(')');
  if (paren == std::string::npos)
    return 0;
  // After "pid (comm) ": field 3 (state) is token 0, utime (14) token 11,
  // stime (15) token 12.
  std::istringstream rest{text.substr(paren + 1)};
  std::string tok;
  double ticks = 0;
  for (int i = 0; i <= 12 && rest >> tok; ++i)
    if (i == 11 || i == 12)
      ticks += std::strtod(tok.c_str(), nullptr);
  return ticks / ticks_per_second();
}

/// Busy CPU seconds of the whole machine so far (every core).
double machine_busy_seconds() {
  std::ifstream in{"/proc/stat"};
  std::string cpu;
  in >> cpu;
  if (cpu != "cpu")
    return 0;
  // user nice system idle iowait irq softirq steal
  double f[8] = {0, 0, 0, 0, 0, 0, 0, 0};
  for (auto& x : f)
    in >> x;
  return (f[0] + f[1] + f[2] + f[5] + f[6] + f[7]) / ticks_per_second();
}

std::string loadavg() {
  std::ifstream in{"/proc/loadavg"};
  std::string one, five, fifteen;
  in >> one >> five >> fifteen;
  return one + " " + five + " " + fifteen;
}

// -- worker processes ---------------------------------------------------------

struct worker_process {
  std::string name;
  pid_t pid = -1;
  bool reaped = false;
  /// How it ended ("exit 0", "signal 9", ...).
  std::string ended;
  /// From SIGTERM to its exit.
  double stop_ms = -1;
};

std::string describe_status(int status) {
  if (WIFEXITED(status))
    return "exit " + std::to_string(WEXITSTATUS(status));
  if (WIFSIGNALED(status))
    return "signal " + std::to_string(WTERMSIG(status));
  return "status " + std::to_string(status);
}

/// Starts `args` (args[0] is the program) with stdout sent to stderr: our
/// stdout carries the JSON summary. The child gets SIGKILL when this
/// process dies, so a crashed benchmark leaves no worker behind.
pid_t spawn_process(const std::vector<std::string>& args) {
  std::vector<char*> argv;
  argv.reserve(args.size() + 1);
  for (auto& a : args)
    argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  auto parent = ::getpid();
  auto pid = ::fork();
  if (pid < 0)
    throw std::runtime_error(std::string{"fork failed: "} +
                             std::strerror(errno));
  if (pid == 0) {
    // Only async-signal-safe calls between fork and exec.
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (::getppid() != parent)
      ::_exit(127);
    sigset_t none;
    ::sigemptyset(&none);
    ::sigprocmask(SIG_SETMASK, &none, nullptr);
    struct sigaction dfl {};
    dfl.sa_handler = SIG_DFL;
    ::sigemptyset(&dfl.sa_mask);
    ::sigaction(SIGPIPE, &dfl, nullptr);
    ::sigaction(SIGTERM, &dfl, nullptr);
    ::sigaction(SIGINT, &dfl, nullptr);
    int null_fd = ::open("/dev/null", O_RDONLY);
    if (null_fd >= 0)
      ::dup2(null_fd, STDIN_FILENO);
    ::dup2(STDERR_FILENO, STDOUT_FILENO);
    ::execvp(argv[0], argv.data());
    ::_exit(127);
  }
  live_pids.insert(pid);
  return pid;
}

/// Reaps `w` if it has exited; true when it is gone.
bool poll_exit(worker_process& w) {
  if (w.reaped)
    return true;
  int status = 0;
  auto r = ::waitpid(w.pid, &status, WNOHANG);
  if (r == w.pid) {
    w.reaped = true;
    w.ended = describe_status(status);
    live_pids.erase(w.pid);
    return true;
  }
  if (r < 0 && errno != EINTR) {
    w.reaped = true;
    w.ended = std::string{"waitpid failed: "} + std::strerror(errno);
    live_pids.erase(w.pid);
    return true;
  }
  return false;
}

/// SIGTERM to every worker (they drain and exit), SIGKILL to those still
/// there after `grace`.
void stop_workers(std::vector<worker_process>& workers,
                  std::chrono::milliseconds grace) {
  auto t0 = steady_clock::now();
  for (auto& w : workers)
    if (!w.reaped)
      ::kill(w.pid, SIGTERM);
  bool forced = false;
  for (;;) {
    bool all = true;
    for (auto& w : workers) {
      bool was = w.reaped;
      if (poll_exit(w) && !was)
        w.stop_ms =
          std::chrono::duration<double, std::milli>(steady_clock::now() - t0)
            .count();
      all = all && w.reaped;
    }
    if (all)
      return;
    if (!forced && steady_clock::now() - t0 > grace) {
      forced = true;
      for (auto& w : workers)
        if (!w.reaped) {
          std::cerr << "remote_bench: worker '" << w.name << "' still running "
                    << grace.count() << " ms after SIGTERM; killing it\n";
          ::kill(w.pid, SIGKILL);
        }
    }
    std::this_thread::sleep_for(std::chrono::milliseconds{2});
  }
}

// -- the timing store ---------------------------------------------------------

enum class mark_kind : uint8_t { scheduled, started, completed, failed };

/// One event committed by a timed transaction.
struct mark {
  mark_kind kind = mark_kind::scheduled;
  uint32_t attempt = 0;
  int64_t t_in = 0;
  int64_t t_out = 0;
  std::string execution_id;
  std::string node_id;
  /// NodeStarted only.
  std::string worker_id;
};

/// One transaction.
struct batch_mark {
  int64_t t_in = 0;
  int64_t t_out = 0;
  size_t commands = 0;
  /// Commands marked urgent (0: a transaction of lazy lease records only).
  size_t urgent = 0;
};

/// A store that forwards every call to another one and notes, for each
/// transaction, when it began and ended and which node events it committed.
/// The cost is a few hundred nanoseconds per transaction, outside the
/// inner store's transaction.
class timing_store final : public jamjet::store {
 public:
  explicit timing_store(std::shared_ptr<jamjet::store> inner)
    : inner_(std::move(inner)) {
    // nop
  }

  bool blocking() const noexcept override { return inner_->blocking(); }

  std::vector<caf::expected<jamjet::commit_result>>
  apply(const std::vector<jamjet::command>& batch) override {
    auto t_in = now_ns();
    auto results = inner_->apply(batch);
    auto t_out = now_ns();
    std::lock_guard<std::mutex> guard{mtx_};
    size_t urgent = 0;
    for (auto& cmd : batch)
      urgent += cmd.urgent ? 1 : 0;
    batches_.push_back(batch_mark{t_in, t_out, batch.size(), urgent});
    for (size_t i = 0; i < batch.size() && i < results.size(); ++i) {
      if (!results[i])
        continue;
      for (auto& kind : batch[i].events)
        note(kind, batch[i].execution_id, t_in, t_out);
    }
    return results;
  }

  std::vector<jamjet::event> read_events(const std::string& execution_id,
                                         uint64_t from) override {
    return inner_->read_events(execution_id, from);
  }

  std::optional<jamjet::execution_record>
  find_execution(const std::string& id) override {
    return inner_->find_execution(id);
  }

  std::vector<jamjet::execution_record> executions() override {
    return inner_->executions();
  }

  std::vector<jamjet::work_item> open_items() override {
    return inner_->open_items();
  }

  std::vector<jamjet::dead_letter> dead_letters() override {
    return inner_->dead_letters();
  }

  caf::error put_workflow(const std::string& workflow_id,
                          const std::string& version,
                          const std::string& ir_json) override {
    return inner_->put_workflow(workflow_id, version, ir_json);
  }

  std::optional<std::string>
  find_workflow(const std::string& workflow_id,
                const std::string& version) override {
    return inner_->find_workflow(workflow_id, version);
  }

  std::vector<jamjet::workflow_definition> workflows() override {
    return inner_->workflows();
  }

  std::pair<uint64_t, std::string>
  snapshot_of(const std::string& execution_id) override {
    return inner_->snapshot_of(execution_id);
  }

  jamjet::recovery_snapshot recovery() override { return inner_->recovery(); }

  bool has_inbox() const noexcept override { return inner_->has_inbox(); }

  std::vector<jamjet::inbox_message> inbox() override {
    return inner_->inbox();
  }

  void drop_inbox(int64_t id) override { inner_->drop_inbox(id); }

  /// The marks and transactions noted since the last call.
  std::pair<std::vector<mark>, std::vector<batch_mark>> take() {
    std::lock_guard<std::mutex> guard{mtx_};
    std::pair<std::vector<mark>, std::vector<batch_mark>> out;
    out.first.swap(marks_);
    out.second.swap(batches_);
    return out;
  }

  /// Every worker id seen in a NodeStarted so far.
  std::set<std::string> workers_seen() {
    std::lock_guard<std::mutex> guard{mtx_};
    return seen_;
  }

 private:
  void note(const jamjet::event_kind& kind, const std::string& execution_id,
            int64_t t_in, int64_t t_out) {
    mark m;
    if (auto s = caf::get_if<jamjet::node_scheduled>(&kind)) {
      m.kind = mark_kind::scheduled;
      m.node_id = s->node_id;
    } else if (auto st = caf::get_if<jamjet::node_started>(&kind)) {
      m.kind = mark_kind::started;
      m.node_id = st->node_id;
      m.worker_id = st->worker_id;
      m.attempt = st->attempt;
      seen_.insert(st->worker_id);
    } else if (auto c = caf::get_if<jamjet::node_completed>(&kind)) {
      m.kind = mark_kind::completed;
      m.node_id = c->node_id;
    } else if (auto f = caf::get_if<jamjet::node_failed>(&kind)) {
      m.kind = mark_kind::failed;
      m.node_id = f->node_id;
      m.attempt = f->attempt;
    } else {
      return;
    }
    m.t_in = t_in;
    m.t_out = t_out;
    m.execution_id = execution_id;
    marks_.push_back(std::move(m));
  }

  std::shared_ptr<jamjet::store> inner_;
  std::mutex mtx_;
  std::vector<mark> marks_;
  std::vector<batch_mark> batches_;
  std::set<std::string> seen_;
};

// -- workflows ----------------------------------------------------------------

json noop_node(const std::string& id) {
  return json{{"id", id},
              {"kind", {{"type", "noop"}}},
              {"retry_policy", nullptr},
              {"node_timeout_secs", nullptr}};
}

json edge(const std::string& from, const std::string& to) {
  return json{{"from", from}, {"to", to}, {"condition", nullptr}};
}

json workflow_skeleton(const std::string& id, const std::string& start) {
  return json{{"workflow_id", id},         {"version", "1.0.0"},
              {"start_node", start},       {"nodes", json::object()},
              {"edges", json::array()},    {"retry_policies", json::object()},
              {"timeouts", json::object()}};
}

/// "n0042" for node 42 of a chain of `n` (at least four digits).
std::string chain_node(size_t k, size_t n) {
  auto last = std::to_string(n - 1);
  auto s = std::to_string(k);
  auto width = std::max<size_t>(4, last.size());
  return "n" + std::string(width - s.size(), '0') + s;
}

std::string chain_workflow(const std::string& id, size_t n) {
  auto ir = workflow_skeleton(id, chain_node(0, n));
  for (size_t k = 0; k < n; ++k) {
    auto node = chain_node(k, n);
    ir["nodes"][node] = noop_node(node);
    ir["edges"].push_back(edge(node, k + 1 < n ? chain_node(k + 1, n) : "end"));
  }
  return ir.dump();
}

std::string diamond_workflow(const std::string& id, size_t width) {
  auto ir = workflow_skeleton(id, "start");
  ir["nodes"]["start"] = noop_node("start");
  ir["nodes"]["join"] = noop_node("join");
  for (size_t k = 1; k <= width; ++k) {
    auto m = "m" + std::to_string(k);
    ir["nodes"][m] = noop_node(m);
    ir["edges"].push_back(edge("start", m));
    ir["edges"].push_back(edge(m, "join"));
  }
  ir["edges"].push_back(edge("join", "end"));
  return ir.dump();
}

/// Index of a chain node id ("n0042" -> 42), SIZE_MAX when malformed.
size_t chain_position(const std::string& node_id) {
  if (node_id.size() < 2 || node_id[0] != 'n')
    return SIZE_MAX;
  return std::strtoul(node_id.c_str() + 1, nullptr, 10);
}

/// Index of a diamond node id: start 0, m1..mW 1..W, join W+1.
size_t diamond_position(const std::string& node_id, size_t width) {
  if (node_id == "start")
    return 0;
  if (node_id == "join")
    return width + 1;
  if (node_id.size() > 1 && node_id[0] == 'm')
    return std::strtoul(node_id.c_str() + 1, nullptr, 10);
  return SIZE_MAX;
}

// -- statistics ---------------------------------------------------------------

double us(int64_t ns) {
  return static_cast<double>(ns) / 1e3;
}

// -- the cluster --------------------------------------------------------------

/// A scheduler-only runtime, its timed store and its worker processes.
struct cluster {
  std::shared_ptr<timing_store> store;
  std::unique_ptr<jamjet::runtime> rt;
  std::vector<worker_process> workers;
  /// Worker ids expected in NodeStarted events (empty: the in-process
  /// worker, whose id is generated).
  std::vector<std::string> names;
  double ready_s = 0;
};

std::shared_ptr<jamjet::store> open_store(const options& opt) {
  if (opt.store == "memory")
    return std::make_shared<jamjet::memory_store>();
  jamjet::sqlite_options so;
  so.synchronous_full = opt.store == "sqlite-full";
  auto path = opt.db_dir + "/jamjet-remote-bench-" +
              std::to_string(::getpid()) + "-" +
              std::to_string(created_dbs.size()) + ".db";
  created_dbs.push_back(path);
  return jamjet::sqlite_store::open(path, so);
}

/// Waits for the end of every execution, or gives up at the deadline.
std::vector<jamjet::execution_result>
wait_all(jamjet::runtime& rt, const std::vector<std::string>& ids,
         steady_clock::time_point deadline, const std::string& what) {
  std::vector<std::future<jamjet::execution_result>> futs;
  futs.reserve(ids.size());
  for (auto& id : ids)
    futs.push_back(rt.result(id));
  std::vector<jamjet::execution_result> results;
  results.reserve(ids.size());
  for (size_t i = 0; i < futs.size(); ++i) {
    if (futs[i].wait_until(deadline) != std::future_status::ready) {
      std::ostringstream msg;
      msg << what << ": timed out waiting for execution " << i << " ('"
          << ids[i] << "')";
      try {
        auto st = rt.status(ids[i]);
        msg << "; its status: " << st.status << ", last sequence "
            << st.last_sequence;
      } catch (const std::exception& ex) {
        msg << "; status unavailable: " << ex.what();
      }
      fail_hard(msg.str());
    }
    results.push_back(futs[i].get());
  }
  return results;
}

/// Runs probe diamonds until every expected worker has started a node.
void wait_for_workers(cluster& cl, const options& opt) {
  auto t0 = steady_clock::now();
  auto deadline = after_secs(opt.connect_secs);
  auto width = std::max<size_t>(2, 2 * cl.workers.size());
  cl.rt->register_workflow(diamond_workflow("bench_probe", width));
  for (;;) {
    for (auto& w : cl.workers)
      if (poll_exit(w))
        fail_hard("worker '" + w.name + "' ended before the benchmark (" +
                  w.ended + "); is '" + opt.cli + "' the jamjet CLI?");
    auto id = cl.rt->start("bench_probe", json{{"bench_i", 0}});
    auto res = wait_all(*cl.rt, {id}, deadline, "waiting for the workers");
    if (!res.front().completed())
      fail_hard("probe execution " + res.front().status + ": " +
                res.front().error);
    auto seen = cl.store->workers_seen();
    bool all = true;
    for (auto& name : cl.names)
      all = all && seen.count(name) > 0;
    if (all)
      break;
    if (steady_clock::now() > deadline)
      fail_hard("not every worker ran a node within " +
                std::to_string(opt.connect_secs) + " s");
    std::this_thread::sleep_for(std::chrono::milliseconds{20});
  }
  cl.ready_s = std::chrono::duration<double>(steady_clock::now() - t0).count();
}

cluster start_cluster(const options& opt) {
  cluster cl;
  cl.store = std::make_shared<timing_store>(open_store(opt));
  jamjet::runtime_config cfg;
  cfg.store = cl.store;
  cfg.worker_slots = opt.workers == 0 ? opt.slots : 0;
  if (opt.workers > 0)
    cfg.listen = "127.0.0.1:0";
  cfg.scheduler_threads = opt.threads;
  cfg.max_in_flight = opt.max_in_flight;
  cl.rt = std::make_unique<jamjet::runtime>(cfg);
  if (opt.workers == 0) {
    cl.rt->register_builtin_handlers();
  } else {
    auto endpoint = "127.0.0.1:" + std::to_string(cl.rt->port());
    for (uint32_t k = 1; k <= opt.workers; ++k) {
      worker_process w;
      w.name = "bench-" + std::to_string(k);
      w.pid = spawn_process({opt.cli, "worker", "--connect", endpoint,
                             "--slots", std::to_string(opt.slots), "--name",
                             w.name, "--log-level", "warn"});
      cl.names.push_back(w.name);
      cl.workers.push_back(std::move(w));
    }
  }
  wait_for_workers(cl, opt);
  return cl;
}

/// Stops the workers (draining), then the runtime; how each worker ended.
ojson stop_cluster(cluster& cl) {
  stop_workers(cl.workers, std::chrono::milliseconds{10000});
  cl.rt->shutdown();
  auto out = ojson::array();
  for (auto& w : cl.workers)
    out.push_back(ojson{{"name", w.name},
                        {"pid", w.pid},
                        {"ended", w.ended},
                        {"sigterm_to_exit_ms", w.stop_ms}});
  return out;
}

// -- measuring a run ----------------------------------------------------------

/// CPU and machine-load readings around a measured run.
struct cpu_window {
  double self0 = 0;
  double busy0 = 0;
  std::vector<double> workers0;
  int64_t t0 = 0;
  std::string load_before;

  void open(const cluster& cl) {
    load_before = loadavg();
    for (auto& w : cl.workers)
      workers0.push_back(process_cpu_seconds(w.pid));
    busy0 = machine_busy_seconds();
    self0 = self_cpu_seconds();
    t0 = now_ns();
  }

  /// CPU of the scheduler, of the workers, and of everything else.
  ojson close(const cluster& cl, double nodes) const {
    auto self_s = self_cpu_seconds() - self0;
    auto busy_s = machine_busy_seconds() - busy0;
    auto wall_s = static_cast<double>(now_ns() - t0) / 1e9;
    double workers_s = 0;
    for (size_t i = 0; i < cl.workers.size(); ++i)
      workers_s += process_cpu_seconds(cl.workers[i].pid) - workers0[i];
    auto others_s = std::max(0.0, busy_s - self_s - workers_s);
    return ojson{
      {"scheduler_s", self_s},
      {"workers_s", workers_s},
      {"scheduler_us_per_node", self_s * 1e6 / nodes},
      {"workers_us_per_node", workers_s * 1e6 / nodes},
      {"others_cores", wall_s > 0 ? others_s / wall_s : 0.0},
      {"loadavg_before", load_before},
    };
  }
};

/// The scheduler's instants of one node (0: not seen).
struct node_marks {
  int64_t sched_in = 0;
  int64_t sched_out = 0;
  int64_t done_in = 0;
  int64_t done_out = 0;
  /// The transaction carrying its NodeStarted and lease (a lazy command
  /// that normally rides with the completion).
  int64_t lease_in = 0;
  int64_t lease_out = 0;
  /// 1-based index into the worker names; 0: not started.
  size_t worker = 0;
  uint32_t scheduled = 0;
  uint32_t started = 0;
  uint32_t completed = 0;
};

/// Every node of a run, indexed by (workflow index, node index).
struct timeline {
  size_t workflows = 0;
  size_t per = 0;
  std::vector<node_marks> nodes;
  std::vector<std::string> worker_names;
  std::map<std::string, uint64_t> by_worker;
  uint64_t out_of_range = 0;
  uint64_t failed_attempts = 0;
  uint64_t retried_starts = 0;

  node_marks& at(size_t wf, size_t node) { return nodes[wf * per + node]; }
  const node_marks& at(size_t wf, size_t node) const {
    return nodes[wf * per + node];
  }

  size_t worker_index(const std::string& name) {
    for (size_t i = 0; i < worker_names.size(); ++i)
      if (worker_names[i] == name)
        return i + 1;
    worker_names.push_back(name);
    return worker_names.size();
  }
};

timeline build_timeline(const std::vector<mark>& marks,
                        const std::vector<std::string>& execution_ids,
                        size_t per, std::vector<std::string> names,
                        const std::function<size_t(const std::string&)>& pos) {
  timeline tl;
  tl.workflows = execution_ids.size();
  tl.per = per;
  tl.nodes.resize(tl.workflows * per);
  tl.worker_names = std::move(names);
  for (auto& name : tl.worker_names)
    tl.by_worker[name] = 0;
  std::unordered_map<std::string, size_t> index;
  for (size_t i = 0; i < execution_ids.size(); ++i)
    index.emplace(execution_ids[i], i);
  for (auto& m : marks) {
    auto i = index.find(m.execution_id);
    auto k = pos(m.node_id);
    if (i == index.end() || k >= per) {
      ++tl.out_of_range;
      continue;
    }
    auto& n = tl.at(i->second, k);
    switch (m.kind) {
      case mark_kind::scheduled:
        ++n.scheduled;
        n.sched_in = m.t_in;
        n.sched_out = m.t_out;
        break;
      case mark_kind::started:
        ++n.started;
        if (m.attempt > 1)
          ++tl.retried_starts;
        n.worker = tl.worker_index(m.worker_id);
        n.lease_in = m.t_in;
        n.lease_out = m.t_out;
        ++tl.by_worker[m.worker_id];
        break;
      case mark_kind::completed:
        ++n.completed;
        n.done_in = m.t_in;
        n.done_out = m.t_out;
        break;
      case mark_kind::failed:
        ++tl.failed_attempts;
        break;
    }
  }
  return tl;
}

ojson integrity(const timeline& tl) {
  uint64_t completed = 0;
  size_t missing = 0;
  size_t repeated = 0;
  for (auto& n : tl.nodes) {
    completed += n.completed;
    if (n.completed == 0)
      ++missing;
    if (n.completed > 1 || n.started > 1 || n.scheduled > 1)
      ++repeated;
  }
  return ojson{{"completed_events", completed},
               {"missing_nodes", missing},
               {"repeated_nodes", repeated},
               {"retried_starts", tl.retried_starts},
               {"failed_attempts", tl.failed_attempts},
               {"out_of_range_events", tl.out_of_range}};
}

ojson by_worker(const timeline& tl) {
  ojson out = ojson::object();
  for (auto& [name, n] : tl.by_worker)
    out[name] = n;
  return out;
}

/// Transactions of the run: how many, commands per transaction, duration.
ojson transactions(const std::vector<batch_mark>& batches) {
  std::vector<double> commit_us;
  commit_us.reserve(batches.size());
  size_t commands = 0;
  size_t lazy_only = 0;
  for (auto& b : batches) {
    commit_us.push_back(us(b.t_out - b.t_in));
    commands += b.commands;
    if (b.urgent == 0)
      ++lazy_only;
  }
  return ojson{{"count", batches.size()},
               {"commands", commands},
               {"lazy_only", lazy_only},
               {"commands_per_tx", batches.empty()
                                     ? 0.0
                                     : static_cast<double>(commands) /
                                         static_cast<double>(batches.size())},
               {"commit_us", summarize(std::move(commit_us))}};
}

/// [[workflow, node, t_start, t_end, worker], ...] with t_start = t_end =
/// done_in, and the six instants of each node.
std::pair<ojson, ojson> raw_nodes(const timeline& tl) {
  auto nodes = ojson::array();
  auto marks = ojson::array();
  for (size_t w = 0; w < tl.workflows; ++w)
    for (size_t k = 0; k < tl.per; ++k) {
      auto& n = tl.at(w, k);
      if (n.done_in == 0)
        continue;
      nodes.push_back(ojson::array({w, k, n.done_in, n.done_in, n.worker}));
      marks.push_back(
        ojson::array({w, k, n.sched_in, n.sched_out, n.lease_in, n.lease_out,
                      n.done_in, n.done_out, n.worker}));
    }
  return {nodes, marks};
}

/// What a workload produces: its summary and its raw timings.
struct run_output {
  ojson summary;
  ojson raw;
};

ojson raw_document(const std::string& workload, const ojson& params,
                   const timeline& tl, int64_t t_submit, int64_t t_done) {
  auto [nodes, marks] = raw_nodes(tl);
  auto names = ojson::array();
  for (auto& n : tl.worker_names)
    names.push_back(n);
  return ojson{
    {"system", "jamjet"},
    {"workload", workload},
    {"params", params},
    {"t_submit_ns", t_submit},
    {"t_done_ns", t_done},
    {"timing", "scheduler-side: t_start_ns = t_end_ns = the instant the "
               "node's result reached the scheduler's store; worker = "
               "1-based index into worker_names"},
    {"worker_names", names},
    {"nodes", nodes},
    {"marks_columns",
     ojson::array({"workflow_index", "node_index", "sched_in_ns",
                   "sched_out_ns", "lease_in_ns", "lease_out_ns", "done_in_ns",
                   "done_out_ns", "worker"})},
    {"marks", marks},
  };
}

constexpr size_t chain_warmup_nodes = 100;
constexpr size_t fanout_warmup_executions = 50;

run_output run_chain(const options& opt, const ojson& common) {
  const size_t n = opt.nodes;
  auto cl = start_cluster(opt);
  auto& rt = *cl.rt;
  rt.register_workflow(chain_workflow("bench_chain", n));
  auto deadline = after_secs(opt.timeout_secs);
  if (opt.warmup) {
    auto wn = std::min(n, chain_warmup_nodes);
    rt.register_workflow(chain_workflow("bench_chain_warmup", wn));
    auto id = rt.start("bench_chain_warmup", json{{"bench_i", 0}});
    auto res = wait_all(rt, {id}, deadline, "warm-up chain");
    if (!res.front().completed())
      fail_hard("warm-up chain did not complete: " + res.front().status + ": " +
                res.front().error);
  }
  cl.store->take();
  cpu_window cpu;
  cpu.open(cl);
  auto t_submit = now_ns();
  auto id = rt.start("bench_chain", json{{"bench_i", 0}});
  auto results = wait_all(rt, {id}, deadline, "chain");
  auto t_done = now_ns();
  auto cpu_out = cpu.close(cl, static_cast<double>(n));
  auto [marks, batches] = cl.store->take();
  auto exits = stop_cluster(cl);
  auto& res = results.front();

  auto tl = build_timeline(marks, {id}, n, cl.names, chain_position);
  std::vector<double> hop, commit_done, to_sched, commit_sched, remote;
  for (size_t k = 1; k < n; ++k) {
    auto& a = tl.at(0, k - 1);
    auto& b = tl.at(0, k);
    if (a.done_in == 0 || b.done_in == 0 || b.sched_out == 0)
      continue;
    hop.push_back(us(b.done_in - a.done_in));
    commit_done.push_back(us(a.done_out - a.done_in));
    to_sched.push_back(us(b.sched_in - a.done_out));
    commit_sched.push_back(us(b.sched_out - b.sched_in));
    remote.push_back(us(b.done_in - b.sched_out));
  }
  // Consecutive nodes on different workers: the chain crosses processes.
  size_t switches = 0;
  for (size_t k = 1; k < n; ++k)
    if (tl.at(0, k).worker != tl.at(0, k - 1).worker)
      ++switches;
  double wall_s = static_cast<double>(t_done - t_submit) / 1e9;

  ojson params = common;
  params["nodes"] = n;
  params["warmup"] = opt.warmup;
  params["warmup_chain_nodes"] =
    opt.warmup ? std::min(n, chain_warmup_nodes) : 0;

  run_output out;
  out.summary = ojson{
    {"workload", "w1"},
    {"name", "chain"},
    {"params", params},
    {"status", res.status},
    {"error", res.error},
    {"hop_latency_us", summarize(hop)},
    {"hop_parts_us", ojson{{"commit_completion", summarize(commit_done)},
                           {"scheduler_to_next_commit", summarize(to_sched)},
                           {"commit_scheduled", summarize(commit_sched)},
                           {"remote_leg", summarize(remote)}}},
    {"wall_time_s", wall_s},
    {"nodes_per_s", static_cast<double>(n) / wall_s},
    {"cpu", cpu_out},
    {"nodes_by_worker", by_worker(tl)},
    {"worker_switches", switches},
    {"transactions", transactions(batches)},
    {"workers_ready_s", cl.ready_s},
    {"workers", exits},
    {"integrity", integrity(tl)},
  };
  out.raw = raw_document("w1", params, tl, t_submit, t_done);
  return out;
}

run_output run_fanout(const options& opt, const ojson& common) {
  const size_t m = opt.executions;
  const size_t w = opt.width;
  const size_t per = w + 2;
  auto cl = start_cluster(opt);
  auto& rt = *cl.rt;
  rt.register_workflow(diamond_workflow("bench_diamond", w));
  auto deadline = after_secs(opt.timeout_secs);
  bool async = opt.start_mode == "async";

  // Starts `count` executions back to back; their ids and call instants.
  std::vector<int64_t> call_ns;
  std::vector<int64_t> return_ns;
  auto submit = [&](size_t count) {
    std::vector<std::string> ids(count);
    std::vector<std::future<std::string>> pending(count);
    call_ns.assign(count, 0);
    return_ns.assign(count, 0);
    for (size_t i = 0; i < count; ++i) {
      call_ns[i] = now_ns();
      if (async)
        pending[i] = rt.start_async("bench_diamond", json{{"bench_i", i}});
      else
        ids[i] = rt.start("bench_diamond", json{{"bench_i", i}});
      return_ns[i] = now_ns();
    }
    if (async)
      for (size_t i = 0; i < count; ++i)
        ids[i] = pending[i].get();
    return ids;
  };
  auto failures = [](const std::vector<jamjet::execution_result>& rs,
                     std::string& first) {
    size_t failed = 0;
    for (auto& r : rs)
      if (!r.completed() && failed++ == 0)
        first = r.status + ": " + r.error;
    return failed;
  };

  std::string first_error;
  if (opt.warmup) {
    auto ids = submit(std::min(m, fanout_warmup_executions));
    auto rs = wait_all(rt, ids, deadline, "warm-up fan-out");
    if (failures(rs, first_error) > 0)
      fail_hard("warm-up fan-out did not complete: " + first_error);
  }
  cl.store->take();
  cpu_window cpu;
  cpu.open(cl);
  auto t_submit = now_ns();
  auto ids = submit(m);
  auto t_started = now_ns();
  auto results = wait_all(rt, ids, deadline, "fan-out");
  auto t_done = now_ns();
  auto cpu_out = cpu.close(cl, static_cast<double>(m * per));
  auto [marks, batches] = cl.store->take();
  auto exits = stop_cluster(cl);
  auto failed = failures(results, first_error);

  auto tl =
    build_timeline(marks, ids, per, cl.names, [w](const std::string& node_id) {
      return diamond_position(node_id, w);
    });
  int64_t last_done = 0;
  std::vector<double> makespan_ms;     // start call -> join's result
  std::vector<double> run_makespan_ms; // start node dispatched -> join's
  std::vector<double> start_call_us;
  for (size_t i = 0; i < m; ++i) {
    start_call_us.push_back(us(return_ns[i] - call_ns[i]));
    auto& join = tl.at(i, w + 1);
    if (join.done_in == 0)
      continue;
    last_done = std::max(last_done, join.done_in);
    makespan_ms.push_back(static_cast<double>(join.done_in - call_ns[i]) / 1e6);
    if (tl.at(i, 0).sched_out != 0)
      run_makespan_ms.push_back(
        static_cast<double>(join.done_in - tl.at(i, 0).sched_out) / 1e6);
  }
  auto total = static_cast<double>(m * per);
  auto span_s = static_cast<double>(last_done - t_submit) / 1e9;

  ojson params = common;
  params["executions"] = m;
  params["width"] = w;
  params["nodes_per_execution"] = per;
  params["start_mode"] = opt.start_mode;
  params["warmup"] = opt.warmup;
  params["warmup_executions"] =
    opt.warmup ? std::min(m, fanout_warmup_executions) : 0;

  run_output out;
  out.summary = ojson{
    {"workload", "w2"},
    {"name", "fanout"},
    {"params", params},
    {"completed", m - failed},
    {"failed", failed},
    {"first_error", first_error},
    {"nodes", m * per},
    {"span_s", span_s},
    {"nodes_per_s", span_s > 0 ? total / span_s : 0.0},
    {"submit_loop_s", static_cast<double>(t_started - t_submit) / 1e9},
    {"wall_time_s", static_cast<double>(t_done - t_submit) / 1e9},
    {"cpu", cpu_out},
    {"start_call_us", summarize(start_call_us)},
    {"makespan_ms", summarize(makespan_ms)},
    {"run_makespan_ms", summarize(run_makespan_ms)},
    {"nodes_by_worker", by_worker(tl)},
    {"transactions", transactions(batches)},
    {"workers_ready_s", cl.ready_s},
    {"workers", exits},
    {"integrity", integrity(tl)},
  };
  out.raw = raw_document("w2", params, tl, t_submit, t_done);
  return out;
}

// -- output -------------------------------------------------------------------

void write_raw(const std::string& path, const ojson& raw) {
  std::ofstream out{path};
  if (!out)
    fail_hard("cannot write '" + path + "'");
  out << raw.dump() << "\n";
  if (!out)
    fail_hard("error writing '" + path + "'");
}

std::string worker_line(const ojson& r) {
  std::string s;
  for (auto& [name, n] : r["nodes_by_worker"].items())
    s +=
      (s.empty() ? "" : ", ") + name + " " + std::to_string(n.get<uint64_t>());
  return s.empty() ? "none" : s;
}

void print_table(const ojson& summary) {
  auto& m = summary["machine"];
  auto& p = summary["params"];
  std::fprintf(stderr, "remote_bench  %s, %u cores, %s\n",
               m["cpu_model"].get<std::string>().c_str(),
               m["cores"].get<unsigned>(),
               m["build"].get<std::string>().c_str());
  std::fprintf(stderr,
               "  store %s  workers %u x %u slots  threads %zu  "
               "max_in_flight %zu\n",
               p["store"].get<std::string>().c_str(),
               p["workers"].get<unsigned>(), p["slots"].get<unsigned>(),
               p["threads"].get<size_t>(), p["max_in_flight"].get<size_t>());
  for (auto& r : summary["results"]) {
    auto& cpu = r["cpu"];
    if (r["workload"] == "w1") {
      auto& h = r["hop_latency_us"];
      auto& parts = r["hop_parts_us"];
      std::fprintf(
        stderr,
        "  w1 chain  N=%zu  status %s\n"
        "    hop latency (us)  p50 %9.1f  p90 %9.1f  p99 %9.1f  max %9.1f\n"
        "    hop parts p50 (us)  commit %.1f + scheduler %.1f + commit %.1f "
        "+ remote leg %.1f\n"
        "    wall %.3f s  %.0f nodes/s  cpu %.1f (scheduler) + %.1f "
        "(workers) us/node  others %.2f cores\n"
        "    nodes by worker: %s  (%zu worker switches)\n"
        "    transactions %zu (%zu of lazy lease records only), commit p50 "
        "%.0f us\n",
        r["params"]["nodes"].get<size_t>(),
        r["status"].get<std::string>().c_str(), h["p50"].get<double>(),
        h["p90"].get<double>(), h["p99"].get<double>(), h["max"].get<double>(),
        parts["commit_completion"]["p50"].get<double>(),
        parts["scheduler_to_next_commit"]["p50"].get<double>(),
        parts["commit_scheduled"]["p50"].get<double>(),
        parts["remote_leg"]["p50"].get<double>(),
        r["wall_time_s"].get<double>(), r["nodes_per_s"].get<double>(),
        cpu["scheduler_us_per_node"].get<double>(),
        cpu["workers_us_per_node"].get<double>(),
        cpu["others_cores"].get<double>(), worker_line(r).c_str(),
        r["worker_switches"].get<size_t>(),
        r["transactions"]["count"].get<size_t>(),
        r["transactions"]["lazy_only"].get<size_t>(),
        r["transactions"]["commit_us"]["p50"].get<double>());
    } else {
      auto& ms = r["makespan_ms"];
      auto& tx = r["transactions"];
      std::fprintf(
        stderr,
        "  w2 fanout  M=%zu W=%zu  completed %zu failed %zu\n"
        "    %.0f nodes/s over %.3f s  (start loop %.3f s)\n"
        "    cpu %.1f (scheduler) + %.1f (workers) us/node  others %.2f "
        "cores\n"
        "    makespan (ms)  p50 %9.2f  p99 %9.2f  max %9.2f\n"
        "    transactions %zu, %.1f commands each, commit p50 %.0f us\n"
        "    nodes by worker: %s\n",
        r["params"]["executions"].get<size_t>(),
        r["params"]["width"].get<size_t>(), r["completed"].get<size_t>(),
        r["failed"].get<size_t>(), r["nodes_per_s"].get<double>(),
        r["span_s"].get<double>(), r["submit_loop_s"].get<double>(),
        cpu["scheduler_us_per_node"].get<double>(),
        cpu["workers_us_per_node"].get<double>(),
        cpu["others_cores"].get<double>(), ms["p50"].get<double>(),
        ms["p99"].get<double>(), ms["max"].get<double>(),
        tx["count"].get<size_t>(), tx["commands_per_tx"].get<double>(),
        tx["commit_us"]["p50"].get<double>(), worker_line(r).c_str());
    }
  }
}

constexpr const char* description =
  R"(JamJet benchmark with remote workers: a scheduler-only runtime in this
process (SQLite FULL store by default), N `jamjet worker` processes
connected over 127.0.0.1, nodes of kind noop.

Workloads:
  chain   (w1)  one execution of a chain of N nodes; hop latency from the
                arrival of a node's result at the scheduler to the arrival
                of its successor's (the hop plus the noop handler), split
                into commit, scheduler, commit and remote leg
  fanout  (w2)  M executions of start -> W middles -> join, started back to
                back; nodes/s from the first start call to the arrival of
                the last join's result

Instants come from the scheduler's store: every transaction is timed and
its node events noted. Output: a JSON summary on stdout, a table on
stderr. With --raw FILE, every node goes to FILE as {"system","workload",
"params","t_submit_ns","t_done_ns","worker_names","nodes":[[workflow_index,
node_index,t_start_ns,t_end_ns,worker],...],"marks":[...]}: t_start_ns =
t_end_ns = the arrival of the node's result (so t_start(k) - t_end(k-1) is
the hop as summarized), worker a 1-based index into worker_names; "marks"
adds each node's six instants (see marks_columns). When both workloads
run, the workload id goes before the extension: out.json -> out.w1.json
and out.w2.json.

Exit codes: 0 ok, 1 an execution failed, 2 bad options, 3 a hang (timeout),
a worker that would not start, or an I/O error.)";

} // namespace

int main(int argc, char** argv) {
  // The runtime logs on stderr ("jamjet" logger); keep it to warnings.
  spdlog::set_level(spdlog::level::warn);

  options opt;
  CLI::App app{description, "remote_bench"};
  app.add_option("--workload", opt.workload, "chain, fanout or all")
    ->check(CLI::IsMember({"chain", "fanout", "all"}))
    ->capture_default_str();
  app
    .add_option("--store", opt.store,
                "memory, sqlite-full (fsync every commit) or sqlite-normal")
    ->check(CLI::IsMember({"memory", "sqlite-full", "sqlite-normal"}))
    ->capture_default_str();
  app
    .add_option("--db-dir", opt.db_dir,
                "directory for the SQLite files (removed afterwards)")
    ->capture_default_str();
  app.add_option("--nodes", opt.nodes, "nodes of the chain (N)")
    ->check(CLI::Range(2u, 10000000u))
    ->capture_default_str();
  app
    .add_option("--executions", opt.executions, "executions of the fan-out (M)")
    ->check(CLI::Range(1u, 10000000u))
    ->capture_default_str();
  app.add_option("--width", opt.width, "middle nodes per diamond (W)")
    ->check(CLI::Range(1u, 100000u))
    ->capture_default_str();
  app
    .add_option("--workers", opt.workers,
                "worker processes; 0: one worker inside this process (no "
                "network), for reference")
    ->check(CLI::Range(0u, 64u))
    ->capture_default_str();
  app.add_option("--slots", opt.slots, "slots of each worker")
    ->check(CLI::Range(1u, 1024u))
    ->capture_default_str();
  app
    .add_option("--threads", opt.threads,
                "CAF scheduler threads of this process; 0: the runtime's "
                "default (one per core, at least 2)")
    ->check(CLI::Range(size_t{0}, size_t{1024}))
    ->capture_default_str();
  app
    .add_option("--max-in-flight", opt.max_in_flight,
                "nodes in flight per execution at most")
    ->check(CLI::Range(size_t{1}, size_t{1} << 30))
    ->capture_default_str();
  app
    .add_option("--start", opt.start_mode,
                "fan-out submission: async (start_async, all in flight) or "
                "sync (start() waits for each commit)")
    ->check(CLI::IsMember({"async", "sync"}))
    ->capture_default_str();
  app.add_flag("--warmup,!--no-warmup", opt.warmup,
               "run a short warm-up first (on by default)");
  app.add_option("--raw", opt.raw,
                 "write every node's instants as JSON to this file");
  app
    .add_option("--timeout", opt.timeout_secs,
                "seconds to wait for a workload before giving up")
    ->check(CLI::PositiveNumber)
    ->capture_default_str();
  app
    .add_option("--connect-timeout", opt.connect_secs,
                "seconds for every worker to connect and run a node")
    ->check(CLI::PositiveNumber)
    ->capture_default_str();
  app.add_option("--jamjet", opt.cli, "the jamjet CLI the workers run")
    ->capture_default_str();
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp&) {
    std::cout << app.help();
    return 0;
  } catch (const CLI::ParseError& e) {
    std::cerr << "remote_bench: error: " << e.what()
              << "\nRun 'remote_bench --help' for the options.\n";
    return 2;
  }

  ojson common{{"store", opt.store},
               {"handlers", opt.workers == 0
                              ? "noop, in-process worker"
                              : "noop, remote worker processes (loopback)"},
               {"workers", opt.workers},
               {"slots", opt.slots},
               {"threads", opt.threads},
               {"max_in_flight", opt.max_in_flight}};
  ojson summary{{"system", "jamjet"},
                {"variant", "remote"},
                {"machine", machine_info()},
                {"params", common},
                {"results", ojson::array()}};
  summary["params"]["workload"] = opt.workload;
  summary["params"]["warmup"] = opt.warmup;

  bool both = opt.workload == "all";
  bool ok = true;
  try {
    if (opt.workload == "chain" || both) {
      auto out = run_chain(opt, common);
      ok = ok && out.summary["status"] == "completed";
      if (!opt.raw.empty())
        write_raw(raw_path(opt.raw, "w1", both), out.raw);
      summary["results"].push_back(std::move(out.summary));
    }
    if (opt.workload == "fanout" || both) {
      auto out = run_fanout(opt, common);
      ok = ok && out.summary["failed"] == 0;
      if (!opt.raw.empty())
        write_raw(raw_path(opt.raw, "w2", both), out.raw);
      summary["results"].push_back(std::move(out.summary));
    }
  } catch (const std::exception& ex) {
    fail_hard(ex.what());
  }
  remove_dbs();
  std::cout << summary.dump(2) << std::endl;
  print_table(summary);
  return ok ? 0 : 1;
}
