// Bounded JSON (messages/json_limits.hpp): the iterative check that runs
// before anything turns outside text into a value.

#include <catch2/catch.hpp>

#include <string>

#include <nlohmann/json.hpp>

#include "jamjet/messages/error.hpp"
#include "jamjet/messages/ir.hpp"
#include "jamjet/messages/json_limits.hpp"

using namespace jamjet;
using json = nlohmann::json;

namespace {

/// `depth` nested arrays around `inner`.
std::string nested_arrays(size_t depth, const std::string& inner = "") {
  return std::string(depth, '[') + inner + std::string(depth, ']');
}

/// `{"a":` nested `depth` deep around 1.
std::string nested_objects(size_t depth) {
  std::string text;
  for (size_t i = 0; i < depth; ++i)
    text += "{\"a\":";
  text += "1";
  text += std::string(depth, '}');
  return text;
}

bool contains(const std::string& haystack, const std::string& needle) {
  return haystack.find(needle) != std::string::npos;
}

} // namespace

TEST_CASE("json limits: at the depth limit accepted, one over refused",
          "[json_limits]") {
  CHECK(json_max_depth == 256);
  CHECK_FALSE(json_limit_problem(nested_arrays(json_max_depth)));
  CHECK_FALSE(json_limit_problem(nested_objects(json_max_depth)));
  auto over = json_limit_problem(nested_arrays(json_max_depth + 1));
  REQUIRE(over);
  CHECK(contains(*over, "deeper than the limit of 256 levels"));
  // The byte offset of the first bracket past the limit.
  CHECK(contains(*over, "at byte 256"));
  auto objects = json_limit_problem(nested_objects(json_max_depth + 1));
  REQUIRE(objects);
  CHECK(contains(*objects, "at byte " + std::to_string(5 * json_max_depth)));
  // Depth is nesting, not the number of containers.
  std::string wide;
  for (int i = 0; i < 1000; ++i)
    wide += (i == 0 ? "" : ",") + nested_arrays(10);
  CHECK_FALSE(json_limit_problem("[" + wide + "]"));
  CHECK_FALSE(json_limit_problem("1"));
  CHECK_FALSE(json_limit_problem(""));
  // Custom limits.
  CHECK_FALSE(json_limit_problem("[[1]]", json_limits{2, 100}));
  CHECK(json_limit_problem("[[[1]]]", json_limits{2, 100}));
  CHECK(json_limits::stored().max_depth > json_max_depth);
}

TEST_CASE("json limits: brackets in strings do not count", "[json_limits]") {
  auto brackets = std::string(1000, '[') + std::string(1000, '{');
  CHECK_FALSE(json_limit_problem("{\"k\":\"" + brackets + "\"}"));
  CHECK_FALSE(
    json_limit_problem("[\"" + brackets + "\"]", json_limits{1, 1 << 20}));
  // An escaped quote does not end the string; an escaped backslash does not
  // escape the quote after it.
  CHECK_FALSE(json_limit_problem("[\"\\\"[[[[\"]", json_limits{1, 100}));
  CHECK(json_limit_problem("[\"\\\\\",[[1]]]", json_limits{2, 100}));
  CHECK_FALSE(json_limit_problem("[\"\\\\\",[1]]", json_limits{2, 100}));
  // Keys are strings too.
  CHECK_FALSE(
    json_limit_problem("{\"[[[[\":{\"}}}}\":1}}", json_limits{2, 100}));
}

TEST_CASE("json limits: the size limit", "[json_limits]") {
  CHECK(json_max_bytes == size_t{16} << 20);
  CHECK_FALSE(json_limit_problem("[1,2,3]", json_limits{10, 7}));
  auto big = json_limit_problem("[1,2,3,4]", json_limits{10, 7});
  REQUIRE(big);
  CHECK(contains(*big, "9 bytes exceeds the limit of 7 bytes"));
}

TEST_CASE("json limits: parse_bounded and try_parse_bounded", "[json_limits]") {
  CHECK(parse_bounded(nested_arrays(3, "1")) == json::parse("[[[1]]]"));
  try {
    parse_bounded(nested_arrays(100000), json_limits{}, "--input");
    FAIL("no error");
  } catch (const jamjet::error& e) {
    CHECK(e.code() == error_code::bad_input);
    CHECK(contains(e.what(), "--input: JSON nested deeper"));
  }
  try {
    parse_bounded("{oops", json_limits{}, "the body");
    FAIL("no error");
  } catch (const jamjet::error& e) {
    CHECK(e.code() == error_code::bad_input);
    CHECK(contains(e.what(), "the body is not valid JSON"));
  }
  std::string problem;
  CHECK(try_parse_bounded(nested_arrays(100000), json_limits{}, &problem)
          .is_discarded());
  CHECK(contains(problem, "deeper than the limit"));
  // Malformed text is discarded without a limit problem.
  problem.clear();
  CHECK(try_parse_bounded("{oops", json_limits{}, &problem).is_discarded());
  CHECK(problem.empty());
  CHECK(try_parse_bounded("1e999").is_discarded());
  CHECK(try_parse_bounded("{\"a\":[1]}") == json{{"a", {1}}});
}

TEST_CASE("json limits: depth of built values, without recursion",
          "[json_limits]") {
  CHECK(json_depth(json(1)) == 0);
  CHECK(json_depth(json::array()) == 1);
  CHECK(json_depth(json::parse("{\"a\":[1,{\"b\":[]}],\"c\":2}")) == 4);
  // A value far too deep for a recursive walk (or dump) is measured safely.
  auto deep = json::parse(nested_arrays(100000));
  CHECK(json_depth(deep) == 100000);
  auto problem = json_depth_problem(deep);
  REQUIRE(problem);
  CHECK(contains(*problem, "deeper than the limit of 256 levels"));
  CHECK_FALSE(json_depth_problem(json::parse(nested_arrays(256))));
  CHECK(json_depth_problem(json::parse(nested_arrays(257))));
  CHECK_THROWS_AS(bounded_dump(deep), jamjet::error);
  CHECK(bounded_dump(json::parse("[[1]]")) == "[[1]]");
}

TEST_CASE("json limits: the IR parser refuses deep documents and huge "
          "numbers clearly",
          "[json_limits][ir]") {
  auto wrap = [](const std::string& extra) {
    return R"({"workflow_id":"w","version":"1","start_node":"a","nodes":{"a":{"id":"a","kind":{"type":"noop"}}},"edges":[{"from":"a","to":"end"}],"labels":)" +
           extra + "}";
  };
  CHECK_NOTHROW(parse_ir(wrap(nested_arrays(200))));
  try {
    parse_ir(wrap(nested_arrays(100000)));
    FAIL("no error");
  } catch (const jamjet::error& e) {
    CHECK(e.code() == error_code::bad_input);
    CHECK(contains(e.what(), "IR document: JSON nested deeper than the limit"));
  }
  auto huge = R"({"workflow_id":"w","version":"1","start_node":"a",
    "nodes":{"a":{"id":"a","kind":{"type":"noop"},"node_timeout_secs":1e999}},
    "edges":[{"from":"a","to":"end"}]})";
  try {
    parse_ir(huge);
    FAIL("no error");
  } catch (const jamjet::error& e) {
    CHECK(e.code() == error_code::bad_input);
    CHECK(contains(e.what(), "number out of range at line 2"));
    CHECK(contains(e.what(), "1e999"));
  }
  // A value built in memory is checked too.
  auto doc = json::parse(wrap("1"));
  doc["labels"] = json::parse(nested_arrays(100000));
  CHECK_THROWS_AS(ir_from_json(doc), jamjet::error);
}
