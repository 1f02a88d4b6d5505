#include "jamjet/actors/gateway.hpp"

#include <atomic>
#include <cerrno>
#include <cstring>
#include <deque>
#include <map>
#include <memory>
#include <thread>

#include <arpa/inet.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <caf/all.hpp>
#include <caf/io/all.hpp>

#include "jamjet/messages/error.hpp"
#include "jamjet/messages/event_json.hpp"
#include "jamjet/messages/json_limits.hpp"
#include "jamjet/messages/record_json.hpp"
#include "jamjet/support/log.hpp"
#include "jamjet/support/tls.hpp"
#include "jamjet/support/utf8.hpp"

namespace jamjet {

namespace {

using caf::io::connection_handle;

/// Tells the gateway to write a frame to a connection.
using write_atom = caf::atom_constant<caf::atom("write")>;

/// A connection the listener accepted: its descriptor and peer address.
using accepted_atom = caf::atom_constant<caf::atom("accepted")>;

using clock_type = std::chrono::steady_clock;

/// The gateway's listening socket, accepted on a thread of its own. CAF's
/// doorman ignores a failing accept() (EMFILE: the socket stays readable,
/// so the multiplexer spins at full speed and serves nothing else);
/// here a failure sheds the pending connection and backs off.
class listener {
 public:
  /// Binds and listens; throws `error(unavailable)` when it cannot.
  listener(const std::string& host, uint16_t port) {
    addrinfo hints{};
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_PASSIVE;
    addrinfo* res = nullptr;
    auto service = std::to_string(port);
    auto rc = ::getaddrinfo(host.empty() ? nullptr : host.c_str(),
                            service.c_str(), &hints, &res);
    if (rc != 0)
      fail(host, port, ::gai_strerror(rc));
    std::string why = "no address";
    for (auto ai = res; ai != nullptr && fd_ < 0; ai = ai->ai_next) {
      int fd =
        ::socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC,
                 ai->ai_protocol);
      if (fd < 0) {
        why = std::strerror(errno);
        continue;
      }
      int on = 1;
      ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof(on));
      if (::bind(fd, ai->ai_addr, ai->ai_addrlen) != 0 ||
          ::listen(fd, SOMAXCONN) != 0) {
        why = std::strerror(errno);
        ::close(fd);
        continue;
      }
      fd_ = fd;
    }
    ::freeaddrinfo(res);
    if (fd_ < 0)
      fail(host, port, why);
    sockaddr_storage ss{};
    socklen_t len = sizeof(ss);
    ::getsockname(fd_, reinterpret_cast<sockaddr*>(&ss), &len);
    port_ = ntohs(ss.ss_family == AF_INET6
                    ? reinterpret_cast<sockaddr_in6*>(&ss)->sin6_port
                    : reinterpret_cast<sockaddr_in*>(&ss)->sin_port);
    wake_ = ::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    reserve_ = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
  }

  listener(const listener&) = delete;
  listener& operator=(const listener&) = delete;

  ~listener() {
    stop_ = true;
    uint64_t one = 1;
    if (wake_ >= 0 && ::write(wake_, &one, sizeof(one)) < 0) {
      // the thread still sees `stop_` within its poll timeout
    }
    if (thread_.joinable())
      thread_.join();
    for (int fd : {fd_, wake_, reserve_})
      if (fd >= 0)
        ::close(fd);
  }

  uint16_t port() const noexcept { return port_; }

  /// Accepts until destroyed, handing each connection to `gateway`.
  void start(caf::actor gateway) {
    thread_ = std::thread{[this, gateway] { run(gateway); }};
  }

 private:
  [[noreturn]] static void fail(const std::string& host, uint16_t port,
                                const std::string& why) {
    throw error(error_code::unavailable, "cannot listen on " + host + ":" +
                                           std::to_string(port) + ": " + why);
  }

  /// Waits for the listening socket (or for `ms`); false when stopping.
  bool wait(int ms, bool for_accept) {
    pollfd fds[2] = {{wake_, POLLIN, 0}, {fd_, POLLIN, 0}};
    ::poll(fds, for_accept ? 2 : 1, ms);
    return !stop_;
  }

  void run(const caf::actor& gateway) {
    auto backoff = std::chrono::milliseconds{10};
    auto last_warning = clock_type::time_point{};
    uint64_t shed = 0;
    while (wait(1000, true)) {
      sockaddr_storage ss{};
      socklen_t len = sizeof(ss);
      int fd = ::accept4(fd_, reinterpret_cast<sockaddr*>(&ss), &len,
                         SOCK_NONBLOCK | SOCK_CLOEXEC);
      if (fd >= 0) {
        backoff = std::chrono::milliseconds{10};
        if (reserve_ < 0)
          reserve_ = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
        int on = 1;
        ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &on, sizeof(on));
        caf::anon_send(gateway, accepted_atom::value, static_cast<int64_t>(fd),
                       address_of(ss));
        continue;
      }
      auto err = errno;
      if (err == EAGAIN || err == EWOULDBLOCK || err == EINTR ||
          err == ECONNABORTED || err == EPROTO)
        continue;
      // Out of descriptors (EMFILE, ENFILE) or memory: the pending
      // connection would keep the socket readable; with the reserve
      // descriptor freed, take it and close it, then wait a little.
      if (reserve_ >= 0) {
        ::close(reserve_);
        reserve_ = -1;
        int pending = ::accept4(fd_, nullptr, nullptr, SOCK_CLOEXEC);
        if (pending >= 0) {
          ::close(pending);
          ++shed;
        }
        reserve_ = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
      }
      auto now = clock_type::now();
      if (now - last_warning >= std::chrono::seconds{10}) {
        last_warning = now;
        log()->warn("cannot accept connections: {}; backing off ({} "
                    "refused so far)",
                    std::strerror(err), shed);
      }
      if (!wait(static_cast<int>(backoff.count()), false))
        return;
      backoff = std::min(backoff * 2, std::chrono::milliseconds{1000});
    }
  }

  static std::string address_of(const sockaddr_storage& ss) {
    char buf[INET6_ADDRSTRLEN] = {0};
    if (ss.ss_family == AF_INET)
      ::inet_ntop(AF_INET, &reinterpret_cast<const sockaddr_in*>(&ss)->sin_addr,
                  buf, sizeof(buf));
    else if (ss.ss_family == AF_INET6)
      ::inet_ntop(AF_INET6,
                  &reinterpret_cast<const sockaddr_in6*>(&ss)->sin6_addr, buf,
                  sizeof(buf));
    return buf;
  }

  int fd_ = -1;
  int wake_ = -1;
  /// Held so that one descriptor can be freed when there are none left.
  int reserve_ = -1;
  uint16_t port_ = 0;
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

/// One connected peer.
struct peer {
  /// Distinguishes connections that reuse a handle (a file descriptor).
  uint64_t serial = 0;
  bool authed = false;
  std::string role;
  std::string name;
  /// What the peer authenticated as (once `authed`).
  access_role access = access_role::viewer;
  /// The peer's address, for the caps and the logs.
  std::string addr;
  /// The TLS session, on a node with TLS.
  std::unique_ptr<tls_session> tls;
  /// Bytes came through the TLS session already.
  bool tls_started = false;
  /// Plain text received and not yet a whole frame; grows only with it.
  frame_splitter frames_in;
  /// Frames read so far; names the frame a deadline is for.
  uint64_t frames = 0;
  /// The frame whose deadline is set (frames + 1 when none).
  uint64_t deadline_for = ~uint64_t{0};
  /// The actor standing for a remote worker.
  worker_actor link;
};

/// Failed authentications from one address.
struct auth_record {
  std::deque<clock_type::time_point> failures;
  clock_type::time_point blocked_until{};
  /// Hellos refused during the current block.
  uint64_t refused = 0;
};

/// A connection as replies and link actors remember it.
struct conn_ref {
  connection_handle hdl;
  uint64_t serial = 0;
};

/// Frames a peer may send before its hello: a hello is small.
constexpr uint32_t max_hello_frame = 64 * 1024;

/// Fires when a peer's hello is due.
using deadline_atom = caf::atom_constant<caf::atom("deadline")>;

/// Fires when a frame under way is due.
using frame_due_atom = caf::atom_constant<caf::atom("framedue")>;

struct gateway_state {
  scheduler sched;
  gateway_config cfg;
  std::map<connection_handle, peer> peers;
  uint64_t next_serial = 0;
  /// Open connections per peer address.
  std::map<std::string, uint32_t> per_peer;
  /// Bytes in all peers' buffers.
  size_t buffered = 0;
  std::map<std::string, auth_record> auth;
  /// When a refused connection was last logged, and how many since.
  clock_type::time_point last_cap_warning{};
  uint64_t caps_unlogged = 0;
  std::unique_ptr<listener> door;
  /// Set when the node speaks TLS.
  std::shared_ptr<tls_context> tls;

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

/// Writes what the peer's TLS session has for the socket.
void flush_tls(gateway_ptr self, connection_handle hdl, tls_session& tls) {
  std::vector<char> out;
  if (tls.take_output(out)) {
    self->write(hdl, out.size(), out.data());
    self->flush(hdl);
  }
}

void write_frame(gateway_ptr self, connection_handle hdl,
                 const std::vector<char>& frame) {
  auto i = self->state.peers.find(hdl);
  if (i != self->state.peers.end() && i->second.tls) {
    i->second.tls->send(frame.data(), frame.size());
    flush_tls(self, hdl, *i->second.tls);
    return;
  }
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
  auto& st = self->state;
  if (!why.empty())
    log()->warn("closing connection of {} '{}' ({}): {}",
                i->second.role.empty() ? "peer" : i->second.role,
                i->second.name, i->second.addr, why);
  if (i->second.link)
    self->send_exit(i->second.link, caf::exit_reason::remote_link_unreachable);
  st.buffered -= i->second.frames_in.buffered();
  auto c = st.per_peer.find(i->second.addr);
  if (c != st.per_peer.end() && --c->second == 0)
    st.per_peer.erase(c);
  st.peers.erase(i);
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

/// The role a hello authenticates as: a verified client certificate's
/// subject OU when it names a role, else the token's; none when neither
/// does.
std::optional<access_role> authenticate(const gateway_state& st, const peer& p,
                                        const wire_hello& hello) {
  if (p.tls && p.tls->peer_verified())
    if (auto ou = p.tls->peer_subject("OU"))
      if (auto role = parse_access_role(*ou))
        return role;
  return st.cfg.access.role_of(hello.token);
}

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
  auto& st = self->state;
  auto& lim = st.cfg.limits;
  auto now = clock_type::now();
  auto rec = st.auth.find(p.addr);
  if (rec != st.auth.end() && now < rec->second.blocked_until) {
    // Refused whatever the token: not checked, not logged one by one.
    ++rec->second.refused;
    auto left = std::chrono::duration_cast<std::chrono::seconds>(
                  rec->second.blocked_until - now)
                  .count() +
                1;
    send_msg(self, hdl,
             wire_refused{"too many failed authentications from " + p.addr +
                          "; try again in " + std::to_string(left) + " s"});
    drop(self, hdl, "", true);
    return;
  }
  auto granted = authenticate(self->state, p, *hello);
  if (!granted) {
    send_msg(
      self, hdl,
      wire_refused{hello->token.empty()
                     ? "this scheduler requires a token (--token-file or "
                       "JAMJET_TOKEN)"
                     : "wrong token"});
    if (rec == st.auth.end()) {
      if (st.auth.size() >= 4096) { // forget addresses in good standing
        for (auto j = st.auth.begin(); j != st.auth.end();) {
          if (now >= j->second.blocked_until &&
              (j->second.failures.empty() ||
               now - j->second.failures.back() > lim.auth_window))
            j = st.auth.erase(j);
          else
            ++j;
        }
      }
      rec = st.auth.emplace(p.addr, auth_record{}).first;
    }
    auto& fails = rec->second.failures;
    while (!fails.empty() && now - fails.front() > lim.auth_window)
      fails.pop_front();
    fails.push_back(now);
    if (lim.max_auth_failures > 0 && fails.size() >= lim.max_auth_failures) {
      rec->second.blocked_until = now + lim.auth_backoff;
      if (rec->second.refused > 0)
        log()->warn("{} more hellos from {} were refused while it was "
                    "blocked",
                    rec->second.refused, p.addr);
      rec->second.refused = 0;
      fails.clear();
      log()->warn("{} failed authentications from {} within {} ms: refusing "
                  "its hellos for {} ms",
                  lim.max_auth_failures, p.addr, lim.auth_window.count(),
                  lim.auth_backoff.count());
      drop(self, hdl, "", true);
    } else {
      drop(self, hdl,
           "wrong or missing token (failure " + std::to_string(fails.size()) +
             " of " + std::to_string(lim.max_auth_failures) + " allowed in " +
             std::to_string(lim.auth_window.count()) + " ms)",
           true);
    }
    return;
  }
  if (hello->role != "worker" && hello->role != "client") {
    send_msg(self, hdl, wire_refused{"unknown role '" + hello->role + "'"});
    drop(self, hdl, "unknown role", true);
    return;
  }
  auto need = hello->role == "worker" ? access_need::work : access_need::read;
  if (!permits(*granted, need)) {
    auto why =
      refusal(*granted, need) + " (it connected as a " + hello->role + ")";
    send_msg(self, hdl, wire_refused{why});
    drop(self, hdl, why, true);
    return;
  }
  p.authed = true;
  p.access = *granted;
  p.role = hello->role;
  p.name = hello->name;
  log()->info("{} '{}' connected ({}{})", p.role, p.name, to_string(p.access),
              p.tls ? ", TLS" : "");
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
    auto need = need_of(req->request);
    if (!permits(p.access, need)) {
      reply_error(self, conn_ref{hdl, p.serial}, req->id,
                  make_error(error_code::access_denied,
                             std::string{"request '"} +
                               request_name(req->request) +
                               "' refused: " + refusal(p.access, need)));
      return;
    }
    on_request(self, conn_ref{hdl, p.serial}, *req);
    return;
  }
  drop(self, hdl, "unexpected message for a " + p.role);
}

/// Refuses a connection over a cap: a refusal if the socket takes it at
/// once, then closed; logged at most every 10 s.
void refuse_accepted(gateway_ptr self, int fd, const std::string& addr,
                     const std::string& why) {
  auto frame = encode_frame(wire_msg{wire_refused{why}});
  if (::send(fd, frame.data(), frame.size(), MSG_DONTWAIT | MSG_NOSIGNAL) < 0) {
    // the peer goes without the reason
  }
  ::close(fd);
  auto& st = self->state;
  auto now = clock_type::now();
  if (now - st.last_cap_warning >= std::chrono::seconds{10}) {
    log()->warn("refused a connection from {}: {} ({} more refused since "
                "the last such line)",
                addr, why, st.caps_unlogged);
    st.last_cap_warning = now;
    st.caps_unlogged = 0;
  } else {
    ++st.caps_unlogged;
  }
}

void on_accepted(gateway_ptr self, int fd, const std::string& addr) {
  auto& st = self->state;
  auto& lim = st.cfg.limits;
  if (st.peers.size() >= lim.max_connections) {
    refuse_accepted(self, fd, addr,
                    "too many connections (limit " +
                      std::to_string(lim.max_connections) + ")");
    return;
  }
  auto& n = st.per_peer[addr];
  if (n >= lim.max_connections_per_peer) {
    refuse_accepted(self, fd, addr,
                    "too many connections from " + addr + " (limit " +
                      std::to_string(lim.max_connections_per_peer) + ")");
    return;
  }
  ++n;
  auto hdl = self->add_scribe(fd);
  auto serial = ++st.next_serial;
  auto& p = st.peers[hdl];
  p.serial = serial;
  p.addr = addr;
  if (st.tls)
    p.tls = std::make_unique<tls_session>(st.tls, tls_session::server_side);
  self->configure_read(hdl, caf::io::receive_policy::at_most(lim.read_chunk));
  self->delayed_send(self, lim.hello_timeout, deadline_atom::value, hdl,
                     serial);
}

/// Takes plain text that arrived: cuts whole frames from the peer's buffer
/// and handles them in turn; a frame left under way must be whole in time.
void on_plain(gateway_ptr self, connection_handle hdl, const char* data,
              size_t n) {
  auto& st = self->state;
  auto i = st.peers.find(hdl);
  if (i == st.peers.end())
    return;
  auto serial = i->second.serial;
  if (st.buffered + n > st.cfg.limits.max_buffered) {
    drop(self, hdl,
         "the node's network buffers are full (" +
           std::to_string(st.cfg.limits.max_buffered) + " bytes)");
    return;
  }
  i->second.frames_in.append(data, n);
  st.buffered += n; // always the sum of what the peers' splitters hold
  for (;;) {
    auto& p = i->second;
    auto had = p.frames_in.buffered();
    // Before the hello only a hello's worth.
    auto msg = p.frames_in.next(p.authed ? st.cfg.max_frame : max_hello_frame);
    st.buffered -= had - p.frames_in.buffered();
    if (!msg) {
      drop(self, hdl, error_message(msg.error()));
      return;
    }
    if (!*msg)
      break;
    ++p.frames;
    on_frame(self, hdl, p, **msg);
    i = st.peers.find(hdl);
    if (i == st.peers.end() || i->second.serial != serial)
      return; // the frame closed the connection (drop settled the count)
  }
  auto& p = i->second;
  if (p.frames_in.buffered() > 0 && p.deadline_for != p.frames) {
    p.deadline_for = p.frames;
    self->delayed_send(self, st.cfg.limits.frame_timeout, frame_due_atom::value,
                       hdl, serial, p.frames);
  }
}

/// Takes bytes that arrived: through the peer's TLS session on a node with
/// TLS, then as plain text.
void on_data(gateway_ptr self, connection_handle hdl,
             const std::vector<char>& bytes) {
  auto i = self->state.peers.find(hdl);
  if (i == self->state.peers.end())
    return;
  auto& p = i->second;
  if (!p.tls) {
    if (p.frames == 0 && p.frames_in.buffered() == 0 && !bytes.empty() &&
        looks_like_tls(static_cast<unsigned char>(bytes[0]))) {
      // A TLS handshake to a plain node: a refusal it can read (its peer
      // sees plain text where a TLS record was due, and says so).
      send_msg(self, hdl,
               wire_refused{"this node does not speak TLS: connect without "
                            "--tls, --tls-ca and --tls-cert"});
      drop(self, hdl, "a peer spoke TLS to a node without TLS", true);
      return;
    }
    on_plain(self, hdl, bytes.data(), bytes.size());
    return;
  }
  if (!p.tls_started && !bytes.empty() &&
      !looks_like_tls(static_cast<unsigned char>(bytes[0]))) {
    // A peer speaking plain text to a TLS node: tell it so, in plain text.
    auto why = std::string{"this node speaks TLS: connect with --tls-ca "
                           "(or --tls)"};
    auto frame = encode_frame(wire_msg{wire_refused{why}});
    self->write(hdl, frame.size(), frame.data());
    self->flush(hdl);
    drop(self, hdl, "a peer spoke plain text to a TLS node", true);
    return;
  }
  p.tls_started = true;
  std::vector<char> plain;
  bool ok = p.tls->receive(bytes.data(), bytes.size(), plain);
  flush_tls(self, hdl, *p.tls);
  if (!ok) {
    drop(self, hdl, p.tls->error(), true);
    return;
  }
  if (!plain.empty())
    on_plain(self, hdl, plain.data(), plain.size());
}

caf::behavior gateway_impl(gateway_ptr self, scheduler sched,
                           gateway_config cfg, listener* door,
                           std::shared_ptr<tls_context> tls) {
  self->state.sched = std::move(sched);
  self->state.tls = std::move(tls);
  self->state.cfg = std::move(cfg);
  self->state.door.reset(door);
  door->start(caf::actor{self});
  return {
    [=](accepted_atom, int64_t fd, const std::string& addr) {
      on_accepted(self, static_cast<int>(fd), addr);
    },
    [=](frame_due_atom, connection_handle hdl, uint64_t serial,
        uint64_t frames) {
      auto i = self->state.peers.find(hdl);
      if (i != self->state.peers.end() && i->second.serial == serial &&
          i->second.frames == frames && i->second.frames_in.buffered() > 0)
        drop(self, hdl,
             "a frame was not whole within " +
               std::to_string(self->state.cfg.limits.frame_timeout.count()) +
               " ms of its first byte (" +
               std::to_string(i->second.frames_in.buffered()) + " bytes came)");
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
             "no hello within " +
               std::to_string(self->state.cfg.limits.hello_timeout.count()) +
               " ms");
    },
    [=](caf::io::new_data_msg& msg) { on_data(self, msg.handle, msg.buf); },
    [=](const caf::io::connection_closed_msg& msg) {
      auto i = self->state.peers.find(msg.handle);
      if (i == self->state.peers.end())
        return;
      log()->info("{} '{}' disconnected", i->second.role, i->second.name);
      drop(self, msg.handle, "");
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
  std::shared_ptr<tls_context> tls;
  if (cfg.tls.enabled) {
    try {
      tls = tls_context::server(cfg.tls);
    } catch (const tls_error& ex) {
      throw error(error_code::bad_input, ex.what());
    }
  }
  auto door = std::make_unique<listener>(cfg.host, cfg.port);
  auto port = door->port();
  auto gw = sys.middleman().spawn_broker(gateway_impl, sched, std::move(cfg),
                                         door.release(), std::move(tls));
  return {gw, port};
}

} // namespace jamjet
