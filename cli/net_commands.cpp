#include "net_commands.hpp"

#include <csignal>
#include <cstdlib>
#include <iostream>
#include <sstream>
#include <thread>

#include <spdlog/spdlog.h>

#include "cli.hpp"
#include "jamjet/core/builtin_handlers.hpp"
#include "jamjet/core/graph.hpp"
#include "jamjet/messages/error.hpp"
#include "jamjet/remote.hpp"
#include "jamjet/runtime.hpp"
#include "jamjet/store/sqlite_store.hpp"
#include "jamjet/support/net_address.hpp"
#include "jamjet/support/token_file.hpp"

namespace jamjet::cli {

namespace {

const char* token_env = "JAMJET_TOKEN";

std::string env_token() {
  const char* v = std::getenv(token_env);
  return v ? std::string{v} : std::string{};
}

void warn_command_line_token() {
  spdlog::warn("--token on the command line is visible to other users of "
               "this machine (ps, /proc); use --token-file PATH or the "
               "environment variable JAMJET_TOKEN instead");
}

std::string token_from_file(const std::string& path, bool create) {
  try {
    if (!create)
      return read_token_file(path);
    auto got = ensure_token_file(path);
    if (got.created)
      spdlog::info("created token file {} (mode 0600); give workers and "
                   "clients --token-file {}",
                   path, path);
    return got.token;
  } catch (const token_file_error& e) {
    throw error(error_code::bad_input, e.what());
  }
}

/// The token `serve` requires; empty only with --insecure.
std::string serve_token(const serve_options& opts, const std::string& host) {
  auto from_env = env_token();
  if (opts.insecure) {
    if (!opts.token.empty() || !opts.token_file.empty() || !from_env.empty())
      throw error(error_code::bad_input,
                  "--insecure runs without a token, but a token was given "
                  "(--token, --token-file or JAMJET_TOKEN)");
    if (!is_loopback_host(host))
      throw error(error_code::bad_input,
                  "refusing --insecure on " + host +
                    ": it is not a loopback address (every address it "
                    "resolves to must be in 127.0.0.0/8 or ::1), and "
                    "anyone who can reach it could run work as the workers' "
                    "user. Drop --insecure: serve then uses a token file");
    spdlog::warn("--insecure: no token; every user of this machine can run "
                 "work on this node's workers");
    return {};
  }
  if (!opts.token_file.empty())
    return token_from_file(opts.token_file, true);
  if (!opts.token.empty()) {
    warn_command_line_token();
    return opts.token;
  }
  if (!from_env.empty())
    return from_env;
  return token_from_file(opts.run.store.db + ".token", true);
}

std::vector<std::string> split_list(const std::string& text) {
  std::vector<std::string> out;
  std::stringstream in{text};
  for (std::string item; std::getline(in, item, ',');)
    if (!item.empty())
      out.push_back(item);
  return out;
}

remote_client connect_client(const client_target& t) {
  auto [host, port] = parse_endpoint(t.connect, "--connect");
  return remote_client{host, port, peer_token(t.token, t.token_file),
                       peer_tls(t.tls)};
}

} // namespace

tls_config peer_tls(tls_config tls) {
  tls.enabled = tls.enabled || !tls.ca_file.empty() || !tls.cert_file.empty();
  return tls;
}

std::string peer_token(const std::string& token,
                       const std::string& token_file) {
  if (!token_file.empty())
    return token_from_file(token_file, false);
  if (!token.empty()) {
    warn_command_line_token();
    return token;
  }
  return env_token();
}

void block_stop_signals() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
}

int wait_for_stop_signal() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  int sig = 0;
  sigwait(&set, &sig);
  return sig;
}

int serve_command(const serve_options& opts) {
  auto [host, port] = parse_endpoint(opts.listen, "--listen");
  if (opts.run.store.memory || opts.run.store.db.empty())
    throw error(error_code::bad_input,
                "serve needs a durable store (--db PATH), not --memory");
  auto token = serve_token(opts, host);
  auto worker_token = opts.worker_token_file.empty()
                        ? std::string{}
                        : token_from_file(opts.worker_token_file, true);
  auto viewer_token = opts.viewer_token_file.empty()
                        ? std::string{}
                        : token_from_file(opts.viewer_token_file, true);
  auto tls = opts.tls;
  tls.enabled = !tls.cert_file.empty();
  block_stop_signals();
  auto rt = make_runtime(opts.run, [&](runtime_config& cfg) {
    cfg.listen = opts.listen;
    cfg.token = token;
    cfg.worker_token = worker_token;
    cfg.viewer_token = viewer_token;
    cfg.tls = tls;
  });
  access_list access;
  access.add(token, access_role::operator_);
  access.add(worker_token, access_role::worker);
  access.add(viewer_token, access_role::viewer);
  auto api = start_http_api(opts, *rt, access);
  auto resumed = rt->resume();
  nlohmann::json ready{{"listening", host + ":" + std::to_string(rt->port())},
                       {"resumed", resumed.size()}};
  if (api)
    ready["http"] = opts.http.substr(0, opts.http.rfind(':') + 1) +
                    std::to_string(api->port());
  std::cout << ready.dump() << std::endl;
  spdlog::info("scheduler node listening on {}:{}{} (store {}); stop with "
               "SIGINT or SIGTERM",
               host, rt->port(), tls.enabled ? " with TLS" : "",
               opts.run.store.db);
  auto sig = wait_for_stop_signal();
  spdlog::info("signal {}: shutting down; running executions resume at the "
               "next start",
               sig);
  api.reset();
  rt->shutdown();
  return exit_completed;
}

int worker_command(const worker_options& opts) {
  auto [host, port] = parse_endpoint(opts.connect, "--connect");
  remote_worker_config cfg;
  cfg.host = host;
  cfg.port = port;
  cfg.token = peer_token(opts.token, opts.token_file);
  cfg.tls = peer_tls(opts.tls);
  cfg.id = opts.name;
  cfg.queues = split_list(opts.queues);
  if (cfg.queues.empty())
    throw error(error_code::bad_input, "--queues names no queue");
  cfg.slots = opts.slots;
  cfg.grace =
    std::chrono::milliseconds{static_cast<int64_t>(opts.grace_secs * 1000)};
  block_stop_signals();
  remote_worker w{cfg};
  auto timeout = std::chrono::seconds{opts.node_timeout_secs};
  w.register_builtin_handlers(timeout);
  for (auto& spec : opts.handlers) {
    auto [kind, argv] = parse_handler_spec(spec);
    w.register_handler(
      kind,
      [argv = argv, timeout](const node_context& ctx) {
        return program_handler(ctx, argv, timeout);
      },
      true);
  }
  std::thread stopper{[&w] {
    auto sig = wait_for_stop_signal();
    spdlog::info("signal {}: draining", sig);
    w.stop();
  }};
  int rc = exit_completed;
  try {
    w.run();
  } catch (...) {
    // Let the stopper thread end: it waits for a signal.
    ::kill(::getpid(), SIGTERM);
    stopper.join();
    throw;
  }
  if (stopper.joinable()) {
    // run() returned after stop(): the stopper has taken its signal.
    stopper.join();
  }
  return rc;
}

int submit_command(const client_target& target, const std::string& workflow,
                   const std::string& input_arg, bool wait, bool json) {
  auto ir_text = read_file(workflow);
  auto input = parse_input(input_arg);
  // Checked here too, for a clear error before anything is sent.
  auto graph = workflow_graph::compile(parse_ir(ir_text));
  auto client = connect_client(target);
  client.register_workflow(ir_text);
  auto id = client.start(graph->workflow_id(), input, graph->version());
  if (!wait) {
    if (json)
      std::cout << nlohmann::json{{"execution_id", id}}.dump() << "\n";
    else
      std::cout << id << "\n";
    return exit_completed;
  }
  spdlog::info("execution {} started; waiting for its end", id);
  auto out = client.await(id);
  if (out["status"] == "completed") {
    std::cout << out["final_state"].dump(2) << "\n";
    return exit_completed;
  }
  std::cerr << "error: execution " << id << " "
            << out["status"].get<std::string>() << ": "
            << out.value("error", std::string{}) << "\n";
  return exit_failed;
}

int remote_status_command(const client_target& target, const std::string& id) {
  auto client = connect_client(target);
  std::cout << client.status(id).dump(2) << "\n";
  return exit_completed;
}

int remote_events_command(const client_target& target, const std::string& id) {
  auto client = connect_client(target);
  for (auto& e : client.events(id))
    std::cout << e.dump() << "\n";
  return exit_completed;
}

int remote_request_command(const client_target& target, const std::string& kind,
                           const request_options& opts) {
  auto client = connect_client(target);
  if (kind == "cancel") {
    client.cancel(opts.execution_id, opts.reason);
  } else if (kind == "signal") {
    auto payload = opts.payload.empty()
                     ? nlohmann::json::object()
                     : parse_input_json(opts.payload, "--payload");
    client.signal(opts.execution_id, opts.target, payload);
  } else {
    nlohmann::json patch;
    if (!opts.payload.empty()) {
      patch = parse_input_json(opts.payload, "--patch");
      if (!patch.is_object())
        throw error(error_code::bad_input, "--patch must be a JSON object");
    }
    client.decide(opts.execution_id, opts.target, kind == "approve", opts.user,
                  opts.has_comment ? std::optional<std::string>{opts.comment}
                                   : std::nullopt,
                  patch);
  }
  std::cout << request_outcome(kind, opts, false) << "\n";
  return exit_completed;
}

} // namespace jamjet::cli
