#pragma once

// Everything `validate` and `run` check about a workflow before anything
// runs, in one list: the graph (core/validate.hpp), node kinds without a
// handler, built-in kinds that could never run (a `command` without argv),
// `--handler` programs that cannot be started; and the warnings: unknown
// fields (with the likely intended name), malformed conditions, `command`
// programs not found here.

#include <string>
#include <vector>

#include "jamjet/messages/ir.hpp"

namespace jamjet::cli {

/// What a workflow's checks found.
struct preflight {
  /// Each keeps the workflow from running; exit 2.
  std::vector<std::string> problems;
  /// Allowed but probably wrong; problems under `--strict`.
  std::vector<std::string> warnings;
};

/// Checks `ir` for a run with the `--handler KIND=PROGRAM` specs
/// `handlers` (and the built-in `noop` and `command`). With `strict`, the
/// warnings are moved to the problems.
preflight check_workflow(const workflow_ir& ir,
                         const std::vector<std::string>& handlers, bool strict);

/// "workflow 'ID' is invalid:\n  - problem\n  - ..." for `problems`.
std::string invalid_message(const workflow_ir& ir,
                            const std::vector<std::string>& problems);

} // namespace jamjet::cli
