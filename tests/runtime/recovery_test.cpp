// Recovery inside one process: a runtime stops with work in flight, and a
// new runtime on the same store resumes it.

#include <catch2/catch.hpp>

#include <atomic>
#include <thread>

#include "jamjet/runtime.hpp"
#include "jamjet/store/memory_store.hpp"

using namespace jamjet;
using json = nlohmann::json;
using namespace std::chrono_literals;

namespace {

const char* chain3 = R"({"workflow_id":"c","version":"1","start_node":"a",
  "nodes":{"a":{"id":"a","kind":{"type":"step"}},
           "b":{"id":"b","kind":{"type":"step"}},
           "c":{"id":"c","kind":{"type":"step"}}},
  "edges":[{"from":"a","to":"b"},{"from":"b","to":"c"},
           {"from":"c","to":"end"}]})";

runtime_config config_on(std::shared_ptr<store> st) {
  runtime_config cfg;
  cfg.store = std::move(st);
  cfg.lease = 300ms;
  cfg.heartbeat = 100ms;
  return cfg;
}

/// Runs `chain3` until node b's handler is running, then stops the runtime.
std::string crash_at_b(std::shared_ptr<store> st) {
  runtime rt{config_on(st)};
  std::atomic<bool> at_b{false};
  rt.register_handler("step", [&](const node_context& ctx) {
    if (ctx.node_id == "b") {
      at_b = true;
      while (!ctx.is_cancelled())
        std::this_thread::sleep_for(1ms);
      return node_outcome::failure("stopped", false);
    }
    return node_outcome::success(nullptr, json{{ctx.node_id, ctx.attempt}});
  });
  rt.register_workflow(chain3);
  auto id = rt.start("c", json{{"in", 1}});
  while (!at_b)
    std::this_thread::sleep_for(1ms);
  rt.shutdown();
  return id;
}

} // namespace

TEST_CASE("a new runtime resumes what an old one left running", "[recovery]") {
  auto st = std::make_shared<memory_store>();
  auto id = crash_at_b(st);
  // The stop recorded no failure: b is still leased, the execution running.
  REQUIRE(st->find_execution(id)->status == execution_status_code::running);
  REQUIRE(st->open_items().size() == 1);
  CHECK(st->open_items()[0].status == item_status::leased);
  runtime rt{config_on(st)};
  std::atomic<int> b_runs{0};
  rt.register_handler("step", [&](const node_context& ctx) {
    if (ctx.node_id == "b") {
      ++b_runs;
      CHECK(ctx.attempt == 2);
      CHECK(ctx.state == json{{"in", 1}, {"a", 1}});
    }
    return node_outcome::success(nullptr, json{{ctx.node_id, ctx.attempt}});
  });
  auto resumed = rt.resume();
  REQUIRE(resumed == std::vector<std::string>{id});
  auto res = rt.wait(id);
  CHECK(res.completed());
  CHECK(res.state == json{{"in", 1}, {"a", 1}, {"b", 2}, {"c", 1}});
  CHECK(b_runs == 1);
  // The lease held at the stop was reclaimed as a failed attempt.
  std::vector<std::string> kinds;
  for (auto& e : rt.events(id))
    kinds.push_back(type_name_of(e.kind) + ":" + node_id_of(e.kind));
  auto count = [&](const std::string& k) {
    return std::count(kinds.begin(), kinds.end(), k);
  };
  CHECK(count("node_failed:b") == 1);
  CHECK(count("retry_scheduled:b") == 1);
  CHECK(count("node_completed:b") == 1);
  CHECK(count("node_completed:a") == 1);
  CHECK(count("node_scheduled:b") == 1);
}

TEST_CASE("an unusable snapshot falls back to folding the whole log",
          "[recovery]") {
  auto st = std::make_shared<memory_store>();
  auto id = crash_at_b(st);
  // Corrupt the latest snapshot through an ordinary command.
  command bad;
  bad.execution_id = id;
  bad.events.emplace_back(opaque_event{"note", R"({"type":"note"})"});
  bad.snapshot = R"({"seq":1,"phase":1,"nodes":"9","failures":[],"state":{}})";
  bad.snapshot_sequence = st->find_execution(id)->last_sequence;
  REQUIRE(st->apply({bad})[0]);
  runtime rt{config_on(st)};
  rt.register_handler("step", [](const node_context& ctx) {
    return node_outcome::success(nullptr, json{{ctx.node_id, ctx.attempt}});
  });
  rt.resume();
  auto res = rt.wait(id);
  CHECK(res.completed());
  CHECK(res.state == json{{"in", 1}, {"a", 1}, {"b", 2}, {"c", 1}});
}

TEST_CASE("resume refuses executions whose kinds have no handler",
          "[recovery]") {
  auto st = std::make_shared<memory_store>();
  auto id = crash_at_b(st);
  runtime rt{config_on(st)};
  try {
    rt.resume();
    FAIL("resumed without handlers");
  } catch (const error& e) {
    CHECK(e.code() == error_code::missing_handler);
    CHECK(std::string{e.what()}.find(id) != std::string::npos);
  }
  // Nothing was dispatched; the execution waits for a runtime with handlers.
  CHECK(rt.status(id).status == "running");
}

TEST_CASE("a new runtime knows the stored workflows without registering them",
          "[recovery]") {
  auto st = std::make_shared<memory_store>();
  {
    runtime rt{config_on(st)};
    rt.register_workflow(chain3);
    rt.register_workflow(
      R"({"workflow_id":"c","version":"0","start_node":"a",
          "nodes":{"a":{"id":"a","kind":{"type":"other"}}},
          "edges":[{"from":"a","to":"end"}]})");
  }
  runtime rt{config_on(st)};
  // The latest is the version registered last, as before the restart.
  CHECK(rt.missing_handlers("c") ==
        std::vector<std::string>{"node 'a' has kind 'other'"});
  CHECK(rt.missing_handlers("c", "1").size() == 3);
  rt.register_handler("step", [](const node_context& ctx) {
    return node_outcome::success(nullptr, json{{ctx.node_id, 1}});
  });
  auto res = rt.wait(rt.start("c", json::object(), "1"));
  CHECK(res.completed());
  CHECK(res.state == json{{"a", 1}, {"b", 1}, {"c", 1}});
}
