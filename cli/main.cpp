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
//   jamjet serve --db PATH --listen HOST:PORT [--token T] [--insecure]
//   jamjet worker --connect HOST:PORT [--queues Q1,Q2] [--slots N]
//                 [--handler KIND=PROGRAM] [--token T]
//   jamjet submit --connect HOST:PORT WORKFLOW.json [--input ..] [--wait]
//   (status, events, cancel, signal, approve, reject also take --connect)
//
// Results go to stdout, logs and progress to stderr. Exit codes: 0 success
// (the execution completed, the workflow is valid), 1 an execution failed
// or was cancelled (or the store failed), 2 bad input or usage.

#include <iostream>

#include <CLI/CLI.hpp>
#include <spdlog/spdlog.h>

#include "cli.hpp"
#include "commands.hpp"
#include "jamjet/messages/error.hpp"
#include "net_commands.hpp"

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

void add_handler_options(CLI::App* app, jamjet::cli::run_options& opts,
                         unsigned min_slots = 1) {
  app->add_option("--handler", opts.handlers,
                  "KIND=PROGRAM: run nodes of KIND with an external program "
                  "(repeatable)");
  app
    ->add_option("--slots", opts.slots,
                 min_slots == 0 ? "Handler slots of a worker inside the "
                                  "node (0: remote workers only)"
                                : "Handler slots")
    ->check(CLI::Range(min_slots, 1024u))
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
  client_target target;
  auto add_connect = [&](CLI::App* sub, CLI::Option* db_opt) {
    auto c = sub->add_option("--connect", target.connect,
                             "HOST:PORT of a scheduler node (`jamjet serve`) "
                             "instead of a store");
    if (db_opt)
      c->excludes(db_opt);
    sub
      ->add_option("--token", target.token,
                   "Token of the scheduler node (or JAMJET_TOKEN)")
      ->envname("JAMJET_TOKEN");
    return c;
  };
  auto status = app.add_subcommand(
    "status", "Executions and their status as JSON (all, or one)");
  status->add_option("execution", id, "Execution id");
  add_connect(
    status,
    status->add_option("--db", db, "SQLite store")->capture_default_str());
  add_log_level(status, log_level);

  auto events = app.add_subcommand(
    "events", "An execution's event log, one JamJet JSON event a line");
  events->add_option("execution", id, "Execution id")->required();
  add_connect(
    events,
    events->add_option("--db", db, "SQLite store")->capture_default_str());
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
    add_connect(
      sub,
      sub->add_option("--db", req.db, "SQLite store")->capture_default_str());
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

  serve_options serve_opts;
  auto serve = app.add_subcommand(
    "serve", "Run a scheduler node: executions, dispatch and the store, "
             "serving remote workers (`jamjet worker`) and clients "
             "(`jamjet submit`, `--connect`) until SIGINT or SIGTERM");
  add_store_options(serve, serve_opts.run.store);
  serve_opts.run.slots = 0;
  add_handler_options(serve, serve_opts.run, 0);
  serve
    ->add_option("--listen", serve_opts.listen,
                 "HOST:PORT to listen on (port 0: any free one)")
    ->capture_default_str();
  serve
    ->add_option("--token", serve_opts.token,
                 "Token every worker and client must present (or "
                 "JAMJET_TOKEN)")
    ->envname("JAMJET_TOKEN");
  serve->add_flag("--insecure", serve_opts.insecure,
                  "Allow a non-loopback --listen without a token");
  add_log_level(serve, log_level);

  worker_options worker_opts;
  auto worker = app.add_subcommand(
    "worker", "Run a worker process for a scheduler node: takes work for "
              "its queues, heartbeats, reports results; reconnects when the "
              "node goes away; on SIGTERM finishes its work and exits");
  worker
    ->add_option("--connect", worker_opts.connect,
                 "HOST:PORT of the scheduler node")
    ->capture_default_str();
  worker
    ->add_option("--queues", worker_opts.queues,
                 "Queue types served, comma-separated (model, tool, "
                 "python_tool, retrieval, general; * for all)")
    ->capture_default_str();
  worker->add_option("--slots", worker_opts.slots, "Handlers at once")
    ->check(CLI::Range(1, 1024))
    ->capture_default_str();
  worker->add_option("--handler", worker_opts.handlers,
                     "KIND=PROGRAM: run nodes of KIND with an external "
                     "program (repeatable)");
  worker
    ->add_option("--node-timeout", worker_opts.node_timeout_secs,
                 "Default node timeout in seconds for program handlers")
    ->check(CLI::Range(1, 86400 * 7))
    ->capture_default_str();
  worker
    ->add_option("--grace", worker_opts.grace_secs,
                 "Seconds running handlers may take after SIGTERM")
    ->check(CLI::Range(0.0, 86400.0))
    ->capture_default_str();
  worker->add_option("--name", worker_opts.name,
                     "Worker id in events (default: worker-HOST-PID)");
  worker
    ->add_option("--token", worker_opts.token,
                 "Token of the scheduler node (or JAMJET_TOKEN)")
    ->envname("JAMJET_TOKEN");
  add_log_level(worker, log_level);

  std::string submit_workflow;
  std::string submit_input = "{}";
  bool submit_wait = false;
  auto submit = app.add_subcommand(
    "submit", "Register and start a workflow on a scheduler node; print "
              "the execution id, or with --wait its final state (exit codes "
              "as `run`)");
  submit->add_option("workflow", submit_workflow, "Workflow IR JSON file")
    ->required();
  submit->add_option("--input", submit_input,
                     "Initial state: a JSON object, or @FILE");
  submit->add_flag("--wait", submit_wait, "Wait for the execution's end");
  add_connect(submit, nullptr)->required();
  add_log_level(submit, log_level);

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
    if (*serve)
      return serve_command(serve_opts);
    if (*worker)
      return worker_command(worker_opts);
    if (*submit)
      return submit_command(target, submit_workflow, submit_input, submit_wait);
    if (*status)
      return target.connect.empty() ? status_command(db, id)
                                    : remote_status_command(target, id);
    if (*events)
      return target.connect.empty() ? events_command(db, id)
                                    : remote_events_command(target, id);
    if (*dlq_list)
      return dlq_list_command(db);
    if (*dlq_redrive)
      return dlq_redrive_command(db, id);
    req.has_comment = (*approve && approve->count("--comment") > 0) ||
                      (*reject && reject->count("--comment") > 0);
    for (auto* sub : {cancel, signal, approve, reject})
      if (*sub)
        return target.connect.empty()
                 ? request_command(sub->get_name(), req)
                 : remote_request_command(target, sub->get_name(), req);
  } catch (const jamjet::error& e) {
    std::cerr << "error: " << e.what() << "\n";
    switch (e.code()) {
      case jamjet::error_code::bad_input:
      case jamjet::error_code::invalid_workflow:
      case jamjet::error_code::missing_handler:
      case jamjet::error_code::unknown_workflow:
      case jamjet::error_code::unknown_execution:
      case jamjet::error_code::access_denied:
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
