#include "jamjet/actors/gateway.hpp"

#include <map>

#include <caf/all.hpp>
#include <caf/io/all.hpp>

#include "jamjet/messages/error.hpp"
#include "jamjet/messages/event_json.hpp"
#include "jamjet/messages/json_limits.hpp"
#include "jamjet/messages/record_json.hpp"
#include "jamjet/support/log.hpp"
#include "jamjet/support/utf8.hpp"

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
    [=](tick_atom, uint64_t) {},
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

/// A client request being answered: who asked, and what.
struct client_call {
  gateway_ptr self;
  conn_ref c;
  uint64_t id;
  /// The request's name, for errors.
  const char* name;
};

/// Sends a request to `dest` and answers the client with `to_body` of the
/// result.
template <class T, class Dest, class F, class... Ts>
void relay(const client_call& k, const Dest& dest, F to_body, Ts&&... xs) {
  auto self = k.self;
  auto c = k.c;
  auto id = k.id;
  self->request(dest, caf::infinite, std::forward<Ts>(xs)...)
    .then([=](T& result) { reply_ok(self, c, id, to_body(result)); },
          [=](caf::error& err) { reply_error(self, c, id, err); });
}

/// Checks a request's fields in turn, before anything reaches the log; the
/// first failure is kept and the checks after it are skipped.
class field_check {
 public:
  explicit field_check(const char* request) : request_(request) {
    // nop
  }

  /// Text must be UTF-8: events are stored as JSON text.
  field_check& text(const char* field, const std::string& value) {
    if (!err_ && !is_valid_utf8(value))
      fail(field, "is not UTF-8");
    return *this;
  }

  field_check& text(const char* field,
                    const caf::optional<std::string>& value) {
    return value ? text(field, *value) : *this;
  }

  /// JSON text (of an object if `object_only`); rewritten compact.
  field_check& json(const char* field, std::string& value, bool object_only) {
    text(field, value);
    if (err_)
      return *this;
    // Bounded before anything copies or dumps the value (json_limits.hpp).
    std::string problem;
    auto parsed = try_parse_bounded(value, json_limits{}, &problem);
    if (!problem.empty())
      fail(field, ("is refused: " + problem).c_str());
    else if (parsed.is_discarded() || (object_only && !parsed.is_object()))
      fail(field, object_only ? "must be a JSON object" : "must be JSON");
    else
      value = parsed.dump();
    return *this;
  }

  field_check& json(const char* field, caf::optional<std::string>& value,
                    bool object_only) {
    return value ? json(field, *value, object_only) : *this;
  }

  /// Answers the first failure, if any; true when it did.
  bool refused(const client_call& k) const {
    if (!err_)
      return false;
    reply_error(k.self, k.c, k.id, err_);
    return true;
  }

 private:
  void fail(const char* field, const char* what) {
    err_ =
      make_error(error_code::bad_input, std::string{"request '"} + request_ +
                                          "': field '" + field + "' " + what);
  }

  const char* request_;
  caf::error err_;
};

nlohmann::json ok_body(const caf::ok_atom&) {
  return nlohmann::json{{"ok", true}};
}

nlohmann::json string_body(const std::string& str) {
  return nlohmann::json(str);
}

void handle(const client_call& k, client_register& r) {
  if (field_check{k.name}.text("ir", r.ir).refused(k))
    return;
  relay<std::string>(k, k.self->state.sched.supervisor, string_body,
                     register_atom::value, std::move(r.ir));
}

void handle(const client_call& k, client_start& r) {
  if (field_check{k.name}
        .text("workflow_id", r.workflow_id)
        .text("version", r.version)
        .json("input", r.input, true)
        .refused(k))
    return;
  start_request sr{std::move(r.workflow_id), r.version.value_or(""),
                   std::move(r.input), std::string{}};
  relay<std::string>(k, k.self->state.sched.supervisor, string_body,
                     start_atom::value, std::move(sr));
}

void handle(const client_call& k, client_await& r) {
  if (field_check{k.name}.text("execution_id", r.execution_id).refused(k))
    return;
  relay<execution_outcome>(
    k, k.self->state.sched.supervisor,
    [](const execution_outcome& out) { return to_json(out); },
    await_atom::value, std::move(r.execution_id));
}

void handle(const client_call& k, client_status& r) {
  if (field_check{k.name}.text("execution_id", r.execution_id).refused(k))
    return;
  relay<execution_record>(
    k, k.self->state.sched.supervisor,
    [](const execution_record& rec) { return to_json(rec); },
    status_atom::value, std::move(r.execution_id));
}

void handle(const client_call& k, client_list&) {
  relay<std::vector<execution_record>>(
    k, k.self->state.sched.backend,
    [](const std::vector<execution_record>& recs) {
      auto all = nlohmann::json::array();
      for (auto& r : recs)
        all.push_back(to_json(r));
      return all;
    },
    record_atom::value);
}

void handle(const client_call& k, client_events& r) {
  if (field_check{k.name}.text("execution_id", r.execution_id).refused(k))
    return;
  // The record first: an unknown execution is an error, not no events.
  auto self = k.self;
  auto exec = std::move(r.execution_id);
  self
    ->request(self->state.sched.backend, caf::infinite, record_atom::value,
              exec)
    .then(
      [=](execution_record&) {
        relay<std::vector<event>>(
          k, self->state.sched.backend,
          [](const std::vector<event>& events) {
            auto all = nlohmann::json::array();
            for (auto& e : events)
              all.push_back(to_json(e));
            return all;
          },
          read_atom::value, exec, uint64_t{1});
      },
      [=](caf::error& err) { reply_error(self, k.c, k.id, err); });
}

void handle(const client_call& k, client_cancel& r) {
  if (field_check{k.name}
        .text("execution_id", r.execution_id)
        .text("reason", r.reason)
        .refused(k))
    return;
  relay<caf::ok_atom>(k, k.self->state.sched.supervisor, ok_body,
                      cancel_atom::value, std::move(r.execution_id),
                      std::move(r.reason));
}

void handle(const client_call& k, client_signal& r) {
  if (field_check{k.name}
        .text("execution_id", r.execution_id)
        .text("key", r.key)
        .json("payload", r.payload, false)
        .refused(k))
    return;
  relay<caf::ok_atom>(k, k.self->state.sched.supervisor, ok_body,
                      signal_atom::value, std::move(r.execution_id),
                      std::move(r.key), std::move(r.payload));
}

void handle(const client_call& k, client_decide& r) {
  if (field_check{k.name}
        .text("execution_id", r.execution_id)
        .text("node_id", r.node_id)
        .text("user_id", r.user_id)
        .text("comment", r.comment)
        .json("state_patch", r.state_patch, true)
        .refused(k))
    return;
  approval_request ar;
  ar.node_id = std::move(r.node_id);
  ar.approved = r.approve;
  ar.user_id = std::move(r.user_id);
  ar.comment = std::move(r.comment);
  ar.state_patch = r.state_patch.value_or("");
  relay<caf::ok_atom>(k, k.self->state.sched.supervisor, ok_body,
                      approve_atom::value, std::move(r.execution_id),
                      std::move(ar));
}

/// One request, one handler: each checks its own fields and answers
/// through `reply_ok` or `reply_error`.
void on_request(gateway_ptr self, conn_ref c, wire_request& req) {
  client_call k{self, c, req.id, request_name(req.request)};
  caf::visit([&](auto& r) { handle(k, r); }, req.request);
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
        std::string problem;
        auto out = try_parse_bounded(res->output, json_limits{}, &problem);
        auto patch =
          out.is_discarded()
            ? out
            : try_parse_bounded(res->state_patch, json_limits{}, &problem);
        if (out.is_discarded() || patch.is_discarded() ||
            !(patch.is_object() || patch.is_null())) {
          res->ok = false;
          res->retryable = false;
          res->error = "worker '" + res->worker_id +
                       "' reported an output or state patch that is not "
                       "valid JSON";
          if (!problem.empty())
            res->error += " within the limits: " + problem;
          res->output.clear();
          res->state_patch.clear();
        }
      }
      if (!is_valid_utf8(res->error) || !is_valid_utf8(res->error_class) ||
          !is_valid_utf8(res->worker_id)) {
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
