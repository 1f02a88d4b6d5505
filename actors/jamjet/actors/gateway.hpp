#pragma once

// gateway: the scheduler node's door to workers and clients in other
// processes (`jamjet serve`), a caf::io broker speaking messages/wire.hpp.
//
// Per connection (inside a TLS session when the node has TLS: OpenSSL over
// memory buffers, support/tls.hpp), first frame: `wire_hello` (version,
// token, role). The token is compared in constant time against the
// node's access list; a wrong one gets `wire_refused` and the connection
// is closed. The token (or a verified client certificate's subject OU)
// gives the peer its access role: a worker connection needs `work`
// (worker, operator), a client connection `read` (viewer, operator), and
// each client request what `need_of` says, else it is refused with
// `access_denied`. Then:
//   worker: `wire_join` makes a link actor standing for the remote worker
//           (a `worker_actor` the dispatcher leases to and monitors);
//           `node_result` and `wire_heartbeat` go to the dispatcher; work
//           items and cancels travel back. When the connection drops, the
//           link actor exits, so the dispatcher reclaims its leases at once.
//   client: each `wire_request` carries one typed request
//           (messages/client_protocol.hpp: register, start, await, status,
//           list, events, cancel, signal, approve/reject), answered with a
//           `wire_reply` by that type's handler. A field that is not UTF-8,
//           or not JSON where JSON is due, is refused (`bad_input` naming
//           the request and the field) before anything reaches the log.
// A frame over the size limit, one that does not decode, or one the peer's
// role may not send closes that connection (logged); others are unaffected.
//
// Limits (messages/net_limits.hpp): connections in total and per peer
// address (over the cap: `wire_refused`, closed); a frame must be whole
// within a deadline of its first byte; each connection's buffer grows with
// the bytes that arrive (read in chunks), never with a length announced;
// failed authentications are counted per address, and past the limit that
// address's hellos are refused for a while. The listening socket is the
// gateway's own, accepted on a thread: when accept() fails for want of
// descriptors (EMFILE, ENFILE) it sheds the pending connection (with a
// reserve descriptor) and backs off instead of spinning.

#include <cstdint>
#include <string>

#include <caf/fwd.hpp>

#include "jamjet/actors/scheduler.hpp"
#include "jamjet/messages/access.hpp"
#include "jamjet/messages/net_limits.hpp"
#include "jamjet/messages/wire.hpp"
#include "jamjet/support/tls_config.hpp"

namespace jamjet {

/// Where and how a gateway listens.
struct gateway_config {
  /// Interface to bind ("127.0.0.1" by default; "0.0.0.0" for all).
  std::string host = "127.0.0.1";
  /// 0: any free port.
  uint16_t port = 0;
  /// The tokens peers authenticate with, each with its role
  /// (messages/access.hpp); empty: every peer is an operator (`--insecure`,
  /// loopback only).
  access_list access;
  /// TLS for every connection (support/tls_config.hpp); with a CA, a
  /// verified client certificate whose subject OU names a role
  /// authenticates as that role without a token.
  tls_config tls;
  uint32_t max_frame = default_max_frame;
  net_limits limits;
};

/// Spawns a gateway for `sched` listening as `cfg` says; returns it and
/// the bound port. Throws `jamjet::error(unavailable)` when it cannot bind.
std::pair<caf::actor, uint16_t> spawn_gateway(caf::actor_system& sys,
                                              const scheduler& sched,
                                              gateway_config cfg);

} // namespace jamjet
