#pragma once

// Bounded JSON: every JSON text that enters the runtime from outside (CLI
// arguments and files, network requests and results, handler output, the
// store on read) is checked against a nesting depth and a size limit
// before nlohmann::json parses it.
//
// nlohmann's parser is iterative, but copying, dumping and comparing a
// value recurse once per level: a value nested 50,000 deep overflows the
// stack. The check scans the text iteratively, so a refused text is never
// turned into a value. docs/architecture.md ("Bounded JSON") lists where
// each limit applies.

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

namespace jamjet {

/// Deepest nesting of arrays and objects accepted in a JSON value from
/// outside: `[]` and `{}` are 1 level deep, a scalar 0.
inline constexpr size_t json_max_depth = 256;

/// Largest JSON text accepted from outside (the network's frame limit).
inline constexpr size_t json_max_bytes = size_t{16} << 20;

/// Room for the envelopes the runtime puts around bounded values (events,
/// snapshots, work items, records): documents it wrote itself are read
/// back with this much more depth.
inline constexpr size_t json_envelope_depth = 64;

/// Largest JSON text the runtime reads back from its own store.
inline constexpr size_t json_max_stored_bytes = size_t{1} << 30;

/// The limits a JSON text is checked against.
struct json_limits {
  size_t max_depth = json_max_depth;
  size_t max_bytes = json_max_bytes;

  /// For documents the runtime wrote itself around bounded values.
  static constexpr json_limits stored() {
    return {json_max_depth + json_envelope_depth, json_max_stored_bytes};
  }
};

/// Why `text` exceeds `lim` (which limit, and at which byte offset), or
/// nothing when it is within them. Scans iteratively: brackets inside
/// strings (escapes included) do not count. Says nothing about whether the
/// text is well-formed JSON.
std::optional<std::string> json_limit_problem(std::string_view text,
                                              const json_limits& lim = {});

/// Nesting depth of a value built in memory, computed without recursion.
size_t json_depth(const nlohmann::json& value);

/// Why `value` is nested deeper than `max_depth`, or nothing.
std::optional<std::string>
json_depth_problem(const nlohmann::json& value,
                   size_t max_depth = json_max_depth);

/// Parses `text` after checking it against `lim`. Throws `jamjet::error`
/// with `bad_input`, the message starting with `what`, when the text
/// exceeds a limit or is not JSON.
nlohmann::json parse_bounded(std::string_view text, const json_limits& lim = {},
                             std::string_view what = "JSON text");

/// Like `parse_bounded` but without exceptions: a discarded value
/// (`is_discarded()`) when the text exceeds a limit or is not JSON. When a
/// limit refused the text, says which in `*problem` (if given); leaves it
/// alone for text that is merely not JSON.
nlohmann::json try_parse_bounded(std::string_view text,
                                 const json_limits& lim = {},
                                 std::string* problem = nullptr);

/// `value.dump()` after checking it against the depth limit: throws
/// `jamjet::error` with `bad_input` naming `what` when it is too deep.
std::string bounded_dump(const nlohmann::json& value,
                         std::string_view what = "JSON value");

} // namespace jamjet
