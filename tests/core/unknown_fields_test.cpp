// Unknown fields where the runtime knows the schema are named, with the
// likely intended name; the fields of kinds other handlers own are not.

#include "jamjet/core/unknown_fields.hpp"

#include <catch2/catch.hpp>

#include "jamjet/core/builtin_handlers.hpp"
#include "testing/files.hpp"
#include "testing/ir_builder.hpp"

using namespace jamjet;
using jamjet::testing::ir_builder;
using jamjet::testing::read_file;
using json = nlohmann::json;

namespace {

std::vector<std::string> warnings_of(const json& doc) {
  return unknown_field_warnings(ir_from_json(doc));
}

} // namespace

TEST_CASE("misspelled fields are named where they are, with the intended "
          "name",
          "[unknown_fields]") {
  auto doc =
    json::parse(ir_builder{"w"}
                  .node("a", json{{"type", "noop"}, {"state_pach", {}}})
                  .node("b", "tool")
                  .node_field("retry_polcy", "flaky")
                  .edge("a", "b")
                  .edge("b", "end")
                  .policy("flaky", json{{"attempts", 4}})
                  .timeouts(json{{"workflow_timout", 5}})
                  .dump());
  doc["edges"][0]["conditon"] = "state.x";
  doc["timeout"] = json::object();
  auto got = warnings_of(doc);
  std::vector<std::string> expected{
    "unknown field 'timeout' at the top level; did you mean 'timeouts'?",
    "unknown field 'workflow_timout' in timeouts; did you mean "
    "'workflow_timeout'?",
    "unknown field 'attempts' in retry policy 'flaky'; did you mean "
    "'max_attempts'?",
    "unknown field 'state_pach' in the kind of node 'a' (noop); did you mean "
    "'state_patch'?",
    "unknown field 'retry_polcy' on node 'b'; did you mean 'retry_policy'?",
    "unknown field 'conditon' on edges[0] (a -> b); did you mean "
    "'condition'?",
  };
  CHECK(got == expected);
}

TEST_CASE("a field with no known one near is named without a guess",
          "[unknown_fields]") {
  auto doc = json::parse(ir_builder{"w"}
                           .node("a", "noop")
                           .node_field("owner", "ops")
                           .edge("a", "end")
                           .dump());
  CHECK(warnings_of(doc) ==
        std::vector<std::string>{"unknown field 'owner' on node 'a'"});
}

TEST_CASE("the kinds the scheduler runs are checked, branches included",
          "[unknown_fields]") {
  auto doc = json::parse(
    ir_builder{"w"}
      .node("c", json{{"type", "condition"},
                      {"branches",
                       {{{"condition", "state.x"}, {"targt", "a"}},
                        {{"condition", nullptr}, {"target", "end"}}}}})
      .node("a",
            json{{"type", "wait"}, {"condition", "timer"}, {"timeout_sec", 1}})
      .node("h", json{{"type", "human_approval"}, {"fallback", "a"}})
      .edge("c", "a")
      .edge("a", "h")
      .edge("h", "end")
      .dump());
  auto got = warnings_of(doc);
  REQUIRE(got.size() == 3);
  CHECK(got[0] == "unknown field 'timeout_sec' in the kind of node 'a' "
                  "(wait); did you mean 'timeout_secs'?");
  CHECK(got[1] == "unknown field 'targt' in branch 0 of condition node 'c'; "
                  "did you mean 'target'?");
  CHECK(got[2] == "unknown field 'fallback' in the kind of node 'h' "
                  "(human_approval); did you mean 'fallback_node'?");
}

TEST_CASE("fields of kinds other handlers run, and JamJet's own fields, are "
          "accepted",
          "[unknown_fields]") {
  for (auto name : {"hello_agent_ir.json", "fleet_researcher_ir.json"}) {
    INFO(name);
    auto ir = parse_ir(read_file(std::string{JAMJET_FIXTURE_DIR} + "/" + name));
    CHECK(unknown_field_warnings(ir).empty());
  }
  auto doc = json::parse(
    ir_builder{"w"}
      .node("m", json{{"type", "model"}, {"anything", 1}, {"model_reff", 2}})
      .node_field("description", "d")
      .node_field("labels", json::object())
      .edge("m", "end")
      .dump());
  doc["state_schema"] = "";
  doc["mcp_servers"] = json::object();
  CHECK(warnings_of(doc).empty());
}

TEST_CASE("built-in kinds that could never run are found before they run",
          "[unknown_fields]") {
  auto node = [](json kind) {
    node_def n;
    n.id = "a";
    n.kind_type = kind["type"];
    n.kind = std::move(kind);
    return n;
  };
  auto string_argv =
    builtin_kind_problems(node({{"type", "command"}, {"argv", "echo hi"}}));
  REQUIRE(string_argv.size() == 1);
  CHECK(string_argv[0].find("node 'a' (command): kind.argv must be a "
                            "non-empty array of strings") == 0);
  CHECK(string_argv[0].find("not \"echo hi\"") != std::string::npos);
  auto missing = builtin_kind_problems(node({{"type", "command"}}));
  REQUIRE(missing.size() == 1);
  CHECK(missing[0].find("is missing") != std::string::npos);
  CHECK(
    builtin_kind_problems(node({{"type", "command"}, {"argv", json::array()}}))
      .size() == 1);
  CHECK(builtin_kind_problems(node({{"type", "command"}, {"argv", {"sh", 1}}}))
          .size() == 1);
  CHECK(builtin_kind_problems(node({{"type", "command"}, {"argv", {"true"}}}))
          .empty());
  CHECK(builtin_kind_problems(node({{"type", "noop"}, {"state_patch", 3}}))
          .size() == 1);
  CHECK(
    builtin_kind_problems(node({{"type", "noop"}, {"state_patch", nullptr}}))
      .empty());
  CHECK(builtin_kind_problems(node({{"type", "model"}, {"argv", 3}})).empty());
}
