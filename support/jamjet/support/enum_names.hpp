#pragma once

// The names of an enum's values, as one table.
//
// Every enum whose values have a text form (in events, stores, JSON or log
// lines) keeps one `constexpr` table of (value, name) pairs next to its
// `to_string`; printing and parsing both read it, so the two cannot
// disagree. tests/enum_names_test.cpp round-trips every table.

#include <array>
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

namespace jamjet {

template <class Enum, size_t N>
using enum_name_table = std::array<std::pair<Enum, std::string_view>, N>;

/// The name of `x` in `table`; `fallback` for a value the table lacks.
template <class Enum, size_t N>
constexpr std::string_view name_in(const enum_name_table<Enum, N>& table,
                                   Enum x,
                                   std::string_view fallback = "unknown") {
  for (const auto& [value, name] : table)
    if (value == x)
      return name;
  return fallback;
}

/// The value named `name` in `table`; none for any other text.
template <class Enum, size_t N>
constexpr std::optional<Enum> value_in(const enum_name_table<Enum, N>& table,
                                       std::string_view name) {
  for (const auto& [value, text] : table)
    if (text == name)
      return value;
  return std::nullopt;
}

/// `"a", "b" or "c"`: the names, for an error message.
template <class Enum, size_t N>
std::string names_in(const enum_name_table<Enum, N>& table) {
  std::string out;
  for (size_t i = 0; i < N; ++i) {
    if (i > 0)
      out += i + 1 == N ? " or " : ", ";
    out += '"';
    out += table[i].second;
    out += '"';
  }
  return out;
}

} // namespace jamjet
