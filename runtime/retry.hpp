#pragma once

// What a failed attempt turns into: a retry or a dead letter.
//
// One function decides for every failure path (lease expiry, dead worker,
// failure reported by a handler), so they cannot drift apart.

#include <cstdint>
#include <string>

#include "messages/command.hpp"

namespace jamjet {

/// Delay before retrying after failed attempt `attempt` (1-based):
/// `(1 << min(attempt - 1, 6)) * 1000` ms, i.e. 1 s, 2 s, 4 s ... 64 s.
/// (JamJet counts attempts from 0 and writes `1 << min(attempt, 6)`.)
uint64_t default_retry_delay_ms(uint32_t attempt);

/// A lease on a work item, as the lease reaper tracks it.
struct lease_entry {
  std::string item_id;
  std::string execution_id;
  std::string node_id;
  uint64_t fence = 0;
  /// The attempt the lease is for (1-based).
  uint32_t attempt = 1;
  uint32_t max_attempts = 3;
  /// Wall-clock ms (see runtime/clock.hpp).
  int64_t deadline_ms = 0;
  /// The worker holding the lease.
  std::string worker_id;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, lease_entry& x) {
  return f(caf::meta::type_name("lease_entry"), x.item_id, x.execution_id,
           x.node_id, x.fence, x.attempt, x.max_attempts, x.deadline_ms,
           x.worker_id);
}

/// The command for a failed attempt under lease `lease`: when `retryable`
/// and attempts remain, `NodeFailed{retryable:true}` + `RetryScheduled` + a
/// requeue invisible until the delay has passed; otherwise
/// `NodeFailed{retryable:false}` + a dead letter. Every failed attempt
/// consumes one attempt.
command plan_attempt_failure(const lease_entry& lease, const std::string& error,
                             bool retryable, int64_t now_ms);

} // namespace jamjet
