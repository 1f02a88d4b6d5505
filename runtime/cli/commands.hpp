#pragma once

// The subcommands of `jamjet`.

#include <string>
#include <vector>

namespace jamjet::cli {

/// Options of `jamjet run`.
struct run_options {
  std::string workflow;
  std::string input = "{}";
  bool memory = false;
  std::vector<std::string> handlers;
  unsigned slots = 8;
  unsigned node_timeout_secs = 300;
};

/// `jamjet run`: returns the exit code.
int run_command(const run_options& opts);

/// `jamjet validate`: returns the exit code.
int validate_command(const std::string& path,
                     const std::vector<std::string>& handlers);

} // namespace jamjet::cli
