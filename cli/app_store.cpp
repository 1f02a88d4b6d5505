// Inspection and requests: `status`, `events`, `dlq`, and `cancel`,
// `signal`, `approve`, `reject`. They read or write a store (`--db`); all
// but `dlq` can instead ask a scheduler node (`--connect`).

#include <memory>

#include "app.hpp"

namespace jamjet::cli {

namespace {

/// Options of `status`, `events` and `dlq`.
struct query_options {
  std::string db = "jamjet.db";
  /// The execution (status, events) or the work item (dlq redrive).
  std::string id;
  client_target target;
};

/// `--db` of a store client.
CLI::Option* add_db_option(CLI::App* sub, std::string& db) {
  return sub->add_option("--db", db, "SQLite store")->capture_default_str();
}

/// Options of `cancel`, `signal`, `approve` and `reject`.
struct request_args {
  request_options req;
  client_target target;
  /// `--comment` (approve, reject), or null.
  CLI::Option* comment = nullptr;
};

/// A request subcommand: the execution, `--db` or `--connect`; its action
/// sends the request where those say.
CLI::App* add_request_command(cli_app& cli, const std::string& name,
                              const std::string& help,
                              const std::shared_ptr<request_args>& opts) {
  auto sub = cli.app.add_subcommand(name, help);
  sub->add_option("execution", opts->req.execution_id, "Execution id")
    ->required();
  add_connect_options(sub, opts->target, add_db_option(sub, opts->req.db));
  add_log_level(sub, cli.log_level);
  cli.bind(sub, [sub, opts] {
    opts->req.has_comment = opts->comment && opts->comment->count() > 0;
    return opts->target.connect.empty()
             ? request_command(sub->get_name(), opts->req)
             : remote_request_command(opts->target, sub->get_name(), opts->req);
  });
  return sub;
}

/// `approve` and `reject`: a request naming a human_approval node, with
/// `--comment` and `--user`.
CLI::App* add_decision_command(cli_app& cli, const std::string& name,
                               const std::string& help,
                               const std::shared_ptr<request_args>& opts) {
  auto sub = add_request_command(cli, name, help, opts);
  sub->add_option("node", opts->req.target, "The human_approval node's id")
    ->required();
  opts->comment = sub->add_option("--comment", opts->req.comment,
                                  "A comment kept in the log");
  sub->add_option("--user", opts->req.user, "Who decides")
    ->capture_default_str();
  return sub;
}

} // namespace

void add_status_command(cli_app& cli) {
  auto opts = std::make_shared<query_options>();
  auto status = cli.app.add_subcommand(
    "status", "Executions and their status as JSON (all, or one)");
  status->add_option("execution", opts->id, "Execution id");
  add_connect_options(status, opts->target, add_db_option(status, opts->db));
  add_log_level(status, cli.log_level);
  cli.bind(status, [opts] {
    return opts->target.connect.empty()
             ? status_command(opts->db, opts->id)
             : remote_status_command(opts->target, opts->id);
  });
}

void add_events_command(cli_app& cli) {
  auto opts = std::make_shared<query_options>();
  auto events = cli.app.add_subcommand(
    "events", "An execution's event log, one JamJet JSON event a line");
  events->add_option("execution", opts->id, "Execution id")->required();
  add_connect_options(events, opts->target, add_db_option(events, opts->db));
  add_log_level(events, cli.log_level);
  cli.bind(events, [opts] {
    return opts->target.connect.empty()
             ? events_command(opts->db, opts->id)
             : remote_events_command(opts->target, opts->id);
  });
}

void add_check_command(cli_app& cli) {
  auto opts = std::make_shared<query_options>();
  auto check = cli.app.add_subcommand(
    "check", "Check a whole store: SQLite's integrity, every workflow, every "
             "execution's log; print a report (exit 0 sound, 1 problems "
             "found). Reads only; safe while a runtime owns the store");
  add_db_option(check, opts->db);
  add_log_level(check, cli.log_level);
  cli.bind(check, [opts] { return check_command(opts->db); });
}

void add_dlq_command(cli_app& cli) {
  auto opts = std::make_shared<query_options>();
  auto dlq = cli.app.add_subcommand("dlq", "Dead letters: work items whose "
                                           "attempts are exhausted");
  dlq->require_subcommand(1);
  auto list = dlq->add_subcommand("list", "List dead letters (JSON lines)");
  add_db_option(list, opts->db);
  add_log_level(list, cli.log_level);
  cli.bind(list, [opts] { return dlq_list_command(opts->db); });
  auto redrive = dlq->add_subcommand(
    "redrive", "Put a dead letter back in its queue with a fresh attempt "
               "budget (recorded as an event; `resume` then runs it)");
  redrive->add_option("item", opts->id, "Work item id")->required();
  add_db_option(redrive, opts->db);
  add_log_level(redrive, cli.log_level);
  cli.bind(redrive, [opts] { return dlq_redrive_command(opts->db, opts->id); });
}

void add_request_commands(cli_app& cli) {
  auto cancel_opts = std::make_shared<request_args>();
  auto cancel = add_request_command(
    cli, "cancel",
    "Cancel a running execution: its handlers are stopped, "
    "NodeCancelled and WorkflowCancelled recorded. Takes effect at "
    "once in a runtime that owns the store, else at the next "
    "resume",
    cancel_opts);
  cancel->add_option("--reason", cancel_opts->req.reason, "Why")
    ->capture_default_str();

  auto signal_opts = std::make_shared<request_args>();
  auto signal = add_request_command(
    cli, "signal",
    "Deliver an external event to a waiting execution: a wait "
    "node with this correlation key completes with the payload. "
    "Takes effect at once in a runtime that owns the store, else "
    "at the next resume",
    signal_opts);
  signal->add_option("key", signal_opts->req.target, "Correlation key")
    ->required();
  signal->add_option("--payload", signal_opts->req.payload,
                     "The event's payload: JSON, or @FILE (default {})");

  auto approve_opts = std::make_shared<request_args>();
  auto approve = add_decision_command(
    cli, "approve", "Approve a human_approval node of a running execution",
    approve_opts);
  approve->add_option("--patch", approve_opts->req.payload,
                      "A state patch (JSON object, or @FILE) merged on "
                      "approval");

  add_decision_command(cli, "reject",
                       "Reject a human_approval node: it fails, or goes to "
                       "its fallback_node",
                       std::make_shared<request_args>());
}

} // namespace jamjet::cli
