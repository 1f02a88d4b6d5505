// jamjet: run JamJet workflows from the command line.
//
//   jamjet --version
//   jamjet run WORKFLOW.json [--input JSON|@FILE] [--db PATH|--memory]
//   jamjet validate WORKFLOW.json
//   jamjet resume --db PATH
//   jamjet status [EXEC_ID] --db PATH
//   jamjet events EXEC_ID --db PATH
//   jamjet dlq list|redrive ITEM_ID --db PATH
//   jamjet cancel EXEC_ID [--reason R] --db PATH
//   jamjet signal EXEC_ID KEY [--payload JSON] --db PATH
//   jamjet approve|reject EXEC_ID NODE_ID [--comment C] [--user U] --db PATH
//   jamjet serve --db PATH --listen HOST:PORT [--token-file F] [--insecure]
//   jamjet worker --connect HOST:PORT [--queues Q1,Q2] [--slots N]
//                 [--handler KIND=PROGRAM] [--token-file F]
//   (the token: --token-file F, else JAMJET_TOKEN; serve's default is the
//   file PATH.token, created 0600 on first start)
//   jamjet submit --connect HOST:PORT WORKFLOW.json [--input ..] [--wait]
//   (status, events, cancel, signal, approve, reject also take --connect)
//
// Results go to stdout, logs and progress to stderr. Exit codes: 0 success
// (the execution completed, the workflow is valid), 1 an execution failed
// or was cancelled (or the store failed), 2 bad input or usage.

#include <iostream>

#include <CLI/CLI.hpp>

#include "app.hpp"
#include "cli.hpp"
#include "jamjet/messages/error.hpp"

namespace {

/// The exit code of a command that threw `e`.
int exit_code_of(const jamjet::error& e) {
  switch (e.code()) {
    case jamjet::error_code::bad_input:
    case jamjet::error_code::invalid_workflow:
    case jamjet::error_code::missing_handler:
    case jamjet::error_code::unknown_workflow:
    case jamjet::error_code::unknown_execution:
    case jamjet::error_code::access_denied:
      return jamjet::cli::exit_bad_input;
    default:
      return jamjet::cli::exit_failed;
  }
}

} // namespace

int main(int argc, char** argv) {
  using namespace jamjet::cli;
  cli_app cli;
  if (auto problem = cli.unknown_subcommand(
        std::vector<std::string>(argv + 1, argv + argc))) {
    std::cerr << "error: " << *problem << "\n";
    return exit_bad_input;
  }
  try {
    cli.app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    auto rc = cli.app.exit(e);
    return rc == 0 ? 0 : exit_bad_input;
  }
  setup_logging(cli.log_level);
  try {
    return cli.run();
  } catch (const jamjet::error& e) {
    std::cerr << "error: " << e.what() << "\n";
    return exit_code_of(e);
  } catch (const std::exception& e) {
    std::cerr << "error: " << e.what() << "\n";
    return exit_failed;
  }
}
