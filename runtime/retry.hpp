#pragma once

// What a failed attempt turns into: a retry or a dead letter.
//
// One function decides for every failure path (lease expiry, node timeout,
// dead worker, failure reported by a handler), so they cannot drift apart.
// Delays follow the node's retry policy; jitter is a pure function of
// (execution, node, attempt), so a replayed log agrees with the original.

#include <cstdint>
#include <string>

#include "messages/command.hpp"
#include "messages/ir.hpp"

namespace jamjet {

/// Delay before retrying after failed attempt `attempt` (1-based) under
/// `policy`: fixed `initial`, linear `initial * attempt` or exponential
/// `initial * 2^(attempt-1)`, capped at `max_delay`. With jitter, scaled by
/// a factor in [0.5, 1] derived from `jitter_key` and `attempt` alone.
uint64_t retry_delay_ms(const retry_policy& policy, uint32_t attempt,
                        const std::string& jitter_key);

/// Whether `policy` retries errors of class `error_class` (empty: an
/// unclassified error). An empty `retryable_on` retries every class.
bool retries_class(const retry_policy& policy, const std::string& error_class);

/// The policy stored with a work item (JSON text of `to_json(policy)`);
/// the default policy for empty or unreadable text.
retry_policy policy_of_item(const std::string& retry_text);

/// A lease on a work item, as the lease reaper tracks it.
struct lease_entry {
  std::string item_id;
  std::string execution_id;
  std::string node_id;
  uint64_t fence = 0;
  /// The attempt the lease is for (1-based).
  uint32_t attempt = 1;
  uint32_t max_attempts = 3;
  /// Wall-clock ms (see runtime/clock.hpp): the lease deadline, moved by
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

/// The command for a failed attempt under lease `lease`: when `retryable`
/// and attempts remain, `NodeFailed{retryable:true}` + `RetryScheduled` + a
/// requeue invisible until the policy's delay has passed; otherwise
/// `NodeFailed{retryable:false}` + a dead letter. Every failed attempt
/// consumes one attempt.
command plan_attempt_failure(const lease_entry& lease, const std::string& error,
                             bool retryable, int64_t now_ms);

} // namespace jamjet
