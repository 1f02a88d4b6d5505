#include "jamjet/messages/json_limits.hpp"

#include <utility>
#include <vector>

#include "jamjet/messages/error.hpp"

namespace jamjet {

namespace {

std::string too_deep(size_t max_depth, size_t offset) {
  return "JSON nested deeper than the limit of " + std::to_string(max_depth) +
         " levels (at byte " + std::to_string(offset) + ")";
}

} // namespace

std::optional<std::string> json_limit_problem(std::string_view text,
                                              const json_limits& lim) {
  if (text.size() > lim.max_bytes)
    return "JSON text of " + std::to_string(text.size()) +
           " bytes exceeds the limit of " + std::to_string(lim.max_bytes) +
           " bytes";
  size_t depth = 0;
  bool in_string = false;
  for (size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (in_string) {
      if (c == '\\')
        ++i; // The escaped character, whatever it is, ends no string.
      else if (c == '"')
        in_string = false;
      continue;
    }
    switch (c) {
      case '"':
        in_string = true;
        break;
      case '[':
      case '{':
        if (++depth > lim.max_depth)
          return too_deep(lim.max_depth, i);
        break;
      case ']':
      case '}':
        // Unbalanced text is the parser's to refuse.
        if (depth > 0)
          --depth;
        break;
      default:
        break;
    }
  }
  return std::nullopt;
}

size_t json_depth(const nlohmann::json& value) {
  // Each entry: a container and its depth.
  std::vector<std::pair<const nlohmann::json*, size_t>> todo;
  size_t result = 0;
  if (value.is_structured())
    todo.emplace_back(&value, 1);
  while (!todo.empty()) {
    auto [x, depth] = todo.back();
    todo.pop_back();
    if (depth > result)
      result = depth;
    for (const auto& child : *x)
      if (child.is_structured())
        todo.emplace_back(&child, depth + 1);
  }
  return result;
}

std::optional<std::string> json_depth_problem(const nlohmann::json& value,
                                              size_t max_depth) {
  // Stops at the first container past the limit, so a very deep value costs
  // no more than the limit per branch.
  std::vector<std::pair<const nlohmann::json*, size_t>> todo;
  if (value.is_structured())
    todo.emplace_back(&value, 1);
  while (!todo.empty()) {
    auto [x, depth] = todo.back();
    todo.pop_back();
    if (depth > max_depth)
      return "JSON nested deeper than the limit of " +
             std::to_string(max_depth) + " levels";
    for (const auto& child : *x)
      if (child.is_structured())
        todo.emplace_back(&child, depth + 1);
  }
  return std::nullopt;
}

nlohmann::json try_parse_bounded(std::string_view text, const json_limits& lim,
                                 std::string* problem) {
  if (auto why = json_limit_problem(text, lim)) {
    if (problem != nullptr)
      *problem = std::move(*why);
    return nlohmann::json(nlohmann::json::value_t::discarded);
  }
  return nlohmann::json::parse(text, nullptr, false);
}

nlohmann::json parse_bounded(std::string_view text, const json_limits& lim,
                             std::string_view what) {
  if (auto why = json_limit_problem(text, lim))
    throw error(error_code::bad_input, std::string{what} + ": " + *why);
  try {
    return nlohmann::json::parse(text);
  } catch (const nlohmann::json::exception& ex) {
    throw error(error_code::bad_input,
                std::string{what} + " is not valid JSON: " + ex.what());
  }
}

std::string bounded_dump(const nlohmann::json& value, std::string_view what) {
  if (auto problem = json_depth_problem(value))
    throw error(error_code::bad_input, std::string{what} + ": " + *problem);
  return value.dump();
}

} // namespace jamjet
