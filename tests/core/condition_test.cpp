// Condition expressions: the grammar of runtime/condition.hpp, its
// truthiness and typed equality, and how malformed expressions are reported.

#include <catch2/catch.hpp>

#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "jamjet/core/condition.hpp"
#include "testing/contains.hpp"

using namespace jamjet;
using jamjet::testing::contains;
using json = nlohmann::json;

namespace {

/// Evaluates `expr` against `state`, requiring it to be well formed.
bool holds(const std::string& expr, const json& state) {
  std::string problem;
  bool result = eval_condition(expr, state, &problem);
  INFO("expression: " << expr);
  CHECK(problem.empty());
  CHECK_FALSE(condition_problem(expr).has_value());
  return result;
}

/// The reason `expr` is malformed, as eval_condition reports it; checks that
/// it evaluates to false and that condition_problem agrees.
std::string malformed(const std::string& expr, const json& state = {}) {
  INFO("expression: " << expr);
  std::string problem;
  CHECK_FALSE(eval_condition(expr, state, &problem));
  CHECK_FALSE(problem.empty());
  auto why = condition_problem(expr);
  REQUIRE(why.has_value());
  CHECK(*why == problem);
  return problem;
}

} // namespace

TEST_CASE("a bare path tests truthiness", "[condition]") {
  auto state = json::parse(R"({
    "null": null, "f": false, "t": true,
    "zero": 0, "zero_f": 0.0, "neg": -1, "one": 1, "half": 0.5,
    "empty_s": "", "s": "x", "zero_s": "0", "false_s": "false",
    "empty_a": [], "a": [0], "empty_o": {}, "o": {"k": null}
  })");
  SECTION("falsy values") {
    CHECK_FALSE(holds("state.missing", state));
    CHECK_FALSE(holds("state.null", state));
    CHECK_FALSE(holds("state.f", state));
    CHECK_FALSE(holds("state.zero", state));
    CHECK_FALSE(holds("state.zero_f", state));
    CHECK_FALSE(holds("state.empty_a", state));
    CHECK_FALSE(holds("state.empty_o", state));
  }
  SECTION("truthy values") {
    CHECK(holds("state.t", state));
    CHECK(holds("state.neg", state));
    CHECK(holds("state.one", state));
    CHECK(holds("state.half", state));
    CHECK(holds("state.s", state));
    // Strings are truthy when non-empty, whatever they spell.
    CHECK(holds("state.zero_s", state));
    CHECK(holds("state.false_s", state));
    // Containers are truthy when non-empty, whatever they hold.
    CHECK(holds("state.a", state));
    CHECK(holds("state.o", state));
  }
  SECTION("nested paths") {
    auto nested = json::parse(R"({"a": {"b": {"c": true, "z": 0}}})");
    CHECK(holds("state.a.b.c", nested));
    CHECK_FALSE(holds("state.a.b.z", nested));
    CHECK_FALSE(holds("state.a.b.missing", nested));
    CHECK_FALSE(holds("state.a.x.c", nested));
    // Descending into a scalar does not resolve.
    CHECK_FALSE(holds("state.a.b.c.d", nested));
    CHECK(holds("state.a.b", nested));
  }
  SECTION("a state that is not an object resolves nothing") {
    CHECK_FALSE(holds("state.a", json(nullptr)));
    CHECK_FALSE(holds("state.a", json(5)));
    CHECK_FALSE(holds("state.a", json::array({1})));
  }
}

TEST_CASE("an empty string is falsy", "[condition]") {
  // The grammar lists "" among the falsy values, with [] and {}.
  auto state = json{{"empty", ""}, {"nested", {{"s", ""}}}, {"space", " "}};
  CHECK_FALSE(holds("state.empty", state));
  CHECK_FALSE(holds("state.nested.s", state));
  CHECK(holds("state.space", state));
  CHECK(holds(R"(state.empty == "")", state));
}

TEST_CASE("== and != compare with JSON literals", "[condition]") {
  auto state = json::parse(R"({
    "s": "done", "n": 5, "neg": -3, "f": 2.5, "t": true, "no": false,
    "null": null, "five": "5", "arr": [1, 2], "obj": {"k": "v"}
  })");
  SECTION("strings") {
    CHECK(holds(R"(state.s == "done")", state));
    CHECK_FALSE(holds(R"(state.s == "Done")", state));
    CHECK_FALSE(holds(R"(state.s == "done ")", state));
    CHECK(holds(R"(state.s != "other")", state));
    CHECK_FALSE(holds(R"(state.s != "done")", state));
  }
  SECTION("numbers") {
    CHECK(holds("state.n == 5", state));
    CHECK_FALSE(holds("state.n == 6", state));
    CHECK(holds("state.n != 6", state));
    CHECK_FALSE(holds("state.n != 5", state));
    CHECK(holds("state.neg == -3", state));
    CHECK(holds("state.f == 2.5", state));
    CHECK_FALSE(holds("state.f == 2", state));
  }
  SECTION("booleans and null") {
    CHECK(holds("state.t == true", state));
    CHECK_FALSE(holds("state.t == false", state));
    CHECK(holds("state.no == false", state));
    CHECK(holds("state.no != true", state));
    CHECK(holds("state.null == null", state));
    CHECK_FALSE(holds("state.null != null", state));
    CHECK(holds("state.s != null", state));
    CHECK_FALSE(holds("state.s == null", state));
  }
  SECTION("containers") {
    CHECK(holds("state.arr == [1, 2]", state));
    CHECK_FALSE(holds("state.arr == [2, 1]", state));
    CHECK(holds(R"(state.obj == {"k": "v"})", state));
    CHECK(holds(R"(state.obj != {"k": "w"})", state));
  }
  SECTION("a string literal may contain the operators") {
    auto s = json{{"e", "a==b"}, {"ne", "x != y"}};
    CHECK(holds(R"(state.e == "a==b")", s));
    CHECK(holds(R"(state.ne == "x != y")", s));
    CHECK(holds(R"(state.e != "a!=b")", s));
  }
}

TEST_CASE("equality is typed", "[condition]") {
  auto state = json::parse(R"({"num": 5, "str": "5", "b": true, "one": 1,
                               "zero": 0, "empty": "", "nullish": null})");
  CHECK_FALSE(holds(R"(state.num == "5")", state));
  CHECK(holds(R"(state.num != "5")", state));
  CHECK_FALSE(holds("state.str == 5", state));
  CHECK(holds("state.str != 5", state));
  CHECK(holds(R"(state.str == "5")", state));
  // Truthy and falsy values are not equal to the booleans.
  CHECK_FALSE(holds("state.one == true", state));
  CHECK_FALSE(holds("state.b == 1", state));
  CHECK_FALSE(holds("state.zero == false", state));
  CHECK_FALSE(holds("state.empty == false", state));
  CHECK_FALSE(holds("state.zero == null", state));
  CHECK_FALSE(holds(R"(state.nullish == "")", state));
  CHECK_FALSE(holds("state.nullish == false", state));
}

TEST_CASE("a missing path equals null and nothing else", "[condition]") {
  auto state = json{{"a", {{"b", 1}}}};
  CHECK(holds("state.missing == null", state));
  CHECK_FALSE(holds("state.missing != null", state));
  CHECK(holds("state.a.missing == null", state));
  CHECK(holds("state.a.b.c == null", state));
  for (auto literal : {"false", "0", "\"\"", "[]", "{}", "\"null\""}) {
    INFO("literal " << literal);
    CHECK_FALSE(holds(std::string{"state.missing == "} + literal, state));
    CHECK(holds(std::string{"state.missing != "} + literal, state));
  }
}

TEST_CASE("all-digit segments index arrays", "[condition]") {
  auto state = json::parse(R"({
    "items": ["first", 0, {"name": "n"}, [true]],
    "map": {"0": "zero-key"}
  })");
  CHECK(holds(R"(state.items.0 == "first")", state));
  CHECK_FALSE(holds("state.items.1", state));
  CHECK(holds("state.items.1 == 0", state));
  CHECK(holds(R"(state.items.2.name == "n")", state));
  CHECK(holds("state.items.3.0", state));
  // Out of range: missing, hence null.
  CHECK_FALSE(holds("state.items.4", state));
  CHECK(holds("state.items.4 == null", state));
  CHECK(holds("state.items.99999999999999999999 == null", state));
  // A non-numeric segment does not index an array.
  CHECK_FALSE(holds("state.items.first", state));
  CHECK_FALSE(holds("state.items.-1", state));
  // On objects, digits are plain keys.
  CHECK(holds(R"(state.map.0 == "zero-key")", state));
}

TEST_CASE("whitespace around the parts is ignored", "[condition]") {
  auto state = json{{"s", "done"}, {"n", 3}, {"t", true}};
  CHECK(holds("  state.t  ", state));
  CHECK(holds("\tstate.t\n", state));
  CHECK(holds(R"(state.s=="done")", state));
  CHECK(holds(R"(   state.s   ==   "done"   )", state));
  CHECK(holds("state.n\t!=\t4", state));
  CHECK(holds("\r\nstate.n == 3\r\n", state));
  // Whitespace inside a string literal is significant.
  CHECK_FALSE(holds(R"(state.s == " done")", state));
}

TEST_CASE("malformed expressions are false and say why", "[condition]") {
  auto state = json::parse(R"({"a": {"b": true}, "s": "done", "x": "y",
                               "done": true})");
  SECTION("empty") {
    CHECK(contains(malformed("", state), "empty"));
    CHECK(contains(malformed("   \t ", state), "empty"));
  }
  SECTION("not a path") {
    auto why = malformed("garbage", state);
    CHECK(contains(why, "garbage"));
    CHECK(contains(why, "not a path"));
    CHECK(contains(malformed("state", state), "not a path"));
    CHECK(contains(malformed("true", state), "not a path"));
  }
  SECTION("not rooted at state") {
    auto why = malformed(R"(x == "y")", state);
    CHECK(contains(why, "'x'"));
    CHECK(contains(why, "not a path"));
    CHECK(contains(malformed("a.b", state), "not a path"));
    CHECK(contains(malformed("State.a.b", state), "not a path"));
  }
  SECTION("a root without a field") {
    CHECK(contains(malformed("state.", state), "not a path"));
    CHECK(contains(malformed(R"(state. == "x")", state), "not a path"));
  }
  SECTION("empty segments") {
    CHECK(contains(malformed("state.a..b", state), "empty path segment"));
    CHECK(contains(malformed("state.a.", state), "empty path segment"));
    CHECK(contains(malformed("state..a", state), "empty path segment"));
  }
  SECTION("an unquoted bareword on the right") {
    auto why = malformed("state.s == done", state);
    CHECK(contains(why, "'done'"));
    CHECK(contains(why, "not a JSON literal"));
    // Also when the bareword happens to name a truthy field.
    CHECK(contains(malformed("state.done == done", state), "JSON literal"));
  }
  SECTION("a missing right-hand side") {
    CHECK(contains(malformed("state.s ==", state), "JSON literal"));
    CHECK(contains(malformed("state.s != ", state), "JSON literal"));
  }
  SECTION("!= with a malformed right-hand side is false too") {
    // Were the malformed literal compared as null, != would hold.
    CHECK(contains(malformed("state.s != done", state), "JSON literal"));
    CHECK(contains(malformed("state.missing != nope", state), "JSON literal"));
    CHECK(contains(malformed(R"(state.s != "unterminated)", state),
                   "JSON literal"));
  }
  SECTION("a malformed left-hand side with a good literal") {
    CHECK(contains(malformed(R"(s == "done")", state), "not a path"));
    CHECK(
      contains(malformed(R"(state..s != "x")", state), "empty path segment"));
  }
}

TEST_CASE("eval_condition works without a problem sink", "[condition]") {
  auto state = json{{"t", true}};
  CHECK(eval_condition("state.t", state));
  CHECK_FALSE(eval_condition("state.t == done", state));
  CHECK_FALSE(eval_condition("", state));
}

TEST_CASE("a well-formed expression leaves the problem untouched",
          "[condition]") {
  std::string problem = "previous";
  CHECK_FALSE(eval_condition("state.nope", json::object(), &problem));
  CHECK(problem == "previous");
  CHECK_FALSE(condition_problem("state.a.b == [1, {\"c\": null}]"));
}
