// libFuzzer target: a condition expression (an edge's `condition`),
// evaluated against a small fixed state.
//
// Evaluation is total (condition.hpp): no input may throw at all, and a
// malformed expression is false with a reason. Anything else is a finding.

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>

#include <nlohmann/json.hpp>

#include "jamjet/core/condition.hpp"

namespace {

[[noreturn]] void finding(const char* what, const std::string& expr) {
  std::fprintf(stderr, "fuzz_condition: %s for '%s'\n", what, expr.c_str());
  std::abort();
}

const nlohmann::json& fixed_state() {
  static const nlohmann::json state = nlohmann::json::parse(R"({
    "t": true, "f": false, "null": null, "zero": 0, "one": 1, "neg": -3,
    "half": 0.5, "s": "x", "empty": "", "a": [1, 2, {"b": "c"}],
    "o": {"k": {"n": 5, "arr": [1, 2]}, "": "blank", "1": "one"},
    "deep": {"a": {"b": {"c": {"d": [[[0]]]}}}}
  })");
  return state;
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string expr(reinterpret_cast<const char*>(data), size);
  auto problem = jamjet::condition_problem(expr);
  std::string why;
  auto holds = jamjet::eval_condition(expr, fixed_state(), &why);
  auto holds_quiet = jamjet::eval_condition(expr, fixed_state());
  if (holds != holds_quiet)
    finding("evaluation depends on asking for the problem", expr);
  if (problem) {
    if (holds)
      finding("a malformed expression held", expr);
    if (why.empty())
      finding("a malformed expression gave no reason", expr);
  } else if (!why.empty()) {
    finding("a well-formed expression reported a problem", expr);
  }
  return 0;
}
