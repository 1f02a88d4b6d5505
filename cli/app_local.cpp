// Local execution: `run`, `validate`, `resume` on a store of this process.

#include <memory>

#include "app.hpp"

namespace jamjet::cli {

void add_run_command(cli_app& cli) {
  auto opts = std::make_shared<run_options>();
  auto run = cli.app.add_subcommand(
    "run", "Run one execution of a workflow to its end and print its final "
           "state (exit 0 completed, 1 failed, 2 bad input). Executions "
           "left running in the same store by a crash resume too.");
  run->add_option("workflow", opts->workflow, "Workflow IR JSON file")
    ->required();
  run->add_option("--input", opts->input,
                  "Initial state: a JSON object, or @FILE to read one");
  add_store_options(run, opts->store);
  add_handler_options(run, *opts);
  run->add_flag("--strict", opts->strict,
                "Refuse the workflow when validation warns (unknown fields, "
                "malformed conditions, programs not found)");
  add_log_level(run, cli.log_level);
  cli.bind(run, [opts] { return run_command(*opts); });
}

void add_validate_command(cli_app& cli) {
  struct validate_options {
    std::string workflow;
    std::vector<std::string> handlers;
    bool strict = false;
  };
  auto opts = std::make_shared<validate_options>();
  auto validate = cli.app.add_subcommand(
    "validate", "Check a workflow IR file as `run` would, before anything "
                "runs: exit 0 when valid, 2 with every problem otherwise; "
                "warnings (unknown fields, ...) on stderr");
  validate->add_option("workflow", opts->workflow, "Workflow IR JSON file")
    ->required();
  validate->add_option("--handler", opts->handlers,
                       "KIND=PROGRAM: count KIND as handled (repeatable)");
  validate->add_flag("--strict", opts->strict,
                     "Make warnings (unknown fields, malformed conditions, "
                     "programs not found) errors");
  add_log_level(validate, cli.log_level);
  cli.bind(validate, [opts] {
    return validate_command(opts->workflow, opts->handlers, opts->strict);
  });
}

void add_resume_command(cli_app& cli) {
  auto opts = std::make_shared<run_options>();
  auto resume = cli.app.add_subcommand(
    "resume", "Resume every running execution of a store, wait until all "
              "have ended, print a summary (exit 1 if any failed)");
  add_store_options(resume, opts->store);
  add_handler_options(resume, *opts);
  add_log_level(resume, cli.log_level);
  cli.bind(resume, [opts] { return resume_command(*opts); });
}

} // namespace jamjet::cli
