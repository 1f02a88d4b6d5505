#pragma once

// hub: the HTTP worker protocol's side of the scheduler. Every HTTP worker
// (a `worker_id` that claims over POST /work-items/claim) is a worker like
// any other: the hub spawns a `worker_actor` standing for it (a *proxy*,
// like the gateway's link actor), which joins the dispatcher and is leased
// to, fenced, heartbeat-extended and reclaimed like a local worker.
//
// Protocol:
//   (claim, worker_id, queues, wait_ms) -> claim_result
//        an item leased to the worker, or nothing after `wait_ms`. While a
//        claim waits the proxy offers the dispatcher one more slot, so an
//        item that becomes ready goes to the waiting claim at once.
//   (settle, settle_request) -> settle_outcome
//        a completion or failure: forwarded to the dispatcher as the
//        worker's `node_result` when the item is held under that fence
//   (heartbeat, item_id, worker_id, fence) -> settle_outcome
//        extends the lease when it is held under that fence
//   (workers) -> [worker_view]   the dispatcher's workers, marked by
//                                transport
//   (pushed, worker_id, item)    (from a proxy) the dispatcher leased an
//                                item to the worker
//   (lost, worker_id, item_id)   (from a proxy) the lease ended without the
//                                worker (expired, cancelled, timed out)
//   (claim_due, worker_id, serial), (tick)   (to itself) timers
//
// Items pushed while no claim waits are kept for the next claim (their
// lease runs). A worker that holds nothing and has not been heard from for
// `idle` is dropped: its proxy exits, so the dispatcher reclaims what it
// was pushed at once. The hub is linked to the supervisor and ends with it.

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

#include <caf/fwd.hpp>
#include <caf/typed_actor.hpp>

#include "jamjet/actors/scheduler.hpp"

namespace jamjet::http {

using claim_atom = caf::atom_constant<caf::atom("claim")>;
using settle_atom = caf::atom_constant<caf::atom("settle")>;
using pushed_atom = caf::atom_constant<caf::atom("pushed")>;
using lost_atom = caf::atom_constant<caf::atom("lost")>;
using claim_due_atom = caf::atom_constant<caf::atom("claimdue")>;

/// The answer to a claim.
struct claim_result {
  bool claimed = false;
  /// The leased item (claimed).
  work_item item;
};

/// A worker's completion or failure of an item it claimed.
struct settle_request {
  std::string item_id;
  /// Whether the worker echoed the lease fence (JamJet's workers do; an
  /// absent fence settles the current lease, as JamJet's legacy path).
  bool has_fence = false;
  uint64_t fence = 0;
  bool ok = false;
  /// JSON text (ok).
  std::string output = "null";
  std::string state_patch = "{}";
  uint64_t duration_ms = 0;
  /// Failure message (!ok).
  std::string error;
};

/// What became of a settle or heartbeat.
enum class settle_status : uint8_t {
  /// Forwarded under the current lease.
  accepted,
  /// No HTTP worker holds the item (never claimed, or its lease ended).
  not_held,
  /// Held, but under another fence.
  stale_fence,
};

struct settle_outcome {
  settle_status status = settle_status::not_held;
  /// The item as leased (accepted).
  work_item item;
};

/// A worker joined to the dispatcher, with its transport.
struct worker_view {
  worker_summary summary;
  /// "http" for the hub's own, "native" for local and binary-protocol ones.
  std::string transport;
  /// HTTP workers: when last heard from (wall ms), items claimed and not
  /// settled, and claims waiting now.
  int64_t last_seen_ms = 0;
  uint32_t claimed = 0;
  uint32_t waiting = 0;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, claim_result& x) {
  return f(caf::meta::type_name("claim_result"), x.claimed, x.item);
}
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, settle_request& x) {
  return f(caf::meta::type_name("settle_request"), x.item_id, x.has_fence,
           x.fence, x.ok, x.output, x.state_patch, x.duration_ms, x.error);
}
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, settle_outcome& x) {
  return f(caf::meta::type_name("settle_outcome"), x.status, x.item);
}
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, worker_view& x) {
  return f(caf::meta::type_name("worker_view"), x.summary, x.transport,
           x.last_seen_ms, x.claimed, x.waiting);
}

/// The hub's interface.
using hub_actor = caf::typed_actor<
  caf::replies_to<claim_atom, std::string, std::vector<std::string>,
                  uint32_t>::with<claim_result>,
  caf::replies_to<settle_atom, settle_request>::with<settle_outcome>,
  caf::replies_to<heartbeat_atom, std::string, std::string,
                  uint64_t>::with<settle_outcome>,
  caf::replies_to<workers_atom>::with<std::vector<worker_view>>,
  caf::reacts_to<pushed_atom, std::string, work_item>,
  caf::reacts_to<lost_atom, std::string, std::string>,
  caf::reacts_to<claim_due_atom, std::string, uint64_t>,
  caf::reacts_to<tick_atom>>;

/// How the hub treats its workers.
struct hub_config {
  /// A worker that holds nothing and was not heard from for this long is
  /// dropped.
  std::chrono::milliseconds idle{60000};
  /// How often idle workers are looked for.
  std::chrono::milliseconds sweep{5000};
};

/// Spawns a hub for the scheduler `sched`.
hub_actor spawn_hub(caf::actor_system& sys, const scheduler& sched,
                    hub_config cfg = {});

} // namespace jamjet::http
