// The embedding API on real threads.

#include <catch2/catch.hpp>

#include <atomic>
#include <thread>

#include "jamjet/runtime.hpp"
#include "patch_handler.hpp"

using namespace jamjet;
using jamjet::testing::patch_handler;
using json = nlohmann::json;

namespace {

const char* linear_ir = R"({"workflow_id":"lin","version":"1","start_node":"a",
  "nodes":{"a":{"id":"a","kind":{"type":"tool","patch":{"x":1}}},
           "b":{"id":"b","kind":{"type":"tool","patch":{"y":2}}}},
  "edges":[{"from":"a","to":"b"},{"from":"b","to":"end"}]})";

std::vector<std::string> kinds_of(const std::vector<event>& events) {
  std::vector<std::string> result;
  for (auto& e : events) {
    auto n = node_id_of(e.kind);
    result.push_back(type_name_of(e.kind) + (n.empty() ? "" : ":" + n));
  }
  return result;
}

} // namespace

TEST_CASE("seed test: a -> b runs in order with final state {x:1, y:2}",
          "[runtime]") {
  runtime rt;
  std::vector<std::string> order;
  std::mutex mtx;
  rt.register_handler("tool", [&](const node_context& ctx) {
    std::lock_guard<std::mutex> guard{mtx};
    order.push_back(ctx.node_id);
    return patch_handler(ctx);
  });
  CHECK(rt.register_workflow(linear_ir) == "lin@1");
  auto id = rt.start("lin");
  auto res = rt.wait(id);
  CHECK(res.completed());
  CHECK(res.state == json{{"x", 1}, {"y", 2}});
  CHECK(order == std::vector<std::string>{"a", "b"});
  auto events = rt.events(id);
  for (size_t i = 0; i < events.size(); ++i)
    CHECK(events[i].sequence == i + 1);
  CHECK(kinds_of(events).back() == "workflow_completed");
  auto st = rt.status(id);
  CHECK(st.status == "completed");
  CHECK(st.workflow_id == "lin");
  CHECK(st.last_sequence == events.size());
}

TEST_CASE("seed test: a terminal failure of a fails the workflow, b never runs",
          "[runtime]") {
  runtime rt;
  std::atomic<int> b_runs{0};
  rt.register_handler("tool", [&](const node_context& ctx) {
    if (ctx.node_id == "a")
      return node_outcome::failure("a is broken", false);
    ++b_runs;
    return patch_handler(ctx);
  });
  rt.register_workflow(linear_ir);
  auto res = rt.wait(rt.start("lin"));
  CHECK(res.status == "failed");
  CHECK(res.error.find("a is broken") != std::string::npos);
  CHECK(res.error.find("'a'") != std::string::npos);
  CHECK(b_runs == 0);
}

TEST_CASE("a diamond joins both branches; the input is the initial state",
          "[runtime]") {
  runtime rt;
  rt.register_handler("tool", patch_handler, false);
  rt.register_workflow(R"({"workflow_id":"d","version":"1","start_node":"s",
    "nodes":{"s":{"id":"s","kind":{"type":"tool","patch":{"s":1}}},
             "l":{"id":"l","kind":{"type":"tool","patch":{"l":1}}},
             "r":{"id":"r","kind":{"type":"tool","patch":{"r":1}}},
             "j":{"id":"j","kind":{"type":"tool","patch":{"j":1}}}},
    "edges":[{"from":"s","to":"l"},{"from":"s","to":"r"},
             {"from":"l","to":"j"},{"from":"r","to":"j"},
             {"from":"j","to":"end"}]})");
  auto res = rt.wait(rt.start("d", json{{"in", true}}));
  CHECK(res.completed());
  CHECK(res.state ==
        json{{"in", true}, {"s", 1}, {"l", 1}, {"r", 1}, {"j", 1}});
}

TEST_CASE("a transient failure is retried and then completes", "[runtime]") {
  runtime rt;
  std::atomic<int> calls{0};
  rt.register_handler("tool", [&](const node_context& ctx) {
    if (++calls == 1) {
      CHECK(ctx.attempt == 1);
      return node_outcome::failure("flaky", true);
    }
    CHECK(ctx.attempt == 2);
    return node_outcome::success(nullptr, json{{"ok", ctx.attempt}});
  });
  rt.register_workflow(R"({"workflow_id":"one","version":"1",
    "start_node":"a","nodes":{"a":{"id":"a","kind":{"type":"tool"}}},
    "edges":[{"from":"a","to":"end"}]})");
  auto id = rt.start("one");
  auto res = rt.wait(id);
  CHECK(res.completed());
  CHECK(res.state == json{{"ok", 2}});
  auto kinds = kinds_of(rt.events(id));
  CHECK(std::count(kinds.begin(), kinds.end(), "node_failed:a") == 1);
  CHECK(std::count(kinds.begin(), kinds.end(), "retry_scheduled:a") == 1);
  CHECK(std::count(kinds.begin(), kinds.end(), "node_started:a") == 2);
}

TEST_CASE("starting is refused for bad input, unknown workflows and missing "
          "handlers",
          "[runtime]") {
  runtime rt;
  rt.register_handler("tool", patch_handler);
  rt.register_workflow(linear_ir);
  auto code_of_call = [](auto&& fn) {
    try {
      fn();
    } catch (const error& e) {
      return e.code();
    }
    return error_code::unavailable;
  };
  CHECK(code_of_call([&] { rt.start("lin", json::array()); }) ==
        error_code::bad_input);
  CHECK(code_of_call([&] { rt.start("nope"); }) ==
        error_code::unknown_workflow);
  CHECK(code_of_call([&] { rt.start("lin", json::object(), "9"); }) ==
        error_code::unknown_workflow);
  rt.register_workflow(R"({"workflow_id":"m","version":"1","start_node":"a",
    "nodes":{"a":{"id":"a","kind":{"type":"model"}},
             "b":{"id":"b","kind":{"type":"mystery"}}},
    "edges":[{"from":"a","to":"b"},{"from":"b","to":"end"}]})");
  try {
    rt.start("m");
    FAIL("started without handlers");
  } catch (const error& e) {
    CHECK(e.code() == error_code::missing_handler);
    std::string what = e.what();
    CHECK(what.find("node 'a' has kind 'model'") != std::string::npos);
    CHECK(what.find("node 'b' has kind 'mystery'") != std::string::npos);
  }
  CHECK(code_of_call([&] { rt.register_workflow("{not json"); }) ==
        error_code::bad_input);
  CHECK(code_of_call([&] {
          rt.register_workflow(R"({"workflow_id":"c","version":"1",
            "start_node":"a","nodes":{"a":{"id":"a","kind":{"type":"t"}}},
            "edges":[{"from":"a","to":"a"}]})");
        }) == error_code::invalid_workflow);
  CHECK(code_of_call([&] { rt.status("nope"); }) ==
        error_code::unknown_execution);
  // A different definition under a registered id and version is refused.
  CHECK(code_of_call([&] {
          rt.register_workflow(R"({"workflow_id":"lin","version":"1",
            "start_node":"a","nodes":{"a":{"id":"a","kind":{"type":"t"}}},
            "edges":[{"from":"a","to":"end"}]})");
        }) == error_code::invalid_workflow);
}

TEST_CASE("cancel stops a running execution and its handler", "[runtime]") {
  runtime rt;
  std::atomic<bool> started{false};
  std::atomic<bool> saw_cancel{false};
  rt.register_handler("slow", [&](const node_context& ctx) {
    started = true;
    for (int i = 0; i < 2000 && !ctx.is_cancelled(); ++i)
      std::this_thread::sleep_for(std::chrono::milliseconds{5});
    saw_cancel = ctx.is_cancelled();
    return node_outcome::success(nullptr);
  });
  rt.register_workflow(R"({"workflow_id":"s","version":"1","start_node":"a",
    "nodes":{"a":{"id":"a","kind":{"type":"slow"}},
             "b":{"id":"b","kind":{"type":"slow"}}},
    "edges":[{"from":"a","to":"b"},{"from":"b","to":"end"}]})");
  auto id = rt.start("s");
  while (!started)
    std::this_thread::sleep_for(std::chrono::milliseconds{1});
  rt.cancel(id, "user asked");
  auto res = rt.wait(id);
  CHECK(res.status == "cancelled");
  CHECK(res.error == "user asked");
  auto kinds = kinds_of(rt.events(id));
  CHECK(std::count(kinds.begin(), kinds.end(), "node_cancelled:a") == 1);
  CHECK(std::count(kinds.begin(), kinds.end(), "node_scheduled:b") == 0);
  // Cancelling twice is an error naming the state.
  CHECK_THROWS_AS(rt.cancel(id), error);
  rt.shutdown();
  CHECK(saw_cancel);
}

TEST_CASE("results arrive by callback too", "[runtime]") {
  runtime rt;
  rt.register_handler("tool", patch_handler, false);
  rt.register_workflow(linear_ir);
  std::promise<execution_result> p;
  auto id = rt.start("lin");
  rt.on_result(id, [&](const execution_result& r) { p.set_value(r); });
  auto r = p.get_future().get();
  CHECK(r.completed());
  // Waiting after the end answers from the store.
  CHECK(rt.wait(id).state == r.state);
}

TEST_CASE("shutdown with executions in flight does not hang", "[runtime]") {
  runtime_config cfg;
  cfg.worker_slots = 2;
  runtime rt{cfg};
  rt.register_handler("slow", [](const node_context& ctx) {
    while (!ctx.is_cancelled())
      std::this_thread::sleep_for(std::chrono::milliseconds{2});
    return node_outcome::failure("cancelled", false);
  });
  rt.register_workflow(R"({"workflow_id":"s","version":"1","start_node":"a",
    "nodes":{"a":{"id":"a","kind":{"type":"slow"}}},
    "edges":[{"from":"a","to":"end"}]})");
  auto fut = rt.result(rt.start("s"));
  rt.shutdown();
  CHECK_THROWS_AS(fut.get(), error);
  CHECK_THROWS_AS(rt.start("s"), error);
  rt.shutdown(); // idempotent
}
