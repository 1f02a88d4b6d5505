#pragma once

// Records that cross actor boundaries: what the store knows of executions,
// workflows and recovery, inbox requests, and leases. Plain data with
// `inspect`, registered in type_registry.cpp.

#include <cstdint>
#include <string>
#include <vector>

#include <caf/meta/type_name.hpp>
#include <caf/optional.hpp>

#include "jamjet/messages/event.hpp"
#include "jamjet/messages/execution_status_code.hpp"
#include "jamjet/messages/work_item.hpp"
#include "jamjet/support/export.hpp"

namespace jamjet {
JAMJET_API_BEGIN

/// What the store knows of an execution.
struct execution_record {
  std::string id;
  std::string workflow_id;
  std::string workflow_version;
  /// Stored as its text (`to_string`).
  execution_status_code status = execution_status_code::running;
  /// JSON text of the initial input.
  std::string input;
  /// JSON text of the final state (completed) or the error (failed,
  /// cancelled); empty while running.
  std::string result;
  uint64_t last_sequence = 0;
  int64_t created_at_ms = 0;
  int64_t updated_at_ms = 0;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, execution_record& x) {
  return f(caf::meta::type_name("execution_record"), x.id, x.workflow_id,
           x.workflow_version, x.status, x.input, x.result, x.last_sequence,
           x.created_at_ms, x.updated_at_ms);
}

/// A stored workflow definition.
struct workflow_definition {
  std::string workflow_id;
  std::string version;
  /// The IR as registered (JSON text).
  std::string ir_json;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, workflow_definition& x) {
  return f(caf::meta::type_name("workflow_definition"), x.workflow_id,
           x.version, x.ir_json);
}

/// A running execution as found in the store.
struct recovered_execution {
  execution_record record;
  /// The latest progress snapshot (empty: none) and the sequence it covers.
  std::string snapshot;
  uint64_t snapshot_sequence = 0;
  /// The events after `snapshot_sequence`.
  std::vector<event> events;
  /// Why the stored events cannot be read (a row too deep or malformed);
  /// empty when they can. Such an execution is failed instead of resumed
  /// (and reported with the resumed ones, so its waiters see it fail).
  std::string unreadable;
};

/// Everything needed to resume after a restart.
struct recovery_snapshot {
  std::vector<workflow_definition> workflows;
  std::vector<recovered_execution> executions;
  /// Ready and leased work items.
  std::vector<work_item> items;
};

/// What a recovery resumed.
struct recovery_report {
  std::vector<workflow_definition> workflows;
  /// The executions resumed, and those failed for an unreadable log
  /// (record fields other than the ids and the workflow are left empty).
  std::vector<execution_record> resumed;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, recovered_execution& x) {
  return f(caf::meta::type_name("recovered_execution"), x.record, x.snapshot,
           x.snapshot_sequence, x.events, x.unreadable);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, recovery_snapshot& x) {
  return f(caf::meta::type_name("recovery_snapshot"), x.workflows, x.executions,
           x.items);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, recovery_report& x) {
  return f(caf::meta::type_name("recovery_report"), x.workflows, x.resumed);
}

/// A request left in a store by another process (`jamjet signal`,
/// `approve`, `reject` or `cancel` with `--db`) for the runtime that owns
/// the store. Delivered at least once: the row is dropped after delivery.
struct inbox_message {
  int64_t id = 0;
  std::string execution_id;
  /// "signal", "approve", "reject" or "cancel".
  std::string kind;
  /// The correlation key (signal), node id (approve, reject) or reason
  /// (cancel).
  std::string target;
  /// JSON text: the event's payload (signal) or a state patch (approve);
  /// empty: none.
  std::string payload;
  caf::optional<std::string> comment;
  std::string user_id;
  int64_t created_at_ms = 0;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, inbox_message& x) {
  return f(caf::meta::type_name("inbox_message"), x.id, x.execution_id, x.kind,
           x.target, x.payload, x.comment, x.user_id, x.created_at_ms);
}

/// A lease on a work item, as the lease reaper tracks it.
struct lease_entry {
  std::string item_id;
  std::string execution_id;
  std::string node_id;
  uint64_t fence = 0;
  /// The attempt the lease is for (1-based).
  uint32_t attempt = 1;
  uint32_t max_attempts = 3;
  /// Wall-clock ms (see support/clock.hpp): the lease deadline, moved by
  /// heartbeats.
  int64_t deadline_ms = 0;
  /// The worker holding the lease.
  std::string worker_id;
  /// JSON text of the node's retry policy; empty: the default.
  std::string retry;
  /// When the attempt is cut off whatever the heartbeats (node timeout);
  /// 0 = never.
  int64_t cutoff_ms = 0;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, lease_entry& x) {
  return f(caf::meta::type_name("lease_entry"), x.item_id, x.execution_id,
           x.node_id, x.fence, x.attempt, x.max_attempts, x.deadline_ms,
           x.worker_id, x.retry, x.cutoff_ms);
}

JAMJET_API_END
} // namespace jamjet
