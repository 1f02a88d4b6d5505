#pragma once

// The actor protocol: atoms and the structs actors exchange besides events,
// commands and work items. Actor interfaces (typed handles) are declared in
// each actor's header under actors/.

#include <cstdint>
#include <string>
#include <vector>

#include <caf/atom.hpp>
#include <caf/meta/type_name.hpp>

#include "jamjet/messages/event.hpp"
#include "jamjet/messages/execution_status_code.hpp"
#include "jamjet/messages/work_item.hpp"

namespace jamjet {

// -- atoms --------------------------------------------------------------------

/// Apply a command (backend).
using commit_atom = caf::atom_constant<caf::atom("commit")>;
/// Commit what is batched (backend, to itself).
using flush_atom = caf::atom_constant<caf::atom("flush")>;
/// Receive committed events or items (backend).
using subscribe_atom = caf::atom_constant<caf::atom("subscribe")>;
/// Read an execution's events (backend).
using read_atom = caf::atom_constant<caf::atom("read")>;
/// Read one execution record (backend) or many (with no id).
using record_atom = caf::atom_constant<caf::atom("record")>;
/// Read the dead letters (backend).
using dlq_atom = caf::atom_constant<caf::atom("dlq")>;
/// Store or register a workflow definition.
using register_atom = caf::atom_constant<caf::atom("register")>;
/// Start an execution (supervisor).
using start_atom = caf::atom_constant<caf::atom("start")>;
/// Wait for an execution's end (supervisor).
using await_atom = caf::atom_constant<caf::atom("await")>;
/// Ask for an execution's status (supervisor).
using status_atom = caf::atom_constant<caf::atom("status")>;
/// Cancel an execution (supervisor, execution) or a running item (worker).
using cancel_atom = caf::atom_constant<caf::atom("cancel")>;
/// A worker offers its queues and slots (dispatcher).
using join_atom = caf::atom_constant<caf::atom("join")>;
/// A lease is still in use (dispatcher), or time to send those (worker).
using heartbeat_atom = caf::atom_constant<caf::atom("heartbeat")>;
/// Start or move a lease deadline (lease reaper).
using track_atom = caf::atom_constant<caf::atom("track")>;
/// A lease ended normally (lease reaper).
using untrack_atom = caf::atom_constant<caf::atom("untrack")>;
/// An attempt failed under a lease (lease reaper).
using fail_atom = caf::atom_constant<caf::atom("fail")>;
/// A timer fired (dispatcher, lease reaper).
using tick_atom = caf::atom_constant<caf::atom("tick")>;
/// Resume what the store holds (backend, supervisor, dispatcher).
using recover_atom = caf::atom_constant<caf::atom("recover")>;
/// Deliver an external event (supervisor, execution).
using signal_atom = caf::atom_constant<caf::atom("signal")>;
/// Deliver an approval decision (supervisor, execution).
using approve_atom = caf::atom_constant<caf::atom("approve")>;
/// Read or drop requests left in the store by other processes (backend),
/// or time to look for them (supervisor).
using inbox_atom = caf::atom_constant<caf::atom("inbox")>;

// -- messages -----------------------------------------------------------------

/// Committed events, in commit order, as the backend publishes them.
struct published_events {
  std::vector<event> events;
  /// Set once when the store fails: nothing will be committed any more.
  std::string store_failure;
};

/// Work items changed by committed commands, as stored after the change.
struct published_items {
  std::vector<work_item> items;
};

/// A request to start an execution.
struct start_request {
  std::string workflow_id;
  /// Empty: the latest registered version.
  std::string version;
  /// JSON text of the initial input (an object).
  std::string input = "{}";
  /// Empty: a new UUID.
  std::string execution_id;
};

/// How an execution ended.
struct execution_outcome {
  std::string execution_id;
  /// Completed, failed or cancelled.
  execution_status_code status = execution_status_code::failed;
  /// JSON text of the final state (completed), else empty.
  std::string final_state;
  /// Why it failed or was cancelled, else empty.
  std::string error;
};

/// What a worker reports for an attempt.
struct node_result {
  std::string item_id;
  std::string execution_id;
  std::string node_id;
  /// The fence of the lease the attempt ran under.
  uint64_t fence = 0;
  std::string worker_id;
  uint32_t attempt = 0;
  bool ok = false;
  /// JSON text of the output (ok).
  std::string output;
  /// JSON text of the state patch (ok).
  std::string state_patch;
  uint64_t duration_ms = 0;
  /// Failure message (!ok).
  std::string error;
  /// Whether a failure may be retried (!ok).
  bool retryable = false;
  /// The failure's error class (timeout, rate_limit, ...; !ok), matched
  /// against the retry policy's `retryable_on`; empty: unclassified.
  std::string error_class;
};

/// A decision on a `human_approval` node.
struct approval_request {
  std::string node_id;
  bool approved = false;
  std::string user_id;
  caf::optional<std::string> comment;
  /// JSON text of a state patch applied on approval; empty: none.
  std::string state_patch;
};

/// A result for the attempt `item` is leased for, by `worker_id`, with
/// nothing reported yet.
inline node_result result_for(const work_item& item,
                              const std::string& worker_id) {
  node_result res;
  res.item_id = item.id;
  res.execution_id = item.execution_id;
  res.node_id = item.node_id;
  res.fence = item.fence;
  res.worker_id = worker_id;
  res.attempt = item.attempt;
  return res;
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, approval_request& x) {
  return f(caf::meta::type_name("approval_request"), x.node_id, x.approved,
           x.user_id, x.comment, x.state_patch);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, published_events& x) {
  return f(caf::meta::type_name("published_events"), x.events, x.store_failure);
}
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, published_items& x) {
  return f(caf::meta::type_name("published_items"), x.items);
}
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, start_request& x) {
  return f(caf::meta::type_name("start_request"), x.workflow_id, x.version,
           x.input, x.execution_id);
}
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, execution_outcome& x) {
  return f(caf::meta::type_name("execution_outcome"), x.execution_id, x.status,
           x.final_state, x.error);
}
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, node_result& x) {
  return f(caf::meta::type_name("node_result"), x.item_id, x.execution_id,
           x.node_id, x.fence, x.worker_id, x.attempt, x.ok, x.output,
           x.state_patch, x.duration_ms, x.error, x.retryable, x.error_class);
}

} // namespace jamjet
