// JamJet's own IR files run with stand-in handlers and take the path their
// authors meant; timers and approvals survive a restart on SQLite.

#include <catch2/catch.hpp>

#include <atomic>
#include <thread>

#include "jamjet/runtime.hpp"
#include "jamjet/store/sqlite_store.hpp"
#include "testing/files.hpp"
#include "testing/temp_dir.hpp"

using namespace jamjet;
using jamjet::testing::read_file;
using json = nlohmann::json;

namespace {

std::string read_fixture(const std::string& name) {
  return read_file(std::string{JAMJET_FIXTURE_DIR} + "/" + name);
}

/// The execution's events as "kind:node" strings.
std::vector<std::string> trail(runtime& rt, const std::string& id) {
  std::vector<std::string> result;
  for (auto& e : rt.events(id)) {
    auto n = node_id_of(e.kind);
    result.push_back(type_name_of(e.kind) + (n.empty() ? "" : ":" + n));
  }
  return result;
}

bool has(const std::vector<std::string>& xs, const std::string& x) {
  return std::find(xs.begin(), xs.end(), x) != xs.end();
}

/// Stand-in for model nodes: records the node's output under its id; the
/// node `flip_at` also sets `__cost_exceeded__`.
node_handler model_stand_in(std::string flip_at = {}) {
  return [flip_at](const node_context& ctx) {
    json patch{{ctx.node_id, "output of " + ctx.node_id}};
    if (ctx.node_id == flip_at)
      patch["__cost_exceeded__"] = true;
    return node_outcome::success(patch, patch);
  };
}

runtime_config small() {
  runtime_config cfg;
  cfg.worker_slots = 2;
  return cfg;
}

const std::vector<std::string> fleet_steps = {
  "__step_0__", "__step_1__", "__step_2__", "__step_3__", "__finalize__"};

} // namespace

TEST_CASE("fleet researcher: a false cost guard runs every step and skips "
          "the limit",
          "[fixtures]") {
  runtime rt{small()};
  rt.register_handler("model", model_stand_in());
  rt.register_handler("limit_exceeded", [](const node_context&) {
    return node_outcome::success({{"limit", true}}, {{"limit_hit", true}});
  });
  rt.register_workflow(read_fixture("fleet_researcher_ir.json"));
  auto id = rt.start("researcher", {{"__cost_exceeded__", false}});
  auto result = rt.wait(id);
  REQUIRE(result.completed());
  auto t = trail(rt, id);
  for (auto& step : fleet_steps)
    CHECK(has(t, "node_completed:" + step));
  CHECK(has(t, "node_skipped:__limit_exceeded__"));
  CHECK_FALSE(has(t, "node_scheduled:__limit_exceeded__"));
  CHECK_FALSE(result.state.contains("limit_hit"));
  CHECK(result.state["__finalize__"] == "output of __finalize__");
}

TEST_CASE("fleet researcher: a true cost guard goes to the limit and skips "
          "the steps",
          "[fixtures]") {
  runtime rt{small()};
  rt.register_handler("model", model_stand_in());
  rt.register_handler("limit_exceeded", [](const node_context&) {
    return node_outcome::success({{"limit", true}}, {{"limit_hit", true}});
  });
  rt.register_workflow(read_fixture("fleet_researcher_ir.json"));
  SECTION("exceeded from the start") {
    auto id = rt.start("researcher", {{"__cost_exceeded__", true}});
    auto result = rt.wait(id);
    REQUIRE(result.completed());
    auto t = trail(rt, id);
    CHECK(has(t, "node_completed:__plan__"));
    for (auto& step : fleet_steps)
      CHECK(has(t, "node_skipped:" + step));
    CHECK(has(t, "node_completed:__limit_exceeded__"));
    CHECK(result.state["limit_hit"] == true);
  }
  SECTION("exceeded after step 1: the limit runs once, later steps skip") {
    runtime rt2{small()};
    rt2.register_handler("model", model_stand_in("__step_1__"));
    rt2.register_handler("limit_exceeded", [](const node_context&) {
      return node_outcome::success({{"limit", true}}, {{"limit_hit", true}});
    });
    rt2.register_workflow(read_fixture("fleet_researcher_ir.json"));
    auto id = rt2.start("researcher", {{"__cost_exceeded__", false}});
    auto result = rt2.wait(id);
    REQUIRE(result.completed());
    auto t = trail(rt2, id);
    CHECK(has(t, "node_completed:__step_0__"));
    CHECK(has(t, "node_completed:__step_1__"));
    for (auto step : {"__step_2__", "__step_3__", "__finalize__"})
      CHECK(has(t, std::string{"node_skipped:"} + step));
    CHECK(std::count(t.begin(), t.end(), "node_completed:__limit_exceeded__") ==
          1);
  }
}

TEST_CASE("hello agent runs with a stand-in model", "[fixtures]") {
  runtime rt{small()};
  rt.register_handler("model", model_stand_in());
  rt.register_workflow(read_fixture("hello_agent_ir.json"));
  auto result = rt.wait(rt.start("demo", {{"query", "why?"}}));
  REQUIRE(result.completed());
  CHECK(result.state["think"] == "output of think");
  CHECK(result.state["query"] == "why?");
}

TEST_CASE("an approval survives a restart on SQLite", "[fixtures][durable]") {
  jamjet::testing::temp_dir dir;
  auto db = dir.path + "/approval.db";
  auto ir = R"({"workflow_id":"gate","version":"1","start_node":"ask",
    "nodes":{"ask":{"id":"ask","kind":{"type":"human_approval",
               "description":"ship it?","timeout_secs":3600}},
             "ship":{"id":"ship","kind":{"type":"noop",
               "state_patch":{"shipped":true}}}},
    "edges":[{"from":"ask","to":"ship"},{"from":"ship","to":"end"}]})";
  std::string id;
  {
    runtime_config cfg;
    cfg.store = sqlite_store::open(db);
    runtime rt{cfg};
    rt.register_builtin_handlers();
    rt.register_workflow(ir);
    id = rt.start("gate");
    // Wait until the node waits, then stop the runtime.
    while (!has(trail(rt, id), "timer_created:ask"))
      std::this_thread::sleep_for(std::chrono::milliseconds{5});
  }
  runtime_config cfg;
  cfg.store = sqlite_store::open(db);
  runtime rt{cfg};
  rt.register_builtin_handlers();
  CHECK(rt.resume() == std::vector<std::string>{id});
  rt.approve(id, "ask", "ann", std::string{"go"}, json{{"by", "ann"}});
  auto result = rt.wait(id);
  REQUIRE(result.completed());
  CHECK(result.state == json{{"by", "ann"}, {"shipped", true}});
  CHECK_THROWS_AS(rt.approve(id, "ask"), jamjet::error);
}

TEST_CASE("a timer fires at its time after a restart on SQLite",
          "[fixtures][durable]") {
  jamjet::testing::temp_dir dir;
  auto db = dir.path + "/timer.db";
  auto ir = R"({"workflow_id":"nap","version":"1","start_node":"sleep",
    "nodes":{"sleep":{"id":"sleep","kind":{"type":"wait",
               "condition":"timer","timeout_secs":1}}},
    "edges":[{"from":"sleep","to":"end"}]})";
  std::string id;
  {
    runtime_config cfg;
    cfg.store = sqlite_store::open(db);
    runtime rt{cfg};
    rt.register_workflow(ir);
    id = rt.start("nap");
    while (!has(trail(rt, id), "timer_created:sleep"))
      std::this_thread::sleep_for(std::chrono::milliseconds{5});
  }
  runtime_config cfg;
  cfg.store = sqlite_store::open(db);
  runtime rt{cfg};
  rt.resume();
  auto result = rt.wait(id);
  REQUIRE(result.completed());
  int64_t fire_at = 0;
  int64_t fired = 0;
  for (auto& e : rt.events(id)) {
    if (auto x = caf::get_if<timer_created>(&e.kind))
      fire_at = x->fire_at_ms;
    if (caf::holds_alternative<timer_fired>(e.kind))
      fired = e.created_at_ms;
  }
  REQUIRE(fire_at > 0);
  CHECK(fired >= fire_at);
}

TEST_CASE("a signal left in the inbox reaches the runtime that owns the "
          "store",
          "[fixtures][durable]") {
  jamjet::testing::temp_dir dir;
  auto db = dir.path + "/inbox.db";
  runtime_config cfg;
  cfg.store = sqlite_store::open(db);
  cfg.inbox_poll = std::chrono::milliseconds{20};
  runtime rt{cfg};
  rt.register_workflow(R"({"workflow_id":"pay","version":"1",
    "start_node":"wait","nodes":{"wait":{"id":"wait","kind":{"type":"wait",
      "condition":"external_event","correlation_key":"paid"}}},
    "edges":[{"from":"wait","to":"end"}]})");
  auto id = rt.start("pay");
  inbox_message msg;
  msg.execution_id = id;
  msg.kind = "signal";
  msg.target = "paid";
  msg.payload = R"({"amount":7})";
  msg.user_id = "test";
  sqlite_store::post_inbox(db, msg);
  auto result = rt.wait(id);
  REQUIRE(result.completed());
  CHECK(result.state == json{{"amount", 7}});
  // Delivered, then dropped (soon after: the drop follows the delivery).
  sqlite_options ro;
  ro.read_only = true;
  auto reader = sqlite_store::open(db, ro);
  for (int i = 0; i < 500 && !reader->inbox().empty(); ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds{10});
  CHECK(reader->inbox().empty());
}

TEST_CASE("the workflow's heartbeat interval is its lease period, and "
          "workers heartbeat within it",
          "[timeouts]") {
  runtime_config cfg;
  cfg.worker_slots = 1;
  cfg.lease = std::chrono::seconds{30};
  cfg.heartbeat = std::chrono::seconds{10};
  runtime rt{cfg};
  std::atomic<int> runs{0};
  rt.register_handler("slow", [&](const node_context&) {
    ++runs;
    std::this_thread::sleep_for(std::chrono::milliseconds{2500});
    return node_outcome::success(json{{"done", true}}, json{{"done", true}});
  });
  // A 1 s lease: kept alive only if the worker heartbeats more often than
  // its own 10 s interval.
  rt.register_workflow(R"({"workflow_id":"hb","version":"1",
    "start_node":"s","nodes":{"s":{"id":"s","kind":{"type":"slow"}}},
    "edges":[{"from":"s","to":"end"}],
    "timeouts":{"heartbeat_interval":1}})");
  auto id = rt.start("hb");
  auto result = rt.wait(id);
  REQUIRE(result.completed());
  CHECK(runs == 1);
  for (auto& e : rt.events(id))
    CHECK_FALSE(caf::holds_alternative<node_failed>(e.kind));
}

TEST_CASE("when the store fails, waiting for an execution ends with its "
          "error",
          "[durable]") {
  jamjet::testing::temp_dir dir;
  sqlite_options opts;
  opts.max_page_count = 60;
  runtime_config cfg;
  cfg.store = sqlite_store::open(dir.path + "/full.db", opts);
  cfg.worker_slots = 1;
  runtime rt{cfg};
  // Each step adds 4 KB of state, in a chain long enough to fill 60 pages.
  rt.register_handler("grow", [](const node_context& ctx) {
    json patch{{ctx.node_id, std::string(4000, 'x')}};
    return node_outcome::success(nullptr, patch);
  });
  json nodes = json::object();
  json edges = json::array();
  for (int i = 0; i < 200; ++i) {
    auto id = "n" + std::to_string(i);
    nodes[id] = {{"id", id}, {"kind", {{"type", "grow"}}}};
    edges.push_back(
      {{"from", id},
       {"to", i + 1 < 200 ? "n" + std::to_string(i + 1) : "end"}});
  }
  rt.register_workflow(json{
    {"workflow_id", "grow"},
    {"version", "1"},
    {"start_node", "n0"},
    {"nodes", nodes},
    {"edges", edges}}.dump());
  auto id = rt.start("grow");
  try {
    auto result = rt.wait(id);
    FAIL("the store never filled up: " << result.status);
  } catch (const jamjet::error& e) {
    CHECK(e.code() == error_code::store_failure);
  }
  CHECK_THROWS_AS(rt.wait(id), jamjet::error);
}
