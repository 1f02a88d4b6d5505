#include "actors/gateway.hpp"

#include <map>

#include <caf/all.hpp>
#include <caf/io/all.hpp>

#include "messages/error.hpp"
#include "messages/event_json.hpp"
#include "runtime/log.hpp"
#include "runtime/record_json.hpp"

namespace jamjet {

namespace {

using caf::io::connection_handle;

/// Tells the gateway to write a frame to a connection.
using write_atom = caf::atom_constant<caf::atom("write")>;

/// One connected peer.
struct peer {
  bool authed = false;
  std::string role;
  std::string name;
  /// Reading a length prefix (true) or a payload.
  bool at_prefix = true;
  /// The actor standing for a remote worker.
  worker_actor link;
};

struct gateway_state {
  scheduler sched;
  gateway_config cfg;
  std::map<connection_handle, peer> peers;

  static inline const char* name = "jamjet.gateway";
};

using gateway_ptr = caf::stateful_actor<gateway_state, caf::io::broker>*;

void write_frame(gateway_ptr self, connection_handle hdl,
                 const std::vector<char>& frame) {
  self->write(hdl, frame.size(), frame.data());
  self->flush(hdl);
}

void send_msg(gateway_ptr self, connection_handle hdl, const wire_msg& msg) {
  write_frame(self, hdl, encode_frame(msg));
}

/// Drops a peer: its link actor exits (the dispatcher reclaims its leases).
void drop(gateway_ptr self, connection_handle hdl, const std::string& why) {
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
  self->close(hdl);
}

/// The actor standing for one remote worker: the dispatcher leases to it
/// and monitors it; it forwards items and cancels to the connection.
worker_actor::behavior_type link_impl(worker_actor::pointer, caf::actor gateway,
                                      connection_handle hdl) {
  return {
    [=](work_item& item) {
      caf::anon_send(gateway, write_atom::value, hdl,
                     encode_frame(wire_msg{std::move(item)}));
    },
    [=](cancel_atom, std::string& item_id) {
      caf::anon_send(gateway, write_atom::value, hdl,
                     encode_frame(wire_msg{wire_cancel{std::move(item_id)}}));
    },
    [=](heartbeat_atom) {},
    [=](node_result&) {},
    [=](status_atom) { return uint32_t{0}; },
  };
}

// -- client requests ----------------------------------------------------------

void reply_ok(gateway_ptr self, connection_handle hdl, uint64_t id,
              const nlohmann::json& body) {
  send_msg(self, hdl, wire_reply{id, true, body.dump(), 0});
}

void reply_error(gateway_ptr self, connection_handle hdl, uint64_t id,
                 const caf::error& err) {
  send_msg(self, hdl,
           wire_reply{id, false, error_message(err),
                      static_cast<uint8_t>(code_of(err))});
}

/// Sends a request to `dest` and answers the client with `to_body` of the
/// result.
template <class T, class Dest, class F, class... Ts>
void relay(gateway_ptr self, connection_handle hdl, uint64_t id,
           const Dest& dest, F to_body, Ts&&... xs) {
  self->request(dest, caf::infinite, std::forward<Ts>(xs)...)
    .then(
      [=](T& result) {
        if (self->state.peers.count(hdl) > 0)
          reply_ok(self, hdl, id, to_body(result));
      },
      [=](caf::error& err) {
        if (self->state.peers.count(hdl) > 0)
          reply_error(self, hdl, id, err);
      });
}

void on_request(gateway_ptr self, connection_handle hdl, wire_request& req) {
  auto& s = self->state.sched;
  auto& a = req.args;
  auto id = req.id;
  auto want = [&](size_t n) {
    if (a.size() == n)
      return true;
    reply_error(self, hdl, id,
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
        self, hdl, id, s.supervisor,
        [](const std::string& key) { return nlohmann::json(key); },
        register_atom::value, a[0]);
  } else if (req.op == "start") {
    if (!want(3))
      return;
    auto input = nlohmann::json::parse(a[2], nullptr, false);
    if (!input.is_object()) {
      reply_error(self, hdl, id,
                  make_error(error_code::bad_input,
                             "the input of an execution must be a JSON "
                             "object"));
      return;
    }
    start_request sr{a[0], a[1], input.dump(), std::string{}};
    relay<std::string>(
      self, hdl, id, s.supervisor,
      [](const std::string& exec) { return nlohmann::json(exec); },
      start_atom::value, sr);
  } else if (req.op == "await") {
    if (want(1))
      relay<execution_outcome>(
        self, hdl, id, s.supervisor,
        [](const execution_outcome& out) { return to_json(out); },
        await_atom::value, a[0]);
  } else if (req.op == "status") {
    if (want(1))
      relay<execution_record>(
        self, hdl, id, s.supervisor,
        [](const execution_record& rec) { return to_json(rec); },
        status_atom::value, a[0]);
  } else if (req.op == "list") {
    if (want(0))
      relay<std::vector<execution_record>>(
        self, hdl, id, s.backend,
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
            self, hdl, id, self->state.sched.backend,
            [](const std::vector<event>& events) {
              auto all = nlohmann::json::array();
              for (auto& e : events)
                all.push_back(to_json(e));
              return all;
            },
            read_atom::value, exec, uint64_t{1});
        },
        [=](caf::error& err) {
          if (self->state.peers.count(hdl) > 0)
            reply_error(self, hdl, id, err);
        });
  } else if (req.op == "cancel") {
    if (want(2))
      relay<caf::ok_atom>(self, hdl, id, s.supervisor, ok, cancel_atom::value,
                          a[0], a[1]);
  } else if (req.op == "signal") {
    if (want(3))
      relay<caf::ok_atom>(self, hdl, id, s.supervisor, ok, signal_atom::value,
                          a[0], a[1], a[2]);
  } else if (req.op == "approve" || req.op == "reject") {
    // [execution, node, user, comment ("" = none), has_comment, patch]
    if (!want(6))
      return;
    approval_request ar;
    ar.node_id = a[1];
    ar.approved = req.op == "approve";
    ar.user_id = a[2];
    if (a[4] == "1")
      ar.comment = a[3];
    ar.state_patch = a[5];
    relay<caf::ok_atom>(self, hdl, id, s.supervisor, ok, approve_atom::value,
                        a[0], ar);
  } else {
    reply_error(
      self, hdl, id,
      make_error(error_code::bad_input, "unknown request '" + req.op + "'"));
  }
}

// -- frames -------------------------------------------------------------------

/// Handles the first frame of a peer: the hello.
void on_hello(gateway_ptr self, connection_handle hdl, peer& p, wire_msg& msg) {
  auto hello = caf::get_if<wire_hello>(&msg);
  if (!hello) {
    send_msg(self, hdl, wire_refused{"the first message must be a hello"});
    drop(self, hdl, "first message is not a hello");
    return;
  }
  if (hello->version != wire_version) {
    send_msg(self, hdl,
             wire_refused{"protocol version " + std::to_string(hello->version) +
                          " is not supported (this node speaks " +
                          std::to_string(wire_version) + ")"});
    drop(self, hdl, "wrong protocol version");
    return;
  }
  auto& token = self->state.cfg.token;
  if (!token.empty() && !same_secret(hello->token, token)) {
    send_msg(self, hdl,
             wire_refused{hello->token.empty()
                            ? "this scheduler requires a token (--token)"
                            : "wrong token"});
    drop(self, hdl, "wrong or missing token");
    return;
  }
  if (hello->role != "worker" && hello->role != "client") {
    send_msg(self, hdl, wire_refused{"unknown role '" + hello->role + "'"});
    drop(self, hdl, "unknown role");
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
        p.link = self->spawn(link_impl, caf::actor{self}, hdl);
      caf::anon_send(s.dispatcher, join_atom::value, p.link,
                     std::move(join->worker_id), std::move(join->queues),
                     join->slots);
      return;
    }
    if (auto res = caf::get_if<node_result>(&msg)) {
      caf::anon_send(s.dispatcher, std::move(*res));
      return;
    }
    if (auto hb = caf::get_if<wire_heartbeat>(&msg)) {
      caf::anon_send(s.dispatcher, heartbeat_atom::value,
                     std::move(hb->item_id), hb->fence);
      return;
    }
  } else if (auto req = caf::get_if<wire_request>(&msg)) {
    on_request(self, hdl, *req);
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
      self->state.peers[msg.handle];
      self->configure_read(msg.handle, caf::io::receive_policy::exactly(4));
    },
    [=](caf::io::new_data_msg& msg) {
      auto i = self->state.peers.find(msg.handle);
      if (i == self->state.peers.end())
        return;
      auto& p = i->second;
      if (p.at_prefix) {
        auto n = frame_length(msg.buf.data());
        if (n == 0 || n > self->state.cfg.max_frame) {
          drop(self, msg.handle,
               "frame of " + std::to_string(n) + " bytes refused (limit " +
                 std::to_string(self->state.cfg.max_frame) + ")");
          return;
        }
        p.at_prefix = false;
        self->configure_read(msg.handle, caf::io::receive_policy::exactly(n));
        return;
      }
      p.at_prefix = true;
      self->configure_read(msg.handle, caf::io::receive_policy::exactly(4));
      auto decoded = decode_payload(msg.buf.data(), msg.buf.size());
      if (!decoded) {
        drop(self, msg.handle, error_message(decoded.error()));
        return;
      }
      on_frame(self, msg.handle, p, *decoded);
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
    [=](write_atom, connection_handle hdl, const std::vector<char>& frame) {
      if (self->state.peers.count(hdl) > 0)
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
