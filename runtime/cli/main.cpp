// jamjet: run JamJet workflows from the command line.
//
//   jamjet run WORKFLOW.json [--input JSON|@FILE] [--memory]
//   jamjet validate WORKFLOW.json
//
// Results go to stdout, logs and progress to stderr. Exit codes: 0 the
// execution completed (or the workflow is valid), 1 it failed or was
// cancelled, 2 bad input or usage.

#include <iostream>

#include <CLI/CLI.hpp>
#include <spdlog/spdlog.h>

#include "messages/error.hpp"
#include "runtime/cli/cli.hpp"
#include "runtime/cli/commands.hpp"

int main(int argc, char** argv) {
  using namespace jamjet::cli;
  CLI::App app{"jamjet: a durable, event-driven workflow scheduler for "
               "JamJet IR workflows"};
  app.require_subcommand(1);
  std::string log_level = "warn";
  app.add_option("--log-level", log_level,
                 "Log level on stderr: trace, debug, info, warn, error, off")
    ->check(CLI::IsMember({"trace", "debug", "info", "warn", "error", "off"}))
    ->capture_default_str();

  run_options run_opts;
  auto run = app.add_subcommand(
    "run", "Run one execution of a workflow to its end and print its final "
           "state (exit 0 completed, 1 failed, 2 bad input)");
  run->add_option("workflow", run_opts.workflow, "Workflow IR JSON file")
    ->required();
  run->add_option("--input", run_opts.input,
                  "Initial state: a JSON object, or @FILE to read one");
  run->add_flag("--memory", run_opts.memory,
                "Keep state in memory only (the default until a durable "
                "store is configured)");
  run->add_option("--handler", run_opts.handlers,
                  "KIND=PROGRAM: run nodes of KIND with an external program "
                  "(repeatable)");
  run->add_option("--slots", run_opts.slots, "Handler slots")
    ->check(CLI::Range(1, 1024))
    ->capture_default_str();
  run->add_option("--node-timeout", run_opts.node_timeout_secs,
                  "Default node timeout in seconds for program handlers")
    ->check(CLI::Range(1, 86400 * 7))
    ->capture_default_str();
  run->add_option("--log-level", log_level, "Log level on stderr")
    ->check(CLI::IsMember({"trace", "debug", "info", "warn", "error", "off"}));

  std::string validate_path;
  auto validate = app.add_subcommand(
    "validate", "Check a workflow IR file; exit 0 when valid, 2 with every "
                "problem otherwise");
  validate->add_option("workflow", validate_path, "Workflow IR JSON file")
    ->required();
  validate->add_option("--handler", run_opts.handlers,
                       "KIND=PROGRAM: count KIND as handled (repeatable)");
  validate->add_option("--log-level", log_level, "Log level on stderr")
    ->check(CLI::IsMember({"trace", "debug", "info", "warn", "error", "off"}));

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
  } catch (const jamjet::error& e) {
    std::cerr << "error: " << e.what() << "\n";
    return e.code() == jamjet::error_code::missing_handler
               || e.code() == jamjet::error_code::bad_input
               || e.code() == jamjet::error_code::invalid_workflow
             ? exit_bad_input
             : exit_failed;
  } catch (const std::exception& e) {
    std::cerr << "error: " << e.what() << "\n";
    return exit_failed;
  }
  return exit_bad_input;
}
