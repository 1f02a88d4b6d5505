#include "jamjet/remote.hpp"

#include <map>
#include <thread>
#include <unistd.h>

#include <caf/all.hpp>
#include <caf/io/all.hpp>

#include "jamjet/actors/worker.hpp"
#include "jamjet/messages/wire.hpp"
#include "jamjet/core/builtin_handlers.hpp"
#include "jamjet/support/log.hpp"
#include "jamjet/actors/system_config.hpp"

namespace jamjet {

namespace {

using caf::io::connection_handle;
using call_atom = caf::atom_constant<caf::atom("call")>;
using welcome_atom = caf::atom_constant<caf::atom("welcome")>;
using drain_atom = caf::atom_constant<caf::atom("drain")>;

/// The local end of a connection to a scheduler node.
struct uplink_state {
  connection_handle hdl;
  frame_reader reader;
  bool welcomed = false;
  /// Set when the node refused the hello.
  std::string refused;
  std::vector<caf::response_promise> welcome_waiters;
  uint64_t next_id = 0;
  std::map<uint64_t, caf::response_promise> pending;
  /// The local worker (worker role) and its last offer.
  worker_actor worker;
  wire_join offer;
  int64_t drain_deadline = 0;

  static inline const char* name = "jamjet.uplink";
};

using uplink_ptr = caf::stateful_actor<uplink_state, caf::io::broker>*;

void send_msg(uplink_ptr self, const wire_msg& msg) {
  auto frame = encode_frame(msg);
  self->write(self->state.hdl, frame.size(), frame.data());
  self->flush(self->state.hdl);
}

/// Ends the connection, failing whatever waits on it.
void fail_all(uplink_ptr self, const caf::error& err) {
  auto& st = self->state;
  for (auto& rp : st.welcome_waiters)
    rp.deliver(err);
  st.welcome_waiters.clear();
  for (auto& [id, rp] : st.pending)
    rp.deliver(err);
  st.pending.clear();
  self->quit(err);
}

void on_frame(uplink_ptr self, wire_msg& msg) {
  auto& st = self->state;
  if (caf::get_if<wire_welcome>(&msg)) {
    st.welcomed = true;
    for (auto& rp : st.welcome_waiters)
      rp.deliver(std::string{"welcome"});
    st.welcome_waiters.clear();
  } else if (auto r = caf::get_if<wire_refused>(&msg)) {
    st.refused = r->reason;
    fail_all(self,
             make_error(error_code::access_denied,
                        "the scheduler refused the connection: " + r->reason));
  } else if (auto rep = caf::get_if<wire_reply>(&msg)) {
    auto i = st.pending.find(rep->id);
    if (i == st.pending.end())
      return;
    if (rep->ok)
      i->second.deliver(std::move(rep->body));
    else
      i->second.deliver(
        make_error(static_cast<error_code>(rep->code), rep->body));
    st.pending.erase(i);
  } else if (auto item = caf::get_if<work_item>(&msg)) {
    // Also while draining: the node may have sent it before it saw our
    // offer of 0 slots; the drain waits for it like for any running work.
    if (st.worker)
      self->send(st.worker, std::move(*item));
  } else if (auto c = caf::get_if<wire_cancel>(&msg)) {
    if (st.worker)
      self->send(st.worker, cancel_atom::value, std::move(c->item_id));
  } else {
    log()->warn("unexpected message from the scheduler; closing");
    fail_all(self, make_error(error_code::unavailable,
                              "the scheduler sent an unexpected message"));
  }
}

caf::behavior uplink_impl(uplink_ptr self, connection_handle hdl,
                          std::string role, std::string name,
                          std::string token) {
  auto& st = self->state;
  st.hdl = hdl;
  self->configure_read(
    hdl, caf::io::receive_policy::exactly(frame_reader::prefix_size));
  send_msg(self, wire_hello{wire_version, token, role, name});
  return {
    [=](caf::io::new_data_msg& msg) {
      std::optional<wire_msg> frame;
      auto next = self->state.reader.feed(msg.buf, default_max_frame, frame);
      if (!next) {
        fail_all(self, make_error(error_code::unavailable,
                                  "the scheduler sent a bad message: " +
                                    error_message(next.error())));
        return;
      }
      self->configure_read(msg.handle, caf::io::receive_policy::exactly(*next));
      if (frame)
        on_frame(self, *frame);
    },
    [=](const caf::io::connection_closed_msg&) {
      fail_all(self, make_error(error_code::unavailable,
                                "the connection to the scheduler was lost"));
    },
    [=](welcome_atom) -> caf::result<std::string> {
      auto& s = self->state;
      if (s.welcomed)
        return std::string{"welcome"};
      auto rp = self->make_response_promise();
      s.welcome_waiters.push_back(rp);
      return caf::delegated<std::string>{};
    },
    [=](call_atom, std::string& op,
        std::vector<std::string>& args) -> caf::result<std::string> {
      auto& s = self->state;
      auto id = ++s.next_id;
      s.pending.emplace(id, self->make_response_promise());
      send_msg(self, wire_request{id, std::move(op), std::move(args)});
      return caf::delegated<std::string>{};
    },
    // What the local worker sends its host.
    [=](join_atom, worker_actor& worker, std::string& id,
        std::vector<std::string>& queues, uint32_t slots) {
      auto& s = self->state;
      s.worker = worker;
      s.offer = wire_join{std::move(id), std::move(queues), slots};
      send_msg(self, s.offer);
    },
    [=](node_result& res) {
      auto frame = encode_frame(wire_msg{res});
      if (frame.size() - 4 > default_max_frame) {
        // Too large to travel: report a failure the node can record.
        res.ok = false;
        res.retryable = false;
        res.error = "result of " + std::to_string(frame.size()) +
                    " bytes exceeds the network limit";
        res.output.clear();
        res.state_patch.clear();
        frame = encode_frame(wire_msg{res});
      }
      self->write(self->state.hdl, frame.size(), frame.data());
      self->flush(self->state.hdl);
    },
    [=](heartbeat_atom, std::string& item_id, uint64_t fence) {
      send_msg(self, wire_heartbeat{std::move(item_id), fence});
    },
    // Draining: offer no slots, wait for running work, then leave.
    [=](drain_atom, int64_t grace_ms) {
      auto& s = self->state;
      if (s.drain_deadline == 0) {
        s.drain_deadline =
          caf::make_timestamp().time_since_epoch().count() / 1000000 + grace_ms;
        if (s.worker) {
          auto offer = s.offer;
          offer.slots = 0;
          send_msg(self, offer);
        }
      }
      if (!s.worker) {
        self->quit();
        return;
      }
      self->request(s.worker, std::chrono::seconds{5}, status_atom::value)
        .then(
          [=](uint32_t running) {
            auto now =
              caf::make_timestamp().time_since_epoch().count() / 1000000;
            if (running == 0) {
              log()->info("drained: no work left");
              self->quit();
            } else if (now >= self->state.drain_deadline) {
              log()->warn("grace period over: abandoning {} running "
                          "handler(s)",
                          running);
              self->quit();
            } else {
              self->delayed_send(self, std::chrono::milliseconds{100},
                                 drain_atom::value, int64_t{0});
            }
          },
          [=](caf::error&) { self->quit(); });
    },
  };
}

/// A system able to open connections.
std::unique_ptr<caf::actor_system> network_system(system_config& cfg) {
  cfg.network();
  cfg.scheduler_threads(2);
  return std::make_unique<caf::actor_system>(cfg);
}

std::string default_name() {
  char host[256] = {0};
  ::gethostname(host, sizeof(host) - 1);
  return std::string{host} + "-" + std::to_string(::getpid());
}

/// Connects an uplink; an error when the node cannot be reached.
caf::expected<caf::actor> connect(caf::actor_system& sys,
                                  const std::string& host, uint16_t port,
                                  const std::string& role,
                                  const std::string& name,
                                  const std::string& token) {
  return sys.middleman().spawn_client(uplink_impl, host, port, role, name,
                                      token);
}

/// Waits for the node's welcome; throws its refusal. The uplink may have
/// ended already (a refusal can arrive before we ask), so its exit reason
/// counts as the answer too.
void await_welcome(caf::actor_system& sys, const caf::actor& uplink) {
  caf::scoped_actor self{sys};
  self->monitor(uplink);
  self->send(uplink, welcome_atom::value);
  caf::error err;
  bool ok = false;
  bool done = false;
  while (!done) {
    self->receive(
      [&](std::string&) {
        ok = true;
        done = true;
      },
      [&](caf::error& e) {
        err = std::move(e);
        done = true;
      },
      [&](caf::down_msg& d) {
        err = d.reason ? d.reason
                       : make_error(error_code::unavailable,
                                    "the connection to the scheduler closed");
        done = true;
      },
      caf::after(std::chrono::seconds{10}) >>
        [&] {
          err = make_error(error_code::unavailable,
                           "no answer from the scheduler within 10 s");
          done = true;
        });
  }
  self->demonitor(uplink);
  if (!ok)
    throw_error(err);
}

} // namespace

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

// -- remote_client ----------------------------------------------------------

struct remote_client::impl {
  system_config cfg;
  std::unique_ptr<caf::actor_system> sys;
  caf::actor uplink;
};

remote_client::remote_client(const std::string& host, uint16_t port,
                             const std::string& token)
  : impl_(std::make_unique<impl>()) {
  impl_->sys = network_system(impl_->cfg);
  auto up = connect(*impl_->sys, host, port, "client", default_name(), token);
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

nlohmann::json remote_client::call(const std::string& op,
                                   std::vector<std::string> args) {
  caf::scoped_actor self{*impl_->sys};
  std::optional<std::string> body;
  caf::error err;
  // A plain send answered by a message, so that the uplink ending (the
  // node went away) ends the wait too.
  self->monitor(impl_->uplink);
  self->send(impl_->uplink, call_atom::value, op, std::move(args));
  self->receive([&](std::string& b) { body = std::move(b); },
                [&](caf::error& e) { err = std::move(e); },
                [&](caf::down_msg& d) {
                  err =
                    d.reason
                      ? d.reason
                      : make_error(error_code::unavailable,
                                   "the connection to the scheduler closed");
                });
  self->demonitor(impl_->uplink);
  if (!body)
    throw_error(err ? err
                    : make_error(error_code::unavailable,
                                 "no answer from the scheduler"));
  auto j = nlohmann::json::parse(*body, nullptr, false);
  if (j.is_discarded())
    throw error(error_code::unavailable, "malformed answer from the scheduler");
  return j;
}

std::string remote_client::register_workflow(const std::string& ir_json) {
  return call("register", {ir_json}).get<std::string>();
}

std::string remote_client::start(const std::string& workflow_id,
                                 const nlohmann::json& input,
                                 const std::string& version) {
  return call("start", {workflow_id, version, input.dump()}).get<std::string>();
}

nlohmann::json remote_client::await(const std::string& execution_id) {
  return call("await", {execution_id});
}

nlohmann::json remote_client::status(const std::string& execution_id) {
  if (execution_id.empty())
    return call("list", {});
  return call("status", {execution_id});
}

nlohmann::json remote_client::events(const std::string& execution_id) {
  return call("events", {execution_id});
}

void remote_client::cancel(const std::string& execution_id,
                           const std::string& reason) {
  call("cancel", {execution_id, reason});
}

void remote_client::signal(const std::string& execution_id,
                           const std::string& key,
                           const nlohmann::json& payload) {
  call("signal", {execution_id, key, payload.dump()});
}

void remote_client::decide(const std::string& execution_id,
                           const std::string& node_id, bool approve,
                           const std::string& user_id,
                           const std::optional<std::string>& comment,
                           const nlohmann::json& state_patch) {
  call(approve ? "approve" : "reject",
       {execution_id, node_id, user_id, comment.value_or(""),
        comment ? "1" : "0",
        state_patch.is_null() ? std::string{} : state_patch.dump()});
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
    cfg.id = "worker-" + default_name();
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
    auto up = connect(*d.sys, cfg.host, cfg.port, "worker", cfg.id, cfg.token);
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
