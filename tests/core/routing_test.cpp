// Routing: condition nodes, edge conditions, skip cascades, wait and
// approval nodes run by the scheduler, and the static checks of their
// fields. Everything here is pure: graphs are compiled from inline IRs,
// commands are planned by runtime/scheduler_nodes and their events folded
// into a progress with consecutive sequences.

#include <catch2/catch.hpp>

#include <cstdint>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "jamjet/core/graph.hpp"
#include "jamjet/core/progress.hpp"
#include "jamjet/core/scheduler_nodes.hpp"
#include "jamjet/core/validate.hpp"
#include "jamjet/messages/command.hpp"
#include "jamjet/messages/event.hpp"
#include "jamjet/messages/ir.hpp"
#include "testing/contains.hpp"
#include "testing/ir_builder.hpp"

using namespace jamjet;
using jamjet::testing::contains;
using jamjet::testing::ir_builder;
using json = nlohmann::json;

namespace {

constexpr const char* exec_id = "e1";

graph_ptr compile(const std::string& ir_text) {
  return workflow_graph::compile(parse_ir(ir_text));
}

/// A progress fed with consecutive sequences.
struct run {
  progress p;
  uint64_t seq = 0;

  explicit run(graph_ptr g) : p(std::move(g)) {}

  void fold(event_kind kind) {
    event e{"id-" + std::to_string(seq + 1), exec_id, seq + 1, std::move(kind),
            static_cast<int64_t>(seq + 1)};
    ++seq;
    REQUIRE(p.fold(e) == fold_status::applied);
  }

  void fold(const command& cmd) {
    for (auto& kind : cmd.events)
      fold(kind);
  }

  void start(const std::string& input = "{}") {
    fold(workflow_started{p.graph().workflow_id(), p.graph().version(), input});
  }

  uint32_t rank(const std::string& id) const {
    auto r = p.graph().rank_of(id);
    REQUIRE(r >= 0);
    return static_cast<uint32_t>(r);
  }

  std::vector<std::string> runnable() const {
    std::vector<std::string> result;
    for (auto r : p.runnable(100))
      result.push_back(p.graph().node(r).id);
    return result;
  }

  std::vector<std::string> skippable() const {
    std::vector<std::string> result;
    for (auto& s : p.skippable())
      result.push_back(p.graph().node(s.rank).id);
    return result;
  }

  /// The reason skippable() gives for `id`; empty when it is not listed.
  std::string skip_reason(const std::string& id) const {
    for (auto& s : p.skippable())
      if (p.graph().node(s.rank).id == id)
        return s.reason;
    return {};
  }

  /// Folds a NodeSkipped for every node skippable() lists, in its order.
  void skip_all() {
    for (auto& s : p.skippable())
      fold(node_skipped{p.graph().node(s.rank).id, s.reason});
  }

  /// Folds a worker-run node through scheduling and completion.
  void complete(const std::string& id, const std::string& patch = "{}") {
    fold(node_scheduled{id, "general"});
    fold(node_completed{id, "null", patch, 1, ""});
  }

  node_state state_of(const std::string& id) const {
    return p.state_of(rank(id));
  }
};

command new_command(int64_t now_ms) {
  command cmd;
  cmd.execution_id = exec_id;
  cmd.now_ms = now_ms;
  return cmd;
}

using names = std::vector<std::string>;

bool any_contains(const std::vector<std::string>& texts,
                  const std::string& part) {
  for (auto& t : texts)
    if (contains(t, part))
      return true;
  return false;
}

// -- IRs ----------------------------------------------------------------------

/// c branches on state.flag to yes, else to no; both lead to join.
const char* branch_ir = R"({
  "workflow_id": "route", "version": "1", "start_node": "c",
  "nodes": {
    "c": {"id": "c", "kind": {"type": "condition", "branches": [
      {"condition": "state.flag", "target": "yes"},
      {"condition": null, "target": "no"}]}},
    "yes": {"id": "yes", "kind": {"type": "tool"}},
    "no": {"id": "no", "kind": {"type": "tool"}},
    "join": {"id": "join", "kind": {"type": "noop"}}
  },
  "edges": [
    {"from": "c", "to": "yes", "condition": null},
    {"from": "c", "to": "no", "condition": null},
    {"from": "yes", "to": "join", "condition": null},
    {"from": "no", "to": "join", "condition": null},
    {"from": "join", "to": "end", "condition": null}
  ]})";

/// Like branch_ir, with a chain no -> mid -> alpha -> join (ids in reverse
/// alphabetical order, so rank order differs from id order).
const char* cascade_ir = R"({
  "workflow_id": "cascade", "version": "1", "start_node": "c",
  "nodes": {
    "c": {"id": "c", "kind": {"type": "condition", "branches": [
      {"condition": "state.flag", "target": "yes"},
      {"target": "no"}]}},
    "yes": {"id": "yes", "kind": {"type": "tool"}},
    "no": {"id": "no", "kind": {"type": "tool"}},
    "mid": {"id": "mid", "kind": {"type": "tool"}},
    "alpha": {"id": "alpha", "kind": {"type": "tool"}},
    "join": {"id": "join", "kind": {"type": "noop"}}
  },
  "edges": [
    {"from": "c", "to": "yes"}, {"from": "c", "to": "no"},
    {"from": "no", "to": "mid"}, {"from": "mid", "to": "alpha"},
    {"from": "alpha", "to": "join"}, {"from": "yes", "to": "join"},
    {"from": "join", "to": "end"}
  ]})";

/// A wait node `w` of kind `kind` followed by `next`; `w` names retry
/// policy `policy` (none: null) from `policies`.
std::string wait_ir(const json& kind,
                    const std::optional<std::string>& policy = std::nullopt,
                    const json& policies = json::object()) {
  ir_builder ir{"wait"};
  ir.node("w", kind);
  if (policy)
    ir.retry_policy(*policy);
  else
    ir.retry_policy(nullptr);
  return ir.node("next", "tool")
    .edge("w", "next")
    .edge("next", "end")
    .policies(policies)
    .dump();
}

const json event_wait_kind = {{"type", "wait"},
                              {"condition", "external_event"},
                              {"correlation_key", "k"},
                              {"timeout_secs", 5}};

/// An approval `ask` leading to `ok`, and to `fb` when `fallback`; the
/// approval's kind has the fields of `extra_kind` too.
std::string approval_ir(bool fallback,
                        const json& extra_kind = json::object()) {
  json kind = {{"type", "human_approval"}};
  if (fallback)
    kind["fallback_node"] = "fb";
  kind.update(extra_kind);
  ir_builder ir{"approve"};
  ir.node("ask", kind).node("ok", "tool");
  ir.edge("ask", "ok").edge("ok", "end");
  if (fallback)
    ir.node("fb", "tool").edge("ask", "fb").edge("fb", "end");
  return ir.dump();
}

/// Runs `planner` on a fresh command and returns it.
template <class F>
command plan(int64_t now_ms, F planner) {
  auto cmd = new_command(now_ms);
  planner(cmd);
  return cmd;
}

} // namespace

// -- condition nodes
// ------------------------------------------------------------

TEST_CASE("a condition node routes to the branch that holds", "[routing]") {
  auto check_route = [](const std::string& input, const std::string& taken,
                        const std::string& other, int branch) {
    run r{compile(branch_ir)};
    r.start(input);
    REQUIRE(r.runnable() == names{"c"});
    CHECK(r.skippable().empty());
    auto cmd =
      plan(1000, [&](command& c) { plan_condition(r.p, r.rank("c"), c); });
    REQUIRE(cmd.events.size() == 1);
    CHECK(cmd.items.empty());
    auto done = caf::get<node_completed>(cmd.events[0]);
    CHECK(done.node_id == "c");
    CHECK(json::parse(done.output) ==
          json{{"branch", branch}, {"target", taken}});
    CHECK(json::parse(done.state_patch) == json::object());
    r.fold(cmd);
    CHECK(r.state_of("c") == node_state::completed);
    // The branch not taken is skipped, the one taken runs.
    CHECK(r.skippable() == names{other});
    CHECK(contains(r.skip_reason(other), "edge from 'c' not taken"));
    CHECK(r.runnable() == names{taken});
    r.fold(node_skipped{other, r.skip_reason(other)});
    CHECK(r.state_of(other) == node_state::skipped);
    CHECK(r.skippable().empty());
    // join waits for its live in-edge.
    CHECK(r.runnable() == names{taken});
    r.complete(taken);
    CHECK(r.runnable() == names{"join"});
    CHECK(r.skippable().empty());
    CHECK_FALSE(r.p.all_done());
    r.complete("join");
    CHECK(r.p.all_done());
    CHECK(r.p.done() == 4);
    CHECK_FALSE(r.p.failure());
  };
  SECTION("flag true") {
    check_route(R"({"flag": true})", "yes", "no", 0);
  }
  SECTION("flag truthy") {
    check_route(R"({"flag": "x"})", "yes", "no", 0);
  }
  SECTION("flag false") {
    check_route(R"({"flag": false})", "no", "yes", 1);
  }
  SECTION("flag missing") {
    check_route("{}", "no", "yes", 1);
  }
}

TEST_CASE("the branch taken is decided by the state when planned",
          "[routing]") {
  // A patch folded before the condition runs decides its branch.
  auto g = compile(R"({
    "workflow_id": "pre", "version": "1", "start_node": "a",
    "nodes": {
      "a": {"id": "a", "kind": {"type": "tool"}},
      "c": {"id": "c", "kind": {"type": "condition", "branches": [
        {"condition": "state.mode == \"fast\"", "target": "fast"},
        {"condition": "state.mode == \"slow\"", "target": "slow"},
        {"target": "other"}]}},
      "fast": {"id": "fast", "kind": {"type": "tool"}},
      "slow": {"id": "slow", "kind": {"type": "tool"}},
      "other": {"id": "other", "kind": {"type": "tool"}}
    },
    "edges": [
      {"from": "a", "to": "c"}, {"from": "c", "to": "fast"},
      {"from": "c", "to": "slow"}, {"from": "c", "to": "other"},
      {"from": "fast", "to": "end"}, {"from": "slow", "to": "end"},
      {"from": "other", "to": "end"}
    ]})");
  run r{g};
  r.start(R"({"mode": "fast"})");
  r.complete("a", R"({"mode": "slow"})");
  REQUIRE(r.runnable() == names{"c"});
  auto cmd = plan(0, [&](command& c) { plan_condition(r.p, r.rank("c"), c); });
  REQUIRE(cmd.events.size() == 1);
  auto out = json::parse(caf::get<node_completed>(cmd.events[0]).output);
  CHECK(out == json{{"branch", 1}, {"target", "slow"}});
  r.fold(cmd);
  CHECK(r.runnable() == names{"slow"});
  auto skipped = r.skippable();
  CHECK(std::set<std::string>(skipped.begin(), skipped.end()) ==
        std::set<std::string>{"fast", "other"});
}

TEST_CASE("a malformed branch condition is reported in the output",
          "[routing]") {
  auto g = compile(R"({
    "workflow_id": "bad", "version": "1", "start_node": "c",
    "nodes": {
      "c": {"id": "c", "kind": {"type": "condition", "branches": [
        {"condition": "state.mode == fast", "target": "fast"},
        {"target": "other"}]}},
      "fast": {"id": "fast", "kind": {"type": "tool"}},
      "other": {"id": "other", "kind": {"type": "tool"}}
    },
    "edges": [{"from": "c", "to": "fast"}, {"from": "c", "to": "other"},
              {"from": "fast", "to": "end"}, {"from": "other", "to": "end"}]
  })");
  run r{g};
  r.start(R"({"mode": "fast"})");
  auto cmd = plan(0, [&](command& c) { plan_condition(r.p, r.rank("c"), c); });
  REQUIRE(cmd.events.size() == 1);
  auto out = json::parse(caf::get<node_completed>(cmd.events[0]).output);
  CHECK(out["branch"] == 1);
  CHECK(out["target"] == "other");
  REQUIRE(out.contains("problems"));
  REQUIRE(out["problems"].size() == 1);
  CHECK(out["problems"][0]["branch"] == 0);
  CHECK(contains(out["problems"][0]["problem"].get<std::string>(),
                 "not a JSON literal"));
  r.fold(cmd);
  CHECK(r.runnable() == names{"other"});
  CHECK(r.skippable() == names{"fast"});
}

TEST_CASE("a branch may lead straight to the end", "[routing]") {
  const char* ir = R"({
    "workflow_id": "stop", "version": "1", "start_node": "c",
    "nodes": {
      "c": {"id": "c", "kind": {"type": "condition", "branches": [
        {"condition": "state.stop == true", "target": "end"},
        {"target": "work"}]}},
      "work": {"id": "work", "kind": {"type": "tool"}}
    },
    "edges": [{"from": "c", "to": "end"}, {"from": "c", "to": "work"},
              {"from": "work", "to": "end"}]})";
  SECTION("stop") {
    run r{compile(ir)};
    r.start(R"({"stop": true})");
    auto cmd =
      plan(0, [&](command& c) { plan_condition(r.p, r.rank("c"), c); });
    auto out = json::parse(caf::get<node_completed>(cmd.events.at(0)).output);
    CHECK(out == json{{"branch", 0}, {"target", "end"}});
    r.fold(cmd);
    CHECK(r.runnable().empty());
    CHECK(r.skippable() == names{"work"});
    r.skip_all();
    CHECK(r.p.all_done());
  }
  SECTION("go on") {
    run r{compile(ir)};
    r.start(R"({"stop": 1})");
    r.fold(plan(0, [&](command& c) { plan_condition(r.p, r.rank("c"), c); }));
    CHECK(r.runnable() == names{"work"});
    CHECK(r.skippable().empty());
  }
}

TEST_CASE("a skipped branch skips the chain behind it", "[routing]") {
  run r{compile(cascade_ir)};
  REQUIRE(r.rank("no") < r.rank("mid"));
  REQUIRE(r.rank("mid") < r.rank("alpha"));
  r.start(R"({"flag": 1})");
  r.fold(plan(0, [&](command& c) { plan_condition(r.p, r.rank("c"), c); }));
  // The whole chain at once, in rank order (not id order).
  CHECK(r.skippable() == names{"no", "mid", "alpha"});
  CHECK(contains(r.skip_reason("no"), "edge from 'c' not taken"));
  CHECK(contains(r.skip_reason("mid"), "'no' was skipped"));
  CHECK(contains(r.skip_reason("alpha"), "'mid' was skipped"));
  CHECK(r.runnable() == names{"yes"});
  r.complete("yes");
  // join still has an undecided in-edge from alpha.
  CHECK(r.runnable().empty());
  auto skips = r.p.skippable();
  for (size_t i = 0; i < skips.size(); ++i) {
    auto id = r.p.graph().node(skips[i].rank).id;
    INFO("skipping " << id);
    CHECK(r.runnable().empty());
    r.fold(node_skipped{id, skips[i].reason});
    CHECK(r.state_of(id) == node_state::skipped);
    // What is left of the cascade is still offered, nothing else.
    CHECK(r.skippable().size() == skips.size() - i - 1);
  }
  CHECK(r.runnable() == names{"join"});
  r.complete("join");
  CHECK(r.p.all_done());
}

TEST_CASE("a skip cascade folded before the live branch ends", "[routing]") {
  run r{compile(cascade_ir)};
  r.start(R"({"flag": true})");
  r.fold(plan(0, [&](command& c) { plan_condition(r.p, r.rank("c"), c); }));
  r.skip_all();
  CHECK(r.state_of("alpha") == node_state::skipped);
  CHECK(r.skippable().empty());
  // join is neither runnable nor skippable while yes may still make it live.
  CHECK(r.runnable() == names{"yes"});
  r.complete("yes");
  CHECK(r.runnable() == names{"join"});
}

TEST_CASE("when no branch holds and there is no default, every target is "
          "skipped",
          "[routing]") {
  auto g = compile(R"({
    "workflow_id": "none", "version": "1", "start_node": "c",
    "nodes": {
      "c": {"id": "c", "kind": {"type": "condition", "branches": [
        {"condition": "state.flag", "target": "yes"},
        {"condition": "state.other == 1", "target": "no"}]}},
      "yes": {"id": "yes", "kind": {"type": "tool"}},
      "no": {"id": "no", "kind": {"type": "tool"}},
      "join": {"id": "join", "kind": {"type": "noop"}}
    },
    "edges": [
      {"from": "c", "to": "yes"}, {"from": "c", "to": "no"},
      {"from": "yes", "to": "join"}, {"from": "no", "to": "join"},
      {"from": "join", "to": "end"}
    ]})");
  run r{g};
  r.start(R"({"flag": false, "other": 2})");
  auto cmd = plan(0, [&](command& c) { plan_condition(r.p, r.rank("c"), c); });
  REQUIRE(cmd.events.size() == 1);
  auto out = json::parse(caf::get<node_completed>(cmd.events[0]).output);
  CHECK(out["branch"].is_null());
  CHECK(out["target"].is_null());
  CHECK_FALSE(out.contains("problems"));
  r.fold(cmd);
  CHECK(r.runnable().empty());
  auto skipped = r.skippable();
  CHECK(skipped == names{"no", "yes", "join"});
  CHECK(contains(r.skip_reason("yes"), "edge from 'c' not taken"));
  CHECK(contains(r.skip_reason("no"), "edge from 'c' not taken"));
  CHECK(contains(r.skip_reason("join"), "'yes' was skipped"));
  CHECK(contains(r.skip_reason("join"), "'no' was skipped"));
  r.skip_all();
  CHECK(r.p.all_done());
}

// -- edge conditions
// ------------------------------------------------------------

namespace {

const char* edge_condition_ir = R"({
  "workflow_id": "edges", "version": "1", "start_node": "a",
  "nodes": {
    "a": {"id": "a", "kind": {"type": "tool"}},
    "b": {"id": "b", "kind": {"type": "tool"}},
    "c": {"id": "c", "kind": {"type": "tool"}}
  },
  "edges": [
    {"from": "a", "to": "b", "condition": "state.x == 1"},
    {"from": "a", "to": "c", "condition": null},
    {"from": "b", "to": "end"}, {"from": "c", "to": "end"}
  ]})";

} // namespace

TEST_CASE("an edge condition is evaluated on the state after the patch",
          "[routing]") {
  SECTION("the patch makes it false") {
    run r{compile(edge_condition_ir)};
    r.start(R"({"x": 1})");
    r.complete("a", R"({"x": 2})");
    CHECK(r.skippable() == names{"b"});
    CHECK(contains(r.skip_reason("b"), "edge from 'a' not taken"));
    CHECK(r.runnable() == names{"c"});
    r.skip_all();
    r.complete("c");
    CHECK(r.p.all_done());
  }
  SECTION("the patch makes it true") {
    run r{compile(edge_condition_ir)};
    r.start(R"({"x": 2})");
    r.complete("a", R"({"x": 1})");
    CHECK(r.skippable().empty());
    CHECK(r.runnable() == names{"b", "c"});
  }
  SECTION("a typed mismatch is false") {
    run r{compile(edge_condition_ir)};
    r.start();
    r.complete("a", R"({"x": "1"})");
    CHECK(r.skippable() == names{"b"});
    CHECK(r.runnable() == names{"c"});
  }
}

TEST_CASE("a malformed edge condition is taken as false", "[routing]") {
  auto g = compile(R"({
    "workflow_id": "edges", "version": "1", "start_node": "a",
    "nodes": {
      "a": {"id": "a", "kind": {"type": "tool"}},
      "b": {"id": "b", "kind": {"type": "tool"}}
    },
    "edges": [{"from": "a", "to": "b", "condition": "state.s == done"},
              {"from": "b", "to": "end"}]})");
  run r{g};
  r.start(R"({"s": "done", "done": "done"})");
  r.complete("a");
  CHECK(r.runnable().empty());
  CHECK(r.skippable() == names{"b"});
}

// -- snapshots
// ------------------------------------------------------------------

TEST_CASE("a snapshot keeps the routing decisions", "[routing]") {
  for (bool flag : {true, false}) {
    INFO("flag " << flag);
    run r{compile(branch_ir)};
    r.start(flag ? R"({"flag": true})" : "{}");
    r.fold(plan(0, [&](command& c) { plan_condition(r.p, r.rank("c"), c); }));
    auto snap = r.p.snapshot();
    run restored{compile(branch_ir)};
    REQUIRE(restored.p.restore(snap));
    restored.seq = r.seq;
    CHECK(restored.p.last_sequence() == r.p.last_sequence());
    CHECK(restored.runnable() == r.runnable());
    CHECK(restored.runnable() == names{flag ? "yes" : "no"});
    CHECK(restored.skippable() == r.skippable());
    CHECK(restored.skippable() == names{flag ? "no" : "yes"});
    CHECK(restored.p.snapshot() == snap);
    // Both go on to the same end.
    for (auto* x : {&r, &restored}) {
      x->skip_all();
      x->complete(flag ? "yes" : "no");
      CHECK(x->runnable() == names{"join"});
      x->complete("join");
      CHECK(x->p.all_done());
    }
    CHECK(restored.p.snapshot() == r.p.snapshot());
  }
}

TEST_CASE("a snapshot taken mid-cascade restores the rest of the cascade",
          "[routing]") {
  run r{compile(cascade_ir)};
  r.start(R"({"flag": true})");
  r.fold(plan(0, [&](command& c) { plan_condition(r.p, r.rank("c"), c); }));
  r.fold(node_skipped{"no", r.skip_reason("no")});
  run restored{compile(cascade_ir)};
  REQUIRE(restored.p.restore(r.p.snapshot()));
  CHECK(restored.skippable() == names{"mid", "alpha"});
  CHECK(restored.runnable() == names{"yes"});
}

TEST_CASE("a snapshot without edges restores an unconditional graph",
          "[routing]") {
  const char* ir = R"({
    "workflow_id": "plain", "version": "1", "start_node": "s",
    "nodes": {
      "s": {"id": "s", "kind": {"type": "tool"}},
      "a": {"id": "a", "kind": {"type": "tool"}},
      "b": {"id": "b", "kind": {"type": "tool"}},
      "j": {"id": "j", "kind": {"type": "noop"}}
    },
    "edges": [{"from": "s", "to": "a"}, {"from": "s", "to": "b"},
              {"from": "a", "to": "j"}, {"from": "b", "to": "j"},
              {"from": "j", "to": "end"}]})";
  run r{compile(ir)};
  r.start(R"({"in": 1})");
  r.complete("s", R"({"s": 1})");
  r.complete("a");
  r.fold(node_scheduled{"b", "general"});
  auto snap = json::parse(r.p.snapshot());
  REQUIRE(snap.contains("edges"));
  snap.erase("edges");
  run restored{compile(ir)};
  REQUIRE(restored.p.restore(snap.dump()));
  restored.seq = r.seq;
  CHECK(restored.p.last_sequence() == r.p.last_sequence());
  CHECK(restored.p.state() == r.p.state());
  CHECK(restored.runnable() == r.runnable());
  CHECK(restored.runnable().empty());
  CHECK(restored.skippable().empty());
  CHECK(restored.p.in_flight() == 1);
  CHECK(restored.p.snapshot() == r.p.snapshot());
  restored.fold(node_completed{"b", "null", "{}", 1, ""});
  CHECK(restored.runnable() == names{"j"});
  restored.complete("j");
  CHECK(restored.p.all_done());
}

// -- wait nodes
// -----------------------------------------------------------------

TEST_CASE("an external-event wait sets a timer and completes on the event",
          "[routing]") {
  run r{compile(wait_ir(event_wait_kind))};
  r.start();
  auto w = r.rank("w");
  REQUIRE(r.runnable() == names{"w"});
  auto start = plan(1000, [&](command& c) { plan_wait_start(r.p, w, c); });
  REQUIRE(start.events.size() == 2);
  auto scheduled = caf::get<node_scheduled>(start.events[0]);
  CHECK(scheduled.node_id == "w");
  auto timer = caf::get<timer_created>(start.events[1]);
  CHECK(timer.node_id == "w");
  CHECK(timer.fire_at_ms == 6000);
  REQUIRE(timer.correlation_key);
  CHECK(*timer.correlation_key == "k");
  REQUIRE(start.items.size() == 1);
  auto item = caf::get<enqueue_op>(start.items[0]).item;
  CHECK(item.id == timer_item_id(exec_id, "w", 1));
  CHECK(item.execution_id == exec_id);
  CHECK(item.node_id == "w");
  CHECK(item.queue_type == timer_queue);
  CHECK(item.not_before_ms == 6000);
  r.fold(start);
  CHECK(r.state_of("w") == node_state::scheduled);
  CHECK(r.p.timers_of("w") == 1);
  CHECK(r.runnable().empty());

  auto idle = new_command(2000);
  CHECK_FALSE(plan_wait_resolution(r.p, w, idle));
  CHECK(idle.events.empty());
  CHECK(idle.items.empty());

  SECTION("the event completes it") {
    // An event with another key changes nothing.
    r.fold(external_event_received{"other", R"({"v":0})"});
    auto still = new_command(2500);
    CHECK_FALSE(plan_wait_resolution(r.p, w, still));
    CHECK(still.events.empty());
    r.fold(external_event_received{"k", R"({"v":1})"});
    CHECK(r.p.has_event("k"));
    auto cmd = new_command(3000);
    REQUIRE(plan_wait_resolution(r.p, w, cmd));
    REQUIRE(cmd.events.size() == 1);
    auto done = caf::get<node_completed>(cmd.events[0]);
    CHECK(done.node_id == "w");
    CHECK(json::parse(done.output) == json{{"v", 1}});
    CHECK(json::parse(done.state_patch) == json{{"v", 1}});
    REQUIRE(cmd.items.size() == 1);
    CHECK(caf::get<disarm_op>(cmd.items[0]).item_id ==
          timer_item_id(exec_id, "w", 1));
    r.fold(cmd);
    CHECK(r.state_of("w") == node_state::completed);
    CHECK(r.p.state() == json{{"v", 1}});
    CHECK_FALSE(r.p.has_event("k"));
    CHECK(r.p.has_event("other"));
    CHECK(r.runnable() == names{"next"});
  }
  SECTION("the timer fails it and the default policy retries") {
    r.fold(timer_fired{"w", std::string{"k"}});
    auto cmd = new_command(7000);
    REQUIRE(plan_wait_resolution(r.p, w, cmd));
    REQUIRE(cmd.events.size() == 3);
    auto failed = caf::get<node_failed>(cmd.events[0]);
    CHECK(failed.node_id == "w");
    CHECK(failed.attempt == 1);
    CHECK(failed.retryable);
    CHECK(contains(failed.error, "'k'"));
    CHECK(contains(failed.error, "5 s"));
    auto retry = caf::get<retry_scheduled>(cmd.events[1]);
    CHECK(retry.attempt == 2);
    CHECK(retry.delay_ms == 1000);
    auto again = caf::get<timer_created>(cmd.events[2]);
    CHECK(again.node_id == "w");
    // The retry delay, then the wait again.
    CHECK(again.fire_at_ms == 7000 + 1000 + 5000);
    REQUIRE(cmd.items.size() == 1);
    auto item2 = caf::get<enqueue_op>(cmd.items[0]).item;
    CHECK(item2.id == timer_item_id(exec_id, "w", 2));
    CHECK(item2.queue_type == timer_queue);
    CHECK(item2.not_before_ms == 13000);
    r.fold(cmd);
    CHECK_FALSE(r.p.failure());
    CHECK(r.state_of("w") == node_state::scheduled);
    CHECK(r.p.attempt_of(w) == 2);
    CHECK(r.p.timers_of("w") == 2);
    auto waiting = new_command(8000);
    CHECK_FALSE(plan_wait_resolution(r.p, w, waiting));
    CHECK(waiting.events.empty());

    SECTION("an event during the retry completes it, disarming timer 2") {
      r.fold(external_event_received{"k", R"({"late":true})"});
      auto ok = new_command(9000);
      REQUIRE(plan_wait_resolution(r.p, w, ok));
      REQUIRE(ok.items.size() == 1);
      CHECK(caf::get<disarm_op>(ok.items[0]).item_id ==
            timer_item_id(exec_id, "w", 2));
      r.fold(ok);
      CHECK(r.runnable() == names{"next"});
      CHECK(r.p.state() == json{{"late", true}});
    }
    SECTION("attempts run out") {
      r.fold(timer_fired{"w", std::string{"k"}});
      auto second = new_command(13000);
      REQUIRE(plan_wait_resolution(r.p, w, second));
      REQUIRE(second.events.size() == 3);
      CHECK(caf::get<node_failed>(second.events[0]).attempt == 2);
      CHECK(caf::get<node_failed>(second.events[0]).retryable);
      CHECK(caf::get<retry_scheduled>(second.events[1]).delay_ms == 2000);
      CHECK(caf::get<timer_created>(second.events[2]).fire_at_ms ==
            13000 + 2000 + 5000);
      r.fold(second);
      r.fold(timer_fired{"w", std::string{"k"}});
      auto last = new_command(20000);
      REQUIRE(plan_wait_resolution(r.p, w, last));
      REQUIRE(last.events.size() == 1);
      CHECK(last.items.empty());
      auto f = caf::get<node_failed>(last.events[0]);
      CHECK(f.attempt == 3);
      CHECK_FALSE(f.retryable);
      r.fold(last);
      CHECK(r.state_of("w") == node_state::failed);
      REQUIRE(r.p.failure());
      CHECK(contains(*r.p.failure(), "node 'w' failed"));
    }
  }
}

TEST_CASE("an event received before the wait starts completes it",
          "[routing]") {
  run r{compile(wait_ir(event_wait_kind))};
  r.start(R"({"a": 1})");
  auto w = r.rank("w");
  r.fold(external_event_received{"k", "[1,2]"});
  r.fold(plan(0, [&](command& c) { plan_wait_start(r.p, w, c); }));
  auto cmd = new_command(10);
  REQUIRE(plan_wait_resolution(r.p, w, cmd));
  REQUIRE(cmd.events.size() == 1);
  auto done = caf::get<node_completed>(cmd.events[0]);
  // A payload that is not an object is the output, but patches nothing.
  CHECK(json::parse(done.output) == json::array({1, 2}));
  CHECK(json::parse(done.state_patch) == json::object());
  REQUIRE(cmd.items.size() == 1);
  CHECK(caf::get<disarm_op>(cmd.items[0]).item_id ==
        timer_item_id(exec_id, "w", 1));
  r.fold(cmd);
  CHECK(r.p.state() == json{{"a", 1}});
  CHECK_FALSE(r.p.has_event("k"));
  CHECK(r.runnable() == names{"next"});
}

TEST_CASE("an external-event wait under no_retry fails at its timeout",
          "[routing]") {
  run r{compile(wait_ir(event_wait_kind, "no_retry"))};
  r.start();
  auto w = r.rank("w");
  r.fold(plan(0, [&](command& c) { plan_wait_start(r.p, w, c); }));
  r.fold(timer_fired{"w", std::string{"k"}});
  auto cmd = new_command(5000);
  REQUIRE(plan_wait_resolution(r.p, w, cmd));
  REQUIRE(cmd.events.size() == 1);
  CHECK(cmd.items.empty());
  auto failed = caf::get<node_failed>(cmd.events[0]);
  CHECK(failed.attempt == 1);
  CHECK_FALSE(failed.retryable);
  r.fold(cmd);
  CHECK(r.state_of("w") == node_state::failed);
  REQUIRE(r.p.failure());
  CHECK(*r.p.failure() == "node 'w' failed: " + failed.error);
  CHECK(r.runnable().empty());
}

TEST_CASE("a wait's timeout is retried only for a retryable class",
          "[routing]") {
  run r{compile(wait_ir(
    event_wait_kind, "only_io",
    {{"only_io",
      {{"max_attempts", 5}, {"retryable_on", json::array({"io_error"})}}}}))};
  r.start();
  auto w = r.rank("w");
  r.fold(plan(0, [&](command& c) { plan_wait_start(r.p, w, c); }));
  r.fold(timer_fired{"w", std::string{"k"}});
  auto cmd = new_command(5000);
  REQUIRE(plan_wait_resolution(r.p, w, cmd));
  REQUIRE(cmd.events.size() == 1);
  CHECK_FALSE(caf::get<node_failed>(cmd.events[0]).retryable);
}

TEST_CASE("a timer wait plans its completion once its timer fired",
          "[routing]") {
  run r{compile(
    wait_ir({{"type", "wait"}, {"condition", "timer"}, {"timeout_secs", 2}}))};
  r.start();
  auto w = r.rank("w");
  auto start = plan(500, [&](command& c) { plan_wait_start(r.p, w, c); });
  REQUIRE(start.events.size() == 2);
  CHECK(caf::get<timer_created>(start.events[1]).fire_at_ms == 2500);
  REQUIRE(start.items.size() == 1);
  CHECK(caf::get<enqueue_op>(start.items[0]).item.not_before_ms == 2500);
  r.fold(start);
  auto idle = new_command(1000);
  CHECK_FALSE(plan_wait_resolution(r.p, w, idle));
  // An external event does not end a timer wait, whatever its key.
  r.fold(external_event_received{"w", R"({"v":1})"});
  auto still = new_command(1500);
  CHECK_FALSE(plan_wait_resolution(r.p, w, still));
  CHECK(still.events.empty());
  r.fold(timer_fired{"w", std::string{"w"}});
  auto cmd = new_command(2500);
  REQUIRE(plan_wait_resolution(r.p, w, cmd));
  REQUIRE(cmd.events.size() == 1);
  auto done = caf::get<node_completed>(cmd.events[0]);
  CHECK(json::parse(done.output) == json{{"timer_fired", true}});
  CHECK(json::parse(done.state_patch) == json::object());
  // The timer fired: nothing to disarm.
  CHECK(cmd.items.empty());
  r.fold(cmd);
  CHECK(r.state_of("w") == node_state::completed);
  CHECK(r.runnable() == names{"next"});
}

TEST_CASE("an either wait ends on the event or on the timer", "[routing]") {
  auto g = compile(wait_ir({{"type", "wait"},
                            {"condition", "either"},
                            {"correlation_key", "k"},
                            {"timeout_secs", 3}}));
  run r{g};
  r.start(R"({"keep": 1})");
  auto w = r.rank("w");
  auto start = plan(0, [&](command& c) { plan_wait_start(r.p, w, c); });
  REQUIRE(start.events.size() == 2);
  CHECK(caf::get<timer_created>(start.events[1]).fire_at_ms == 3000);
  r.fold(start);
  auto idle = new_command(1000);
  CHECK_FALSE(plan_wait_resolution(r.p, w, idle));
  SECTION("timer") {
    r.fold(timer_fired{"w", std::string{"k"}});
    auto cmd = new_command(3000);
    REQUIRE(plan_wait_resolution(r.p, w, cmd));
    REQUIRE(cmd.events.size() == 1);
    auto done = caf::get<node_completed>(cmd.events[0]);
    CHECK(json::parse(done.output) == json{{"timed_out", true}});
    CHECK(cmd.items.empty());
    r.fold(cmd);
    CHECK(r.p.state() == json{{"keep", 1}});
    CHECK(r.runnable() == names{"next"});
  }
  SECTION("event") {
    r.fold(external_event_received{"k", R"({"answer":"yes"})"});
    auto cmd = new_command(2000);
    REQUIRE(plan_wait_resolution(r.p, w, cmd));
    REQUIRE(cmd.events.size() == 1);
    auto done = caf::get<node_completed>(cmd.events[0]);
    CHECK(json::parse(done.output) == json{{"answer", "yes"}});
    REQUIRE(cmd.items.size() == 1);
    CHECK(caf::get<disarm_op>(cmd.items[0]).item_id ==
          timer_item_id(exec_id, "w", 1));
    r.fold(cmd);
    CHECK(r.p.state() == json{{"keep", 1}, {"answer", "yes"}});
    CHECK_FALSE(r.p.has_event("k"));
    CHECK(r.runnable() == names{"next"});
  }
}

// -- human approval
// -------------------------------------------------------------

TEST_CASE("an approval with a fallback routes by the decision", "[routing]") {
  run r{compile(approval_ir(true))};
  r.start(R"({"req": 1})");
  auto ask = r.rank("ask");
  REQUIRE(r.runnable() == names{"ask"});
  auto start = plan(0, [&](command& c) { plan_wait_start(r.p, ask, c); });
  // No deadline: no timer.
  REQUIRE(start.events.size() == 1);
  CHECK(caf::get<node_scheduled>(start.events[0]).node_id == "ask");
  CHECK(start.items.empty());
  r.fold(start);
  auto idle = new_command(100);
  CHECK_FALSE(plan_wait_resolution(r.p, ask, idle));
  CHECK(r.p.decision(ask) == nullptr);

  SECTION("approved") {
    r.fold(approval_received{"ask", "alice", "approved",
                             caf::optional<std::string>{"fine"},
                             R"({"ok": true})"});
    auto d = r.p.decision(ask);
    REQUIRE(d != nullptr);
    CHECK(d->approved);
    CHECK(d->user_id == "alice");
    REQUIRE(d->comment);
    CHECK(*d->comment == "fine");
    CHECK(json::parse(d->state_patch) == json{{"ok", true}});
    auto cmd = new_command(200);
    REQUIRE(plan_wait_resolution(r.p, ask, cmd));
    REQUIRE(cmd.events.size() == 1);
    CHECK(cmd.items.empty());
    auto done = caf::get<node_completed>(cmd.events[0]);
    CHECK(done.node_id == "ask");
    auto out = json::parse(done.output);
    CHECK(out["approved"] == true);
    CHECK(out["user_id"] == "alice");
    CHECK(out["comment"] == "fine");
    CHECK(json::parse(done.state_patch) == json{{"ok", true}});
    r.fold(cmd);
    CHECK(r.p.decision(ask) == nullptr);
    CHECK(r.p.state() == json{{"req", 1}, {"ok", true}});
    CHECK(r.skippable() == names{"fb"});
    CHECK(contains(r.skip_reason("fb"), "edge from 'ask' not taken"));
    CHECK(r.runnable() == names{"ok"});
  }
  SECTION("rejected") {
    r.fold(approval_received{"ask", "bob", "rejected",
                             caf::optional<std::string>{"no"}, ""});
    auto d = r.p.decision(ask);
    REQUIRE(d != nullptr);
    CHECK_FALSE(d->approved);
    auto cmd = new_command(200);
    REQUIRE(plan_wait_resolution(r.p, ask, cmd));
    REQUIRE(cmd.events.size() == 1);
    auto done = caf::get<node_completed>(cmd.events[0]);
    auto out = json::parse(done.output);
    CHECK(out["approved"] == false);
    CHECK(out["user_id"] == "bob");
    CHECK(out["comment"] == "no");
    r.fold(cmd);
    CHECK_FALSE(r.p.failure());
    CHECK(r.state_of("ask") == node_state::completed);
    CHECK(r.skippable() == names{"ok"});
    CHECK(contains(r.skip_reason("ok"), "edge from 'ask' not taken"));
    CHECK(r.runnable() == names{"fb"});
    r.skip_all();
    r.complete("fb");
    CHECK(r.p.all_done());
  }
}

TEST_CASE("an approval timeout routes to the fallback", "[routing]") {
  run r{compile(approval_ir(true, {{"timeout_secs", 60}}))};
  r.start();
  auto ask = r.rank("ask");
  auto start = plan(1000, [&](command& c) { plan_wait_start(r.p, ask, c); });
  REQUIRE(start.events.size() == 2);
  auto timer = caf::get<timer_created>(start.events[1]);
  CHECK(timer.fire_at_ms == 61000);
  r.fold(start);
  SECTION("a decision disarms the timer") {
    r.fold(approval_received{"ask", "alice", "approved", caf::none, ""});
    auto cmd = new_command(2000);
    REQUIRE(plan_wait_resolution(r.p, ask, cmd));
    REQUIRE(cmd.items.size() == 1);
    CHECK(caf::get<disarm_op>(cmd.items[0]).item_id ==
          timer_item_id(exec_id, "ask", 1));
    auto out = json::parse(caf::get<node_completed>(cmd.events.at(0)).output);
    CHECK(out["comment"].is_null());
    r.fold(cmd);
    CHECK(r.runnable() == names{"ok"});
  }
  SECTION("no decision in time") {
    r.fold(timer_fired{"ask", caf::none});
    auto cmd = new_command(61000);
    REQUIRE(plan_wait_resolution(r.p, ask, cmd));
    REQUIRE(cmd.events.size() == 1);
    auto out = json::parse(caf::get<node_completed>(cmd.events[0]).output);
    CHECK(out["approved"] == false);
    CHECK(out["timed_out"] == true);
    r.fold(cmd);
    CHECK(r.runnable() == names{"fb"});
    CHECK(r.skippable() == names{"ok"});
  }
}

TEST_CASE("a rejection without a fallback fails the node", "[routing]") {
  run r{compile(approval_ir(false))};
  r.start();
  auto ask = r.rank("ask");
  r.fold(plan(0, [&](command& c) { plan_wait_start(r.p, ask, c); }));
  SECTION("with a comment") {
    r.fold(approval_received{"ask", "bob", "rejected",
                             caf::optional<std::string>{"not now"}, ""});
    auto cmd = new_command(100);
    REQUIRE(plan_wait_resolution(r.p, ask, cmd));
    REQUIRE(cmd.events.size() == 1);
    auto failed = caf::get<node_failed>(cmd.events[0]);
    CHECK(failed.node_id == "ask");
    CHECK_FALSE(failed.retryable);
    CHECK(contains(failed.error, "bob"));
    CHECK(contains(failed.error, "not now"));
    r.fold(cmd);
    CHECK(r.state_of("ask") == node_state::failed);
    REQUIRE(r.p.failure());
    CHECK(contains(*r.p.failure(), "bob"));
    CHECK(r.runnable().empty());
  }
  SECTION("without a comment") {
    r.fold(approval_received{"ask", "carol", "rejected", caf::none, ""});
    auto cmd = new_command(100);
    REQUIRE(plan_wait_resolution(r.p, ask, cmd));
    REQUIRE(cmd.events.size() == 1);
    auto failed = caf::get<node_failed>(cmd.events[0]);
    CHECK_FALSE(failed.retryable);
    CHECK(contains(failed.error, "carol"));
  }
  SECTION("an approval runs the successor") {
    r.fold(approval_received{"ask", "dan", "approved", caf::none, ""});
    auto cmd = new_command(100);
    REQUIRE(plan_wait_resolution(r.p, ask, cmd));
    r.fold(cmd);
    CHECK(r.runnable() == names{"ok"});
  }
}

// -- validation
// -----------------------------------------------------------------

namespace {

std::vector<std::string> problems_of(const std::string& ir_text) {
  return validate(parse_ir(ir_text));
}

std::string one_node_ir(const json& kind,
                        const json& timeouts = json::object()) {
  return ir_builder{"v"}
    .node("n", kind)
    .edge("n", "end")
    .timeouts(timeouts)
    .dump();
}

std::string dump(const std::vector<std::string>& xs) {
  std::string out;
  for (auto& x : xs)
    out += "\n  " + x;
  return out;
}

} // namespace

TEST_CASE("validate checks the kinds the scheduler reads", "[routing]") {
  SECTION("the fixtures above are valid") {
    CHECK(problems_of(branch_ir).empty());
    CHECK(problems_of(cascade_ir).empty());
    CHECK(problems_of(wait_ir(event_wait_kind)).empty());
    CHECK(problems_of(approval_ir(true)).empty());
    CHECK(problems_of(approval_ir(false)).empty());
  }
  SECTION("a branch target without an edge") {
    auto problems = problems_of(R"({
      "workflow_id": "v", "version": "1", "start_node": "c",
      "nodes": {
        "c": {"id": "c", "kind": {"type": "condition", "branches": [
          {"condition": "state.f", "target": "x"}, {"target": "y"}]}},
        "x": {"id": "x", "kind": {"type": "tool"}},
        "y": {"id": "y", "kind": {"type": "tool"}}
      },
      "edges": [{"from": "c", "to": "y"}, {"from": "y", "to": "x"},
                {"from": "x", "to": "end"}]})");
    INFO(dump(problems));
    REQUIRE(problems.size() == 1);
    CHECK(contains(problems[0], "'c'"));
    CHECK(contains(problems[0], "'x'"));
    CHECK(contains(problems[0], "no edge"));
  }
  SECTION("a branch target that is unknown") {
    auto problems = problems_of(R"({
      "workflow_id": "v", "version": "1", "start_node": "c",
      "nodes": {
        "c": {"id": "c", "kind": {"type": "condition", "branches": [
          {"condition": "state.f", "target": "ghost"},
          {"target": "end"}]}}
      },
      "edges": [{"from": "c", "to": "end"}]})");
    INFO(dump(problems));
    REQUIRE(problems.size() == 1);
    CHECK(contains(problems[0], "unknown node 'ghost'"));
  }
  SECTION("a condition node without branches") {
    auto problems = problems_of(one_node_ir({{"type", "condition"}}));
    INFO(dump(problems));
    CHECK(any_contains(problems, "branches"));
  }
  SECTION("an unknown fallback node") {
    auto problems = problems_of(
      one_node_ir({{"type", "human_approval"}, {"fallback_node", "ghost"}}));
    INFO(dump(problems));
    REQUIRE(problems.size() == 1);
    CHECK(contains(problems[0], "fallback_node"));
    CHECK(contains(problems[0], "'ghost'"));
  }
  SECTION("a fallback node without an edge") {
    auto problems = problems_of(R"({
      "workflow_id": "v", "version": "1", "start_node": "ask",
      "nodes": {
        "ask": {"id": "ask", "kind": {"type": "human_approval",
                                      "fallback_node": "fb"}},
        "ok": {"id": "ok", "kind": {"type": "tool"}},
        "fb": {"id": "fb", "kind": {"type": "tool"}}
      },
      "edges": [{"from": "ask", "to": "ok"}, {"from": "ok", "to": "fb"},
                {"from": "fb", "to": "end"}]})");
    INFO(dump(problems));
    REQUIRE(problems.size() == 1);
    CHECK(contains(problems[0], "no edge 'ask' -> 'fb'"));
  }
  SECTION("a wait with an unknown condition") {
    auto problems = problems_of(one_node_ir(
      {{"type", "wait"}, {"condition", "sometimes"}, {"timeout_secs", 5}}));
    INFO(dump(problems));
    REQUIRE_FALSE(problems.empty());
    CHECK(any_contains(problems, "\"sometimes\""));
    CHECK(any_contains(problems, "kind.condition"));
  }
  SECTION("a wait without a condition") {
    auto problems =
      problems_of(one_node_ir({{"type", "wait"}, {"timeout_secs", 5}}));
    INFO(dump(problems));
    CHECK(any_contains(problems, "kind.condition"));
  }
  SECTION("timer waits without timeout_secs") {
    for (auto what : {"timer", "either"}) {
      auto problems =
        problems_of(one_node_ir({{"type", "wait"}, {"condition", what}}));
      INFO(what << dump(problems));
      REQUIRE(problems.size() == 1);
      CHECK(contains(problems[0], "timeout_secs"));
    }
    // An event wait needs no deadline.
    CHECK(problems_of(
            one_node_ir({{"type", "wait"}, {"condition", "external_event"}}))
            .empty());
  }
  SECTION("timeout_secs that are not whole seconds") {
    for (const json& value : {json(-5), json(2.5), json("10")}) {
      auto problems = problems_of(one_node_ir(
        {{"type", "wait"}, {"condition", "timer"}, {"timeout_secs", value}}));
      INFO(value << dump(problems));
      CHECK(any_contains(problems, "kind.timeout_secs must be whole seconds"));
    }
    // {"secs", "nanos"} is a duration too.
    CHECK(
      problems_of(one_node_ir({{"type", "wait"},
                               {"condition", "timer"},
                               {"timeout_secs", {{"secs", 3}, {"nanos", 0}}}}))
        .empty());
  }
  SECTION("timeouts with a negative or fractional value") {
    const json kind = {{"type", "tool"}};
    auto negative = problems_of(one_node_ir(kind, {{"workflow_timeout", -30}}));
    INFO(dump(negative));
    REQUIRE(negative.size() == 1);
    CHECK(contains(negative[0], "timeouts.workflow_timeout"));
    CHECK(contains(negative[0], "-30"));
    auto fractional = problems_of(one_node_ir(kind, {{"node_timeout", 1.5}}));
    INFO(dump(fractional));
    REQUIRE(fractional.size() == 1);
    CHECK(contains(fractional[0], "timeouts.node_timeout"));
    auto approval = problems_of(one_node_ir(kind, {{"approval_timeout", -1}}));
    CHECK(any_contains(approval, "timeouts.approval_timeout"));
    auto heartbeat =
      problems_of(one_node_ir(kind, {{"heartbeat_interval", 0.25}}));
    CHECK(any_contains(heartbeat, "timeouts.heartbeat_interval"));
    // Whole seconds, durations and nulls are fine.
    CHECK(problems_of(one_node_ir(kind, {{"workflow_timeout", 30},
                                         {"node_timeout",
                                          {{"secs", 5}, {"nanos", 500000000}}},
                                         {"approval_timeout", nullptr}}))
            .empty());
  }
}

TEST_CASE("malformed conditions are warnings, not problems", "[routing]") {
  auto ir = parse_ir(R"({
    "workflow_id": "warn", "version": "1", "start_node": "c",
    "nodes": {
      "c": {"id": "c", "kind": {"type": "condition", "branches": [
        {"condition": "state.", "target": "a"},
        {"condition": "state.ok", "target": "b"}]}},
      "a": {"id": "a", "kind": {"type": "tool"}},
      "b": {"id": "b", "kind": {"type": "tool"}}
    },
    "edges": [
      {"from": "c", "to": "a"}, {"from": "c", "to": "b"},
      {"from": "a", "to": "end", "condition": "state.s == done"},
      {"from": "b", "to": "end", "condition": "state.s == \"done\""}
    ]})");
  CHECK(validate(ir).empty());
  CHECK_NOTHROW(workflow_graph::compile(ir));
  auto w = warnings(ir);
  INFO(dump(w));
  REQUIRE(w.size() == 2);
  CHECK(any_contains(w, "condition node 'c' branch 0"));
  CHECK(any_contains(w, "edges[2] (a -> end)"));
  CHECK(any_contains(w, "not a JSON literal"));
  CHECK_FALSE(any_contains(w, "branch 1"));
  CHECK_FALSE(any_contains(w, "edges[3]"));
  // Well-formed conditions raise no warning.
  CHECK(warnings(parse_ir(branch_ir)).empty());
  CHECK(warnings(parse_ir(edge_condition_ir)).empty());
}
