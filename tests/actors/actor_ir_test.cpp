// The IR's scheduling rules, run by the actors on virtual time: retry
// policies, node and workflow timeouts, durable timers, external events,
// approvals, routing and cancellation of waiting nodes.

#include <catch2/catch.hpp>

#include "actor_fixture.hpp"
#include "jamjet/messages/ir.hpp"
#include "testing/ir_builder.hpp"

using namespace jamjet;
using namespace jamjet::testing;
using namespace std::chrono_literals;
using json = nlohmann::json;

namespace {

/// Workflow `workflow_id` of one node `n` of kind `kind`, then the end.
ir_builder one_node(json kind, const std::string& workflow_id = "w") {
  ir_builder ir{workflow_id};
  ir.node("n", std::move(kind)).edge("n", "end");
  return ir;
}

std::string ok_of(const fixture::answer& a) {
  if (!a->has_value())
    return "no answer";
  return **a ? to_string(**a) : "ok";
}

} // namespace

TEST_CASE("retries wait exactly the policy's delays", "[actors][retry]") {
  fixture f;
  auto log = f.add_worker("w1", 1);
  f.register_workflow(one_node({{"type", "tool"}})
                        .retry_policy("lin")
                        .policy("lin", {{"max_attempts", 4},
                                        {"backoff", "linear"},
                                        {"initial_delay", 2},
                                        {"max_delay", 5},
                                        {"jitter", false},
                                        {"retryable_on", json::array()}})
                        .dump());
  f.start("w", "e1");
  REQUIRE(log->items.size() == 1);
  // Linear from 2 s, capped at 5 s: 2 s, 4 s, 5 s.
  for (auto [attempt, delay] : {std::pair{1, 2000}, {2, 4000}, {3, 5000}}) {
    INFO("attempt " << attempt);
    f.fail(log->items.back(), "flaky", true);
    auto retries = f.events_of<retry_scheduled>("e1");
    REQUIRE(retries.size() == static_cast<size_t>(attempt));
    CHECK(retries.back().delay_ms == static_cast<uint64_t>(delay));
    auto before = log->items.size();
    f.advance(std::chrono::milliseconds{delay - 1});
    CHECK(log->items.size() == before);
    f.advance(1ms);
    REQUIRE(log->items.size() == before + 1);
    CHECK(log->items.back().attempt == static_cast<uint32_t>(attempt + 1));
  }
  // The fourth attempt is the last: its failure is terminal.
  f.fail(log->items.back(), "flaky", true);
  CHECK(f.status("e1") == "failed");
  CHECK(f.store->dead_letters().size() == 1);
}

TEST_CASE("only the error classes a policy lists are retried",
          "[actors][retry]") {
  fixture f;
  auto log = f.add_worker("w1", 1);
  f.register_workflow(
    one_node({{"type", "model"}}).retry_policy("llm_default").dump());
  SECTION("a listed class is retried") {
    f.start("w", "e1");
    f.fail(log->items.back(), "429", true, "rate_limit");
    auto failed = f.events_of<node_failed>("e1");
    REQUIRE(failed.size() == 1);
    CHECK(failed[0].retryable);
    CHECK(failed[0].error.find("[rate_limit]") != std::string::npos);
    REQUIRE(f.events_of<retry_scheduled>("e1").size() == 1);
  }
  SECTION("another class, or none, is terminal") {
    for (std::string cls : {"bad_request", ""}) {
      auto id = "e-" + cls;
      f.start("w", id);
      f.fail(log->items.back(), "nope", true, cls);
      auto failed = f.events_of<node_failed>(id);
      REQUIRE(failed.size() == 1);
      CHECK_FALSE(failed[0].retryable);
      // The log says why, so a handler that forgot its class finds out.
      CHECK(failed[0].error.find("not retried") != std::string::npos);
      CHECK(f.status(id) == "failed");
    }
  }
  SECTION("a failure the handler calls permanent is not explained") {
    f.start("w", "e1");
    f.fail(log->items.back(), "bad input", false, "");
    auto failed = f.events_of<node_failed>("e1");
    REQUIRE(failed.size() == 1);
    CHECK(failed[0].error == "bad input");
  }
  SECTION("a lease expiry is retried whatever the classes") {
    f.start("w", "e1");
    f.advance(1000ms); // the fixture's lease period
    auto failed = f.events_of<node_failed>("e1");
    REQUIRE(failed.size() == 1);
    CHECK(failed[0].retryable);
  }
}

TEST_CASE("a node past its timeout is cut off though it heartbeats",
          "[actors][timeout]") {
  fixture f;
  auto log = f.add_worker("w1", 1);
  f.register_workflow(one_node({{"type", "tool"}}).node_timeout(3).dump());
  f.start("w", "e1");
  REQUIRE(log->items.size() == 1);
  auto first = log->items[0];
  // Heartbeats every half lease keep the lease, but not past 3 s.
  for (int i = 0; i < 5; ++i) {
    f.advance(500ms);
    caf::anon_send(f.s.dispatcher, heartbeat_atom::value, first.id,
                   first.fence);
    f.run();
  }
  CHECK(f.events_of<node_failed>("e1").empty());
  f.advance(499ms);
  CHECK(f.events_of<node_failed>("e1").empty());
  f.advance(1ms);
  auto failed = f.events_of<node_failed>("e1");
  REQUIRE(failed.size() == 1);
  CHECK(failed[0].error.find("node timed out") != std::string::npos);
  CHECK(failed[0].retryable); // the default policy retries every class
  // The worker is told to stop the attempt; its late result is ignored.
  CHECK(log->cancels == std::vector<std::string>{first.id});
  f.complete(first);
  CHECK(f.events_of<node_completed>("e1").empty());
  // The retry runs and completes.
  f.advance(1000ms);
  REQUIRE(log->items.size() == 2);
  f.complete(log->items[1]);
  CHECK(f.status("e1") == "completed");
}

TEST_CASE("a workflow past its timeout fails and its nodes are cancelled",
          "[actors][timeout]") {
  fixture f;
  auto log = f.add_worker("w1", 2);
  f.register_workflow(
    R"({"workflow_id":"w","version":"1","start_node":"a",
      "nodes":{"a":{"id":"a","kind":{"type":"tool"}},
               "b":{"id":"b","kind":{"type":"tool"}}},
      "edges":[{"from":"a","to":"b"},{"from":"b","to":"end"}],
      "timeouts":{"workflow_timeout":5,"heartbeat_interval":10}})");
  f.start("w", "e1");
  REQUIRE(log->items.size() == 1);
  // The heartbeat interval is the lease period: no expiry within 5 s.
  f.advance(4999ms);
  CHECK(f.status("e1") == "running");
  f.advance(1ms);
  CHECK(f.status("e1") == "failed");
  auto kinds = f.kinds("e1");
  REQUIRE(kinds.size() >= 3);
  CHECK(kinds[kinds.size() - 2] == "node_cancelled:a");
  CHECK(kinds.back() == "workflow_failed");
  auto failed = f.events_of<workflow_failed>("e1");
  CHECK(failed[0].error.find("timed out after 5 s") != std::string::npos);
  CHECK(log->cancels == std::vector<std::string>{log->items[0].id});
}

TEST_CASE("a workflow that ends in time disarms its timeout",
          "[actors][timeout]") {
  fixture f;
  auto log = f.add_worker("w1", 1);
  f.register_workflow(
    one_node({{"type", "tool"}}).timeouts({{"workflow_timeout", 5}}).dump());
  f.start("w", "e1");
  f.complete(log->items[0]);
  CHECK(f.status("e1") == "completed");
  f.advance(10s);
  CHECK(f.events_of<timer_fired>("e1").empty());
  CHECK(f.store->open_items().empty());
}

TEST_CASE("a timer wait completes when its timer fires", "[actors][wait]") {
  fixture f;
  f.register_workflow(
    one_node({{"type", "wait"}, {"condition", "timer"}, {"timeout_secs", 10}})
      .dump());
  f.start("w", "e1");
  auto created = f.events_of<timer_created>("e1");
  REQUIRE(created.size() == 1);
  f.advance(9999ms);
  CHECK(f.status("e1") == "running");
  f.advance(1ms);
  CHECK(f.events_of<timer_fired>("e1").size() == 1);
  CHECK(f.status("e1") == "completed");
  CHECK(f.kinds("e1") ==
        std::vector<std::string>{"workflow_started", "node_scheduled:n",
                                 "timer_created:n", "timer_fired:n",
                                 "node_completed:n", "workflow_completed"});
}

TEST_CASE("an external event completes its wait node with the payload",
          "[actors][wait]") {
  fixture f;
  f.register_workflow(one_node({{"type", "wait"},
                                {"condition", "external_event"},
                                {"correlation_key", "paid"},
                                {"timeout_secs", 60}})
                        .dump());
  f.start("w", "e1");
  SECTION("the right key") {
    CHECK(ok_of(f.signal("e1", "paid", R"({"amount":5})")) == "ok");
    CHECK(f.status("e1") == "completed");
    auto done = f.events_of<workflow_completed>("e1");
    CHECK(nlohmann::json::parse(done[0].final_state) ==
          nlohmann::json{{"amount", 5}});
    // Its timer was disarmed: nothing fires later.
    f.advance(120s);
    CHECK(f.events_of<timer_fired>("e1").empty());
  }
  SECTION("an unknown key or execution is an error, not dropped") {
    CHECK(ok_of(f.signal("e1", "other", "{}")).find("no wait node") !=
          std::string::npos);
    CHECK(ok_of(f.signal("nope", "paid", "{}")) != "ok");
    CHECK(f.events_of<external_event_received>("e1").empty());
    CHECK(f.status("e1") == "running");
  }
  SECTION("no event in time fails the node, retried by its policy") {
    f.advance(60s);
    auto failed = f.events_of<node_failed>("e1");
    REQUIRE(failed.size() == 1);
    CHECK(failed[0].retryable);
    CHECK(failed[0].error.find("no external event") != std::string::npos);
    // The retry waits again: 1 s delay plus the 60 s wait.
    auto timers = f.events_of<timer_created>("e1");
    REQUIRE(timers.size() == 2);
    CHECK(timers[1].fire_at_ms - timers[0].fire_at_ms == 61000);
    CHECK(ok_of(f.signal("e1", "paid", R"({"late":true})")) == "ok");
    CHECK(f.status("e1") == "completed");
  }
}

TEST_CASE("approvals complete, reject or time out human_approval nodes",
          "[actors][approval]") {
  fixture f;
  auto log = f.add_worker("w1", 2);
  f.register_workflow(
    R"({"workflow_id":"w","version":"1","start_node":"ask",
      "nodes":{"ask":{"id":"ask","kind":{"type":"human_approval",
                 "description":"ok?","timeout_secs":30,"fallback_node":"no"}},
               "yes":{"id":"yes","kind":{"type":"tool"}},
               "no":{"id":"no","kind":{"type":"tool"}}},
      "edges":[{"from":"ask","to":"yes"},{"from":"ask","to":"no"},
               {"from":"yes","to":"end"},{"from":"no","to":"end"}]})");
  f.register_workflow(
    one_node({{"type", "human_approval"}, {"description", "ok?"}}, "strict")
      .dump());
  f.start("w", "e1");
  CHECK(log->items.empty());
  SECTION("approved: the normal path runs, the fallback is skipped") {
    approval_request req{"ask", true, "ann", std::string{"fine"},
                         R"({"ok":1})"};
    CHECK(ok_of(f.decide("e1", req)) == "ok");
    REQUIRE(log->items.size() == 1);
    CHECK(log->items[0].node_id == "yes");
    f.complete(log->items[0]);
    CHECK(f.status("e1") == "completed");
    auto skipped = f.events_of<node_skipped>("e1");
    REQUIRE(skipped.size() == 1);
    CHECK(skipped[0].node_id == "no");
  }
  SECTION("rejected: the fallback runs") {
    CHECK(ok_of(f.decide("e1", {"ask", false, "bob", {}, ""})) == "ok");
    REQUIRE(log->items.size() == 1);
    CHECK(log->items[0].node_id == "no");
  }
  SECTION("no decision in time: the fallback runs") {
    f.advance(30s);
    REQUIRE(log->items.size() == 1);
    CHECK(log->items[0].node_id == "no");
  }
  SECTION("two decisions at once: the first counts, the second is told") {
    auto first = std::make_shared<std::optional<caf::error>>();
    auto second = std::make_shared<std::optional<caf::error>>();
    auto ask = [&](approval_request r, fixture::answer out) {
      f.sys->spawn(
        [](caf::event_based_actor* self, supervisor_actor sup,
           approval_request req, fixture::answer res) {
          self
            ->request(sup, caf::infinite, approve_atom::value,
                      std::string{"e1"}, req)
            .then([res](caf::ok_atom) { *res = caf::error{}; },
                  [res](caf::error& e) { *res = std::move(e); });
        },
        f.s.supervisor, std::move(r), std::move(out));
    };
    ask({"ask", true, "ann", {}, ""}, first);
    ask({"ask", false, "bob", {}, ""}, second);
    f.run();
    CHECK(ok_of(first) == "ok");
    CHECK(ok_of(second).find("already decided") != std::string::npos);
    CHECK(f.events_of<approval_received>("e1").size() == 1);
    REQUIRE(log->items.size() == 1);
    CHECK(log->items[0].node_id == "yes");
  }
  SECTION("a decision for a node that is not an approval is refused") {
    CHECK(ok_of(f.decide("e1", {"yes", true, "x", {}, ""})) != "ok");
  }
  SECTION("without a fallback a rejection fails the workflow") {
    f.start("strict", "e2");
    CHECK(ok_of(f.decide(
            "e2", {"n", false, "bob", std::string{"no way"}, ""})) == "ok");
    CHECK(f.status("e2") == "failed");
    auto failed = f.events_of<workflow_failed>("e2");
    CHECK(failed[0].error.find("rejected by 'bob': no way") !=
          std::string::npos);
  }
}

TEST_CASE("cancelling a waiting execution cancels its wait and timers",
          "[actors][cancel]") {
  fixture f;
  f.register_workflow(
    one_node({{"type", "wait"}, {"condition", "timer"}, {"timeout_secs", 10}})
      .timeouts({{"workflow_timeout", 100}})
      .dump());
  f.start("w", "e1");
  caf::anon_send(f.s.supervisor, cancel_atom::value, std::string{"e1"},
                 std::string{"no longer needed"});
  f.run();
  CHECK(f.status("e1") == "cancelled");
  auto kinds = f.kinds("e1");
  CHECK(kinds[kinds.size() - 2] == "node_cancelled:n");
  f.advance(200s);
  CHECK(f.events_of<timer_fired>("e1").empty());
  CHECK(f.store->open_items().empty());
}

TEST_CASE("condition nodes route and untaken paths are skipped",
          "[actors][routing]") {
  fixture f;
  auto log = f.add_worker("w1", 4);
  f.register_workflow(
    R"({"workflow_id":"r","version":"1","start_node":"check",
      "nodes":{"check":{"id":"check","kind":{"type":"condition","branches":[
                 {"condition":"state.big == true","target":"heavy"},
                 {"condition":null,"target":"light"}]}},
               "heavy":{"id":"heavy","kind":{"type":"tool"}},
               "heavy2":{"id":"heavy2","kind":{"type":"tool"}},
               "light":{"id":"light","kind":{"type":"tool"}},
               "join":{"id":"join","kind":{"type":"tool"}}},
      "edges":[{"from":"check","to":"heavy"},{"from":"check","to":"light"},
               {"from":"heavy","to":"heavy2"},{"from":"heavy2","to":"join"},
               {"from":"light","to":"join"},{"from":"join","to":"end"}]})");
  start_request req{"r", "", R"({"big":false})", "e1"};
  caf::anon_send(f.s.supervisor, start_atom::value, req);
  f.run();
  REQUIRE(log->items.size() == 1);
  CHECK(log->items[0].node_id == "light");
  // heavy and heavy2 are skipped together, in rank order.
  auto skipped = f.events_of<node_skipped>("e1");
  REQUIRE(skipped.size() == 2);
  CHECK(skipped[0].node_id == "heavy");
  CHECK(skipped[1].node_id == "heavy2");
  f.complete(log->items[0]);
  REQUIRE(log->items.size() == 2);
  CHECK(log->items[1].node_id == "join");
  f.complete(log->items[1]);
  CHECK(f.status("e1") == "completed");
}

TEST_CASE("timeouts.approval_timeout applies to approvals without their own",
          "[actors][approval][timeout]") {
  fixture f;
  auto log = f.add_worker("w1", 1);
  f.register_workflow(
    R"({"workflow_id":"w","version":"1","start_node":"ask",
      "nodes":{"ask":{"id":"ask","kind":{"type":"human_approval",
                 "description":"ok?","fallback_node":"no"}},
               "yes":{"id":"yes","kind":{"type":"tool"}},
               "no":{"id":"no","kind":{"type":"tool"}}},
      "edges":[{"from":"ask","to":"yes"},{"from":"ask","to":"no"},
               {"from":"yes","to":"end"},{"from":"no","to":"end"}],
      "timeouts":{"approval_timeout":{"secs":20,"nanos":0}}})");
  f.start("w", "e1");
  f.advance(19999ms);
  CHECK(log->items.empty());
  f.advance(1ms);
  REQUIRE(log->items.size() == 1);
  CHECK(log->items[0].node_id == "no");
}

TEST_CASE("one event settles one of two wait nodes with the same key",
          "[actors][wait]") {
  fixture f;
  auto log = f.add_worker("w1", 1);
  f.register_workflow(
    R"({"workflow_id":"w","version":"1","start_node":"s",
      "nodes":{"s":{"id":"s","kind":{"type":"tool"}},
               "a":{"id":"a","kind":{"type":"wait","condition":"external_event",
                    "correlation_key":"k"}},
               "b":{"id":"b","kind":{"type":"wait","condition":"external_event",
                    "correlation_key":"k"}}},
      "edges":[{"from":"s","to":"a"},{"from":"s","to":"b"},
               {"from":"a","to":"end"},{"from":"b","to":"end"}]})");
  f.start("w", "e1");
  f.complete(log->items.at(0));
  CHECK(ok_of(f.signal("e1", "k", R"({"first":1})")) == "ok");
  CHECK(f.events_of<node_completed>("e1").size() == 2); // s and one wait
  CHECK(f.status("e1") == "running");
  CHECK(ok_of(f.signal("e1", "k", R"({"second":2})")) == "ok");
  CHECK(f.events_of<node_completed>("e1").size() == 3);
  CHECK(f.status("e1") == "completed");
}
