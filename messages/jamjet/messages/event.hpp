#pragma once

// Events of the per-execution log, with JamJet's variant and field names.
//
// JSON-valued fields (inputs, outputs, state patches) are carried as compact
// JSON text: CAF cannot serialise `nlohmann::json`, and the text is what the
// store keeps anyway. Conversion to and from JamJet's JSON layout lives in
// messages/event_json.hpp.

#include <cstdint>
#include <string>

#include <caf/meta/type_name.hpp>
#include <caf/optional.hpp>
#include <caf/variant.hpp>

#include "jamjet/support/export.hpp"

namespace jamjet {
JAMJET_API_BEGIN

/// An execution began; its state starts as `initial_input`.
struct workflow_started {
  std::string workflow_id;
  std::string workflow_version;
  /// JSON text of the initial input (an object).
  std::string initial_input;
};

/// Every node completed or was skipped.
struct workflow_completed {
  /// JSON text of the final state.
  std::string final_state;
};

/// A terminal node failure left nothing in flight.
struct workflow_failed {
  std::string error;
};

/// The execution was cancelled.
struct workflow_cancelled {
  caf::optional<std::string> reason;
};

/// A node's work item was enqueued (committed together with the item).
struct node_scheduled {
  std::string node_id;
  std::string queue_type;
};

/// A worker took the node's work item under a lease.
struct node_started {
  std::string node_id;
  std::string worker_id;
  /// 1 for the first attempt.
  uint32_t attempt = 0;
};

/// A handler finished; its state patch is merged into the state.
struct node_completed {
  std::string node_id;
  /// JSON text of the handler's output.
  std::string output;
  /// JSON text of an RFC 7396 merge patch.
  std::string state_patch;
  uint64_t duration_ms = 0;
  /// JSON text of JamJet's optional telemetry fields (gen_ai_*, tokens,
  /// cost, provenance), kept as given; empty when there are none.
  std::string extra;
};

/// An attempt failed; `retryable == false` makes the node terminally failed.
struct node_failed {
  std::string node_id;
  std::string error;
  uint32_t attempt = 0;
  bool retryable = false;
};

/// A node will not run.
struct node_skipped {
  std::string node_id;
  std::string reason;
};

/// A scheduled or running node was cancelled.
struct node_cancelled {
  std::string node_id;
};

/// The node runs again as attempt `attempt` after `delay_ms`.
struct retry_scheduled {
  std::string node_id;
  uint32_t attempt = 0;
  uint64_t delay_ms = 0;
};

/// A durable timer was set.
struct timer_created {
  std::string node_id;
  /// Milliseconds since the Unix epoch (RFC 3339 in JSON).
  int64_t fire_at_ms = 0;
  caf::optional<std::string> correlation_key;
};

/// A durable timer fired.
struct timer_fired {
  std::string node_id;
  caf::optional<std::string> correlation_key;
};

/// An external event arrived for the execution.
struct external_event_received {
  std::string correlation_key;
  /// JSON text of the payload.
  std::string payload;
};

/// A dead-lettered node went back to its queue (`jamjet dlq redrive`), with
/// a fresh attempt budget; its execution runs again. An extension of this
/// runtime: JamJet's log has no such kind.
struct node_redriven {
  std::string node_id;
  /// The attempt that runs next.
  uint32_t attempt = 0;
};

/// A decision on a `human_approval` node.
struct approval_received {
  std::string node_id;
  std::string user_id;
  /// "approved" or "rejected".
  std::string decision;
  caf::optional<std::string> comment;
  /// JSON text of a state patch given with the decision; empty: none.
  std::string state_patch;
};

/// Any other JamJet event kind, kept verbatim.
struct opaque_event {
  /// The kind's `type` tag.
  std::string type;
  /// JSON text of the whole kind object, `type` included.
  std::string body;
};

/// One of the event kinds above.
using event_kind =
  caf::variant<workflow_started, workflow_completed, workflow_failed,
               workflow_cancelled, node_scheduled, node_started, node_completed,
               node_failed, node_skipped, node_cancelled, retry_scheduled,
               timer_created, timer_fired, external_event_received,
               node_redriven, approval_received, opaque_event>;

/// A committed record of the log.
struct event {
  /// Unique id (UUID text).
  std::string id;
  std::string execution_id;
  /// 1, 2, 3, ... per execution, assigned by the backend only.
  uint64_t sequence = 0;
  event_kind kind;
  /// Milliseconds since the Unix epoch (RFC 3339 in JSON).
  int64_t created_at_ms = 0;
};

/// JamJet's snake_case tag of a kind, e.g. "node_scheduled".
std::string type_name_of(const event_kind& kind);

/// The node an event is about, or an empty string.
std::string node_id_of(const event_kind& kind);

/// Whether the kind ends an execution.
bool is_terminal(const event_kind& kind);

// -- inspect / equality -------------------------------------------------------

#define JAMJET_EVENT_INSPECT(type, ...)                                        \
  template <class Inspector>                                                   \
  typename Inspector::result_type inspect(Inspector& f, type& x) {             \
    return f(caf::meta::type_name(#type), __VA_ARGS__);                        \
  }

JAMJET_EVENT_INSPECT(workflow_started, x.workflow_id, x.workflow_version,
                     x.initial_input)
JAMJET_EVENT_INSPECT(workflow_completed, x.final_state)
JAMJET_EVENT_INSPECT(workflow_failed, x.error)
JAMJET_EVENT_INSPECT(workflow_cancelled, x.reason)
JAMJET_EVENT_INSPECT(node_scheduled, x.node_id, x.queue_type)
JAMJET_EVENT_INSPECT(node_started, x.node_id, x.worker_id, x.attempt)
JAMJET_EVENT_INSPECT(node_completed, x.node_id, x.output, x.state_patch,
                     x.duration_ms, x.extra)
JAMJET_EVENT_INSPECT(node_failed, x.node_id, x.error, x.attempt, x.retryable)
JAMJET_EVENT_INSPECT(node_skipped, x.node_id, x.reason)
JAMJET_EVENT_INSPECT(node_cancelled, x.node_id)
JAMJET_EVENT_INSPECT(retry_scheduled, x.node_id, x.attempt, x.delay_ms)
JAMJET_EVENT_INSPECT(timer_created, x.node_id, x.fire_at_ms, x.correlation_key)
JAMJET_EVENT_INSPECT(timer_fired, x.node_id, x.correlation_key)
JAMJET_EVENT_INSPECT(external_event_received, x.correlation_key, x.payload)
JAMJET_EVENT_INSPECT(node_redriven, x.node_id, x.attempt)
JAMJET_EVENT_INSPECT(approval_received, x.node_id, x.user_id, x.decision,
                     x.comment, x.state_patch)
JAMJET_EVENT_INSPECT(opaque_event, x.type, x.body)
JAMJET_EVENT_INSPECT(event, x.id, x.execution_id, x.sequence, x.kind,
                     x.created_at_ms)

#undef JAMJET_EVENT_INSPECT

bool operator==(const workflow_started& x, const workflow_started& y);
bool operator==(const workflow_completed& x, const workflow_completed& y);
bool operator==(const workflow_failed& x, const workflow_failed& y);
bool operator==(const workflow_cancelled& x, const workflow_cancelled& y);
bool operator==(const node_scheduled& x, const node_scheduled& y);
bool operator==(const node_started& x, const node_started& y);
bool operator==(const node_completed& x, const node_completed& y);
bool operator==(const node_failed& x, const node_failed& y);
bool operator==(const node_skipped& x, const node_skipped& y);
bool operator==(const node_cancelled& x, const node_cancelled& y);
bool operator==(const retry_scheduled& x, const retry_scheduled& y);
bool operator==(const timer_created& x, const timer_created& y);
bool operator==(const timer_fired& x, const timer_fired& y);
bool operator==(const external_event_received& x,
                const external_event_received& y);
bool operator==(const node_redriven& x, const node_redriven& y);
bool operator==(const approval_received& x, const approval_received& y);
bool operator==(const opaque_event& x, const opaque_event& y);
bool operator==(const event& x, const event& y);

JAMJET_API_END
} // namespace jamjet
