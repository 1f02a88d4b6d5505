#include "jamjet/core/condition.hpp"

#include <string_view>

#include "jamjet/messages/json_limits.hpp"

namespace jamjet {

namespace {

using json = nlohmann::json;

std::string_view trim(std::string_view s) {
  auto ws = [](char c) {
    return c == ' ' || c == '\t' || c == '\n' || c == '\r';
  };
  while (!s.empty() && ws(s.front()))
    s.remove_prefix(1);
  while (!s.empty() && ws(s.back()))
    s.remove_suffix(1);
  return s;
}

/// A parsed expression.
struct parsed {
  /// The segments after "state".
  std::vector<std::string> path;
  /// 0: truthiness, '=': ==, '!': !=.
  char op = 0;
  json literal;
};

/// Parses `expr`; returns the reason it is malformed, or nothing.
std::optional<std::string> parse(std::string_view expr, parsed& out) {
  expr = trim(expr);
  if (expr.empty())
    return "the expression is empty";
  auto lhs = expr;
  // The first "==" or "!=" splits the expression.
  for (size_t i = 0; i + 1 < expr.size(); ++i) {
    if ((expr[i] == '=' || expr[i] == '!') && expr[i + 1] == '=') {
      out.op = expr[i];
      lhs = trim(expr.substr(0, i));
      auto rhs = trim(expr.substr(i + 2));
      out.literal = try_parse_bounded(rhs);
      if (out.literal.is_discarded())
        return "'" + std::string{rhs} +
               "' is not a JSON literal (quote strings: \"x\")";
      break;
    }
  }
  constexpr std::string_view root = "state.";
  if (lhs.substr(0, root.size()) != root || lhs.size() == root.size())
    return "'" + std::string{lhs} +
           "' is not a path state.<field>[.<field>...]";
  auto rest = lhs.substr(root.size());
  while (true) {
    auto dot = rest.find('.');
    auto segment = rest.substr(0, dot);
    if (segment.empty())
      return "'" + std::string{lhs} + "' has an empty path segment";
    // Keys with blanks or operator characters are almost surely a typo
    // for an operator the grammar lacks (state.n > 3, state.n = 3).
    if (segment.find_first_of(" \t<>=!") != std::string_view::npos)
      return "'" + std::string{lhs} +
             "' is not a path: only ==, != and a bare path are supported";
    out.path.emplace_back(segment);
    if (dot == std::string_view::npos)
      break;
    rest = rest.substr(dot + 1);
  }
  return std::nullopt;
}

/// The value at `path`, or null when it does not resolve.
const json* resolve(const json& state, const std::vector<std::string>& path) {
  const json* cur = &state;
  for (auto& segment : path) {
    if (cur->is_object()) {
      auto i = cur->find(segment);
      if (i == cur->end())
        return nullptr;
      cur = &*i;
    } else if (cur->is_array()) {
      if (segment.find_first_not_of("0123456789") != std::string::npos ||
          segment.size() > 9)
        return nullptr;
      auto index = std::stoul(segment);
      if (index >= cur->size())
        return nullptr;
      cur = &(*cur)[index];
    } else {
      return nullptr;
    }
  }
  return cur;
}

bool truthy(const json* v) {
  if (!v || v->is_null())
    return false;
  if (v->is_boolean())
    return v->get<bool>();
  if (v->is_number())
    return v->get<double>() != 0.0;
  if (v->is_string()) // json::empty() is false for every string
    return !v->get_ref<const std::string&>().empty();
  if (v->is_array() || v->is_object())
    return !v->empty();
  return true;
}

} // namespace

bool eval_condition(const std::string& expr, const nlohmann::json& state,
                    std::string* problem) {
  parsed p;
  if (auto why = parse(expr, p)) {
    if (problem)
      *problem = std::move(*why);
    return false;
  }
  auto* value = resolve(state, p.path);
  if (p.op == 0)
    return truthy(value);
  bool equal = value ? *value == p.literal : p.literal.is_null();
  return p.op == '=' ? equal : !equal;
}

std::optional<std::string> condition_problem(const std::string& expr) {
  parsed p;
  return parse(expr, p);
}

} // namespace jamjet
