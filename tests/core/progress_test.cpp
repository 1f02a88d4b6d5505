// The pure parts of scheduling: graph ranking, the progress fold, runnable
// detection, retry planning and the work-item rules.

#include <catch2/catch.hpp>

#include "jamjet/core/graph.hpp"
#include "jamjet/core/item_rules.hpp"
#include "jamjet/core/progress.hpp"
#include "jamjet/core/retry.hpp"
#include "jamjet/messages/error.hpp"

using namespace jamjet;

namespace {

graph_ptr diamond() {
  // start -> {b, a} -> join; ids chosen so id order differs from edge order.
  return workflow_graph::compile(parse_ir(R"({
    "workflow_id":"d","version":"1","start_node":"start",
    "nodes":{"start":{"id":"start","kind":{"type":"tool"}},
             "b":{"id":"b","kind":{"type":"model"}},
             "a":{"id":"a","kind":{"type":"python_fn"}},
             "join":{"id":"join","kind":{"type":"noop"}}},
    "edges":[{"from":"start","to":"b"},{"from":"start","to":"a"},
             {"from":"b","to":"join"},{"from":"a","to":"join"},
             {"from":"join","to":"end"}]})"));
}

struct log_builder {
  uint64_t seq = 0;
  std::vector<event> events;

  log_builder& add(event_kind k) {
    events.push_back(event{"id", "e1", ++seq, std::move(k), 0});
    return *this;
  }
};

std::vector<std::string> ids(const progress& p,
                             const std::vector<uint32_t>& ranks) {
  std::vector<std::string> result;
  for (auto r : ranks)
    result.push_back(p.graph().node(r).id);
  return result;
}

} // namespace

TEST_CASE("graphs are ranked topologically with ties broken by id", "[graph]") {
  auto g = diamond();
  REQUIRE(g->size() == 4);
  CHECK(g->node(0).id == "start");
  CHECK(g->node(1).id == "a");
  CHECK(g->node(2).id == "b");
  CHECK(g->node(3).id == "join");
  CHECK(g->node(1).queue_type == "python_tool");
  CHECK(g->node(2).queue_type == "model");
  CHECK(g->node(3).preds == std::vector<uint32_t>{1, 2});
  CHECK(g->start() == 0);
  CHECK(g->rank_of("join") == 3);
  CHECK(g->rank_of("nope") == -1);
}

TEST_CASE("compiling an invalid workflow throws listing its problems",
          "[graph]") {
  try {
    workflow_graph::compile(parse_ir(R"({"workflow_id":"x","version":"1",
      "start_node":"a","nodes":{"a":{"id":"a","kind":{"type":"t"}}},
      "edges":[{"from":"a","to":"ghost"}]})"));
    FAIL("no error");
  } catch (const error& e) {
    CHECK(e.code() == error_code::invalid_workflow);
    CHECK(std::string{e.what()}.find("ghost") != std::string::npos);
  }
}

TEST_CASE("the fold tracks nodes, state and completion", "[progress]") {
  progress p{diamond()};
  CHECK(p.phase() == execution_phase::created);
  log_builder log;
  log.add(workflow_started{"d", "1", R"({"in":1})"})
    .add(node_scheduled{"start", "tool"})
    .add(node_started{"start", "w", 1})
    .add(node_completed{"start", "null", R"({"s":1})", 3, ""});
  for (auto& e : log.events)
    REQUIRE(p.fold(e) == fold_status::applied);
  CHECK(p.phase() == execution_phase::running);
  CHECK(p.state() == nlohmann::json{{"in", 1}, {"s", 1}});
  CHECK(p.in_flight() == 0);
  CHECK(ids(p, p.runnable(10)) == std::vector<std::string>{"a", "b"});
  CHECK(ids(p, p.runnable(1)) == std::vector<std::string>{"a"});
  CHECK(ids(p, p.runnable(10, {1})) == std::vector<std::string>{"b"});
  log.add(node_scheduled{"a", "python_tool"}).add(node_scheduled{"b", "model"});
  for (size_t i = 4; i < log.events.size(); ++i)
    p.fold(log.events[i]);
  CHECK(p.in_flight() == 2);
  CHECK(p.runnable(10).empty());
  // A retryable failure keeps the node in flight.
  log.add(node_failed{"a", "flaky", 1, true})
    .add(retry_scheduled{"a", 2, 1000})
    // Merge patch: null deletes, objects merge.
    .add(node_completed{"b", "null", R"({"in":null,"m":{"x":1}})", 1, ""})
    .add(node_completed{"a", "null", R"({"m":{"y":2}})", 1, ""});
  for (size_t i = 6; i < log.events.size(); ++i)
    p.fold(log.events[i]);
  CHECK(p.in_flight() == 0);
  CHECK_FALSE(p.failure());
  CHECK(p.state() == nlohmann::json::parse(R"({"s":1,"m":{"x":1,"y":2}})"));
  CHECK(ids(p, p.runnable(10)) == std::vector<std::string>{"join"});
  CHECK_FALSE(p.all_done());
  log.add(node_scheduled{"join", "general"})
    .add(node_completed{"join", "null", "{}", 0, ""});
  for (size_t i = 10; i < log.events.size(); ++i)
    p.fold(log.events[i]);
  CHECK(p.all_done());
  CHECK(p.last_sequence() == 12);
}

TEST_CASE("the fold refuses gaps and ignores duplicates", "[progress]") {
  progress p{diamond()};
  event first{"id", "e1", 1, workflow_started{"d", "1", "{}"}, 0};
  event third{"id", "e1", 3, node_scheduled{"start", "tool"}, 0};
  CHECK(p.fold(first) == fold_status::applied);
  CHECK(p.fold(first) == fold_status::duplicate);
  CHECK(p.fold(third) == fold_status::gap);
  CHECK(p.last_sequence() == 1);
  CHECK(p.state_of(0) == node_state::pending);
}

TEST_CASE("a terminal failure is recorded once and blocks successors",
          "[progress]") {
  progress p{diamond()};
  log_builder log;
  log.add(workflow_started{"d", "1", "{}"})
    .add(node_scheduled{"start", "tool"})
    .add(node_failed{"start", "bad", 1, false});
  for (auto& e : log.events)
    p.fold(e);
  REQUIRE(p.failure());
  CHECK(*p.failure() == "node 'start' failed: bad");
  CHECK(p.state_of(0) == node_state::failed);
  CHECK(p.in_flight() == 0);
  CHECK(p.runnable(10).empty());
}

TEST_CASE("the same log folds to the same progress", "[progress]") {
  log_builder log;
  log.add(workflow_started{"d", "1", R"({"k":[1,2]})"})
    .add(node_scheduled{"start", "tool"})
    .add(node_completed{"start", "1", R"({"k":null,"z":{"a":1}})", 0, ""})
    .add(node_scheduled{"a", "python_tool"});
  progress p1{diamond()};
  progress p2{diamond()};
  for (auto& e : log.events) {
    p1.fold(e);
    p2.fold(e);
  }
  CHECK(p1.state() == p2.state());
  CHECK(p1.runnable(10) == p2.runnable(10));
  CHECK(p1.scheduled_nodes() == p2.scheduled_nodes());
  CHECK(p1.in_flight() == p2.in_flight());
}

TEST_CASE("the default policy doubles from one second up to 60 s", "[retry]") {
  auto p = default_retry_policy();
  CHECK(retry_delay_ms(p, 1, "k") == 1000);
  CHECK(retry_delay_ms(p, 2, "k") == 2000);
  CHECK(retry_delay_ms(p, 3, "k") == 4000);
  CHECK(retry_delay_ms(p, 6, "k") == 32000);
  CHECK(retry_delay_ms(p, 7, "k") == 60000);
  CHECK(retry_delay_ms(p, 100, "k") == 60000);
}

TEST_CASE("a failed attempt becomes a retry or a dead letter", "[retry]") {
  lease_entry lease{"e1/n", "e1", "n", 42, 2, 3, 0, "w", "", 0};
  auto retry = plan_attempt_failure(lease, "oops", true, 10000);
  REQUIRE(retry.events.size() == 2);
  auto f = caf::get<node_failed>(retry.events[0]);
  CHECK(f.retryable);
  CHECK(f.attempt == 2);
  auto r = caf::get<retry_scheduled>(retry.events[1]);
  CHECK(r.attempt == 3);
  CHECK(r.delay_ms == 2000);
  REQUIRE(retry.items.size() == 1);
  auto rq = caf::get<requeue_op>(retry.items[0]);
  CHECK(rq.fence == 42);
  CHECK(rq.attempt == 3);
  CHECK(rq.not_before_ms == 12000);
  // Last attempt: dead letter.
  lease.attempt = 3;
  auto dead = plan_attempt_failure(lease, "oops", true, 10000);
  REQUIRE(dead.events.size() == 1);
  CHECK_FALSE(caf::get<node_failed>(dead.events[0]).retryable);
  CHECK(caf::holds_alternative<dead_letter_op>(dead.items[0]));
  // Not retryable: dead letter at once.
  lease.attempt = 1;
  auto fatal = plan_attempt_failure(lease, "bad input", false, 10000);
  REQUIRE(fatal.events.size() == 1);
  CHECK_FALSE(caf::get<node_failed>(fatal.events[0]).retryable);
}

TEST_CASE("work-item rules enforce fences and states", "[items]") {
  work_item item;
  item.id = "e/n";
  auto enq = apply_item_op(std::nullopt, enqueue_op{item}, 5);
  REQUIRE(enq);
  CHECK(enq->status == item_status::ready);
  CHECK(enq->created_at_ms == 5);
  CHECK_FALSE(apply_item_op(*enq, enqueue_op{item}, 5));
  CHECK_FALSE(apply_item_op(std::nullopt, settle_op{"e/n", 1}, 5));
  CHECK_FALSE(apply_item_op(*enq, settle_op{"e/n", 0}, 5));
  auto leased = apply_item_op(*enq, lease_op{"e/n", 7, "w", 100}, 5);
  REQUIRE(leased);
  CHECK(leased->status == item_status::leased);
  CHECK(leased->fence == 7);
  // A second lease on a leased item is refused: one live lease at most.
  CHECK_FALSE(apply_item_op(*leased, lease_op{"e/n", 8, "w2", 100}, 5));
  auto stale = apply_item_op(*leased, settle_op{"e/n", 6}, 5);
  REQUIRE_FALSE(stale);
  CHECK(code_of(stale.error()) == error_code::stale_fence);
  auto requeued = apply_item_op(*leased, requeue_op{"e/n", 7, 2, 900}, 5);
  REQUIRE(requeued);
  CHECK(requeued->status == item_status::ready);
  CHECK(requeued->attempt == 2);
  CHECK(requeued->not_before_ms == 900);
  CHECK_FALSE(apply_item_op(*requeued, settle_op{"e/n", 7}, 5));
  auto cancelled = apply_item_op(*requeued, cancel_op{"e/n"}, 5);
  REQUIRE(cancelled);
  CHECK(cancelled->status == item_status::cancelled);
  CHECK_FALSE(apply_item_op(*cancelled, cancel_op{"e/n"}, 5));
  CHECK_FALSE(apply_item_op(*cancelled, lease_op{"e/n", 9, "w", 1}, 5));
}

TEST_CASE("event rules guard the execution's life", "[items]") {
  command start;
  start.execution_id = "e";
  start.events.emplace_back(workflow_started{"w", "1", "{}"});
  CHECK_FALSE(check_events(start, false, false));
  CHECK(check_events(start, true, false));
  command later;
  later.execution_id = "e";
  later.events.emplace_back(node_scheduled{"n", "general"});
  CHECK(code_of(check_events(later, false, false)) ==
        error_code::unknown_execution);
  CHECK_FALSE(check_events(later, true, false));
  CHECK(check_events(later, true, true));
  command bad_order;
  bad_order.execution_id = "e";
  bad_order.events.emplace_back(workflow_failed{"x"});
  bad_order.events.emplace_back(node_scheduled{"n", "general"});
  CHECK(check_events(bad_order, true, false));
}

TEST_CASE("a snapshot restores the same progress as folding the log",
          "[progress]") {
  log_builder log;
  log.add(workflow_started{"d", "1", R"({"k":[1,2]})"})
    .add(node_scheduled{"start", "tool"})
    .add(node_completed{"start", "1", R"({"k":null,"z":{"a":1}})", 0, ""})
    .add(node_scheduled{"a", "python_tool"})
    .add(node_failed{"a", "bad", 1, false})
    .add(node_scheduled{"b", "model"})
    .add(node_completed{"b", "1", R"({"z":{"b":2}})", 0, ""});
  // Snapshot after every prefix, restore, fold the rest: same result.
  for (size_t cut = 0; cut <= log.events.size(); ++cut) {
    INFO("cut after " << cut << " events");
    progress whole{diamond()};
    for (auto& e : log.events)
      whole.fold(e);
    progress prefix{diamond()};
    for (size_t i = 0; i < cut; ++i)
      prefix.fold(log.events[i]);
    progress restored{diamond()};
    REQUIRE(restored.restore(prefix.snapshot()));
    for (size_t i = cut; i < log.events.size(); ++i)
      CHECK(restored.fold(log.events[i]) == fold_status::applied);
    CHECK(restored.snapshot() == whole.snapshot());
    CHECK(restored.state() == whole.state());
    CHECK(restored.in_flight() == whole.in_flight());
    CHECK(restored.done() == whole.done());
    CHECK(restored.failure() == whole.failure());
    CHECK(restored.runnable(10) == whole.runnable(10));
    CHECK(restored.last_sequence() == whole.last_sequence());
  }
}

TEST_CASE("a snapshot that does not fit is refused", "[progress]") {
  progress p{diamond()};
  CHECK_FALSE(p.restore("not json"));
  CHECK_FALSE(p.restore(R"({"seq":1,"phase":1,"nodes":"00","failures":[],
                            "state":{}})"));
  CHECK_FALSE(p.restore(R"({"seq":1,"phase":1,"nodes":"0090","failures":[],
                            "state":{}})"));
  CHECK(p.last_sequence() == 0);
  CHECK(p.restore(R"({"seq":3,"phase":1,"nodes":"2000","failures":[],
                      "state":{"s":1}})"));
  CHECK(p.last_sequence() == 3);
  CHECK(p.runnable(10).size() == 2);
}
