// The network: `serve` a scheduler node, run a `worker` for one, `submit` a
// workflow to one.

#include <memory>

#include "app.hpp"

namespace jamjet::cli {

namespace {

void add_serve_http_option(CLI::App* serve, serve_options& opts) {
  serve->add_option("--http", opts.http,
                    "HOST:PORT to serve JamJet's HTTP API on as well (JamJet's "
                    "port is 7700; port 0: any free one), with the same "
                    "token; see docs/http-api.md");
}

} // namespace

void add_serve_command(cli_app& cli) {
  auto opts = std::make_shared<serve_options>();
  auto serve = cli.app.add_subcommand(
    "serve", "Run a scheduler node: executions, dispatch and the store, "
             "serving remote workers (`jamjet worker`) and clients "
             "(`jamjet submit`, `--connect`) until SIGINT or SIGTERM");
  add_store_options(serve, opts->run.store);
  opts->run.slots = 0;
  add_handler_options(serve, opts->run, 0);
  serve
    ->add_option("--listen", opts->listen,
                 "HOST:PORT to listen on (port 0: any free one)")
    ->capture_default_str();
  auto token_file =
    serve->add_option("--token-file", opts->token_file,
                      "File with the token every worker and client must "
                      "present; created (mode 0600) when missing. Default: "
                      "JAMJET_TOKEN, else the file DB.token next to the "
                      "store");
  auto token =
    serve
      ->add_option("--token", opts->token,
                   "Token every worker and client must present (visible in "
                   "ps: prefer --token-file or JAMJET_TOKEN)")
      ->excludes(token_file);
  auto worker_tokens =
    serve->add_option("--worker-token-file", opts->worker_token_file,
                      "File with a token that may only take and settle work "
                      "(role worker); created (mode 0600) when missing");
  auto viewer_tokens =
    serve->add_option("--viewer-token-file", opts->viewer_token_file,
                      "File with a token that may only read (role viewer); "
                      "created (mode 0600) when missing");
  serve
    ->add_flag("--insecure", opts->insecure,
               "No token at all: every local user can run work. Only on a "
               "loopback --listen address")
    ->excludes(token_file)
    ->excludes(token)
    ->excludes(worker_tokens)
    ->excludes(viewer_tokens);
  auto cert = serve
                ->add_option("--tls-cert", opts->tls.cert_file,
                             "PEM certificate (chain) of this node: every "
                             "connection then speaks TLS")
                ->check(CLI::ExistingFile);
  auto key = serve
               ->add_option("--tls-key", opts->tls.key_file,
                            "PEM private key of --tls-cert")
               ->check(CLI::ExistingFile);
  cert->needs(key);
  key->needs(cert);
  auto ca = serve
              ->add_option("--tls-ca", opts->tls.ca_file,
                           "PEM CA file: peers may present client "
                           "certificates signed by it; one whose subject OU "
                           "names a role (worker, viewer, operator) "
                           "authenticates as that role without a token")
              ->check(CLI::ExistingFile)
              ->needs(cert);
  serve
    ->add_flag("--tls-require-client-cert", opts->tls.require_peer_cert,
               "Refuse peers without a client certificate signed by "
               "--tls-ca")
    ->needs(ca);
  add_serve_http_option(serve, *opts);
  add_log_level(serve, cli.log_level);
  cli.bind(serve, [opts] { return serve_command(*opts); });
}

void add_worker_command(cli_app& cli) {
  auto opts = std::make_shared<worker_options>();
  auto worker = cli.app.add_subcommand(
    "worker", "Run a worker process for a scheduler node: takes work for "
              "its queues, heartbeats, reports results; reconnects when the "
              "node goes away; on SIGTERM finishes its work and exits");
  worker
    ->add_option("--connect", opts->connect, "HOST:PORT of the scheduler node")
    ->capture_default_str();
  worker
    ->add_option("--queues", opts->queues,
                 "Queue types served, comma-separated (model, tool, "
                 "python_tool, retrieval, general; * for all)")
    ->capture_default_str();
  worker->add_option("--slots", opts->slots, "Handlers at once")
    ->check(CLI::Range(1, 1024))
    ->capture_default_str();
  worker->add_option("--handler", opts->handlers,
                     "KIND=PROGRAM: run nodes of KIND with an external "
                     "program (repeatable)");
  worker
    ->add_option("--node-timeout", opts->node_timeout_secs,
                 "Default node timeout in seconds for program handlers")
    ->check(CLI::Range(1, 86400 * 7))
    ->capture_default_str();
  worker
    ->add_option("--grace", opts->grace_secs,
                 "Seconds running handlers may take after SIGTERM")
    ->check(CLI::Range(0.0, 86400.0))
    ->capture_default_str();
  worker->add_option("--name", opts->name,
                     "Worker id in events (default: worker-HOST-PID)");
  add_token_options(worker, opts->token, opts->token_file);
  add_tls_client_options(worker, opts->tls);
  add_log_level(worker, cli.log_level);
  cli.bind(worker, [opts] { return worker_command(*opts); });
}

void add_submit_command(cli_app& cli) {
  struct submit_options {
    client_target target;
    std::string workflow;
    std::string input = "{}";
    bool wait = false;
    bool json = false;
  };
  auto opts = std::make_shared<submit_options>();
  auto submit = cli.app.add_subcommand(
    "submit", "Register and start a workflow on a scheduler node; print "
              "the execution id (with --json: {\"execution_id\": ID}), or "
              "with --wait its final state (exit codes as `run`)");
  submit->add_option("workflow", opts->workflow, "Workflow IR JSON file")
    ->required();
  submit->add_option("--input", opts->input,
                     "Initial state: a JSON object, or @FILE");
  submit->add_flag("--wait", opts->wait, "Wait for the execution's end");
  submit->add_flag("--json", opts->json,
                   "Print {\"execution_id\": ID} instead of the bare id");
  add_connect_options(submit, opts->target, nullptr)->required();
  add_log_level(submit, cli.log_level);
  cli.bind(submit, [opts] {
    return submit_command(opts->target, opts->workflow, opts->input, opts->wait,
                          opts->json);
  });
}

} // namespace jamjet::cli
