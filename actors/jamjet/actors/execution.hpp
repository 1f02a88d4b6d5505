#pragma once

// execution: one actor per running execution.
//
// Protocol:
//   [event]                committed events of this execution, in order
//   (cancel, reason)       cancel: no more dispatch; in-flight nodes are
//                          cancelled, then the workflow
//   (signal, key, payload) -> ok
//                          an external event: committed as
//                          `ExternalEventReceived` when a wait node of the
//                          workflow that has not ended waits for `key`;
//                          an error otherwise
//   (approve, approval_request) -> ok
//                          a decision on a human_approval node that has not
//                          ended: committed as `ApprovalReceived`
//   (recover, snapshot, seq, [event])
//                          after a restart: restore the snapshot, fold the
//                          events after it (the whole log is read again
//                          when the snapshot does not fit)
//
// Every command it sends carries a snapshot of its progress, so recovery
// folds only what was committed after its last wake.
//
// On each wake it folds the new events into its `progress`, then either
// commits the execution's end (completed when every node is done or
// skipped; failed when a terminal failure leaves no work in flight, or when
// the workflow timer fires; cancelled) or, in one command: skips the nodes
// no live path reaches, settles waiting nodes whose event, decision or
// timer came, and starts runnable nodes in rank order (at most
// `max_in_flight` in flight and `max_per_wake` per wake). Work nodes are
// scheduled with their work item; condition, wait and approval nodes run
// here (runtime/scheduler_nodes.hpp). It is woken only by committed events
// (timers fire as committed `TimerFired` events), signals and cancel, and
// quits once its execution is terminal.

#include <cstddef>
#include <functional>
#include <string>
#include <vector>

#include <caf/fwd.hpp>
#include <caf/typed_actor.hpp>

#include "jamjet/actors/backend.hpp"
#include "jamjet/core/graph.hpp"

namespace jamjet {

/// The execution actor's interface.
using execution_actor = caf::typed_actor<
  caf::reacts_to<std::vector<event>>, caf::reacts_to<cancel_atom, std::string>,
  caf::reacts_to<recover_atom, std::string, uint64_t, std::vector<event>>,
  caf::replies_to<signal_atom, std::string, std::string>::with<caf::ok_atom>,
  caf::replies_to<approve_atom, approval_request>::with<caf::ok_atom>>;

/// Dispatch limits of an execution.
struct execution_limits {
  /// Nodes in flight (scheduled, not settled) at most.
  size_t max_in_flight = 16;
  /// Nodes scheduled per wake at most.
  size_t max_per_wake = 8;
  /// Tests only: runs before each committed event is folded. A throw from
  /// it stands for a defect inside the actor, which must fail that one
  /// execution and nothing else.
  std::function<void(const event&)> before_fold;
};

/// Spawns the actor for execution `id` of `graph`.
execution_actor spawn_execution(caf::actor_system& sys, std::string id,
                                graph_ptr graph, backend_actor backend,
                                execution_limits limits);

} // namespace jamjet
