#pragma once

// The uplink: a caf::io broker at the client end of a connection to a
// scheduler node (`jamjet serve`), used by remote clients and workers.
//
//   (welcome_atom)                  -> "welcome" once the node accepted the
//                                      hello, or the node's refusal
//   (call_atom, client_request)     -> the reply's JSON body, or its error
//   (join_atom, worker, id, queues, slots)   a local worker offers slots
//   (node_result), (heartbeat_atom, item_id, fence)   from the local worker
//   (drain_atom, grace_ms)          offer no slots, wait for running work
//                                   (at most grace_ms), then quit
//
// It ends (failing whatever waits on it) when the connection drops, the
// node refuses the hello, or the node sends something unexpected.

#include <cstdint>
#include <memory>
#include <string>

#include <caf/actor.hpp>
#include <caf/actor_system.hpp>
#include <caf/atom.hpp>
#include <caf/expected.hpp>

#include "jamjet/actors/system_config.hpp"
#include "jamjet/messages/client_protocol.hpp"

namespace jamjet {
class tls_context;
} // namespace jamjet

namespace jamjet {

using call_atom = caf::atom_constant<caf::atom("call")>;
using welcome_atom = caf::atom_constant<caf::atom("welcome")>;
using drain_atom = caf::atom_constant<caf::atom("drain")>;

/// An actor system able to open connections (middleman loaded, 2 threads).
std::unique_ptr<caf::actor_system> network_system(system_config& cfg);

/// "HOST-PID": how a peer names itself by default.
std::string default_peer_name();

/// Connects an uplink as `role` ("client" or "worker") and sends the hello
/// (inside a TLS session when `tls` is set: the node's certificate is
/// verified, its name against `host`); an error when the node cannot be
/// reached.
caf::expected<caf::actor>
connect_uplink(caf::actor_system& sys, const std::string& host, uint16_t port,
               const std::string& role, const std::string& name,
               const std::string& token, std::shared_ptr<tls_context> tls = {});

/// Waits (up to 10 s) for the node's welcome; throws its refusal
/// (`access_denied`) or `unavailable`.
void await_welcome(caf::actor_system& sys, const caf::actor& uplink);

} // namespace jamjet
