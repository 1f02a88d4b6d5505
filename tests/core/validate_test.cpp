// Tests of the static workflow checks.

#include "jamjet/core/validate.hpp"

#include <string>
#include <utility>
#include <vector>

#include <catch2/catch.hpp>

#include "jamjet/messages/error.hpp"
#include "testing/files.hpp"

#ifndef JAMJET_FIXTURE_DIR
#error "JAMJET_FIXTURE_DIR must name the directory of the JamJet IR files"
#endif

// The malformed IR files live next to the JamJet ones unless told otherwise.
#ifndef JAMJET_BAD_FIXTURE_DIR
#define JAMJET_BAD_FIXTURE_DIR JAMJET_FIXTURE_DIR "/../bad"
#endif

using namespace jamjet;
using jamjet::testing::read_file;

namespace {

using edge_list = std::vector<std::pair<std::string, std::string>>;

/// An IR with tool nodes `ids`, unconditional `edges` and the first id as the
/// start node.
workflow_ir make_ir(const std::vector<std::string>& ids,
                    const edge_list& edges) {
  workflow_ir ir;
  ir.workflow_id = "test";
  ir.version = "1";
  if (!ids.empty())
    ir.start_node = ids.front();
  for (const auto& id : ids) {
    node_def node;
    node.id = id;
    node.kind_type = "tool";
    node.kind = {{"type", "tool"}};
    ir.nodes.emplace(id, std::move(node));
  }
  for (const auto& [from, to] : edges)
    ir.edges.push_back(edge_def{from, to, std::nullopt});
  return ir;
}

/// A chain n0 -> n1 -> ... -> n<count-1> -> end.
workflow_ir chain(size_t count) {
  std::vector<std::string> ids;
  edge_list edges;
  for (size_t i = 0; i < count; ++i) {
    ids.push_back("n" + std::to_string(i));
    if (i > 0)
      edges.emplace_back(ids[i - 1], ids[i]);
  }
  edges.emplace_back(ids.back(), end_node);
  return make_ir(ids, edges);
}

/// The single problem `validate()` finds in `ir`.
std::string only_problem(const workflow_ir& ir) {
  auto problems = validate(ir);
  INFO("problems: " << Catch::Detail::stringify(problems));
  REQUIRE(problems.size() == 1);
  return problems.front();
}

} // namespace

TEST_CASE("the JamJet fixtures are valid", "[validate]") {
  for (auto name : {"hello_agent_ir.json", "fleet_researcher_ir.json"}) {
    INFO("fixture " << name);
    auto ir = parse_ir(read_file(std::string{JAMJET_FIXTURE_DIR} + "/" + name));
    CHECK(validate(ir).empty());
    CHECK_NOTHROW(check_valid(ir));
  }
}

TEST_CASE("a small valid graph has no problems", "[validate]") {
  auto ir = make_ir({"a", "b", "c"},
                    {{"a", "b"}, {"a", "c"}, {"b", "end"}, {"c", "end"}});
  ir.nodes.at("b").retry_policy = "io_default";
  ir.nodes.at("c").retry_policy = "mine";
  ir.retry_policies["mine"] = retry_policy{};
  CHECK(validate(ir).empty());
}

TEST_CASE("a workflow without nodes", "[validate]") {
  auto ir = make_ir({}, {});
  ir.start_node = "a";
  auto problems = validate(ir);
  REQUIRE(problems.size() == 2);
  CHECK(problems[0] == "the workflow has no nodes");
  CHECK(problems[1] == "start_node 'a' names no node of the workflow");
}

TEST_CASE("a missing or empty start node", "[validate]") {
  auto ir = make_ir({"a"}, {{"a", "end"}});
  ir.start_node.clear();
  CHECK(only_problem(ir) == "start_node is missing or empty");
  auto parsed = parse_ir(read_file(JAMJET_BAD_FIXTURE_DIR "/no_start.json"));
  CHECK(only_problem(parsed) == "start_node is missing or empty");
}

TEST_CASE("a start node naming no node", "[validate]") {
  auto ir = make_ir({"a"}, {{"a", "end"}});
  ir.start_node = "ghost";
  CHECK_THAT(only_problem(ir), Catch::Contains("start_node 'ghost'") &&
                                 Catch::Contains("names no node"));
  ir.start_node = end_node;
  CHECK_THAT(only_problem(ir), Catch::Contains("start_node 'end'"));
}

TEST_CASE("a node id differing from its key", "[validate]") {
  auto ir = make_ir({"a"}, {{"a", "end"}});
  ir.nodes.at("a").id = "b";
  CHECK(only_problem(ir) ==
        "node 'a' has id 'b', which differs from its key in nodes");
}

TEST_CASE("a node named like the sink", "[validate]") {
  auto ir = make_ir({"a", "end"}, {{"a", "end"}});
  auto problems = validate(ir);
  REQUIRE(!problems.empty());
  CHECK(problems[0] == "node 'end' uses the name reserved for the sink");
}

TEST_CASE("an edge from an unknown node", "[validate]") {
  auto ir = make_ir({"a"}, {{"a", "end"}, {"ghost", "a"}});
  CHECK(only_problem(ir) ==
        "edges[1] (ghost -> a) comes from unknown node 'ghost'");
}

TEST_CASE("an edge from the sink", "[validate]") {
  auto ir = make_ir({"a"}, {{"a", "end"}, {"end", "a"}});
  CHECK_THAT(only_problem(ir), Catch::StartsWith("edges[1] (end -> a) leaves "
                                                 "'end', the sink"));
}

TEST_CASE("an edge to an unknown node", "[validate]") {
  auto ir = make_ir({"a"}, {{"a", "ghost"}, {"a", "end"}});
  CHECK(only_problem(ir) ==
        "edges[0] (a -> ghost) leads to unknown node 'ghost'");
}

TEST_CASE("an edge between two unknown nodes reports both ends", "[validate]") {
  auto ir = make_ir({"a"}, {{"a", "end"}, {"x", "y"}});
  auto problems = validate(ir);
  REQUIRE(problems.size() == 2);
  CHECK_THAT(problems[0], Catch::Contains("unknown node 'x'"));
  CHECK_THAT(problems[1], Catch::Contains("unknown node 'y'"));
}

TEST_CASE("cycles name the nodes on them", "[validate]") {
  SECTION("a three-node cycle") {
    auto ir = make_ir({"a", "b", "c"},
                      {{"a", "b"}, {"b", "c"}, {"c", "a"}, {"c", "end"}});
    CHECK(only_problem(ir) == "the graph has a cycle: a -> b -> c -> a");
  }
  SECTION("a self loop") {
    auto ir = make_ir({"a"}, {{"a", "a"}, {"a", "end"}});
    CHECK(only_problem(ir) == "the graph has a cycle: a -> a");
  }
  SECTION("a cycle away from the start node") {
    auto ir = make_ir({"s", "x", "y"}, {{"s", "x"}, {"x", "y"}, {"y", "x"}});
    CHECK(only_problem(ir) == "the graph has a cycle: x -> y -> x");
  }
  SECTION("two separate cycles are both reported, in key order") {
    auto ir = make_ir({"a", "b", "c", "d"}, {{"a", "b"},
                                             {"b", "a"},
                                             {"b", "c"},
                                             {"c", "d"},
                                             {"d", "c"},
                                             {"d", "end"}});
    auto problems = validate(ir);
    REQUIRE(problems.size() == 2);
    CHECK(problems[0] == "the graph has a cycle: a -> b -> a");
    CHECK(problems[1] == "the graph has a cycle: c -> d -> c");
  }
  SECTION("the bad fixture") {
    auto ir = parse_ir(read_file(JAMJET_BAD_FIXTURE_DIR "/cycle.json"));
    CHECK(only_problem(ir) == "the graph has a cycle: a -> b -> a");
  }
}

TEST_CASE("nodes unreachable from the start node are listed", "[validate]") {
  SECTION("one node") {
    auto ir = make_ir({"a", "b"}, {{"a", "end"}, {"b", "end"}});
    CHECK(only_problem(ir) == "node 'b' is unreachable from start node 'a'");
  }
  SECTION("several nodes") {
    auto ir = make_ir({"a", "b", "c", "d"},
                      {{"a", "end"}, {"b", "c"}, {"c", "end"}, {"d", "end"}});
    CHECK(only_problem(ir) ==
          "nodes 'b', 'c' and 'd' are unreachable from start node 'a'");
  }
  SECTION("the bad fixture") {
    auto ir = parse_ir(read_file(JAMJET_BAD_FIXTURE_DIR "/unreachable.json"));
    CHECK_THAT(only_problem(ir), Catch::Contains("'orphan' is unreachable"));
  }
}

TEST_CASE("a node naming an unknown retry policy", "[validate]") {
  auto ir = make_ir({"a"}, {{"a", "end"}});
  ir.nodes.at("a").retry_policy = "turbo";
  CHECK_THAT(only_problem(ir),
             Catch::StartsWith("node 'a' names retry policy 'turbo', which "
                               "is neither defined in retry_policies nor "
                               "built in"));
  auto parsed =
    parse_ir(read_file(JAMJET_BAD_FIXTURE_DIR "/unknown_policy.json"));
  CHECK_THAT(only_problem(parsed), Catch::Contains("'turbo'"));
}

TEST_CASE("the bad fixtures trigger exactly their problem", "[validate]") {
  auto load = [](const char* name) {
    return parse_ir(
      read_file(std::string{JAMJET_BAD_FIXTURE_DIR} + "/" + name));
  };
  CHECK_THAT(only_problem(load("cycle.json")), Catch::Contains("cycle"));
  CHECK_THAT(only_problem(load("unknown_edge.json")),
             Catch::Contains("unknown node 'ghost'"));
  CHECK_THAT(only_problem(load("no_start.json")),
             Catch::Contains("start_node is missing"));
  CHECK_THAT(only_problem(load("unreachable.json")),
             Catch::Contains("unreachable"));
  CHECK_THAT(only_problem(load("unknown_policy.json")),
             Catch::Contains("retry policy 'turbo'"));
  for (auto name : {"malformed.json", "wrong_type.json"}) {
    INFO(name);
    try {
      load(name);
      FAIL("parsed without error");
    } catch (const jamjet::error& e) {
      CHECK(e.code() == error_code::bad_input);
    }
  }
}

TEST_CASE("several problems are all reported, in a fixed order", "[validate]") {
  auto ir = make_ir({"a", "b", "c", "d"}, {{"a", "b"},
                                           {"b", "a"},
                                           {"b", "ghost"},
                                           {"nowhere", "a"},
                                           {"a", "end"},
                                           {"d", "end"}});
  ir.nodes.at("c").id = "see";
  ir.nodes.at("a").retry_policy = "turbo";
  auto problems = validate(ir);
  std::vector<std::string> expected{
    "node 'c' has id 'see', which differs from its key in nodes",
    "edges[2] (b -> ghost) leads to unknown node 'ghost'",
    "edges[3] (nowhere -> a) comes from unknown node 'nowhere'",
    "the graph has a cycle: a -> b -> a",
    "nodes 'c' and 'd' are unreachable from start node 'a'",
    "node 'a' names retry policy 'turbo', which is neither defined in "
    "retry_policies nor built in (no_retry, io_default, llm_default)",
  };
  CHECK(problems == expected);
  CHECK(validate(ir) == problems);
}

TEST_CASE("check_valid throws invalid_workflow listing every problem",
          "[validate]") {
  auto ir = make_ir({"a", "b"}, {{"a", "ghost"}, {"b", "end"}});
  try {
    check_valid(ir);
    FAIL("check_valid accepted an invalid workflow");
  } catch (const jamjet::error& e) {
    CHECK(e.code() == error_code::invalid_workflow);
    CHECK(std::string{e.what()} ==
          "workflow 'test' is invalid:\n"
          "  - edges[0] (a -> ghost) leads to unknown node 'ghost'\n"
          "  - node 'b' is unreachable from start node 'a'");
  }
}

TEST_CASE("large graphs validate without deep recursion", "[validate]") {
  SECTION("a 5000-node chain is valid") {
    auto ir = chain(5000);
    CHECK(validate(ir).empty());
  }
  SECTION("a 100000-node chain is valid") {
    auto ir = chain(100000);
    CHECK(validate(ir).empty());
  }
  SECTION("a 5000-node ring is one cycle, shortened in the message") {
    auto ir = chain(5000);
    ir.edges.push_back(edge_def{"n4999", "n0", std::nullopt});
    auto problem = only_problem(ir);
    CHECK_THAT(problem,
               Catch::StartsWith("the graph has a cycle: n0 -> n1 -> "));
    CHECK_THAT(problem, Catch::Contains("(4950 more)"));
    CHECK_THAT(problem, Catch::EndsWith("n4998 -> n4999 -> n0"));
    CHECK(problem.size() < 1000);
  }
  SECTION("many unreachable nodes are counted, not all listed") {
    auto ir = chain(10);
    for (int i = 0; i < 100; ++i) {
      auto id = "u" + std::to_string(1000 + i);
      node_def node;
      node.id = id;
      node.kind_type = "tool";
      ir.nodes.emplace(id, node);
    }
    auto problem = only_problem(ir);
    CHECK_THAT(problem, Catch::Contains("'u1000', 'u1001'"));
    CHECK_THAT(problem, Catch::Contains(" and 50 more are unreachable"));
  }
}
