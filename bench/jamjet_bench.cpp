// jamjet_bench: latency and throughput of the scheduler on the in-memory
// store, with in-process inline handlers that only record timestamps.
//
// Workloads:
//
//   w1 "chain"   one execution of n0000 -> n0001 -> ... -> n(N-1) -> end
//                per-hop latency = successor's handler start minus the
//                predecessor's handler end (steady_clock, inside handlers)
//
//                          +-> m1 --+
//   w2 "fanout"  start ---+-> .. ---+-> join -> end      (M executions,
//                          +-> mW --+                      started together)
//                nodes/s from the first start() call to the last join's
//                handler end; makespan per execution
//
// Build and run (Release):
//
//   cmake -S . -B build-rel -G Ninja -DCMAKE_BUILD_TYPE=Release
//   ninja -C build-rel jamjet_bench
//   build-rel/bench/jamjet_bench --workload all --threads 2
//
// A JSON summary goes to stdout, a table to stderr; `--raw FILE` writes every
// node's timing. See `--help`.

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <future>
#include <iostream>
#include <memory>
#include <mutex>
#include <sstream>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include <unistd.h>

#include <sys/resource.h>

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#include "bench_common.hpp"
#include "jamjet/runtime.hpp"
#include "jamjet/store/sqlite_store.hpp"

namespace {

using json = nlohmann::json;
/// Output documents keep their fields in the order written.
using ojson = nlohmann::ordered_json;
using jamjet::bench::machine_info;
using jamjet::bench::percentile;
using jamjet::bench::raw_path;
using jamjet::bench::summarize;

/// Nanoseconds on the steady clock (arbitrary epoch, same for all threads).
int64_t now_ns() noexcept {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
           std::chrono::steady_clock::now().time_since_epoch())
    .count();
}

/// CPU seconds (user + system) of the whole process so far.
double cpu_seconds() noexcept {
  rusage ru{};
  ::getrusage(RUSAGE_SELF, &ru);
  auto secs = [](const timeval& tv) {
    return static_cast<double>(tv.tv_sec) +
           static_cast<double>(tv.tv_usec) / 1e6;
  };
  return secs(ru.ru_utime) + secs(ru.ru_stime);
}

// -- options ------------------------------------------------------------------

struct options {
  std::string workload = "all";
  uint32_t nodes = 1000;
  uint32_t executions = 1000;
  uint32_t width = 8;
  uint32_t slots = 4;
  size_t threads = 0;
  size_t max_in_flight = 16;
  bool warmup = true;
  std::string raw;
  double timeout_secs = 300;
  size_t overhead_calls = 200000;
  size_t submitters = 1;
  /// Fan-out submission: "async" (start_async, all in flight at once) or
  /// "sync" (start() blocks until each WorkflowStarted is committed).
  std::string start_mode = "async";
  /// memory, sqlite-full or sqlite-normal.
  std::string store = "memory";
  /// Directory for SQLite files (removed afterwards).
  std::string db_dir = "/tmp";
};

/// SQLite files this run created, removed at the end.
std::vector<std::string> created_dbs;

void remove_dbs() {
  for (auto& path : created_dbs)
    for (auto suffix : {"", "-wal", "-shm", ".lock"})
      std::remove((path + suffix).c_str());
}

// -- recording ----------------------------------------------------------------

/// Timestamps of one node; 0 = not recorded.
struct node_times {
  std::atomic<int64_t> start{0};
  std::atomic<int64_t> end{0};
};

/// Lock-free record of every node of a run: a pre-sized array indexed by
/// (workflow index, node index). Each slot is written by one handler call.
class recorder {
 public:
  recorder(size_t workflows, size_t nodes_per_workflow)
    : workflows_(workflows), per_(nodes_per_workflow),
      times_(new node_times[workflows * nodes_per_workflow]) {
    // nop
  }

  void record(size_t wf, size_t node, int64_t t_start, int64_t t_end,
              uint32_t attempt) noexcept {
    if (wf >= workflows_ || node >= per_) {
      out_of_range_.fetch_add(1, std::memory_order_relaxed);
      return;
    }
    auto& slot = times_[wf * per_ + node];
    if (attempt > 1 || slot.end.load(std::memory_order_relaxed) != 0)
      repeated_.fetch_add(1, std::memory_order_relaxed);
    slot.start.store(t_start, std::memory_order_relaxed);
    slot.end.store(t_end, std::memory_order_release);
    recorded_.fetch_add(1, std::memory_order_relaxed);
  }

  int64_t start(size_t wf, size_t node) const noexcept {
    return times_[wf * per_ + node].start.load(std::memory_order_acquire);
  }

  int64_t end(size_t wf, size_t node) const noexcept {
    return times_[wf * per_ + node].end.load(std::memory_order_acquire);
  }

  size_t workflows() const noexcept { return workflows_; }

  size_t nodes_per_workflow() const noexcept { return per_; }

  /// Handler calls recorded (repeats included).
  uint64_t recorded() const noexcept { return recorded_.load(); }

  /// Handler calls for a node already recorded, or with attempt > 1.
  uint64_t repeated() const noexcept { return repeated_.load(); }

  /// Handler calls whose indexes fell outside the array.
  uint64_t out_of_range() const noexcept { return out_of_range_.load(); }

  /// Slots never written.
  size_t missing() const noexcept {
    size_t n = 0;
    for (size_t i = 0; i < workflows_ * per_; ++i)
      if (times_[i].end.load() == 0)
        ++n;
    return n;
  }

 private:
  size_t workflows_;
  size_t per_;
  std::unique_ptr<node_times[]> times_;
  std::atomic<uint64_t> recorded_{0};
  std::atomic<uint64_t> repeated_{0};
  std::atomic<uint64_t> out_of_range_{0};
};

/// The recorder handlers write to; swapped between warm-up and measurement.
std::atomic<recorder*> current_recorder{nullptr};

/// The node index of a chain node id: "n0042" -> 42.
size_t chain_index(const std::string& node_id) noexcept {
  return node_id.size() > 1 ? std::strtoul(node_id.c_str() + 1, nullptr, 10)
                            : SIZE_MAX;
}

/// The node index of a diamond node id: start 0, m1..mW 1..W, join W+1.
size_t diamond_index(const std::string& node_id, size_t width) noexcept {
  if (node_id == "start")
    return 0;
  if (node_id == "join")
    return width + 1;
  if (node_id.size() > 1 && node_id[0] == 'm')
    return std::strtoul(node_id.c_str() + 1, nullptr, 10);
  return SIZE_MAX;
}

/// The execution index carried in the execution's input ({"bench_i": i}).
size_t workflow_index(const json& state) noexcept {
  auto i = state.find("bench_i");
  if (i == state.end() || !i->is_number_unsigned())
    return 0;
  return i->get<size_t>();
}

/// What the bench handler does: record its start and end, nothing else.
/// `width` 0 selects the chain's node ids, otherwise the diamond's.
jamjet::node_outcome bench_handle(recorder* rec, size_t width,
                                  const jamjet::node_context& ctx) {
  auto t_start = now_ns();
  auto wf = workflow_index(ctx.state);
  auto node =
    width == 0 ? chain_index(ctx.node_id) : diamond_index(ctx.node_id, width);
  auto t_end = now_ns();
  if (rec != nullptr)
    rec->record(wf, node, t_start, t_end, ctx.attempt);
  return jamjet::node_outcome::success(nullptr);
}

// -- workflows ----------------------------------------------------------------

json bench_node(const std::string& id) {
  return json{{"id", id},
              {"kind", {{"type", "bench"}}},
              {"retry_policy", nullptr},
              {"node_timeout_secs", nullptr}};
}

json bench_edge(const std::string& from, const std::string& to) {
  return json{{"from", from}, {"to", to}, {"condition", nullptr}};
}

json ir_skeleton(const std::string& id, const std::string& start) {
  return json{{"workflow_id", id},         {"version", "1.0.0"},
              {"start_node", start},       {"nodes", json::object()},
              {"edges", json::array()},    {"retry_policies", json::object()},
              {"timeouts", json::object()}};
}

std::string chain_node_id(size_t k, size_t n) {
  auto digits = std::max<size_t>(4, std::to_string(n - 1).size());
  auto s = std::to_string(k);
  return "n" + std::string(digits - s.size(), '0') + s;
}

/// A chain of `n` nodes of kind "bench".
std::string chain_ir(const std::string& id, size_t n) {
  auto ir = ir_skeleton(id, chain_node_id(0, n));
  for (size_t k = 0; k < n; ++k) {
    auto node = chain_node_id(k, n);
    ir["nodes"][node] = bench_node(node);
    ir["edges"].push_back(
      bench_edge(node, k + 1 < n ? chain_node_id(k + 1, n) : "end"));
  }
  return ir.dump();
}

/// start -> m1..mW -> join -> end, all of kind "bench".
std::string diamond_ir(const std::string& id, size_t width) {
  auto ir = ir_skeleton(id, "start");
  ir["nodes"]["start"] = bench_node("start");
  ir["nodes"]["join"] = bench_node("join");
  for (size_t k = 1; k <= width; ++k) {
    auto m = "m" + std::to_string(k);
    ir["nodes"][m] = bench_node(m);
    ir["edges"].push_back(bench_edge("start", m));
    ir["edges"].push_back(bench_edge(m, "join"));
  }
  ir["edges"].push_back(bench_edge("join", "end"));
  return ir.dump();
}

// -- running ------------------------------------------------------------------

/// What a workload produces: its summary and its raw timings.
struct run_output {
  ojson summary;
  ojson raw;
};

jamjet::runtime_config make_config(const options& opt) {
  jamjet::runtime_config cfg; // default store: in-memory
  if (opt.store != "memory") {
    jamjet::sqlite_options so;
    so.synchronous_full = opt.store == "sqlite-full";
    auto path = opt.db_dir + "/jamjet-bench-" + std::to_string(::getpid()) +
                "-" + std::to_string(created_dbs.size()) + ".db";
    created_dbs.push_back(path);
    cfg.store = jamjet::sqlite_store::open(path, so);
  }
  cfg.worker_slots = opt.slots;
  cfg.scheduler_threads = opt.threads;
  cfg.max_in_flight = opt.max_in_flight;
  return cfg;
}

[[noreturn]] void fail_hard(const std::string& what) {
  std::cerr << "jamjet_bench: " << what << "\n";
  std::cerr.flush();
  // The runtime may be wedged: do not wait for its actors.
  std::_Exit(3);
}

/// Waits for the end of every execution, or gives up at the deadline.
std::vector<jamjet::execution_result>
wait_all(jamjet::runtime& rt, const std::vector<std::string>& ids,
         const recorder& rec, std::chrono::steady_clock::time_point deadline) {
  std::vector<std::future<jamjet::execution_result>> futs;
  futs.reserve(ids.size());
  for (auto& id : ids)
    futs.push_back(rt.result(id));
  std::vector<jamjet::execution_result> results;
  results.reserve(ids.size());
  for (size_t i = 0; i < futs.size(); ++i) {
    if (futs[i].wait_until(deadline) != std::future_status::ready) {
      std::ostringstream msg;
      msg << "timed out waiting for execution " << i << " ('" << ids[i]
          << "'); " << rec.recorded() << " handler calls recorded of "
          << rec.workflows() * rec.nodes_per_workflow();
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

size_t count_failed(const std::vector<jamjet::execution_result>& rs,
                    std::string& first_error) {
  size_t n = 0;
  for (auto& r : rs)
    if (!r.completed()) {
      if (n++ == 0)
        first_error = r.status + ": " + r.error;
    }
  return n;
}

ojson raw_nodes(const recorder& rec) {
  auto nodes = ojson::array();
  for (size_t w = 0; w < rec.workflows(); ++w)
    for (size_t k = 0; k < rec.nodes_per_workflow(); ++k)
      if (rec.end(w, k) != 0)
        nodes.push_back(
          ojson::array({w, k, rec.start(w, k), rec.end(w, k), 0}));
  return nodes;
}

ojson integrity(const recorder& rec) {
  return ojson{{"recorded_calls", rec.recorded()},
               {"missing_nodes", rec.missing()},
               {"repeated_calls", rec.repeated()},
               {"out_of_range_calls", rec.out_of_range()}};
}

/// Runs one chain execution of `n` nodes under `rec`; returns the submit
/// and done instants and the execution's result.
std::pair<int64_t, int64_t> run_chain_once(jamjet::runtime& rt,
                                           const std::string& wf, recorder& rec,
                                           const options& opt,
                                           jamjet::execution_result& out) {
  current_recorder.store(&rec, std::memory_order_release);
  auto deadline = std::chrono::steady_clock::now() +
                  std::chrono::duration_cast<std::chrono::nanoseconds>(
                    std::chrono::duration<double>(opt.timeout_secs));
  auto t_submit = now_ns();
  auto id = rt.start(wf, json{{"bench_i", 0}});
  auto results = wait_all(rt, {id}, rec, deadline);
  auto t_done = now_ns();
  current_recorder.store(nullptr, std::memory_order_release);
  out = results.front();
  return {t_submit, t_done};
}

constexpr size_t chain_warmup_nodes = 100;
constexpr size_t fanout_warmup_executions = 50;

run_output run_chain(const options& opt, const ojson& common) {
  const size_t n = opt.nodes;
  jamjet::runtime rt{make_config(opt)};
  rt.register_handler(
    "bench",
    [](const jamjet::node_context& ctx) {
      return bench_handle(current_recorder.load(std::memory_order_acquire), 0,
                          ctx);
    },
    false);
  rt.register_workflow(chain_ir("bench_chain", n));
  jamjet::execution_result res;
  if (opt.warmup) {
    auto wn = std::min(n, chain_warmup_nodes);
    rt.register_workflow(chain_ir("bench_chain_warmup", wn));
    recorder warm{1, wn};
    run_chain_once(rt, "bench_chain_warmup", warm, opt, res);
    if (!res.completed())
      fail_hard("warm-up chain did not complete: " + res.status + ": " +
                res.error);
  }
  recorder rec{1, n};
  auto cpu0 = cpu_seconds();
  auto [t_submit, t_done] = run_chain_once(rt, "bench_chain", rec, opt, res);
  auto cpu_s = cpu_seconds() - cpu0;
  rt.shutdown();

  std::vector<double> hops_us;
  hops_us.reserve(n);
  for (size_t k = 1; k < n; ++k)
    if (rec.end(0, k - 1) != 0 && rec.start(0, k) != 0)
      hops_us.push_back(
        static_cast<double>(rec.start(0, k) - rec.end(0, k - 1)) / 1e3);
  std::vector<double> handler_us;
  handler_us.reserve(n);
  for (size_t k = 0; k < n; ++k)
    if (rec.end(0, k) != 0)
      handler_us.push_back(
        static_cast<double>(rec.end(0, k) - rec.start(0, k)) / 1e3);
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
    {"hop_latency_us", summarize(hops_us)},
    {"handler_duration_us", summarize(handler_us)},
    {"wall_time_s", wall_s},
    {"nodes_per_s", static_cast<double>(n) / wall_s},
    {"cpu_s", cpu_s},
    {"cpu_us_per_node", cpu_s * 1e6 / static_cast<double>(n)},
    {"submit_to_first_start_us",
     rec.start(0, 0) != 0
       ? static_cast<double>(rec.start(0, 0) - t_submit) / 1e3
       : -1.0},
    {"last_end_to_done_us",
     rec.end(0, n - 1) != 0
       ? static_cast<double>(t_done - rec.end(0, n - 1)) / 1e3
       : -1.0},
    {"integrity", integrity(rec)},
  };
  out.raw = ojson{{"system", "jamjet"},  {"workload", "w1"},
                  {"params", params},    {"t_submit_ns", t_submit},
                  {"t_done_ns", t_done}, {"nodes", raw_nodes(rec)}};
  return out;
}

struct fanout_times {
  int64_t t_submit = 0;
  int64_t t_started = 0;
  int64_t t_done = 0;
  /// When each start() call began and returned, by execution index.
  std::vector<int64_t> call_ns;
  std::vector<int64_t> return_ns;
  std::vector<jamjet::execution_result> results;
};

/// Starts `m` executions back to back from `opt.submitters` threads (the
/// calling thread included), then waits for all of them.
fanout_times run_fanout_once(jamjet::runtime& rt, const std::string& wf,
                             size_t m, recorder& rec, const options& opt) {
  current_recorder.store(&rec, std::memory_order_release);
  auto deadline = std::chrono::steady_clock::now() +
                  std::chrono::duration_cast<std::chrono::nanoseconds>(
                    std::chrono::duration<double>(opt.timeout_secs));
  fanout_times ft;
  std::vector<std::string> ids(m);
  ft.call_ns.assign(m, 0);
  ft.return_ns.assign(m, 0);
  std::atomic<size_t> next{0};
  std::mutex err_mtx;
  std::string err;
  std::vector<std::future<std::string>> pending(m);
  bool async = opt.start_mode == "async";
  auto submit = [&] {
    try {
      for (auto i = next++; i < m; i = next++) {
        ft.call_ns[i] = now_ns();
        if (async) {
          pending[i] = rt.start_async(wf, json{{"bench_i", i}});
        } else {
          ids[i] = rt.start(wf, json{{"bench_i", i}});
        }
        ft.return_ns[i] = now_ns();
      }
    } catch (const std::exception& ex) {
      std::lock_guard<std::mutex> guard{err_mtx};
      err = ex.what();
      next = m;
    }
  };
  ft.t_submit = now_ns();
  std::vector<std::thread> extra;
  for (size_t k = 1; k < opt.submitters; ++k)
    extra.emplace_back(submit);
  submit();
  for (auto& t : extra)
    t.join();
  if (err.empty() && async) {
    try {
      for (size_t i = 0; i < m; ++i)
        ids[i] = pending[i].get();
    } catch (const std::exception& ex) {
      err = ex.what();
    }
  }
  ft.t_started = now_ns();
  if (!err.empty())
    throw std::runtime_error("start() failed: " + err);
  ft.results = wait_all(rt, ids, rec, deadline);
  ft.t_done = now_ns();
  current_recorder.store(nullptr, std::memory_order_release);
  return ft;
}

run_output run_fanout(const options& opt, const ojson& common) {
  const size_t m = opt.executions;
  const size_t w = opt.width;
  const size_t per = w + 2;
  jamjet::runtime rt{make_config(opt)};
  rt.register_handler(
    "bench",
    [w](const jamjet::node_context& ctx) {
      return bench_handle(current_recorder.load(std::memory_order_acquire), w,
                          ctx);
    },
    false);
  rt.register_workflow(diamond_ir("bench_diamond", w));
  std::string first_error;
  if (opt.warmup) {
    auto wm = std::min(m, fanout_warmup_executions);
    recorder warm{wm, per};
    auto ft = run_fanout_once(rt, "bench_diamond", wm, warm, opt);
    if (count_failed(ft.results, first_error) > 0)
      fail_hard("warm-up fan-out did not complete: " + first_error);
  }
  recorder rec{m, per};
  auto cpu0 = cpu_seconds();
  auto ft = run_fanout_once(rt, "bench_diamond", m, rec, opt);
  auto cpu_s = cpu_seconds() - cpu0;
  rt.shutdown();
  auto failed = count_failed(ft.results, first_error);

  int64_t last_join_end = 0;
  std::vector<double> makespan_ms;     // start() call -> join end
  std::vector<double> run_makespan_ms; // start handler start -> join end
  makespan_ms.reserve(m);
  run_makespan_ms.reserve(m);
  for (size_t i = 0; i < m; ++i) {
    auto join_end = rec.end(i, w + 1);
    if (join_end == 0)
      continue;
    last_join_end = std::max(last_join_end, join_end);
    makespan_ms.push_back(static_cast<double>(join_end - ft.call_ns[i]) / 1e6);
    if (rec.start(i, 0) != 0)
      run_makespan_ms.push_back(
        static_cast<double>(join_end - rec.start(i, 0)) / 1e6);
  }
  // Each start() call blocks until the execution's first event is committed.
  std::vector<double> start_call_us;
  start_call_us.reserve(m);
  for (size_t i = 0; i < m; ++i)
    start_call_us.push_back(
      static_cast<double>(ft.return_ns[i] - ft.call_ns[i]) / 1e3);
  auto total_nodes = static_cast<double>(m * per);
  double span_s = static_cast<double>(last_join_end - ft.t_submit) / 1e9;

  ojson params = common;
  params["executions"] = m;
  params["width"] = w;
  params["nodes_per_execution"] = per;
  params["submitters"] = opt.submitters;
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
    {"nodes_per_s", span_s > 0 ? total_nodes / span_s : 0.0},
    {"cpu_s", cpu_s},
    {"cpu_us_per_node", cpu_s * 1e6 / total_nodes},
    {"submit_loop_s", static_cast<double>(ft.t_started - ft.t_submit) / 1e9},
    {"starts_per_s", static_cast<double>(m) /
                       (static_cast<double>(ft.t_started - ft.t_submit) / 1e9)},
    {"wall_time_s", static_cast<double>(ft.t_done - ft.t_submit) / 1e9},
    {"start_call_us", summarize(start_call_us)},
    {"makespan_ms", summarize(makespan_ms)},
    {"run_makespan_ms", summarize(run_makespan_ms)},
    {"integrity", integrity(rec)},
  };
  out.raw = ojson{{"system", "jamjet"},     {"workload", "w2"},
                  {"params", params},       {"t_submit_ns", ft.t_submit},
                  {"t_done_ns", ft.t_done}, {"nodes", raw_nodes(rec)}};
  return out;
}

// -- machine and overhead -----------------------------------------------------

/// Cost of the handler's own work (two clock reads, index parsing, the
/// atomic record, building the outcome), measured by calling it directly.
ojson handler_overhead(size_t calls) {
  constexpr size_t n = 1000;
  if (calls == 0)
    return ojson{{"calls", 0}};
  recorder scratch{1, n};
  jamjet::node_context ctx;
  ctx.state = json{{"bench_i", 0}};
  std::vector<std::string> ids;
  for (size_t k = 0; k < n; ++k)
    ids.push_back(chain_node_id(k, n));
  auto t0 = now_ns();
  for (size_t i = 0; i < calls; ++i) {
    ctx.node_id = ids[i % n];
    auto out = bench_handle(&scratch, 0, ctx);
    if (!out.ok)
      std::abort();
  }
  auto t1 = now_ns();
  for (size_t i = 0; i < calls; ++i)
    scratch.record(0, i % n, t0, t1, 1);
  auto t2 = now_ns();
  return ojson{
    {"calls", calls},
    {"handler_call_ns", static_cast<double>(t1 - t0) / calls},
    {"record_only_ns", static_cast<double>(t2 - t1) / calls},
  };
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

void print_table(const ojson& summary) {
  auto& m = summary["machine"];
  std::fprintf(stderr, "jamjet_bench  %s, %u cores, %s\n",
               m["cpu_model"].get<std::string>().c_str(),
               m["cores"].get<unsigned>(),
               m["build"].get<std::string>().c_str());
  auto& p = summary["params"];
  std::fprintf(stderr, "  slots %u  threads %s  max_in_flight %zu  warmup %s\n",
               p["slots"].get<unsigned>(),
               p["threads"].get<size_t>() == 0
                 ? "default"
                 : std::to_string(p["threads"].get<size_t>()).c_str(),
               p["max_in_flight"].get<size_t>(),
               p["warmup"].get<bool>() ? "on" : "off");
  for (auto& r : summary["results"]) {
    auto w = r["workload"].get<std::string>();
    if (w == "w1") {
      auto& h = r["hop_latency_us"];
      std::fprintf(
        stderr,
        "  w1 chain  N=%zu  status %s\n"
        "    hop latency (us)  p50 %9.1f  p90 %9.1f  p99 %9.1f  "
        "max %9.1f\n"
        "    wall %.3f s  %.0f nodes/s  cpu %.1f us/node\n",
        r["params"]["nodes"].get<size_t>(),
        r["status"].get<std::string>().c_str(), h["p50"].get<double>(),
        h["p90"].get<double>(), h["p99"].get<double>(), h["max"].get<double>(),
        r["wall_time_s"].get<double>(), r["nodes_per_s"].get<double>(),
        r["cpu_us_per_node"].get<double>());
    } else {
      auto& ms = r["makespan_ms"];
      auto& sc = r["start_call_us"];
      std::fprintf(stderr,
                   "  w2 fanout  M=%zu W=%zu  completed %zu failed %zu\n"
                   "    %.0f nodes/s over %.3f s  (start loop %.3f s)  "
                   "cpu %.1f us/node\n"
                   "    makespan (ms)  p50 %9.2f  p99 %9.2f  max %9.2f\n"
                   "    start() (us)   p50 %9.1f  p99 %9.1f  max %9.1f\n",
                   r["params"]["executions"].get<size_t>(),
                   r["params"]["width"].get<size_t>(),
                   r["completed"].get<size_t>(), r["failed"].get<size_t>(),
                   r["nodes_per_s"].get<double>(), r["span_s"].get<double>(),
                   r["submit_loop_s"].get<double>(),
                   r["cpu_us_per_node"].get<double>(), ms["p50"].get<double>(),
                   ms["p99"].get<double>(), ms["max"].get<double>(),
                   sc["p50"].get<double>(), sc["p99"].get<double>(),
                   sc["max"].get<double>());
    }
  }
  auto& o = summary["handler_overhead"];
  if (o["calls"].get<size_t>() > 0)
    std::fprintf(
      stderr, "  handler bookkeeping %.0f ns/call (record %.1f ns)\n",
      o["handler_call_ns"].get<double>(), o["record_only_ns"].get<double>());
}

constexpr const char* description =
  R"(JamJet scheduler benchmark (in-process inline handlers; in-memory store
by default, SQLite with --store).

Workloads:
  chain   (w1)  one execution of a chain of N nodes; per-hop latency from the
                predecessor's handler end to the successor's handler start
  fanout  (w2)  M executions of start -> W middles -> join, started back to
                back; nodes/s from the first start() call to the last join's
                handler end, and the makespan of each execution

Output: a JSON summary on stdout, a table on stderr. With --raw FILE, every
node's timing goes to FILE as {"system","workload","params","t_submit_ns",
"t_done_ns","nodes":[[workflow_index,node_index,t_start_ns,t_end_ns,
worker_id],...]}; when both workloads run, the workload id is inserted before
the extension: out.json -> out.w1.json and out.w2.json.

Exit codes: 0 ok, 1 an execution failed, 2 bad options, 3 a hang (timeout)
or an I/O error.)";

} // namespace

int main(int argc, char** argv) {
  // Keep stdout for the JSON summary: runtime logs go to stderr.
  auto logger = spdlog::stderr_color_mt("jamjet");
  spdlog::set_default_logger(logger);
  spdlog::set_level(spdlog::level::warn);

  options opt;
  CLI::App app{description, "jamjet_bench"};
  app
    .add_option("--start", opt.start_mode,
                "fan-out submission: async (start_async, all in flight) or "
                "sync (start() waits for each commit)")
    ->check(CLI::IsMember({"async", "sync"}))
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
  app.add_option("--workload", opt.workload, "chain, fanout or all")
    ->check(CLI::IsMember({"chain", "fanout", "all"}))
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
  app.add_option("--slots", opt.slots, "worker slots")
    ->check(CLI::Range(1u, 1000000u))
    ->capture_default_str();
  app
    .add_option("--threads", opt.threads,
                "CAF scheduler threads; 0: the runtime's default (one per "
                "core, at least 2)")
    ->check(CLI::Range(size_t{0}, size_t{1024}))
    ->capture_default_str();
  app
    .add_option("--max-in-flight", opt.max_in_flight,
                "nodes in flight per execution at most")
    ->check(CLI::Range(size_t{1}, size_t{1} << 30))
    ->capture_default_str();
  app.add_flag("--warmup,!--no-warmup", opt.warmup,
               "run a short warm-up first (on by default)");
  app.add_option("--raw", opt.raw,
                 "write every node's timing as JSON to this file");
  app
    .add_option("--timeout", opt.timeout_secs,
                "seconds to wait for a workload before giving up")
    ->check(CLI::PositiveNumber)
    ->capture_default_str();
  app
    .add_option("--submitters", opt.submitters,
                "fan-out: threads calling start() (1: back to back from "
                "one thread)")
    ->check(CLI::Range(size_t{1}, size_t{64}))
    ->capture_default_str();
  app
    .add_option("--overhead-calls", opt.overhead_calls,
                "direct calls of the handler to time its own cost; 0 skips")
    ->capture_default_str();
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp&) {
    std::cout << app.help();
    return 0;
  } catch (const CLI::ParseError& e) {
    std::cerr << "jamjet_bench: error: " << e.what()
              << "\nRun 'jamjet_bench --help' for the options.\n";
    return 2;
  }

  ojson common{
    {"store", opt.store},
    {"handlers", "inline (blocking=false)"},
    {"slots", opt.slots},
    {"threads", opt.threads},
    {"max_in_flight", opt.max_in_flight},
    {"max_dispatch_per_wake", jamjet::runtime_config{}.max_dispatch_per_wake}};
  ojson summary{{"system", "jamjet"},
                {"machine", machine_info()},
                {"params", common},
                {"results", ojson::array()}};
  summary["params"]["workload"] = opt.workload;
  summary["params"]["warmup"] = opt.warmup;
  summary["handler_overhead"] = handler_overhead(opt.overhead_calls);

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
    std::cerr << "jamjet_bench: " << ex.what() << "\n";
    remove_dbs();
    return 1;
  }
  remove_dbs();
  std::cout << summary.dump(2) << std::endl;
  print_table(summary);
  return ok ? 0 : 1;
}
