// Deterministic actor tests: the scheduler's actors on CAF's test
// coordinator, with virtual time and a scripted worker.

#include <catch2/catch.hpp>

#include "actor_fixture.hpp"

using namespace jamjet;
using namespace std::chrono_literals;

using namespace jamjet::testing;

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
