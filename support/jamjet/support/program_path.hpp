#pragma once

// Whether a program named on a command line can be started here: the
// check `validate` and `run` make before anything runs.

#include <optional>
#include <string>

namespace jamjet {

/// Why `program` cannot be executed, or nothing when it can. A name with a
/// slash is a path (relative to the working directory): it must exist, be
/// a regular file and be executable. A bare name is looked up in each
/// directory of `path` (the `PATH` environment variable's form,
/// colon-separated; an empty entry is the working directory), as execvp
/// does. Says "'x' does not exist", "'x' is a directory", "'x' is not
/// executable" or "'x' is not found in PATH".
std::optional<std::string> program_problem(const std::string& program,
                                           const std::string& path);

/// `program_problem` with the process's `PATH` (execvp's default when it
/// is unset).
std::optional<std::string> program_problem(const std::string& program);

} // namespace jamjet
