#pragma once

// Handlers that ship with the runtime: `noop` and `command`, plus the
// external-program handler behind `--handler KIND=PROGRAM`.
//
// Process-based handlers run their program without a shell, in its own
// process group (see `run_subprocess`), with these extra environment
// variables: JAMJET_EXECUTION_ID, JAMJET_NODE_ID and JAMJET_ATTEMPT. The
// program's standard output must be empty (output null, no state change) or
// a JSON object, which becomes both the node's output and its state patch.
//
// Failures:
// - bad node JSON, unusable stdout, program not found: not retryable;
// - non-zero exit: retryable, "command exited with status N: <stderr tail>";
// - timeout: retryable, "command timed out after N s";
// - cancellation: not retryable, "cancelled".

#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include "jamjet/core/handler.hpp"
#include "jamjet/messages/ir.hpp"

namespace jamjet {

/// Kind `noop`: succeeds at once. Output and state patch are both the
/// object `kind.state_patch`, or `{}` when it is absent or null. Fails (not
/// retryable) when `kind.state_patch` is present but not an object.
node_outcome noop_handler(const node_context& ctx);

/// Kind `command`: `{"type":"command","argv":["prog","arg",...]}`. Runs
/// `argv` (no shell) with the execution's state, serialized as JSON, on its
/// standard input. The timeout is the node's `node_timeout_secs` (a positive
/// number; 0 means no limit) or, when that is absent or null,
/// `default_timeout` (0 means no limit).
node_outcome
command_handler(const node_context& ctx,
                std::chrono::seconds default_timeout = std::chrono::seconds{0});

/// An external program handling a whole node kind (`--handler KIND=PROGRAM`,
/// the caller splits PROGRAM into `argv`). Behaves like `command_handler`,
/// except that the program's standard input receives
/// `{"node": <node JSON>, "state": <state>, "attempt": <attempt>}`.
node_outcome
program_handler(const node_context& ctx, const std::vector<std::string>& argv,
                std::chrono::seconds default_timeout = std::chrono::seconds{0});

/// The argv of a `command` kind: `kind.argv` when it is a non-empty array
/// of strings, else nothing.
std::optional<std::vector<std::string>>
command_argv(const nlohmann::json& kind);

/// What keeps a node of a built-in kind from ever running, found before it
/// runs: a `command` whose `kind.argv` is missing or not a non-empty array
/// of strings; a `noop` whose `kind.state_patch` is neither an object nor
/// null. One sentence each, naming the node; none for other kinds.
std::vector<std::string> builtin_kind_problems(const node_def& node);

/// Registers kind `noop` (inline, `blocking == false`) and kind `command`
/// (`blocking == true`, using `default_node_timeout` for nodes without
/// `node_timeout_secs`).
void register_builtin_handlers(handler_registry& registry,
                               std::chrono::seconds default_node_timeout);

} // namespace jamjet
