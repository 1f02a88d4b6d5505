#pragma once

// Commands: the only way durable state changes.
//
// A command holds the events of one execution plus the work-item changes that
// go with them. The backend applies it atomically (all or nothing), assigns
// the events' sequence numbers, and publishes the committed result.

#include <cstdint>
#include <string>
#include <vector>

#include <caf/meta/type_name.hpp>
#include <caf/variant.hpp>

#include "jamjet/messages/event.hpp"
#include "jamjet/messages/work_item.hpp"
#include "jamjet/support/export.hpp"

namespace jamjet {
JAMJET_API_BEGIN

/// Adds a new work item (status ready).
struct enqueue_op {
  work_item item;
};

/// Grants a lease. Requires the item to be ready.
struct lease_op {
  std::string item_id;
  uint64_t fence = 0;
  std::string worker_id;
  int64_t deadline_ms = 0;
};

/// Settles a leased item (node completed or failed for good).
/// Requires the lease `fence` to be current.
struct settle_op {
  std::string item_id;
  uint64_t fence = 0;
};

/// Puts a leased item back in its queue for attempt `attempt`, invisible
/// before `not_before_ms`. Requires the lease `fence` to be current.
struct requeue_op {
  std::string item_id;
  uint64_t fence = 0;
  uint32_t attempt = 0;
  int64_t not_before_ms = 0;
};

/// Moves a leased item to the dead letters. Requires `fence` to be current.
struct dead_letter_op {
  std::string item_id;
  uint64_t fence = 0;
  std::string error;
};

/// Cancels an item that is ready or leased (any fence).
struct cancel_op {
  std::string item_id;
};

/// Puts a dead item back in its queue for attempt `attempt` with up to
/// `max_attempts` attempts in all. Requires the item to be dead.
struct redrive_op {
  std::string item_id;
  uint32_t attempt = 0;
  uint32_t max_attempts = 0;
};

/// Marks a due timer item (queue `timer_queue`) done. Requires it ready: a
/// disarmed timer does not fire.
struct fire_op {
  std::string item_id;
};

/// Cancels a timer item if it has not fired; a no-op otherwise, so a node
/// that ends while its timer fires does not fail its command.
struct disarm_op {
  std::string item_id;
};

/// One work-item change of a command.
using item_op =
  caf::variant<enqueue_op, lease_op, settle_op, requeue_op, dead_letter_op,
               cancel_op, redrive_op, fire_op, disarm_op>;

/// The item an operation is about.
const std::string& item_id_of(const item_op& op);

/// One atomic change of durable state.
struct command {
  /// The execution the events belong to.
  std::string execution_id;
  /// Events to append, in order; sequences are assigned on commit.
  std::vector<event_kind> events;
  /// Work-item changes, applied in order.
  std::vector<item_op> items;
  /// When the command was issued (ms since the epoch): `created_at` of its
  /// events and the base of lease deadlines.
  int64_t now_ms = 0;
  /// The issuing execution's progress after folding event
  /// `snapshot_sequence` (see `progress::snapshot`); empty: none. Stores keep
  /// the latest one so that recovery folds only the events after it.
  std::string snapshot;
  uint64_t snapshot_sequence = 0;
  /// Whether a commit should start at once. A command nothing waits on
  /// (a lease) may wait up to a few milliseconds for the next urgent one and
  /// share its transaction, saving a disk sync.
  bool urgent = true;
};

/// What the backend made of a command.
struct commit_result {
  /// The events as committed, with ids and sequences.
  std::vector<event> events;
  /// Every work item the command changed, as stored after the change.
  std::vector<work_item> items;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, enqueue_op& x) {
  return f(caf::meta::type_name("enqueue_op"), x.item);
}
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, lease_op& x) {
  return f(caf::meta::type_name("lease_op"), x.item_id, x.fence, x.worker_id,
           x.deadline_ms);
}
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, settle_op& x) {
  return f(caf::meta::type_name("settle_op"), x.item_id, x.fence);
}
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, requeue_op& x) {
  return f(caf::meta::type_name("requeue_op"), x.item_id, x.fence, x.attempt,
           x.not_before_ms);
}
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, dead_letter_op& x) {
  return f(caf::meta::type_name("dead_letter_op"), x.item_id, x.fence, x.error);
}
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, cancel_op& x) {
  return f(caf::meta::type_name("cancel_op"), x.item_id);
}
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, redrive_op& x) {
  return f(caf::meta::type_name("redrive_op"), x.item_id, x.attempt,
           x.max_attempts);
}
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, fire_op& x) {
  return f(caf::meta::type_name("fire_op"), x.item_id);
}
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, disarm_op& x) {
  return f(caf::meta::type_name("disarm_op"), x.item_id);
}
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, command& x) {
  return f(caf::meta::type_name("command"), x.execution_id, x.events, x.items,
           x.now_ms, x.snapshot, x.snapshot_sequence, x.urgent);
}
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, commit_result& x) {
  return f(caf::meta::type_name("commit_result"), x.events, x.items);
}

bool operator==(const enqueue_op& x, const enqueue_op& y);
bool operator==(const lease_op& x, const lease_op& y);
bool operator==(const settle_op& x, const settle_op& y);
bool operator==(const requeue_op& x, const requeue_op& y);
bool operator==(const dead_letter_op& x, const dead_letter_op& y);
bool operator==(const cancel_op& x, const cancel_op& y);
bool operator==(const redrive_op& x, const redrive_op& y);
bool operator==(const fire_op& x, const fire_op& y);
bool operator==(const disarm_op& x, const disarm_op& y);

JAMJET_API_END
} // namespace jamjet
