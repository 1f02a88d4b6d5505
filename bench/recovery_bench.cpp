// Recovery benchmark: how long a runtime takes to resume a large store.
//
// Builds an SQLite store holding E executions (default 10,000) of a chain
// of K nodes, each log ending just before `workflow_completed`, for about
// E * (3K + 1) events (default K = 33: 1,000,000 events). All executions are
// left running. Each scheduling command carries a progress snapshot, as the
// execution actors write them; `--no-snapshots` leaves them out, so every
// log must be folded from its start (the worst case). Then it measures,
// in a fresh runtime on that store:
//   open     opening the store (schema check, caches of executions/items)
//   ready    constructing the runtime: snapshot read, workflows compiled,
//            execution actors spawned and handed their logs
//   resumed  until every execution has folded its log and committed its
//            `workflow_completed` (the end-to-end recovery time)
//
// Usage: recovery_bench [--executions E] [--nodes K] [--synchronous
//        full|normal] [--no-snapshots] [--db PATH] [--keep]
// Prints a JSON summary on stdout and a table on stderr.

#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <mutex>
#include <string>
#include <thread>
#include <unistd.h>

#include <nlohmann/json.hpp>

#include "jamjet/core/graph.hpp"
#include "jamjet/core/progress.hpp"
#include "jamjet/runtime.hpp"
#include "jamjet/store/sqlite_store.hpp"

using namespace jamjet;
using clock_type = std::chrono::steady_clock;

namespace {

double ms_since(clock_type::time_point t0) {
  return std::chrono::duration<double, std::milli>(clock_type::now() - t0)
    .count();
}

std::string chain_ir(int k) {
  nlohmann::json nodes = nlohmann::json::object();
  nlohmann::json edges = nlohmann::json::array();
  for (int i = 0; i < k; ++i) {
    auto id = "n" + std::to_string(i);
    nodes[id] = {{"id", id}, {"kind", {{"type", "noop"}}}};
    edges.push_back(
      {{"from", id},
       {"to", i + 1 < k ? "n" + std::to_string(i + 1) : std::string{"end"}}});
  }
  return nlohmann::json{{"workflow_id", "chain"},
                        {"version", "1"},
                        {"start_node", "n0"},
                        {"nodes", nodes},
                        {"edges", edges}}
    .dump();
}

void usage_error(const std::string& msg) {
  std::cerr << "recovery_bench: " << msg << "\n(see --help)\n";
  std::exit(2);
}

} // namespace

int main(int argc, char** argv) {
  int executions = 10000;
  int k = 33;
  bool full = true;
  bool keep = false;
  bool snapshots = true;
  std::string db;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    auto value = [&]() -> std::string {
      if (i + 1 >= argc)
        usage_error(arg + " needs a value");
      return argv[++i];
    };
    try {
      if (arg == "--executions")
        executions = std::stoi(value());
      else if (arg == "--nodes")
        k = std::stoi(value());
      else if (arg == "--synchronous")
        full = value() != "normal";
      else if (arg == "--db")
        db = value();
      else if (arg == "--keep")
        keep = true;
      else if (arg == "--no-snapshots")
        snapshots = false;
      else if (arg == "--help") {
        std::cout << "usage: recovery_bench [--executions E] [--nodes K] "
                     "[--synchronous full|normal] [--no-snapshots] "
                     "[--db PATH] [--keep]\n";
        return 0;
      } else
        usage_error("unknown option " + arg);
    } catch (const std::invalid_argument&) {
      usage_error("bad number for " + arg);
    }
  }
  if (executions < 1 || k < 1)
    usage_error("--executions and --nodes must be positive");
  if (db.empty())
    db = "/tmp/jamjet-recovery-" + std::to_string(::getpid()) + ".db";
  std::remove(db.c_str());
  sqlite_options so;
  so.synchronous_full = full;
  auto ir = chain_ir(k);
  auto graph = workflow_graph::compile(parse_ir(ir));
  uint64_t events = 0;
  // -- populate ---------------------------------------------------------------
  auto t_fill = clock_type::now();
  {
    auto st = sqlite_store::open(db, so);
    if (st->put_workflow("chain", "1", ir))
      return 1;
    std::vector<command> batch;
    auto flush = [&] {
      for (auto& r : st->apply(batch))
        if (!r)
          throw std::runtime_error("populate failed");
      batch.clear();
    };
    for (int e = 0; e < executions; ++e) {
      auto id = "exec-" + std::to_string(e);
      // What the execution actor would have folded at each wake.
      progress prog{graph};
      uint64_t seq = 0;
      auto fold = [&](const command& c) {
        for (auto& kind : c.events)
          prog.fold(event{"", id, ++seq, kind, 1});
      };
      command start;
      start.execution_id = id;
      start.now_ms = 1;
      start.events.emplace_back(workflow_started{"chain", "1", "{}"});
      batch.push_back(start);
      fold(start);
      events += 1;
      for (int n = 0; n < k; ++n) {
        auto node = "n" + std::to_string(n);
        auto item_id = id + "/" + node;
        uint64_t fence = static_cast<uint64_t>(e) * 1000 + n + 1;
        command sched;
        sched.execution_id = id;
        sched.events.emplace_back(node_scheduled{node, "general"});
        work_item item;
        item.id = item_id;
        item.execution_id = id;
        item.node_id = node;
        item.queue_type = "general";
        item.payload = "{}";
        sched.items.emplace_back(enqueue_op{item});
        command lease;
        lease.execution_id = id;
        lease.events.emplace_back(node_started{node, "w", 1});
        lease.items.emplace_back(lease_op{item_id, fence, "w", 0});
        command done;
        done.execution_id = id;
        done.events.emplace_back(node_completed{
          node, "null", "{\"" + node + "\":" + std::to_string(n) + "}", 0, ""});
        done.items.emplace_back(settle_op{item_id, fence});
        if (snapshots) {
          sched.snapshot = prog.snapshot();
          sched.snapshot_sequence = prog.last_sequence();
        }
        fold(sched);
        fold(lease);
        fold(done);
        batch.push_back(sched);
        batch.push_back(lease);
        batch.push_back(done);
        events += 3;
      }
      if (batch.size() >= 4000)
        flush();
    }
    flush();
  }
  auto fill_ms = ms_since(t_fill);
  // -- recover ----------------------------------------------------------------
  auto t0 = clock_type::now();
  auto st = sqlite_store::open(db, so);
  auto open_ms = ms_since(t0);
  runtime_config cfg;
  cfg.store = st;
  std::unique_ptr<runtime> rt;
  rt = std::make_unique<runtime>(cfg);
  auto ready_ms = ms_since(t0);
  rt->register_builtin_handlers();
  auto ids = rt->resume();
  std::mutex mtx;
  std::condition_variable cv;
  size_t ended = 0;
  size_t completed = 0;
  for (auto& id : ids)
    rt->on_result(id, [&](const execution_result& r) {
      std::lock_guard<std::mutex> guard{mtx};
      ++ended;
      completed += r.completed() ? 1 : 0;
      cv.notify_one();
    });
  {
    std::unique_lock<std::mutex> guard{mtx};
    cv.wait(guard, [&] { return ended == ids.size(); });
  }
  auto resumed_ms = ms_since(t0);
  rt.reset();
  st.reset();
  if (!keep) {
    std::remove(db.c_str());
    std::remove((db + "-wal").c_str());
    std::remove((db + "-shm").c_str());
    std::remove((db + ".lock").c_str());
  }
  nlohmann::json out{{"benchmark", "recovery"},
                     {"store", full ? "sqlite-full" : "sqlite-normal"},
                     {"executions", executions},
                     {"events", events},
                     {"nodes_per_execution", k},
                     {"snapshots", snapshots},
                     {"resumed", ids.size()},
                     {"completed", completed},
                     {"populate_ms", fill_ms},
                     {"open_ms", open_ms},
                     {"ready_ms", ready_ms},
                     {"resumed_ms", resumed_ms},
                     {"cores", std::thread::hardware_concurrency()}};
  std::cout << out.dump() << "\n";
  std::fprintf(stderr,
               "recovery of %d executions / %llu events (%s)\n"
               "  populate %.0f ms\n  open     %.1f ms\n  ready    %.1f ms\n"
               "  resumed  %.1f ms (%zu of %zu completed)\n",
               executions, static_cast<unsigned long long>(events),
               full ? "FULL" : "NORMAL", fill_ms, open_ms, ready_ms, resumed_ms,
               completed, ids.size());
  return completed == ids.size() ? 0 : 1;
}
