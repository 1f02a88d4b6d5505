#pragma once

// Shared pieces of the `jamjet` command line.

#include <string>

#include <nlohmann/json.hpp>

namespace jamjet::cli {

/// Exit codes, as other tools rely on them.
enum exit_code : int {
  exit_completed = 0,
  exit_failed = 1,
  exit_bad_input = 2,
};

/// Reads a whole file; throws `jamjet::error(bad_input)` naming it.
std::string read_file(const std::string& path);

/// Parses the JSON value of `option`: inline JSON, or `@FILE`.
nlohmann::json parse_input_json(const std::string& arg,
                                const std::string& option);

/// Parses `--input`: inline JSON, or `@FILE`. Must be an object.
nlohmann::json parse_input(const std::string& arg);

/// Sets spdlog's level from a name (trace, debug, info, warn, error, off)
/// and sends logs to stderr.
void setup_logging(const std::string& level);

} // namespace jamjet::cli
