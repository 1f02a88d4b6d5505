#include "jamjet/remote.hpp"

#include <map>
#include <thread>
#include <unistd.h>

#include <caf/all.hpp>

#include "jamjet/actors/system_config.hpp"
#include "jamjet/actors/uplink.hpp"
#include "jamjet/actors/worker.hpp"
#include "jamjet/core/builtin_handlers.hpp"
#include "jamjet/messages/json_limits.hpp"
#include "jamjet/support/log.hpp"
#include "jamjet/support/tls.hpp"

namespace jamjet {

std::pair<std::string, uint16_t> parse_endpoint(const std::string& text,
                                                const std::string& what) {
  auto colon = text.rfind(':');
  auto bad = [&] {
    return error(error_code::bad_input,
                 what + " '" + text + "' must look like HOST:PORT");
  };
  if (colon == std::string::npos || colon == 0 || colon + 1 == text.size())
    throw bad();
  auto port_text = text.substr(colon + 1);
  if (port_text.find_first_not_of("0123456789") != std::string::npos ||
      port_text.size() > 5)
    throw bad();
  auto port = std::stoul(port_text);
  if (port > 65535)
    throw bad();
  return {text.substr(0, colon), static_cast<uint16_t>(port)};
}

namespace {

/// The TLS context a peer connects with, none without TLS; a file that
/// cannot be used is `bad_input`.
std::shared_ptr<tls_context> client_tls(const tls_config& cfg) {
  if (!cfg.enabled)
    return nullptr;
  try {
    return tls_context::client(cfg);
  } catch (const tls_error& ex) {
    throw error(error_code::bad_input, ex.what());
  }
}

} // namespace

// -- remote_client ----------------------------------------------------------

struct remote_client::impl {
  system_config cfg;
  std::unique_ptr<caf::actor_system> sys;
  caf::actor uplink;

  /// Sends `req`; returns the answer's JSON body or throws its error.
  nlohmann::json call(client_request req);
};

remote_client::remote_client(const std::string& host, uint16_t port,
                             const std::string& token, const tls_config& tls)
  : impl_(std::make_unique<impl>()) {
  auto ctx = client_tls(tls);
  impl_->sys = network_system(impl_->cfg);
  auto up = connect_uplink(*impl_->sys, host, port, "client",
                           default_peer_name(), token, std::move(ctx));
  if (!up)
    throw error(error_code::unavailable, "cannot connect to the scheduler at " +
                                           host + ":" + std::to_string(port) +
                                           ": " + caf::to_string(up.error()));
  impl_->uplink = *up;
  await_welcome(*impl_->sys, impl_->uplink);
}

remote_client::~remote_client() {
  if (impl_ && impl_->uplink)
    caf::anon_send_exit(impl_->uplink, caf::exit_reason::user_shutdown);
}

nlohmann::json remote_client::impl::call(client_request req) {
  caf::scoped_actor self{*sys};
  std::optional<std::string> body;
  caf::error err;
  // A plain send answered by a message, so that the uplink ending (the
  // node went away) ends the wait too.
  self->monitor(uplink);
  self->send(uplink, call_atom::value, std::move(req));
  self->receive([&](std::string& b) { body = std::move(b); },
                [&](caf::error& e) { err = std::move(e); },
                [&](caf::down_msg& d) {
                  err =
                    d.reason
                      ? d.reason
                      : make_error(error_code::unavailable,
                                   "the connection to the scheduler closed");
                });
  self->demonitor(uplink);
  if (!body)
    throw_error(err ? err
                    : make_error(error_code::unavailable,
                                 "no answer from the scheduler"));
  auto j = try_parse_bounded(*body, json_limits::stored());
  if (j.is_discarded())
    throw error(error_code::unavailable, "malformed answer from the scheduler");
  return j;
}

std::string remote_client::register_workflow(const std::string& ir_json) {
  return impl_->call(client_register{ir_json}).get<std::string>();
}

std::string remote_client::start(const std::string& workflow_id,
                                 const nlohmann::json& input,
                                 const std::string& version) {
  client_start req{workflow_id, caf::none, bounded_dump(input, "input")};
  if (!version.empty())
    req.version = version;
  return impl_->call(std::move(req)).get<std::string>();
}

nlohmann::json remote_client::await(const std::string& execution_id) {
  return impl_->call(client_await{execution_id});
}

nlohmann::json remote_client::status(const std::string& execution_id) {
  if (execution_id.empty())
    return impl_->call(client_list{});
  return impl_->call(client_status{execution_id});
}

nlohmann::json remote_client::events(const std::string& execution_id) {
  return impl_->call(client_events{execution_id});
}

void remote_client::cancel(const std::string& execution_id,
                           const std::string& reason) {
  impl_->call(client_cancel{execution_id, reason});
}

void remote_client::signal(const std::string& execution_id,
                           const std::string& key,
                           const nlohmann::json& payload) {
  impl_->call(
    client_signal{execution_id, key, bounded_dump(payload, "payload")});
}

void remote_client::decide(const std::string& execution_id,
                           const std::string& node_id, bool approve,
                           const std::string& user_id,
                           const std::optional<std::string>& comment,
                           const nlohmann::json& state_patch) {
  client_decide req;
  req.execution_id = execution_id;
  req.node_id = node_id;
  req.approve = approve;
  req.user_id = user_id;
  if (comment)
    req.comment = *comment;
  if (!state_patch.is_null())
    req.state_patch = bounded_dump(state_patch, "state patch");
  impl_->call(std::move(req));
}

// -- remote_worker ----------------------------------------------------------

struct remote_worker::impl {
  remote_worker_config cfg;
  system_config sys_cfg;
  std::unique_ptr<caf::actor_system> sys;
  std::shared_ptr<handler_registry> handlers =
    std::make_shared<handler_registry>();
  std::atomic<bool> stopping{false};
  std::atomic<uint64_t> connections{0};
  std::shared_ptr<tls_context> tls;

  /// Sleeps up to `d`, waking early when stopping.
  void nap(std::chrono::milliseconds d) {
    auto until = std::chrono::steady_clock::now() + d;
    while (!stopping && std::chrono::steady_clock::now() < until)
      std::this_thread::sleep_for(std::chrono::milliseconds{20});
  }
};

remote_worker::remote_worker(remote_worker_config cfg)
  : impl_(std::make_unique<impl>()) {
  if (cfg.id.empty())
    cfg.id = "worker-" + default_peer_name();
  impl_->tls = client_tls(cfg.tls);
  impl_->cfg = std::move(cfg);
  impl_->sys = network_system(impl_->sys_cfg);
}

remote_worker::~remote_worker() = default;

void remote_worker::register_handler(const std::string& kind, node_handler fn,
                                     bool blocking) {
  impl_->handlers->add_kind(kind, handler_entry{std::move(fn), blocking});
}

void remote_worker::register_builtin_handlers(std::chrono::seconds timeout) {
  jamjet::register_builtin_handlers(*impl_->handlers, timeout);
}

void remote_worker::stop() noexcept {
  impl_->stopping = true;
}

uint64_t remote_worker::connections() const noexcept {
  return impl_->connections;
}

void remote_worker::run() {
  auto& d = *impl_;
  auto& cfg = d.cfg;
  auto backoff = cfg.reconnect_min;
  bool warned = false;
  while (!d.stopping) {
    auto up = connect_uplink(*d.sys, cfg.host, cfg.port, "worker", cfg.id,
                             cfg.token, d.tls);
    if (!up) {
      if (!warned)
        log()->warn("cannot reach the scheduler at {}:{} ({}); retrying",
                    cfg.host, cfg.port, caf::to_string(up.error()));
      warned = true;
      d.nap(backoff);
      backoff = std::min(backoff * 2, cfg.reconnect_max);
      continue;
    }
    auto uplink = *up;
    try {
      await_welcome(*d.sys, uplink);
    } catch (const error& ex) {
      caf::anon_send_exit(uplink, caf::exit_reason::user_shutdown);
      if (ex.code() == error_code::access_denied)
        throw;
      log()->warn("scheduler at {}:{} did not welcome us ({}); retrying",
                  cfg.host, cfg.port, ex.what());
      d.nap(backoff);
      backoff = std::min(backoff * 2, cfg.reconnect_max);
      continue;
    }
    warned = false;
    backoff = cfg.reconnect_min;
    ++d.connections;
    log()->info("connected to the scheduler at {}:{} as '{}'", cfg.host,
                cfg.port, cfg.id);
    worker_config wc;
    wc.id = cfg.id;
    wc.queues = cfg.queues;
    wc.slots = cfg.slots;
    wc.heartbeat_interval = cfg.heartbeat;
    auto worker = spawn_worker(
      *d.sys, caf::actor_cast<worker_host_actor>(uplink), d.handlers, wc);
    // Serve until the connection ends or we are asked to stop.
    caf::scoped_actor self{*d.sys};
    self->monitor(uplink);
    bool down = false;
    bool drain_sent = false;
    while (!down) {
      self->receive([&](const caf::down_msg&) { down = true; },
                    caf::after(std::chrono::milliseconds{50}) >>
                      [&] {
                        if (d.stopping && !drain_sent) {
                          drain_sent = true;
                          log()->info("stopping: finishing running work (grace "
                                      "{} ms)",
                                      cfg.grace.count());
                          caf::anon_send(
                            uplink, drain_atom::value,
                            static_cast<int64_t>(cfg.grace.count()));
                        }
                      });
    }
    caf::anon_send_exit(worker, caf::exit_reason::user_shutdown);
    if (!d.stopping)
      log()->warn("lost the scheduler at {}:{}; reconnecting", cfg.host,
                  cfg.port);
  }
}

} // namespace jamjet
