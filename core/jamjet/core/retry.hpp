#pragma once

// What a failed attempt turns into: a retry or a dead letter.
//
// One function decides for every failure path (lease expiry, node timeout,
// dead worker, failure reported by a handler), so they cannot drift apart.
// Delays follow the node's retry policy; jitter is a pure function of
// (execution, node, attempt), so a replayed log agrees with the original.

#include <cstdint>
#include <string>

#include "jamjet/messages/command.hpp"
#include "jamjet/messages/ir.hpp"
#include "jamjet/messages/records.hpp"

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

/// Why a failure the handler called retryable is not retried under
/// `policy` because of its class, as a sentence to append to the recorded
/// error; empty when `retries_class` allows it. Names the classes the policy
/// retries, and for an unclassified failure how to give it a class, so a
/// handler that forgot its class is told instead of silently failing.
std::string class_refusal(const retry_policy& policy,
                          const std::string& error_class);

/// The policy stored with a work item (JSON text of `to_json(policy)`);
/// the default policy for empty or unreadable text.
retry_policy policy_of_item(const std::string& retry_text);

/// The command for a failed attempt under lease `lease`: when `retryable`
/// and attempts remain, `NodeFailed{retryable:true}` + `RetryScheduled` + a
/// requeue invisible until the policy's delay has passed; otherwise
/// `NodeFailed{retryable:false}` + a dead letter. Every failed attempt
/// consumes one attempt.
command plan_attempt_failure(const lease_entry& lease, const std::string& error,
                             bool retryable, int64_t now_ms);

} // namespace jamjet
