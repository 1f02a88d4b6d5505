#include "jamjet/actors/uplink.hpp"

#include <map>
#include <optional>
#include <unistd.h>

#include <caf/all.hpp>
#include <caf/io/all.hpp>

#include "jamjet/actors/worker.hpp"
#include "jamjet/messages/error.hpp"
#include "jamjet/messages/wire.hpp"
#include "jamjet/support/log.hpp"
#include "jamjet/support/tls.hpp"

namespace jamjet {

namespace {

using caf::io::connection_handle;

/// The local end of a connection to a scheduler node.
struct uplink_state {
  connection_handle hdl;
  /// With TLS: the session the frames travel in.
  std::unique_ptr<tls_session> tls;
  /// Bytes came through the TLS session already.
  bool tls_started = false;
  frame_splitter frames_in;
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
  /// Set by `fail_all`: nothing more is read.
  bool ended = false;

  static inline const char* name = "jamjet.uplink";
};

using uplink_ptr = caf::stateful_actor<uplink_state, caf::io::broker>*;

/// Writes what the TLS session has for the socket.
void flush_tls(uplink_ptr self) {
  std::vector<char> out;
  if (self->state.tls->take_output(out)) {
    self->write(self->state.hdl, out.size(), out.data());
    self->flush(self->state.hdl);
  }
}

void send_frame(uplink_ptr self, const std::vector<char>& frame) {
  auto& st = self->state;
  if (st.tls) {
    st.tls->send(frame.data(), frame.size());
    flush_tls(self);
    return;
  }
  self->write(st.hdl, frame.size(), frame.data());
  self->flush(st.hdl);
}

void send_msg(uplink_ptr self, const wire_msg& msg) {
  send_frame(self, encode_frame(msg));
}

/// Ends the connection, failing whatever waits on it.
void fail_all(uplink_ptr self, const caf::error& err) {
  auto& st = self->state;
  st.ended = true;
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

/// Takes plain text from the node: every whole frame in it, in turn.
void on_plain(uplink_ptr self, const char* data, size_t n) {
  auto& st = self->state;
  st.frames_in.append(data, n);
  for (;;) {
    auto frame = st.frames_in.next(default_max_frame);
    if (!frame) {
      fail_all(self, make_error(error_code::unavailable,
                                "the scheduler sent a bad message: " +
                                  error_message(frame.error())));
      return;
    }
    if (!*frame)
      return;
    on_frame(self, **frame);
    if (st.ended)
      return; // a refusal or a bad message ended the uplink
  }
}

/// Takes bytes from the node, through the TLS session if there is one.
void on_bytes(uplink_ptr self, const std::vector<char>& bytes) {
  auto& st = self->state;
  if (!st.tls) {
    on_plain(self, bytes.data(), bytes.size());
    return;
  }
  if (!st.tls_started && !bytes.empty() &&
      !looks_like_tls(static_cast<unsigned char>(bytes[0]))) {
    // A node without TLS answers the ClientHello in plain text (with a
    // refusal of the frame it took it for).
    fail_all(self,
             make_error(error_code::access_denied,
                        "TLS: the scheduler does not speak TLS (drop --tls, "
                        "--tls-ca and --tls-cert, or give serve --tls-cert "
                        "and --tls-key)"));
    return;
  }
  st.tls_started = true;
  std::vector<char> plain;
  bool ok = st.tls->receive(bytes.data(), bytes.size(), plain);
  flush_tls(self);
  if (!ok) {
    fail_all(self,
             make_error(error_code::access_denied,
                        "cannot connect to the scheduler: " + st.tls->error()));
    return;
  }
  if (!plain.empty())
    on_plain(self, plain.data(), plain.size());
}

caf::behavior uplink_impl(uplink_ptr self, connection_handle hdl,
                          std::string role, std::string name, std::string token,
                          std::shared_ptr<tls_context> tls, std::string host) {
  auto& st = self->state;
  st.hdl = hdl;
  self->configure_read(hdl, caf::io::receive_policy::at_most(64 * 1024));
  if (tls) {
    st.tls = std::make_unique<tls_session>(std::move(tls),
                                           tls_session::client_side, host);
    if (!st.tls->error().empty()) {
      auto err = make_error(error_code::bad_input, st.tls->error());
      self->quit(err);
      return {};
    }
  }
  send_msg(self, wire_hello{wire_version, token, role, name});
  return {
    [=](caf::io::new_data_msg& msg) { on_bytes(self, msg.buf); },
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
    [=](call_atom, client_request& req) -> caf::result<std::string> {
      auto& s = self->state;
      auto id = ++s.next_id;
      s.pending.emplace(id, self->make_response_promise());
      send_msg(self, wire_request{id, std::move(req)});
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
      send_frame(self, frame);
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

} // namespace

/// A system able to open connections.
std::unique_ptr<caf::actor_system> network_system(system_config& cfg) {
  cfg.network();
  cfg.scheduler_threads(2);
  return std::make_unique<caf::actor_system>(cfg);
}

std::string default_peer_name() {
  char host[256] = {0};
  ::gethostname(host, sizeof(host) - 1);
  return std::string{host} + "-" + std::to_string(::getpid());
}

/// Connects an uplink; an error when the node cannot be reached.
caf::expected<caf::actor>
connect_uplink(caf::actor_system& sys, const std::string& host, uint16_t port,
               const std::string& role, const std::string& name,
               const std::string& token, std::shared_ptr<tls_context> tls) {
  return sys.middleman().spawn_client(uplink_impl, host, port, role, name,
                                      token, std::move(tls), host);
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

} // namespace jamjet
