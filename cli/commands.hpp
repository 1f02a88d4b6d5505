#pragma once

// The subcommands of `jamjet`.

#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace jamjet {
class runtime;
struct runtime_config;
} // namespace jamjet

namespace jamjet::cli {

/// Where state lives, as the store options say.
struct store_options {
  /// SQLite file; the default store of the command line.
  std::string db = "jamjet.db";
  /// Keep state in memory only.
  bool memory = false;
  /// "full" (default) or "normal".
  std::string synchronous = "full";
};

/// Options of `jamjet run` and `jamjet resume`.
struct run_options {
  std::string workflow;
  std::string input = "{}";
  store_options store;
  std::vector<std::string> handlers;
  unsigned slots = 8;
  unsigned node_timeout_secs = 300;
  /// Lease period in seconds (a lease not heartbeaten is reclaimed).
  double lease_secs = 30;
  /// `run --strict`: the workflow's warnings are errors.
  bool strict = false;
};

/// Splits "KIND=PROGRAM ARGS..." into the kind and argv; throws
/// `bad_input` when malformed.
std::pair<std::string, std::vector<std::string>>
parse_handler_spec(const std::string& spec);

/// A runtime with the CLI's handlers over the store `opts` names;
/// `network` (when set) adds what a node listening for peers needs.
std::unique_ptr<runtime>
make_runtime(const run_options& opts,
             const std::function<void(runtime_config&)>& network = {});

/// `jamjet run`: returns the exit code.
int run_command(const run_options& opts);

/// `jamjet resume`: resume every running execution, wait for all.
int resume_command(const run_options& opts);

/// `jamjet status [EXEC_ID]`.
int status_command(const std::string& db, const std::string& execution_id);

/// `jamjet events EXEC_ID`.
int events_command(const std::string& db, const std::string& execution_id);

/// `check`: the whole store checked (SQLite's integrity, every workflow,
/// every log); a JSON report; exit 0 sound, 1 problems found.
int check_command(const std::string& db);

/// `jamjet dlq list`.
int dlq_list_command(const std::string& db);

/// `jamjet dlq redrive ITEM_ID`.
int dlq_redrive_command(const std::string& db, const std::string& item_id);

/// A request for an execution in a store, for the runtime that owns it.
struct request_options {
  std::string db = "jamjet.db";
  std::string execution_id;
  /// signal: the correlation key; approve/reject: the node id.
  std::string target;
  /// signal: the payload; approve: a state patch (JSON text).
  std::string payload;
  std::string comment;
  bool has_comment = false;
  std::string user = "cli";
  /// cancel: the reason.
  std::string reason = "cancelled from the command line";
};

/// `jamjet signal|approve|reject|cancel`: checks the request against the
/// stored execution, then leaves it in the store's inbox.
int request_command(const std::string& kind, const request_options& opts);

/// What a request prints, one JSON shape with `--db` and `--connect`:
/// `{"request": KIND, "execution_id": ID, "reason"|"key"|"node_id": ...,
/// "outcome": "queued"|"applied"}` (`queued`: left in the store's inbox for
/// the runtime that owns it; `applied`: accepted by the scheduler node).
std::string request_outcome(const std::string& kind,
                            const request_options& opts, bool queued);

/// Throws `bad_input` naming `db` when no file is there: commands that
/// read or resume a store never create an empty one.
void require_store(const std::string& db);

/// `jamjet validate`: every problem `check_workflow` finds (preflight.hpp)
/// on stderr and exit 2, or "is valid" on stdout and exit 0; never both.
int validate_command(const std::string& path,
                     const std::vector<std::string>& handlers, bool strict);

} // namespace jamjet::cli
