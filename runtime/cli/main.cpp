// jamjet: run JamJet workflows from the command line.
//
//   jamjet run WORKFLOW.json [--input JSON|@FILE] [--db PATH|--memory]
//   jamjet validate WORKFLOW.json
//   jamjet resume --db PATH
//   jamjet status [EXEC_ID] --db PATH
//   jamjet events EXEC_ID --db PATH
//   jamjet dlq list|redrive ITEM_ID --db PATH
//   jamjet cancel EXEC_ID [--reason R] --db PATH
//   jamjet signal EXEC_ID KEY [--payload JSON] --db PATH
//   jamjet approve|reject EXEC_ID NODE_ID [--comment C] [--user U] --db PATH
//
// Results go to stdout, logs and progress to stderr. Exit codes: 0 success
// (the execution completed, the workflow is valid), 1 an execution failed
// or was cancelled (or the store failed), 2 bad input or usage.

#include <iostream>

#include <CLI/CLI.hpp>
#include <spdlog/spdlog.h>

#include "messages/error.hpp"
#include "runtime/cli/cli.hpp"
#include "runtime/cli/commands.hpp"

namespace {

const std::vector<std::string> log_levels{"trace", "debug", "info",
                                          "warn",  "error", "off"};

void add_log_level(CLI::App* app, std::string& level) {
  app->add_option("--log-level", level, "Log level on stderr")
    ->check(CLI::IsMember(log_levels));
}

void add_store_options(CLI::App* app, jamjet::cli::store_options& opts) {
  auto db =
    app->add_option("--db", opts.db, "SQLite store (created when missing)")
      ->capture_default_str();
  app
    ->add_flag("--memory", opts.memory,
               "Keep state in memory only (lost at exit)")
    ->excludes(db);
  app
    ->add_option("--synchronous", opts.synchronous,
                 "SQLite durability: 'full' fsyncs every commit; 'normal' "
                 "may lose the last commits on power loss (never on a "
                 "process crash)")
    ->check(CLI::IsMember({"full", "normal"}))
    ->capture_default_str();
}

void add_handler_options(CLI::App* app, jamjet::cli::run_options& opts) {
  app->add_option("--handler", opts.handlers,
                  "KIND=PROGRAM: run nodes of KIND with an external program "
                  "(repeatable)");
  app->add_option("--slots", opts.slots, "Handler slots")
    ->check(CLI::Range(1, 1024))
    ->capture_default_str();
  app
    ->add_option("--node-timeout", opts.node_timeout_secs,
                 "Default node timeout in seconds for program handlers")
    ->check(CLI::Range(1, 86400 * 7))
    ->capture_default_str();
  app
    ->add_option("--lease", opts.lease_secs,
                 "Lease period in seconds: a node whose worker neither "
                 "reports nor heartbeats for this long is retried; leases "
                 "held when a process died wait this long after resume")
    ->check(CLI::Range(0.1, 86400.0))
    ->capture_default_str();
}

} // namespace

int main(int argc, char** argv) {
  using namespace jamjet::cli;
  CLI::App app{"jamjet: a durable, event-driven workflow scheduler for "
               "JamJet IR workflows"};
  app.require_subcommand(1);
  std::string log_level = "warn";
  app
    .add_option("--log-level", log_level,
                "Log level on stderr: trace, debug, info, warn, error, off")
    ->check(CLI::IsMember(log_levels))
    ->capture_default_str();

  run_options run_opts;
  auto run = app.add_subcommand(
    "run", "Run one execution of a workflow to its end and print its final "
           "state (exit 0 completed, 1 failed, 2 bad input). Executions "
           "left running in the same store by a crash resume too.");
  run->add_option("workflow", run_opts.workflow, "Workflow IR JSON file")
    ->required();
  run->add_option("--input", run_opts.input,
                  "Initial state: a JSON object, or @FILE to read one");
  add_store_options(run, run_opts.store);
  add_handler_options(run, run_opts);
  add_log_level(run, log_level);

  std::string validate_path;
  auto validate = app.add_subcommand(
    "validate", "Check a workflow IR file; exit 0 when valid, 2 with every "
                "problem otherwise");
  validate->add_option("workflow", validate_path, "Workflow IR JSON file")
    ->required();
  validate->add_option("--handler", run_opts.handlers,
                       "KIND=PROGRAM: count KIND as handled (repeatable)");
  add_log_level(validate, log_level);

  auto resume = app.add_subcommand(
    "resume", "Resume every running execution of a store, wait until all "
              "have ended, print a summary (exit 1 if any failed)");
  add_store_options(resume, run_opts.store);
  add_handler_options(resume, run_opts);
  add_log_level(resume, log_level);

  std::string db = "jamjet.db";
  std::string id;
  auto status = app.add_subcommand(
    "status", "Executions and their status as JSON (all, or one)");
  status->add_option("execution", id, "Execution id");
  status->add_option("--db", db, "SQLite store")->capture_default_str();
  add_log_level(status, log_level);

  auto events = app.add_subcommand(
    "events", "An execution's event log, one JamJet JSON event a line");
  events->add_option("execution", id, "Execution id")->required();
  events->add_option("--db", db, "SQLite store")->capture_default_str();
  add_log_level(events, log_level);

  auto dlq = app.add_subcommand("dlq", "Dead letters: work items whose "
                                       "attempts are exhausted");
  dlq->require_subcommand(1);
  auto dlq_list = dlq->add_subcommand("list", "List dead letters (JSON "
                                              "lines)");
  dlq_list->add_option("--db", db, "SQLite store")->capture_default_str();
  add_log_level(dlq_list, log_level);
  auto dlq_redrive = dlq->add_subcommand(
    "redrive", "Put a dead letter back in its queue with a fresh attempt "
               "budget (recorded as an event; `resume` then runs it)");
  dlq_redrive->add_option("item", id, "Work item id")->required();
  dlq_redrive->add_option("--db", db, "SQLite store")->capture_default_str();
  add_log_level(dlq_redrive, log_level);

  request_options req;
  auto add_request = [&](const std::string& name, const std::string& help) {
    auto sub = app.add_subcommand(name, help);
    sub->add_option("execution", req.execution_id, "Execution id")->required();
    sub->add_option("--db", req.db, "SQLite store")->capture_default_str();
    add_log_level(sub, log_level);
    return sub;
  };
  auto cancel = add_request(
    "cancel", "Cancel a running execution: its handlers are stopped, "
              "NodeCancelled and WorkflowCancelled recorded. Takes effect at "
              "once in a runtime that owns the store, else at the next "
              "resume");
  cancel->add_option("--reason", req.reason, "Why")->capture_default_str();
  auto signal = add_request(
    "signal", "Deliver an external event to a waiting execution: a wait "
              "node with this correlation key completes with the payload. "
              "Takes effect at once in a runtime that owns the store, else "
              "at the next resume");
  signal->add_option("key", req.target, "Correlation key")->required();
  signal->add_option("--payload", req.payload,
                     "The event's payload: JSON, or @FILE (default {})");
  auto approve = add_request(
    "approve", "Approve a human_approval node of a running execution");
  auto reject = add_request(
    "reject", "Reject a human_approval node: it fails, or goes to its "
              "fallback_node");
  for (auto* sub : {approve, reject}) {
    sub->add_option("node", req.target, "The human_approval node's id")
      ->required();
    sub->add_option("--comment", req.comment, "A comment kept in the log");
    sub->add_option("--user", req.user, "Who decides")->capture_default_str();
  }
  approve->add_option("--patch", req.payload,
                      "A state patch (JSON object, or @FILE) merged on "
                      "approval");

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    auto rc = app.exit(e);
    return rc == 0 ? 0 : exit_bad_input;
  }
  setup_logging(log_level);
  try {
    if (*run)
      return run_command(run_opts);
    if (*validate)
      return validate_command(validate_path, run_opts.handlers);
    if (*resume)
      return resume_command(run_opts);
    if (*status)
      return status_command(db, id);
    if (*events)
      return events_command(db, id);
    if (*dlq_list)
      return dlq_list_command(db);
    if (*dlq_redrive)
      return dlq_redrive_command(db, id);
    req.has_comment = (*approve && approve->count("--comment") > 0) ||
                      (*reject && reject->count("--comment") > 0);
    for (auto* sub : {cancel, signal, approve, reject})
      if (*sub)
        return request_command(sub->get_name(), req);
  } catch (const jamjet::error& e) {
    std::cerr << "error: " << e.what() << "\n";
    switch (e.code()) {
      case jamjet::error_code::bad_input:
      case jamjet::error_code::invalid_workflow:
      case jamjet::error_code::missing_handler:
      case jamjet::error_code::unknown_workflow:
      case jamjet::error_code::unknown_execution:
        return exit_bad_input;
      default:
        return exit_failed;
    }
  } catch (const std::exception& e) {
    std::cerr << "error: " << e.what() << "\n";
    return exit_failed;
  }
  return exit_bad_input;
}
