#pragma once

// The network subcommands of `jamjet`: serve, worker, submit, and the
// `--connect` forms of status, events, cancel, signal, approve and reject.

#include <string>
#include <vector>

#include "commands.hpp"
#include "jamjet/http/server.hpp"
#include "jamjet/support/tls_config.hpp"

namespace jamjet::cli {

/// Options of `jamjet serve`.
struct serve_options {
  run_options run;
  std::string listen = "127.0.0.1:7400";
  std::string token;      // --token (visible in ps: warned about)
  std::string token_file; // --token-file
  bool insecure = false;  // no token at all; loopback listen only
  /// Tokens with fewer rights (created when missing, like the token file).
  std::string worker_token_file; // --worker-token-file
  std::string viewer_token_file; // --viewer-token-file
  /// --tls-cert, --tls-key, --tls-ca, --tls-require-client-cert.
  tls_config tls;
  std::string http; // --http HOST:PORT: also serve JamJet's HTTP API
};

/// Options of `jamjet worker`.
struct worker_options {
  std::string connect = "127.0.0.1:7400";
  std::string token;
  std::string token_file;
  tls_config tls;
  std::string queues = "*";
  std::string name;
  std::vector<std::string> handlers;
  unsigned slots = 4;
  unsigned node_timeout_secs = 300;
  double grace_secs = 30;
};

/// Where a client command goes: a store (`--db`) or a node (`--connect`).
struct client_target {
  std::string connect;
  std::string token;
  std::string token_file;
  tls_config tls;
};

/// TLS as a worker or client asked for it: on with `--tls` or any TLS
/// file.
tls_config peer_tls(tls_config tls);

/// The token a worker or client presents: from `--token-file` if given,
/// else `--token` (with a warning: other users see it in `ps`), else the
/// environment variable JAMJET_TOKEN, else none.
std::string peer_token(const std::string& token, const std::string& token_file);

/// `jamjet serve`: a scheduler node until SIGINT or SIGTERM.
int serve_command(const serve_options& opts);

/// `serve --http`: JamJet's HTTP API on `opts.http` for `rt`, to the peers
/// of `access` (empty: everyone, only on a loopback address); null without
/// --http (cli/serve_http.cpp).
std::unique_ptr<http::http_server> start_http_api(const serve_options& opts,
                                                  runtime& rt,
                                                  const access_list& access);

/// `jamjet worker`: a worker process until SIGINT or SIGTERM (drains).
int worker_command(const worker_options& opts);

/// `jamjet submit`: register and start a workflow on a node; prints the
/// bare execution id (`json`: `{"execution_id": ID}`), or with `wait` the
/// final state.
int submit_command(const client_target& target, const std::string& workflow,
                   const std::string& input, bool wait, bool json);

/// `jamjet status|events|cancel|signal|approve|reject --connect`.
int remote_status_command(const client_target& target, const std::string& id);
int remote_events_command(const client_target& target, const std::string& id);
int remote_request_command(const client_target& target, const std::string& kind,
                           const request_options& opts);

/// Blocks SIGINT and SIGTERM in this thread and those it starts, so that
/// `wait_for_stop_signal` can take them. Call before starting threads.
void block_stop_signals();

/// Waits for SIGINT or SIGTERM; returns its number.
int wait_for_stop_signal();

} // namespace jamjet::cli
