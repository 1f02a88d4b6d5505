#pragma once

// lease reaper: turns expired and failed leases into retries or dead letters.
//
// Protocol:
//   (track, lease_entry)               a lease began, or its deadline moved
//   (untrack, item_id, fence)          a lease ended with a result
//   (fail, item_id, fence, error, retryable)
//                                      an attempt failed (handler failure or
//                                      dead worker): reclaim it now
//   (tick, generation)                 (to itself) the earliest deadline
//
// Deadlines are kept in order with one timer for the earliest. Every
// reclaim is one backend command built by `plan_attempt_failure`:
// NodeFailed + RetryScheduled + a delayed requeue, or a terminal NodeFailed
// + a dead letter once attempts are exhausted. The backend refuses it if the
// fence is no longer current, so a reclaim racing a result is harmless.

#include <cstdint>
#include <string>

#include <caf/fwd.hpp>
#include <caf/typed_actor.hpp>

#include "jamjet/actors/backend.hpp"
#include "jamjet/core/retry.hpp"

namespace jamjet {

/// The lease reaper's interface.
using reaper_actor = caf::typed_actor<
  caf::reacts_to<track_atom, lease_entry>,
  caf::reacts_to<untrack_atom, std::string, uint64_t>,
  caf::reacts_to<fail_atom, std::string, uint64_t, std::string, bool>,
  caf::reacts_to<tick_atom, uint64_t>>;

/// Spawns a lease reaper committing through `backend`.
reaper_actor spawn_lease_reaper(caf::actor_system& sys, backend_actor backend);

} // namespace jamjet
