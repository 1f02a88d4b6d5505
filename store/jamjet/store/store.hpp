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

#include "jamjet/messages/command.hpp"
#include "jamjet/messages/event.hpp"
#include "jamjet/messages/records.hpp"
#include "jamjet/messages/work_item.hpp"
#include "jamjet/support/export.hpp"

namespace jamjet {
JAMJET_API_BEGIN

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

JAMJET_API_END
} // namespace jamjet
