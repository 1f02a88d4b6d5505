#include "jamjet/actors/gateway.hpp"

#include <map>

#include <caf/all.hpp>
#include <caf/io/all.hpp>

#include "jamjet/messages/error.hpp"
#include "jamjet/messages/event_json.hpp"
#include "jamjet/messages/record_json.hpp"
#include "jamjet/support/log.hpp"

namespace jamjet {

namespace {

using caf::io::connection_handle;

/// Tells the gateway to write a frame to a connection.
using write_atom = caf::atom_constant<caf::atom("write")>;

/// One connected peer.
struct peer {
  /// Distinguishes connections that reuse a handle (a file descriptor).
  uint64_t serial = 0;
  bool authed = false;
  std::string role;
  std::string name;
  frame_reader reader;
  /// The actor standing for a remote worker.
  worker_actor link;
};

/// A connection as replies and link actors remember it.
struct conn_ref {
  connection_handle hdl;
  uint64_t serial = 0;
};

/// Frames a peer may send before its hello: a hello is small.
constexpr uint32_t max_hello_frame = 64 * 1024;

/// How long a peer may take to say hello.
constexpr std::chrono::seconds hello_deadline{10};

/// Fires when a peer's hello is due.
using deadline_atom = caf::atom_constant<caf::atom("deadline")>;

struct gateway_state {
  scheduler sched;
  gateway_config cfg;
  std::map<connection_handle, peer> peers;
  uint64_t next_serial = 0;

  static inline const char* name = "jamjet.gateway";
};

using gateway_ptr = caf::stateful_actor<gateway_state, caf::io::broker>*;

/// The peer `c` names, if that connection is still the same and said
/// hello.
peer* live(gateway_ptr self, const conn_ref& c) {
  auto i = self->state.peers.find(c.hdl);
  if (i == self->state.peers.end() || i->second.serial != c.serial ||
      !i->second.authed)
    return nullptr;
  return &i->second;
}

void write_frame(gateway_ptr self, connection_handle hdl,
                 const std::vector<char>& frame) {
  self->write(hdl, frame.size(), frame.data());
  self->flush(hdl);
}

void send_msg(gateway_ptr self, connection_handle hdl, const wire_msg& msg) {
  write_frame(self, hdl, encode_frame(msg));
}

/// Drops a peer: its link actor exits (the dispatcher reclaims its leases).
/// Closes a connection a little later, so that a refusal just written
/// reaches the peer before the socket closes.
using linger_atom = caf::atom_constant<caf::atom("linger")>;

/// Drops a peer: its link actor exits (the dispatcher reclaims its leases).
/// With `linger`, what was written still goes out: nothing more is read or
/// written, and the socket closes shortly after.
void drop(gateway_ptr self, connection_handle hdl, const std::string& why,
          bool linger = false) {
  auto i = self->state.peers.find(hdl);
  if (i == self->state.peers.end())
    return;
  if (!why.empty())
    log()->warn("closing connection of {} '{}': {}",
                i->second.role.empty() ? "peer" : i->second.role,
                i->second.name, why);
  if (i->second.link)
    self->send_exit(i->second.link, caf::exit_reason::remote_link_unreachable);
  self->state.peers.erase(i);
  if (linger)
    self->delayed_send(self, std::chrono::milliseconds{200}, linger_atom::value,
                       hdl);
  else
    self->close(hdl);
}

/// The actor standing for one remote worker: the dispatcher leases to it
/// and monitors it; it forwards items and cancels to the connection.
worker_actor::behavior_type link_impl(worker_actor::pointer self,
                                      caf::actor gateway, conn_ref c,
                                      dispatcher_actor dispatcher) {
  return {
    [=](work_item& item) {
      auto frame = encode_frame(wire_msg{item});
      if (frame.size() - 4 > default_max_frame) {
        // Cannot travel: fail the attempt for good rather than lose the
        // connection over it again and again.
        auto res = result_for(item, item.worker_id);
        res.error = "work item of " + std::to_string(frame.size()) +
                    " bytes exceeds the network limit of " +
                    std::to_string(default_max_frame) + " bytes";
        self->send(dispatcher, std::move(res));
        return;
      }
      caf::anon_send(gateway, write_atom::value, c.hdl, c.serial,
                     std::move(frame));
    },
    [=](cancel_atom, std::string& item_id) {
      caf::anon_send(gateway, write_atom::value, c.hdl, c.serial,
                     encode_frame(wire_msg{wire_cancel{std::move(item_id)}}));
    },
    [=](heartbeat_atom) {},
    [=](node_result&) {},
    [=](status_atom) { return uint32_t{0}; },
  };
}

// -- client requests ----------------------------------------------------------

void reply_error(gateway_ptr self, const conn_ref& c, uint64_t id,
                 const caf::error& err) {
  if (!live(self, c))
    return; // the client left; its connection may now be someone else's
  send_msg(self, c.hdl,
           wire_reply{id, false, error_message(err),
                      static_cast<uint8_t>(code_of(err))});
}

void reply_ok(gateway_ptr self, const conn_ref& c, uint64_t id,
              const nlohmann::json& body) {
  if (!live(self, c))
    return;
  // Stored text may hold bytes that are not UTF-8: replace, never throw.
  auto text =
    body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  if (text.size() + 64 > default_max_frame) {
    reply_error(self, c, id,
                make_error(error_code::bad_input,
                           "the answer (" + std::to_string(text.size()) +
                             " bytes) exceeds the network limit"));
    return;
  }
  send_msg(self, c.hdl, wire_reply{id, true, std::move(text), 0});
}

/// Sends a request to `dest` and answers the client with `to_body` of the
/// result.
template <class T, class Dest, class F, class... Ts>
void relay(gateway_ptr self, conn_ref c, uint64_t id, const Dest& dest,
           F to_body, Ts&&... xs) {
  self->request(dest, caf::infinite, std::forward<Ts>(xs)...)
    .then([=](T& result) { reply_ok(self, c, id, to_body(result)); },
          [=](caf::error& err) { reply_error(self, c, id, err); });
}

/// Whether `text` is valid UTF-8 (events are stored as JSON text).
bool valid_utf8(const std::string& text) {
  size_t i = 0;
  while (i < text.size()) {
    auto c = static_cast<unsigned char>(text[i]);
    size_t len = c < 0x80           ? 1
                 : (c >> 5) == 0x6  ? 2
                 : (c >> 4) == 0xE  ? 3
                 : (c >> 3) == 0x1E ? 4
                                    : 0;
    if (len == 0 || i + len > text.size())
      return false;
    for (size_t k = 1; k < len; ++k)
      if ((static_cast<unsigned char>(text[i + k]) >> 6) != 2)
        return false;
    i += len;
  }
  return true;
}

void on_request(gateway_ptr self, conn_ref c, wire_request& req) {
  auto& s = self->state.sched;
  auto& a = req.args;
  auto id = req.id;
  for (auto& arg : a)
    if (!valid_utf8(arg)) {
      reply_error(self, c, id,
                  make_error(error_code::bad_input,
                             "request '" + req.op +
                               "' has an argument that is not UTF-8"));
      return;
    }
  // Arguments that must be JSON (payloads and patches) are checked here,
  // before they reach the log.
  auto json_arg = [&](size_t i, bool object_only, bool may_be_empty) {
    if (may_be_empty && a[i].empty())
      return true;
    auto j = nlohmann::json::parse(a[i], nullptr, false);
    if (!j.is_discarded() && (!object_only || j.is_object())) {
      a[i] = j.dump();
      return true;
    }
    reply_error(self, c, id,
                make_error(error_code::bad_input,
                           "request '" + req.op + "': argument " +
                             std::to_string(i) + " must be a JSON " +
                             (object_only ? "object" : "value")));
    return false;
  };
  auto want = [&](size_t n) {
    if (a.size() == n)
      return true;
    reply_error(self, c, id,
                make_error(error_code::bad_input,
                           "request '" + req.op + "' takes " +
                             std::to_string(n) + " arguments, got " +
                             std::to_string(a.size())));
    return false;
  };
  auto ok = [](const caf::ok_atom&) { return nlohmann::json{{"ok", true}}; };
  if (req.op == "register") {
    if (want(1))
      relay<std::string>(
        self, c, id, s.supervisor,
        [](const std::string& key) { return nlohmann::json(key); },
        register_atom::value, a[0]);
  } else if (req.op == "start") {
    if (!want(3))
      return;
    auto input = nlohmann::json::parse(a[2], nullptr, false);
    if (!input.is_object()) {
      reply_error(self, c, id,
                  make_error(error_code::bad_input,
                             "the input of an execution must be a JSON "
                             "object"));
      return;
    }
    start_request sr{a[0], a[1], input.dump(), std::string{}};
    relay<std::string>(
      self, c, id, s.supervisor,
      [](const std::string& exec) { return nlohmann::json(exec); },
      start_atom::value, sr);
  } else if (req.op == "await") {
    if (want(1))
      relay<execution_outcome>(
        self, c, id, s.supervisor,
        [](const execution_outcome& out) { return to_json(out); },
        await_atom::value, a[0]);
  } else if (req.op == "status") {
    if (want(1))
      relay<execution_record>(
        self, c, id, s.supervisor,
        [](const execution_record& rec) { return to_json(rec); },
        status_atom::value, a[0]);
  } else if (req.op == "list") {
    if (want(0))
      relay<std::vector<execution_record>>(
        self, c, id, s.backend,
        [](const std::vector<execution_record>& recs) {
          auto all = nlohmann::json::array();
          for (auto& r : recs)
            all.push_back(to_json(r));
          return all;
        },
        record_atom::value);
  } else if (req.op == "events") {
    if (!want(1))
      return;
    // The record first: an unknown execution is an error, not no events.
    auto exec = a[0];
    self->request(s.backend, caf::infinite, record_atom::value, exec)
      .then(
        [=](execution_record&) {
          relay<std::vector<event>>(
            self, c, id, self->state.sched.backend,
            [](const std::vector<event>& events) {
              auto all = nlohmann::json::array();
              for (auto& e : events)
                all.push_back(to_json(e));
              return all;
            },
            read_atom::value, exec, uint64_t{1});
        },
        [=](caf::error& err) { reply_error(self, c, id, err); });
  } else if (req.op == "cancel") {
    if (want(2))
      relay<caf::ok_atom>(self, c, id, s.supervisor, ok, cancel_atom::value,
                          a[0], a[1]);
  } else if (req.op == "signal") {
    if (want(3) && json_arg(2, false, false))
      relay<caf::ok_atom>(self, c, id, s.supervisor, ok, signal_atom::value,
                          a[0], a[1], a[2]);
  } else if (req.op == "approve" || req.op == "reject") {
    // [execution, node, user, comment ("" = none), has_comment, patch]
    if (!want(6) || !json_arg(5, true, true))
      return;
    approval_request ar;
    ar.node_id = a[1];
    ar.approved = req.op == "approve";
    ar.user_id = a[2];
    if (a[4] == "1")
      ar.comment = a[3];
    ar.state_patch = a[5];
    relay<caf::ok_atom>(self, c, id, s.supervisor, ok, approve_atom::value,
                        a[0], ar);
  } else {
    reply_error(
      self, c, id,
      make_error(error_code::bad_input, "unknown request '" + req.op + "'"));
  }
}

// -- frames -------------------------------------------------------------------

/// Handles the first frame of a peer: the hello.
void on_hello(gateway_ptr self, connection_handle hdl, peer& p, wire_msg& msg) {
  auto hello = caf::get_if<wire_hello>(&msg);
  if (!hello) {
    send_msg(self, hdl, wire_refused{"the first message must be a hello"});
    drop(self, hdl, "first message is not a hello", true);
    return;
  }
  if (hello->version != wire_version) {
    send_msg(self, hdl,
             wire_refused{"protocol version " + std::to_string(hello->version) +
                          " is not supported (this node speaks " +
                          std::to_string(wire_version) + ")"});
    drop(self, hdl, "wrong protocol version", true);
    return;
  }
  auto& token = self->state.cfg.token;
  if (!token.empty() && !same_secret(hello->token, token)) {
    send_msg(self, hdl,
             wire_refused{hello->token.empty()
                            ? "this scheduler requires a token (--token)"
                            : "wrong token"});
    drop(self, hdl, "wrong or missing token", true);
    return;
  }
  if (hello->role != "worker" && hello->role != "client") {
    send_msg(self, hdl, wire_refused{"unknown role '" + hello->role + "'"});
    drop(self, hdl, "unknown role", true);
    return;
  }
  p.authed = true;
  p.role = hello->role;
  p.name = hello->name;
  log()->info("{} '{}' connected", p.role, p.name);
  send_msg(self, hdl, wire_welcome{"jamjet"});
}

void on_frame(gateway_ptr self, connection_handle hdl, peer& p, wire_msg& msg) {
  if (!p.authed) {
    on_hello(self, hdl, p, msg);
    return;
  }
  auto& s = self->state.sched;
  if (p.role == "worker") {
    if (auto join = caf::get_if<wire_join>(&msg)) {
      if (!p.link)
        p.link = self->spawn(link_impl, caf::actor{self},
                             conn_ref{hdl, p.serial}, s.dispatcher);
      caf::anon_send(s.dispatcher, join_atom::value, p.link,
                     std::move(join->worker_id), std::move(join->queues),
                     join->slots);
      return;
    }
    if (auto res = caf::get_if<node_result>(&msg)) {
      // What a remote worker reports goes into the log: it must be JSON.
      if (res->ok) {
        auto out = nlohmann::json::parse(res->output, nullptr, false);
        auto patch = nlohmann::json::parse(res->state_patch, nullptr, false);
        if (out.is_discarded() || patch.is_discarded() ||
            !(patch.is_object() || patch.is_null())) {
          res->ok = false;
          res->retryable = false;
          res->error = "worker '" + res->worker_id +
                       "' reported an output or state patch that is not "
                       "valid JSON";
        }
      }
      if (!valid_utf8(res->error) || !valid_utf8(res->error_class) ||
          !valid_utf8(res->worker_id)) {
        drop(self, hdl, "result with text that is not UTF-8");
        return;
      }
      caf::anon_send(s.dispatcher, std::move(*res));
      return;
    }
    if (auto hb = caf::get_if<wire_heartbeat>(&msg)) {
      caf::anon_send(s.dispatcher, heartbeat_atom::value,
                     std::move(hb->item_id), hb->fence);
      return;
    }
  } else if (auto req = caf::get_if<wire_request>(&msg)) {
    on_request(self, conn_ref{hdl, p.serial}, *req);
    return;
  }
  drop(self, hdl, "unexpected message for a " + p.role);
}

caf::behavior gateway_impl(gateway_ptr self, scheduler sched,
                           gateway_config cfg, caf::io::doorman_ptr door) {
  self->state.sched = std::move(sched);
  self->state.cfg = std::move(cfg);
  self->add_doorman(std::move(door));
  return {
    [=](const caf::io::new_connection_msg& msg) {
      auto serial = ++self->state.next_serial;
      self->state.peers[msg.handle].serial = serial;
      self->configure_read(msg.handle, caf::io::receive_policy::exactly(
                                         frame_reader::prefix_size));
      self->delayed_send(self, hello_deadline, deadline_atom::value, msg.handle,
                         serial);
    },
    [=](linger_atom, connection_handle hdl) {
      // Only if no new connection took the handle meanwhile (it cannot
      // while the socket is open, but stay safe).
      if (self->state.peers.count(hdl) == 0)
        self->close(hdl);
    },
    [=](deadline_atom, connection_handle hdl, uint64_t serial) {
      auto i = self->state.peers.find(hdl);
      if (i != self->state.peers.end() && i->second.serial == serial &&
          !i->second.authed)
        drop(self, hdl,
             "no hello within " + std::to_string(hello_deadline.count()) +
               " s");
    },
    [=](caf::io::new_data_msg& msg) {
      auto i = self->state.peers.find(msg.handle);
      if (i == self->state.peers.end())
        return;
      auto& p = i->second;
      // Before the hello only a hello's worth: an unknown peer must not
      // make us reserve large buffers.
      auto limit = p.authed ? self->state.cfg.max_frame : max_hello_frame;
      std::optional<wire_msg> frame;
      auto next = p.reader.feed(msg.buf, limit, frame);
      if (!next) {
        drop(self, msg.handle, error_message(next.error()));
        return;
      }
      self->configure_read(msg.handle, caf::io::receive_policy::exactly(*next));
      if (frame)
        on_frame(self, msg.handle, p, *frame);
    },
    [=](const caf::io::connection_closed_msg& msg) {
      auto i = self->state.peers.find(msg.handle);
      if (i == self->state.peers.end())
        return;
      log()->info("{} '{}' disconnected", i->second.role, i->second.name);
      drop(self, msg.handle, "");
    },
    [=](const caf::io::acceptor_closed_msg&) {
      log()->error("the gateway stopped listening");
    },
    [=](write_atom, connection_handle hdl, uint64_t serial,
        const std::vector<char>& frame) {
      if (live(self, conn_ref{hdl, serial}))
        write_frame(self, hdl, frame);
    },
  };
}

} // namespace

std::pair<caf::actor, uint16_t> spawn_gateway(caf::actor_system& sys,
                                              const scheduler& sched,
                                              gateway_config cfg) {
  auto& mm = sys.middleman();
  auto door = mm.backend().new_tcp_doorman(cfg.port, cfg.host.c_str(), true);
  if (!door)
    throw error(error_code::unavailable, "cannot listen on " + cfg.host + ":" +
                                           std::to_string(cfg.port) + ": " +
                                           caf::to_string(door.error()));
  auto port = (*door)->port();
  auto gw =
    mm.spawn_broker(gateway_impl, sched, std::move(cfg), std::move(*door));
  return {gw, port};
}

} // namespace jamjet
