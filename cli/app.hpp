#pragma once

// The `jamjet` command line: each subcommand, or small family of them,
// declares its options and binds the action it runs (app_local.cpp,
// app_store.cpp, app_net.cpp); main() parses and runs the chosen action.

#include <functional>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <CLI/CLI.hpp>

#include "commands.hpp"
#include "net_commands.hpp"

namespace jamjet::cli {

/// The command line: the CLI11 app with every subcommand, the options they
/// share, and the action of each. Holds pointers into itself: not copied.
struct cli_app {
  /// Declares the top-level options and every subcommand, in help order.
  cli_app();

  cli_app(const cli_app&) = delete;
  cli_app& operator=(const cli_app&) = delete;

  CLI::App app;
  /// `--log-level`, of the app and of every subcommand.
  std::string log_level = "warn";

  /// Makes `sub` run `action` when it is the subcommand parsed. The action
  /// owns the options it reads (CLI11 keeps references to them).
  void bind(CLI::App* sub, std::function<int()> action);

  /// Says what is wrong when `args` (the command line without the program
  /// name) names a subcommand that does not exist, suggesting the nearest
  /// one; nothing when every subcommand named exists. CLI11 alone reports
  /// "A subcommand is required" or "not expected", without the name.
  std::optional<std::string>
  unknown_subcommand(const std::vector<std::string>& args) const;

  /// Runs the action of the parsed subcommand and returns its exit code
  /// (`exit_bad_input` when none was parsed). Call after `app.parse`.
  int run() const;

 private:
  std::vector<std::pair<CLI::App*, std::function<int()>>> actions_;
};

// Options shared by several subcommands.

/// `--log-level` of a subcommand.
void add_log_level(CLI::App* sub, std::string& level);

/// `--db`, `--memory`, `--synchronous`.
void add_store_options(CLI::App* sub, store_options& opts);

/// `--handler`, `--slots` (at least `min_slots`), `--node-timeout`,
/// `--lease`.
void add_handler_options(CLI::App* sub, run_options& opts,
                         unsigned min_slots = 1);

/// `--connect` (excluding `db_opt` unless null), `--token-file` and
/// `--token`; returns the `--connect` option.
CLI::Option* add_connect_options(CLI::App* sub, client_target& target,
                                 CLI::Option* db_opt);

/// `--token-file` and `--token` (which exclude each other) of a worker or
/// client; JAMJET_TOKEN is read when the command runs (`peer_token`).
void add_token_options(CLI::App* sub, std::string& token,
                       std::string& token_file);

/// `--tls`, `--tls-ca`, `--tls-cert`, `--tls-key`, `--tls-server-name` of a
/// worker or client.
void add_tls_client_options(CLI::App* sub, tls_config& tls);

// The subcommands, each adding itself to `cli.app`.

/// Local execution (app_local.cpp): `run`, `validate`, `resume`.
void add_run_command(cli_app& cli);
void add_validate_command(cli_app& cli);
void add_resume_command(cli_app& cli);

/// Inspection and requests, on a store or with `--connect` on a node
/// (app_store.cpp): `status`, `events`, `dlq list|redrive`, and `cancel`,
/// `signal`, `approve`, `reject`.
void add_status_command(cli_app& cli);
void add_events_command(cli_app& cli);
void add_check_command(cli_app& cli);
void add_dlq_command(cli_app& cli);
void add_request_commands(cli_app& cli);

/// The network (app_net.cpp): `serve`, `worker`, `submit`.
void add_serve_command(cli_app& cli);
void add_worker_command(cli_app& cli);
void add_submit_command(cli_app& cli);

} // namespace jamjet::cli
