#pragma once

// The store interface: where committed state lives.
//
// Only the backend actor calls a store, from one thread at a time, so
// implementations need no locking of their own. `apply` is the only write:
// each command is all-or-nothing, and the whole batch is one transaction
// (group commit) for stores where that matters.

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <caf/expected.hpp>

#include "messages/command.hpp"
#include "messages/event.hpp"
#include "messages/work_item.hpp"

namespace jamjet {

/// What the store knows of an execution.
struct execution_record {
  std::string id;
  std::string workflow_id;
  std::string workflow_version;
  /// "running", "completed", "failed" or "cancelled".
  std::string status;
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
  /// The executions resumed (record fields other than the ids and the
  /// workflow are left empty).
  std::vector<execution_record> resumed;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, recovered_execution& x) {
  return f(caf::meta::type_name("recovered_execution"), x.record, x.snapshot,
           x.snapshot_sequence, x.events);
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

/// Abstract store.
class store {
 public:
  virtual ~store();

  /// Whether calls block on I/O; the backend then runs on its own thread.
  virtual bool blocking() const noexcept = 0;

  /// Applies a batch of commands in order. Each command either applies in
  /// full (its result holds the committed events and changed items) or not
  /// at all (its result holds the error, e.g. `stale_fence`). Throws
  /// `jamjet::error(store_failure)` when the store itself fails; then none
  /// of the batch is committed.
  virtual std::vector<caf::expected<commit_result>>
  apply(const std::vector<command>& batch) = 0;

  /// Events of an execution with sequence >= `from`, in order.
  virtual std::vector<event> read_events(const std::string& execution_id,
                                         uint64_t from = 1) = 0;

  /// An execution, if known.
  virtual std::optional<execution_record>
  find_execution(const std::string& id) = 0;

  /// Every execution, ordered by creation.
  virtual std::vector<execution_record> executions() = 0;

  /// Work items that are ready or leased (for recovery).
  virtual std::vector<work_item> open_items() = 0;

  /// Every dead letter.
  virtual std::vector<dead_letter> dead_letters() = 0;

  /// Keeps a workflow definition (immutable per id and version; storing the
  /// same text again is fine, a different text is `invalid_workflow`).
  virtual caf::error put_workflow(const std::string& workflow_id,
                                  const std::string& version,
                                  const std::string& ir_json) = 0;

  /// A stored workflow definition's JSON text.
  virtual std::optional<std::string>
  find_workflow(const std::string& workflow_id, const std::string& version) = 0;

  /// Every stored workflow definition, in registration order.
  virtual std::vector<workflow_definition> workflows() = 0;

  /// The latest progress snapshot of an execution and the sequence it
  /// covers; an empty text and 0 when there is none.
  virtual std::pair<uint64_t, std::string>
  snapshot_of(const std::string& execution_id) = 0;

  /// Everything running, for recovery. The default reads each running
  /// execution's snapshot and the log after it, one by one.
  virtual recovery_snapshot recovery();

  /// Whether other processes can leave requests in this store's inbox.
  virtual bool has_inbox() const noexcept { return false; }

  /// The requests waiting in the inbox, oldest first.
  virtual std::vector<inbox_message> inbox() { return {}; }

  /// Drops a delivered request.
  virtual void drop_inbox(int64_t /* id */) {}
};

} // namespace jamjet
