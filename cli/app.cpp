#include "app.hpp"

#include "cli.hpp"
#include "jamjet/support/suggest.hpp"

namespace jamjet::cli {

namespace {

const std::vector<std::string> log_levels{"trace", "debug", "info",
                                          "warn",  "error", "off"};

} // namespace

cli_app::cli_app()
  : app{"jamjet " JAMJET_VERSION ": a durable, event-driven workflow "
        "scheduler for JamJet IR workflows"} {
  app.require_subcommand(1);
  app.set_version_flag("--version", "jamjet " JAMJET_VERSION,
                       "Print the version and exit");
  app
    .add_option("--log-level", log_level,
                "Log level on stderr: trace, debug, info, warn, error, off")
    ->check(CLI::IsMember(log_levels))
    ->capture_default_str();
  add_run_command(*this);
  add_validate_command(*this);
  add_resume_command(*this);
  add_status_command(*this);
  add_events_command(*this);
  add_dlq_command(*this);
  add_check_command(*this);
  add_request_commands(*this);
  add_serve_command(*this);
  add_worker_command(*this);
  add_submit_command(*this);
}

void cli_app::bind(CLI::App* sub, std::function<int()> action) {
  actions_.emplace_back(sub, std::move(action));
}

int cli_app::run() const {
  for (const auto& [sub, action] : actions_)
    if (*sub)
      return action();
  return exit_bad_input;
}

std::optional<std::string>
cli_app::unknown_subcommand(const std::vector<std::string>& args) const {
  const CLI::App* current = &app;
  for (size_t i = 0; i < args.size(); ++i) {
    const auto& arg = args[i];
    if (arg == "--log-level") {
      ++i; // its value
      continue;
    }
    if (arg.empty() || arg[0] == '-')
      continue; // an option (CLI11 checks it)
    auto subs = current->get_subcommands([](const CLI::App*) { return true; });
    if (subs.empty())
      return std::nullopt; // a positional argument of a subcommand
    std::vector<std::string> names;
    const CLI::App* found = nullptr;
    for (auto* sub : subs) {
      names.push_back(sub->get_name());
      if (sub->get_name() == arg)
        found = sub;
    }
    if (found == nullptr) {
      auto where = current == &app ? std::string{"jamjet"}
                                   : "jamjet " + current->get_name();
      auto msg = "unknown command '" + arg + "' of `" + where + "`";
      if (auto near = nearest_name(arg, names))
        msg += "; did you mean '" + *near + "'?";
      return msg + " (see `" + where + " --help`)";
    }
    current = found;
  }
  return std::nullopt;
}

void add_log_level(CLI::App* sub, std::string& level) {
  sub->add_option("--log-level", level, "Log level on stderr")
    ->check(CLI::IsMember(log_levels));
}

void add_store_options(CLI::App* sub, store_options& opts) {
  auto db =
    sub->add_option("--db", opts.db, "SQLite store (created when missing)")
      ->capture_default_str();
  sub
    ->add_flag("--memory", opts.memory,
               "Keep state in memory only (lost at exit)")
    ->excludes(db);
  sub
    ->add_option("--synchronous", opts.synchronous,
                 "SQLite durability: 'full' fsyncs every commit; 'normal' "
                 "may lose the last commits on power loss (never on a "
                 "process crash)")
    ->check(CLI::IsMember({"full", "normal"}))
    ->capture_default_str();
}

void add_handler_options(CLI::App* sub, run_options& opts, unsigned min_slots) {
  sub->add_option("--handler", opts.handlers,
                  "KIND=PROGRAM: run nodes of KIND with an external program "
                  "(repeatable)");
  sub
    ->add_option("--slots", opts.slots,
                 min_slots == 0 ? "Handler slots of a worker inside the "
                                  "node (0: remote workers only)"
                                : "Handler slots")
    ->check(CLI::Range(min_slots, 1024u))
    ->capture_default_str();
  sub
    ->add_option("--node-timeout", opts.node_timeout_secs,
                 "Default node timeout in seconds for program handlers")
    ->check(CLI::Range(1, 86400 * 7))
    ->capture_default_str();
  sub
    ->add_option("--lease", opts.lease_secs,
                 "Lease period in seconds: a node whose worker neither "
                 "reports nor heartbeats for this long is retried; leases "
                 "held when a process died wait this long after resume")
    ->check(CLI::Range(0.1, 86400.0))
    ->capture_default_str();
}

CLI::Option* add_connect_options(CLI::App* sub, client_target& target,
                                 CLI::Option* db_opt) {
  auto connect = sub->add_option("--connect", target.connect,
                                 "HOST:PORT of a scheduler node (`jamjet "
                                 "serve`) instead of a store");
  if (db_opt)
    connect->excludes(db_opt);
  add_token_options(sub, target.token, target.token_file);
  add_tls_client_options(sub, target.tls);
  return connect;
}

void add_tls_client_options(CLI::App* sub, tls_config& tls) {
  sub->add_flag("--tls", tls.enabled,
                "Connect in TLS, verifying the node's certificate against "
                "the system's trusted certificates (implied by --tls-ca and "
                "--tls-cert)");
  sub
    ->add_option("--tls-ca", tls.ca_file,
                 "PEM file of the CA(s) the node's certificate must chain "
                 "to; its name must match the --connect host")
    ->check(CLI::ExistingFile);
  auto cert = sub
                ->add_option("--tls-cert", tls.cert_file,
                             "PEM client certificate to present (mutual "
                             "TLS; its subject OU may name the role: "
                             "worker, viewer or operator)")
                ->check(CLI::ExistingFile);
  auto key = sub->add_option("--tls-key", tls.key_file, "PEM key of --tls-cert")
               ->check(CLI::ExistingFile);
  cert->needs(key);
  key->needs(cert);
  sub->add_option("--tls-server-name", tls.server_name,
                  "Name the node's certificate must carry, when not the "
                  "--connect host");
}

void add_token_options(CLI::App* sub, std::string& token,
                       std::string& token_file) {
  auto file = sub->add_option("--token-file", token_file,
                              "File with the token of the scheduler node "
                              "(its DB.token unless serve was given "
                              "another); default: JAMJET_TOKEN");
  sub
    ->add_option("--token", token,
                 "Token of the scheduler node (visible in ps: prefer "
                 "--token-file or JAMJET_TOKEN)")
    ->excludes(file);
}

} // namespace jamjet::cli
