#pragma once

// Work items: one per scheduled node, leased to workers.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include <caf/meta/type_name.hpp>

#include "jamjet/support/export.hpp"

namespace jamjet {
JAMJET_API_BEGIN

/// Where a work item is in its life.
enum class item_status : uint8_t {
  /// In a queue, visible once `not_before_ms` has passed.
  ready,
  /// Held by a worker under a lease.
  leased,
  /// Settled: its node completed or failed terminally.
  done,
  /// Attempts exhausted; kept as a dead letter.
  dead,
  /// Its execution was cancelled.
  cancelled,
};

std::string to_string(item_status x);

/// The status named `text` (as `to_string` writes it); none for other text.
std::optional<item_status> parse_item_status(std::string_view text);

/// A unit of work for one node of one execution. Retries reuse the item.
struct work_item {
  /// Unique id: "<execution_id>/<node_id>".
  std::string id;
  std::string execution_id;
  std::string node_id;
  /// Queue type the item is dispatched on (model, tool, general, ...).
  std::string queue_type;
  /// JSON text: `{"node": <node JSON>, "state": <state at scheduling>}`.
  std::string payload;
  /// Number of the current (or next) attempt; 1 for the first.
  uint32_t attempt = 1;
  uint32_t max_attempts = 3;
  /// Milliseconds since the Unix epoch.
  int64_t created_at_ms = 0;
  /// Lease deadline while leased (ms since the epoch), else 0.
  int64_t lease_expires_at_ms = 0;
  /// Holder of the lease, or empty.
  std::string worker_id;
  std::string tenant_id = "default";
  /// Not dispatched before this instant (ms since the epoch); 0 = at once.
  int64_t not_before_ms = 0;
  /// Token of the current lease; results must present it. 0 = none.
  uint64_t fence = 0;
  item_status status = item_status::ready;
  /// JSON text of the node's retry policy (see `retry_policy`); empty: the
  /// default policy.
  std::string retry;
  /// Node timeout in ms: an attempt running longer is cut off and fails,
  /// heartbeats or not. 0 = none.
  uint64_t timeout_ms = 0;
  /// Lease period in ms (the workflow's heartbeat interval); 0 = the
  /// dispatcher's default.
  uint64_t lease_ms = 0;
};

/// Queue of the scheduler's own durable timers (see `fire_op`). Items on it
/// are never given to workers.
inline constexpr const char* timer_queue = "__timer__";

// No `inspect` for `item_status`: CAF 0.17's serializers handle enums by their
// underlying type themselves (a user overload is ambiguous with that), and
// printing picks up `to_string`.

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, work_item& x) {
  return f(caf::meta::type_name("work_item"), x.id, x.execution_id, x.node_id,
           x.queue_type, x.payload, x.attempt, x.max_attempts, x.created_at_ms,
           x.lease_expires_at_ms, x.worker_id, x.tenant_id, x.not_before_ms,
           x.fence, x.status, x.retry, x.timeout_ms, x.lease_ms);
}

bool operator==(const work_item& x, const work_item& y);

/// A dead-lettered item with the error that exhausted it.
struct dead_letter {
  work_item item;
  std::string error;
  int64_t dead_at_ms = 0;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, dead_letter& x) {
  return f(caf::meta::type_name("dead_letter"), x.item, x.error, x.dead_at_ms);
}

JAMJET_API_END
} // namespace jamjet
