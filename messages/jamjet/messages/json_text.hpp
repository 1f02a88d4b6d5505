#pragma once

// Parsing JSON text from people (workflow files, command-line arguments)
// with errors that say where: line, column and byte.

#include <string_view>

#include <nlohmann/json.hpp>

namespace jamjet {

/// Parses `text`. Malformed text throws `jamjet::error` (`bad_input`)
/// "malformed JSON at line L, column C (byte B): reason", a number too large
/// for a double "number out of range at line L, column C (byte B): ...",
/// each prefixed by "`what`: " when `what` is not empty. Columns count UTF-8
/// characters, as editors do. Does not check the limits of json_limits.hpp:
/// callers check them first.
nlohmann::json parse_json_located(std::string_view text,
                                  std::string_view what = {});

} // namespace jamjet
