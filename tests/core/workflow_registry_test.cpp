// The workflow registry: compiling once, versions, the latest-registered
// rule and the errors of lookups; and the missing-handler query.

#include <catch2/catch.hpp>

#include <string>

#include "jamjet/core/workflow_registry.hpp"
#include "jamjet/messages/error.hpp"
#include "testing/ir_builder.hpp"

using namespace jamjet;

namespace {

/// A one-node workflow `id` at `version` whose node has kind `kind`.
std::string one_node(const std::string& id, const std::string& version,
                     const std::string& kind = "tool") {
  return jamjet::testing::ir_builder{id, version}
    .node("a", kind)
    .edge("a", "end")
    .dump();
}

/// The code and message of a lookup that must fail.
std::pair<error_code, std::string> failure(const workflow_registry& reg,
                                           const std::string& id,
                                           const std::string& version = {}) {
  auto g = reg.find(id, version);
  REQUIRE(!g);
  return {code_of(g.error()), error_message(g.error())};
}

} // namespace

TEST_CASE("compile turns IR text into a graph and names bad input",
          "[registry]") {
  auto g = workflow_registry::compile(one_node("w", "1"));
  CHECK(g->workflow_id() == "w");
  CHECK(g->version() == "1");
  CHECK(g->size() == 1);
  try {
    workflow_registry::compile("{not json");
    FAIL("compiled text that is not JSON");
  } catch (const error& ex) {
    CHECK(ex.code() == error_code::bad_input);
  }
  try {
    workflow_registry::compile(
      R"({"workflow_id":"c","version":"1","start_node":"missing",
          "nodes":{"a":{"id":"a","kind":{"type":"tool"}}},
          "edges":[{"from":"a","to":"end"}]})");
    FAIL("compiled a workflow whose start node does not exist");
  } catch (const error& ex) {
    CHECK(ex.code() == error_code::invalid_workflow);
  }
}

TEST_CASE("add returns the key and find gives back the same graph",
          "[registry]") {
  workflow_registry reg;
  CHECK(reg.size() == 0);
  auto g = workflow_registry::compile(one_node("w", "1"));
  CHECK(reg.add(g) == "w@1");
  CHECK(workflow_registry::key("w", "1") == "w@1");
  CHECK(reg.size() == 1);
  auto by_version = reg.find("w", "1");
  REQUIRE(by_version);
  CHECK(*by_version == g);
  auto latest = reg.find("w");
  REQUIRE(latest);
  CHECK(*latest == g);
}

TEST_CASE("the latest version is the one registered last, not the highest",
          "[registry]") {
  workflow_registry reg;
  auto v2 = workflow_registry::compile(one_node("w", "2"));
  auto v1 = workflow_registry::compile(one_node("w", "1"));
  reg.add(v2);
  reg.add(v1);
  CHECK(reg.size() == 2);
  CHECK(*reg.find("w") == v1);
  CHECK(*reg.find("w", "2") == v2);
  // Registering a version again makes it the latest again.
  reg.add(v2);
  CHECK(*reg.find("w") == v2);
  CHECK(reg.size() == 2);
}

TEST_CASE("registering the same version again replaces its graph",
          "[registry]") {
  workflow_registry reg;
  auto first = workflow_registry::compile(one_node("w", "1", "tool"));
  auto second = workflow_registry::compile(one_node("w", "1", "model"));
  reg.add(first);
  reg.add(second);
  CHECK(reg.size() == 1);
  CHECK(*reg.find("w", "1") == second);
}

TEST_CASE("workflows of other ids do not mix", "[registry]") {
  workflow_registry reg;
  auto a = workflow_registry::compile(one_node("a", "1"));
  auto b = workflow_registry::compile(one_node("b", "7"));
  reg.add(a);
  reg.add(b);
  CHECK(*reg.find("a") == a);
  CHECK(*reg.find("b") == b);
  CHECK(failure(reg, "a", "7").first == error_code::unknown_workflow);
}

TEST_CASE("lookups of what is not registered name the id and the version",
          "[registry]") {
  workflow_registry reg;
  CHECK(failure(reg, "w") ==
        std::pair{error_code::unknown_workflow,
                  std::string{"no workflow 'w' is registered"}});
  CHECK(failure(reg, "w", "3") ==
        std::pair{error_code::unknown_workflow,
                  std::string{"no workflow 'w' version '3' is registered"}});
  reg.add(workflow_registry::compile(one_node("w", "1")));
  CHECK(failure(reg, "w", "3") ==
        std::pair{error_code::unknown_workflow,
                  std::string{"no workflow 'w' version '3' is registered"}});
}

TEST_CASE("copies share graphs and change on their own", "[registry]") {
  workflow_registry reg;
  auto v1 = workflow_registry::compile(one_node("w", "1"));
  reg.add(v1);
  auto copy = reg;
  copy.add(workflow_registry::compile(one_node("w", "2")));
  CHECK(*copy.find("w", "1") == v1);
  CHECK(copy.find("w").value()->version() == "2");
  CHECK(reg.find("w").value()->version() == "1");
  CHECK(!reg.find("w", "2"));
}

TEST_CASE("missing_handlers lists the work nodes without a handler",
          "[registry]") {
  auto g = workflow_registry::compile(
    R"({"workflow_id":"m","version":"1","start_node":"a",
        "nodes":{"a":{"id":"a","kind":{"type":"tool"}},
                 "b":{"id":"b","kind":{"type":"model"}},
                 "w":{"id":"w","kind":{"type":"wait",
                   "condition":"timer","timeout_secs":10}}},
        "edges":[{"from":"a","to":"b"},{"from":"b","to":"w"},
                 {"from":"w","to":"end"}]})");
  handler_registry handlers;
  CHECK(missing_handlers(*g, handlers) ==
        std::vector<std::string>{"node 'a' has kind 'tool'",
                                 "node 'b' has kind 'model'"});
  auto noop = [](const node_context&) { return node_outcome::success({}, {}); };
  handlers.add_kind("tool", handler_entry{noop, false});
  CHECK(missing_handlers(*g, handlers) ==
        std::vector<std::string>{"node 'b' has kind 'model'"});
  handlers.add_queue(g->node(static_cast<uint32_t>(g->rank_of("b"))).queue_type,
                     handler_entry{noop, false});
  CHECK(missing_handlers(*g, handlers).empty());
}
