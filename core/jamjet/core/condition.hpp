#pragma once

// Condition expressions, JamJet's grammar:
//
//   expr    := path                  truthiness
//            | path "==" literal     typed JSON equality
//            | path "!=" literal
//   path    := "state" ("." segment)+   object keys; all-digit segments
//                                        also index arrays
//   literal := a JSON value ("x", 5, true, false, null, ...)
//
// Falsy: a missing path, null, false, 0, "", [] and {}. A missing path
// compares equal to null only. Evaluation is total: a malformed expression
// is false, and `condition_problem` says why.

#include <optional>
#include <string>

#include <nlohmann/json.hpp>

namespace jamjet {

/// Evaluates `expr` against `state`. A malformed expression is false; when
/// `problem` is given it then receives the reason.
bool eval_condition(const std::string& expr, const nlohmann::json& state,
                    std::string* problem = nullptr);

/// Why `expr` is malformed, or nothing when it is well formed.
std::optional<std::string> condition_problem(const std::string& expr);

} // namespace jamjet
