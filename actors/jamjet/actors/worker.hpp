#pragma once

// worker: runs node handlers for the items the dispatcher pushes to it.
//
// Protocol:
//   work_item              an item under a lease (its `fence`); run it
//   (cancel, item_id)      ask the running handler of an item to stop
//   tick, generation       (to itself) heartbeat the running leases
//   node_result            (from a slot thread) a blocking handler finished
//
// On start it joins its dispatcher with its queue types and slot count.
// Blocking handlers run on slot threads, off CAF's scheduler; while any run,
// the worker heartbeats their leases every `heartbeat_interval` (more often
// for items whose lease is shorter than three intervals). Results go
// to the dispatcher with the fence they were run under.

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include <caf/fwd.hpp>
#include <caf/typed_actor.hpp>

#include "jamjet/core/handler.hpp"
#include "jamjet/messages/protocol.hpp"

namespace jamjet {

/// The worker's interface.
/// `(status) -> n`: attempts running now (for draining).
using worker_actor = caf::typed_actor<
  caf::reacts_to<work_item>, caf::reacts_to<cancel_atom, std::string>,
  caf::reacts_to<tick_atom, uint64_t>, caf::reacts_to<node_result>,
  caf::replies_to<status_atom>::with<uint32_t>>;

/// What a worker needs of its dispatcher (a subset of the dispatcher's
/// interface, so a worker can also serve a remote scheduler's gateway).
using worker_host_actor =
  caf::typed_actor<caf::reacts_to<join_atom, worker_actor, std::string,
                                  std::vector<std::string>, uint32_t>,
                   caf::reacts_to<node_result>,
                   caf::reacts_to<heartbeat_atom, std::string, uint64_t>>;

/// How a worker runs.
struct worker_config {
  /// Identity in events and leases; empty: a generated one.
  std::string id;
  /// Queue types served; "*" serves every queue.
  std::vector<std::string> queues{"*"};
  /// Handlers run at once at most.
  uint32_t slots = 4;
  /// Interval of heartbeats for running leases.
  std::chrono::milliseconds heartbeat_interval{10000};
};

/// Spawns a worker that joins `host` and runs `handlers`.
worker_actor spawn_worker(caf::actor_system& sys, worker_host_actor host,
                          std::shared_ptr<const handler_registry> handlers,
                          worker_config cfg);

} // namespace jamjet
