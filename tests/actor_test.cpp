// Deterministic actor tests: the scheduler's actors on CAF's test
// coordinator, with virtual time and a scripted worker.

#include <catch2/catch.hpp>

#include <caf/all.hpp>
#include <caf/scheduler/test_coordinator.hpp>

#include "actors/scheduler.hpp"
#include "runtime/memory_store.hpp"
#include "runtime/system_config.hpp"

using namespace jamjet;
using namespace std::chrono_literals;

namespace {

/// What the scripted worker was sent.
struct worker_log {
  std::vector<work_item> items;
  std::vector<std::string> cancels;
};

struct scripted_worker_state {
  static inline const char* name = "scripted_worker";
};

/// A worker that only records what it gets; the test answers for it.
worker_actor::behavior_type
scripted_worker(worker_actor::stateful_pointer<scripted_worker_state> self,
                worker_host_actor host, std::string id, uint32_t slots,
                std::shared_ptr<worker_log> log) {
  self->send(host, join_atom::value, caf::actor_cast<worker_actor>(self), id,
             std::vector<std::string>{"*"}, slots);
  return {
    [=](work_item& item) { log->items.push_back(std::move(item)); },
    [=](cancel_atom, std::string& item_id) {
      log->cancels.push_back(std::move(item_id));
    },
    [=](heartbeat_atom) {},
    [=](node_result&) {},
  };
}

struct fixture {
  system_config cfg;
  std::unique_ptr<caf::actor_system> sys;
  caf::scheduler::test_coordinator* sched = nullptr;
  std::shared_ptr<memory_store> store = std::make_shared<memory_store>();
  scheduler s;
  std::vector<worker_actor> workers;

  explicit fixture(size_t max_in_flight = 16, size_t max_per_wake = 8) {
    cfg.testing();
    sys = std::make_unique<caf::actor_system>(cfg);
    sched = &dynamic_cast<caf::scheduler::test_coordinator&>(sys->scheduler());
    scheduler_config sc;
    sc.limits.max_in_flight = max_in_flight;
    sc.limits.max_per_wake = max_per_wake;
    sc.dispatch.lease = 1000ms;
    s = spawn_scheduler(*sys, store, sc);
    run();
  }

  ~fixture() {
    for (auto& w : workers)
      caf::anon_send_exit(w, caf::exit_reason::user_shutdown);
    stop_scheduler(s);
    run();
  }

  void run() { sched->run(); }

  std::shared_ptr<worker_log> add_worker(const std::string& id,
                                         uint32_t slots) {
    auto log = std::make_shared<worker_log>();
    workers.push_back(sys->spawn(
      scripted_worker, worker_host_actor{s.dispatcher}, id, slots, log));
    run();
    return log;
  }

  void register_workflow(const std::string& json) {
    caf::anon_send(s.supervisor, register_atom::value, json);
    run();
  }

  void start(const std::string& workflow_id, const std::string& exec_id) {
    start_request req;
    req.workflow_id = workflow_id;
    req.execution_id = exec_id;
    caf::anon_send(s.supervisor, start_atom::value, req);
    run();
  }

  /// A result for `item` as its worker would report it.
  static node_result result_for(const work_item& item) {
    node_result r;
    r.item_id = item.id;
    r.execution_id = item.execution_id;
    r.node_id = item.node_id;
    r.fence = item.fence;
    r.worker_id = item.worker_id;
    r.attempt = item.attempt;
    return r;
  }

  /// A successful result for `item`, not yet sent.
  static node_result success(const work_item& item,
                             const std::string& patch = "{}") {
    auto r = result_for(item);
    r.ok = true;
    r.output = "null";
    r.state_patch = patch;
    return r;
  }

  /// Reports a result for `item` as its worker would.
  void complete(const work_item& item, const std::string& patch = "{}") {
    caf::anon_send(s.dispatcher, success(item, patch));
    run();
  }

  void fail(const work_item& item, const std::string& error, bool retryable) {
    auto r = result_for(item);
    r.ok = false;
    r.error = error;
    r.retryable = retryable;
    caf::anon_send(s.dispatcher, r);
    run();
  }

  void advance(caf::timespan d) {
    sched->advance_time(d);
    run();
  }

  std::vector<std::string> kinds(const std::string& exec_id) {
    std::vector<std::string> result;
    for (auto& e : store->read_events(exec_id, 1)) {
      auto k = type_name_of(e.kind);
      auto n = node_id_of(e.kind);
      result.push_back(n.empty() ? k : k + ":" + n);
    }
    return result;
  }

  std::string status(const std::string& exec_id) {
    return store->find_execution(exec_id)->status;
  }
};

std::string chain_ir(const std::string& id, int n,
                     const std::string& policy = "null") {
  std::string nodes, edges;
  for (int i = 0; i < n; ++i) {
    auto name = "n" + std::to_string(i);
    if (i > 0)
      nodes += ",";
    nodes += "\"" + name + "\":{\"id\":\"" + name +
             "\",\"kind\":{\"type\":\"tool\"},\"retry_policy\":" + policy + "}";
    if (i > 0)
      edges += ",";
    edges += "{\"from\":\"" + name + "\",\"to\":\"" +
             (i + 1 < n ? "n" + std::to_string(i + 1) : std::string{"end"}) +
             "\"}";
  }
  return "{\"workflow_id\":\"" + id +
         "\",\"version\":\"1\",\"start_node\":\"n0\",\"nodes\":{" + nodes +
         "},\"edges\":[" + edges + "]}";
}

/// start -> m0..m{w-1} -> join
std::string fan_ir(const std::string& id, int w) {
  std::string nodes =
    "\"start\":{\"id\":\"start\",\"kind\":{\"type\":\"tool\"}},"
    "\"join\":{\"id\":\"join\",\"kind\":{\"type\":\"tool\"}}";
  std::string edges = "{\"from\":\"join\",\"to\":\"end\"}";
  for (int i = 0; i < w; ++i) {
    auto m = "m" + std::to_string(i);
    nodes +=
      ",\"" + m + "\":{\"id\":\"" + m + "\",\"kind\":{\"type\":\"tool\"}}";
    edges += ",{\"from\":\"start\",\"to\":\"" + m + "\"},{\"from\":\"" + m +
             "\",\"to\":\"join\"}";
  }
  return "{\"workflow_id\":\"" + id +
         "\",\"version\":\"1\",\"start_node\":\"start\",\"nodes\":{" + nodes +
         "},\"edges\":[" + edges + "]}";
}

} // namespace

TEST_CASE("a linear workflow schedules in dependency order and completes",
          "[actors]") {
  fixture f;
  auto log = f.add_worker("w1", 4);
  f.register_workflow(R"({"workflow_id":"lin","version":"1","start_node":"a",
    "nodes":{"a":{"id":"a","kind":{"type":"tool"}},
             "b":{"id":"b","kind":{"type":"tool"}}},
    "edges":[{"from":"a","to":"b"},{"from":"b","to":"end"}]})");
  f.start("lin", "e1");
  REQUIRE(log->items.size() == 1);
  CHECK(log->items[0].node_id == "a");
  f.complete(log->items[0], R"({"x":1})");
  REQUIRE(log->items.size() == 2);
  CHECK(log->items[1].node_id == "b");
  // b was scheduled with the state a left behind.
  auto payload = nlohmann::json::parse(log->items[1].payload);
  CHECK(payload["state"] == nlohmann::json{{"x", 1}});
  f.complete(log->items[1], R"({"y":2})");
  CHECK(f.status("e1") == "completed");
  CHECK(f.store->find_execution("e1")->result == R"({"x":1,"y":2})");
  CHECK(f.kinds("e1") ==
        std::vector<std::string>{"workflow_started", "node_scheduled:a",
                                 "node_started:a", "node_completed:a",
                                 "node_scheduled:b", "node_started:b",
                                 "node_completed:b", "workflow_completed"});
}

TEST_CASE("a terminal failure fails the workflow and its successor never runs",
          "[actors]") {
  fixture f;
  auto log = f.add_worker("w1", 4);
  f.register_workflow(R"({"workflow_id":"lin","version":"1","start_node":"a",
    "nodes":{"a":{"id":"a","kind":{"type":"tool"}},
             "b":{"id":"b","kind":{"type":"tool"}}},
    "edges":[{"from":"a","to":"b"},{"from":"b","to":"end"}]})");
  f.start("lin", "e1");
  REQUIRE(log->items.size() == 1);
  f.fail(log->items[0], "boom", false);
  CHECK(log->items.size() == 1);
  CHECK(f.status("e1") == "failed");
  CHECK(f.store->find_execution("e1")->result.find("boom") !=
        std::string::npos);
  for (auto& k : f.kinds("e1"))
    CHECK(k.find(":b") == std::string::npos);
  // A non-retryable failure is dead-lettered too, so it can be redriven.
  REQUIRE(f.store->dead_letters().size() == 1);
  CHECK(f.store->dead_letters()[0].error == "boom");
}

TEST_CASE("lease expiry retries after the delay, then dead-letters",
          "[actors][lease]") {
  fixture f;
  auto log = f.add_worker("w1", 4);
  // One node, 3 attempts (no policy).
  f.register_workflow(chain_ir("one", 1));
  f.start("one", "e1");
  REQUIRE(log->items.size() == 1);
  CHECK(log->items[0].attempt == 1);
  // Nothing happens before the lease period (1 s) is over.
  f.advance(999ms);
  CHECK(f.store->open_items()[0].status == item_status::leased);
  // At the deadline: NodeFailed{retryable} + RetryScheduled{delay 1 s}.
  f.advance(1ms);
  auto events = f.store->read_events("e1", 1);
  auto failed = caf::get_if<node_failed>(&events[events.size() - 2].kind);
  auto retry = caf::get_if<retry_scheduled>(&events.back().kind);
  REQUIRE(failed);
  REQUIRE(retry);
  CHECK(failed->retryable);
  CHECK(failed->attempt == 1);
  CHECK(retry->attempt == 2);
  CHECK(retry->delay_ms == 1000);
  // The requeued item stays invisible until the delay has passed.
  f.advance(999ms);
  CHECK(log->items.size() == 1);
  f.advance(1ms);
  REQUIRE(log->items.size() == 2);
  CHECK(log->items[1].attempt == 2);
  CHECK(log->items[1].fence != log->items[0].fence);
  // Second expiry: the delay doubles.
  f.advance(1000ms);
  events = f.store->read_events("e1", 1);
  retry = caf::get_if<retry_scheduled>(&events.back().kind);
  REQUIRE(retry);
  CHECK(retry->attempt == 3);
  CHECK(retry->delay_ms == 2000);
  f.advance(1999ms);
  CHECK(log->items.size() == 2);
  f.advance(1ms);
  REQUIRE(log->items.size() == 3);
  // Third expiry exhausts the attempts: terminal failure + dead letter.
  f.advance(1000ms);
  CHECK(f.status("e1") == "failed");
  events = f.store->read_events("e1", 1);
  auto last_failure = caf::get_if<node_failed>(&events[events.size() - 2].kind);
  REQUIRE(last_failure);
  CHECK_FALSE(last_failure->retryable);
  CHECK(last_failure->attempt == 3);
  REQUIRE(f.store->dead_letters().size() == 1);
  CHECK(f.store->dead_letters()[0].item.attempt == 3);
  CHECK(f.store->open_items().empty());
}

TEST_CASE("a result with a stale fence changes nothing", "[actors][lease]") {
  fixture f;
  auto log = f.add_worker("w1", 4);
  f.register_workflow(chain_ir("one", 1));
  f.start("one", "e1");
  REQUIRE(log->items.size() == 1);
  auto first = log->items[0];
  // The lease expires, and the retry goes out under a new fence.
  f.advance(1000ms);
  f.advance(1000ms);
  REQUIRE(log->items.size() == 2);
  auto before = f.store->read_events("e1", 1).size();
  // The first attempt's late result is ignored.
  f.complete(first, R"({"late":true})");
  CHECK(f.store->read_events("e1", 1).size() == before);
  CHECK(f.status("e1") == "running");
  // A result under the current fence settles the node.
  f.complete(log->items[1], R"({"ok":true})");
  CHECK(f.status("e1") == "completed");
  CHECK(f.store->find_execution("e1")->result == R"({"ok":true})");
}

TEST_CASE("a stale fence is refused by the store even past the dispatcher",
          "[actors][lease]") {
  fixture f;
  auto log = f.add_worker("w1", 4);
  f.register_workflow(chain_ir("one", 1));
  f.start("one", "e1");
  REQUIRE(log->items.size() == 1);
  auto item = log->items[0];
  command cmd;
  cmd.execution_id = "e1";
  cmd.events.emplace_back(node_completed{"n0", "null", "{}", 0, ""});
  cmd.items.emplace_back(settle_op{item.id, item.fence + 1});
  auto before = f.store->read_events("e1", 1).size();
  auto res = f.store->apply({cmd});
  REQUIRE_FALSE(res[0]);
  CHECK(f.store->read_events("e1", 1).size() == before);
}

TEST_CASE("a worker going down has its leases reclaimed at once",
          "[actors][lease]") {
  fixture f;
  auto log1 = f.add_worker("w1", 1);
  f.register_workflow(chain_ir("one", 1));
  f.start("one", "e1");
  REQUIRE(log1->items.size() == 1);
  auto log2 = f.add_worker("w2", 1);
  // w1 dies; no time passes.
  caf::anon_send_exit(f.workers[0], caf::exit_reason::kill);
  f.run();
  auto events = f.store->read_events("e1", 1);
  auto failed = caf::get_if<node_failed>(&events[events.size() - 2].kind);
  REQUIRE(failed);
  CHECK(failed->error.find("w1") != std::string::npos);
  CHECK(caf::holds_alternative<retry_scheduled>(events.back().kind));
  // After the retry delay, w2 gets the item.
  f.advance(1000ms);
  REQUIRE(log2->items.size() == 1);
  CHECK(log2->items[0].attempt == 2);
  f.complete(log2->items[0]);
  CHECK(f.status("e1") == "completed");
}

TEST_CASE("a retryable handler failure is retried, a later success completes",
          "[actors]") {
  fixture f;
  auto log = f.add_worker("w1", 4);
  f.register_workflow(chain_ir("one", 1));
  f.start("one", "e1");
  f.fail(log->items[0], "flaky", true);
  CHECK(f.status("e1") == "running");
  f.advance(1000ms);
  REQUIRE(log->items.size() == 2);
  f.complete(log->items[1], R"({"done":1})");
  CHECK(f.status("e1") == "completed");
}

TEST_CASE("the per-execution concurrency cap holds", "[actors][caps]") {
  fixture f{3, 8};
  auto log = f.add_worker("w1", 100);
  f.register_workflow(fan_ir("fan", 10));
  f.start("fan", "e1");
  f.complete(log->items[0]);
  // Ten middles are runnable; three may be in flight.
  CHECK(log->items.size() == 1 + 3);
  f.complete(log->items[1]);
  CHECK(log->items.size() == 1 + 4);
  for (size_t i = 2; i < log->items.size(); ++i)
    f.complete(log->items[i]);
  while (f.status("e1") == "running") {
    auto n = log->items.size();
    // In flight never exceeds three.
    size_t open = 0;
    for (auto& it : f.store->open_items())
      open += it.status == item_status::leased ? 1 : 0;
    CHECK(open <= 3);
    f.complete(log->items[n - 1]);
    if (log->items.size() == n)
      for (size_t i = 0; i < n; ++i)
        if (f.store->open_items().size() > 0)
          f.complete(log->items[i]);
  }
  CHECK(f.status("e1") == "completed");
}

TEST_CASE("the per-wake dispatch cap holds", "[actors][caps]") {
  fixture f{16, 2};
  auto log = f.add_worker("w1", 100);
  f.register_workflow(fan_ir("fan", 6));
  f.start("fan", "e1");
  f.complete(log->items[0]);
  // Six middles are runnable; each wake schedules at most two, so they go
  // out in commands of two NodeScheduled events each.
  CHECK(log->items.size() == 1 + 6);
  auto events = f.store->read_events("e1", 1);
  std::vector<int64_t> run_lengths;
  int64_t run = 0;
  for (auto& e : events) {
    if (caf::holds_alternative<node_scheduled>(e.kind)) {
      ++run;
    } else if (run > 0) {
      run_lengths.push_back(run);
      run = 0;
    }
  }
  for (auto len : run_lengths)
    CHECK(len <= 2);
}

TEST_CASE("cancelling stops dispatch and cancels in-flight nodes",
          "[actors][cancel]") {
  fixture f;
  auto log = f.add_worker("w1", 4);
  f.register_workflow(fan_ir("fan", 2));
  f.start("fan", "e1");
  f.complete(log->items[0]);
  REQUIRE(log->items.size() == 3);
  caf::anon_send(f.s.supervisor, cancel_atom::value, std::string{"e1"},
                 std::string{"test"});
  f.run();
  CHECK(f.status("e1") == "cancelled");
  CHECK(log->cancels.size() == 2);
  auto kinds = f.kinds("e1");
  CHECK(std::count(kinds.begin(), kinds.end(), "node_cancelled:m0") == 1);
  CHECK(std::count(kinds.begin(), kinds.end(), "node_cancelled:m1") == 1);
  CHECK(kinds.back() == "workflow_cancelled");
  // Late results change nothing.
  auto n = kinds.size();
  f.complete(log->items[1]);
  CHECK(f.kinds("e1").size() == n);
}

TEST_CASE("a cancel racing a completion still ends the execution",
          "[actors][cancel]") {
  fixture f;
  auto log = f.add_worker("w1", 4);
  f.register_workflow(fan_ir("fan", 2));
  f.start("fan", "e1");
  f.complete(log->items[0]);
  REQUIRE(log->items.size() == 3);
  // The result of m0 and the cancel are in flight together: the cancel
  // command names m0 as in flight, and the store refuses it once m0 settled.
  caf::anon_send(f.s.dispatcher, fixture::success(log->items[1]));
  caf::anon_send(f.s.supervisor, cancel_atom::value, std::string{"e1"},
                 std::string{"race"});
  f.run();
  CHECK(f.status("e1") == "cancelled");
  auto kinds = f.kinds("e1");
  CHECK(std::count(kinds.begin(), kinds.end(), "node_completed:m0") == 1);
  CHECK(std::count(kinds.begin(), kinds.end(), "node_cancelled:m0") == 0);
  CHECK(std::count(kinds.begin(), kinds.end(), "node_cancelled:m1") == 1);
  CHECK(kinds.back() == "workflow_cancelled");
}
