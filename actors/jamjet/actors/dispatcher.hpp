#pragma once

// dispatcher: typed queues of ready items, and the leases given to workers.
//
// Protocol:
//   published_items                     (from the backend) items changed by
//                                       commits: ready ones are queued
//                                       (delayed until `not_before`), ended
//                                       ones forgotten, cancelled ones
//                                       stopped at their worker
//   (join, worker, id, queues, slots)   a worker offers slots for queues
//   node_result                         a worker's result for a lease
//   (heartbeat, item_id, fence)         a lease is still in use
//   (tick, generation)                  (to itself) delayed items are due
//   (workers) -> [worker_summary]       the workers joined now, in join
//                                       order (GET /workers)
//   (recover, items)                    open items found in the store after
//                                       a restart: ready ones are queued,
//                                       leased ones get one lease period for
//                                       their old holder to report, then
//                                       are reclaimed like any expiry
//
// An item goes to a free worker the moment both exist, under a lease: a
// fence token unique to this lease and a deadline. The lease is committed
// with a `NodeStarted` event and tracked by the lease reaper. A completed
// result with the current fence is committed as `NodeCompleted` + settle; a
// failure goes to the reaper's one failure path. A result with a stale fence
// changes nothing. Workers are monitored: when one goes down, its leases are
// reclaimed at once.

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

#include <caf/actor_addr.hpp>
#include <caf/fwd.hpp>
#include <caf/meta/type_name.hpp>
#include <caf/typed_actor.hpp>

#include "jamjet/actors/backend.hpp"
#include "jamjet/actors/lease_reaper.hpp"
#include "jamjet/actors/worker.hpp"

namespace jamjet {

/// Ask for the workers joined to a dispatcher.
using workers_atom = caf::atom_constant<caf::atom("workers")>;

/// A worker as the dispatcher sees it.
struct worker_summary {
  std::string id;
  std::vector<std::string> queues;
  /// Leases it may hold at once, and holds now.
  uint32_t slots = 0;
  uint32_t busy = 0;
  /// The actor standing for it (a local worker, a gateway link, an HTTP
  /// worker), so the caller can tell which are its own.
  caf::actor_addr address;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, worker_summary& x) {
  return f(caf::meta::type_name("worker_summary"), x.id, x.queues, x.slots,
           x.busy, x.address);
}

/// The dispatcher's interface.
using dispatcher_actor = caf::typed_actor<
  caf::reacts_to<published_items>,
  caf::reacts_to<join_atom, worker_actor, std::string, std::vector<std::string>,
                 uint32_t>,
  caf::reacts_to<node_result>,
  caf::reacts_to<heartbeat_atom, std::string, uint64_t>,
  caf::reacts_to<tick_atom, uint64_t>,
  caf::reacts_to<recover_atom, std::vector<work_item>>,
  caf::replies_to<workers_atom>::with<std::vector<worker_summary>>>;

/// How the dispatcher leases.
struct dispatcher_config {
  /// Lease period; a lease not heartbeaten for this long is reclaimed.
  std::chrono::milliseconds lease{30000};
};

/// Spawns a dispatcher committing through `backend`.
dispatcher_actor spawn_dispatcher(caf::actor_system& sys, backend_actor backend,
                                  reaper_actor reaper,
                                  dispatcher_config cfg = {});

} // namespace jamjet
