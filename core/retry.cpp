#include "jamjet/core/retry.hpp"

#include <algorithm>
#include <limits>

#include "jamjet/messages/json_limits.hpp"

namespace jamjet {

namespace {

/// FNV-1a, 64 bits: stable across platforms and runs (unlike std::hash).
uint64_t fnv1a(const std::string& text, uint64_t h = 14695981039346656037ull) {
  for (unsigned char c : text) {
    h ^= c;
    h *= 1099511628211ull;
  }
  return h;
}

uint64_t saturating_mul(uint64_t x, uint64_t y) {
  if (x != 0 && y > std::numeric_limits<uint64_t>::max() / x)
    return std::numeric_limits<uint64_t>::max();
  return x * y;
}

} // namespace

uint64_t retry_delay_ms(const retry_policy& policy, uint32_t attempt,
                        const std::string& jitter_key) {
  if (attempt == 0)
    return 0;
  uint64_t initial = saturating_mul(policy.initial_delay_secs, 1000);
  uint64_t base = initial;
  switch (policy.backoff) {
    case backoff_kind::fixed:
      break;
    case backoff_kind::linear:
      base = saturating_mul(initial, attempt);
      break;
    case backoff_kind::exponential:
      base = initial == 0 ? 0
             : attempt - 1 >= 63
               ? std::numeric_limits<uint64_t>::max()
               : saturating_mul(initial, uint64_t{1} << (attempt - 1));
      break;
  }
  // At most about 31 years, so that `now + delay` stays far from overflow.
  constexpr uint64_t longest = 1000000000ull * 1000;
  uint64_t delay =
    std::min({base, saturating_mul(policy.max_delay_secs, 1000), longest});
  if (!policy.jitter || delay == 0)
    return delay;
  // A factor in [0.5, 1], in 1/1024 steps, from the key and the attempt.
  auto h = fnv1a(std::to_string(attempt), fnv1a(jitter_key));
  uint64_t steps = 512 + (h % 513);
  return delay / 1024 * steps + (delay % 1024) * steps / 1024;
}

bool retries_class(const retry_policy& policy, const std::string& error_class) {
  if (policy.retryable_on.empty())
    return true;
  return std::find(policy.retryable_on.begin(), policy.retryable_on.end(),
                   error_class) != policy.retryable_on.end();
}

std::string class_refusal(const retry_policy& policy,
                          const std::string& error_class) {
  if (retries_class(policy, error_class))
    return {};
  std::string classes;
  for (auto& c : policy.retryable_on)
    classes += (classes.empty() ? "" : ", ") + c;
  if (error_class.empty())
    return "not retried: the node's retry policy retries only the error "
           "classes " +
           classes +
           ", and this failure has none (give one: "
           "node_outcome::failure(message, true, \"" +
           policy.retryable_on.front() + "\"))";
  return "not retried: the node's retry policy retries only the error "
         "classes " +
         classes + ", not '" + error_class + "'";
}

retry_policy policy_of_item(const std::string& retry_text) {
  if (retry_text.empty())
    return default_retry_policy();
  auto doc = try_parse_bounded(retry_text, json_limits::stored());
  try {
    return retry_policy_from_json(doc);
  } catch (const std::exception&) {
    return default_retry_policy();
  }
}

command plan_attempt_failure(const lease_entry& lease, const std::string& error,
                             bool retryable, int64_t now_ms) {
  command cmd;
  cmd.execution_id = lease.execution_id;
  cmd.now_ms = now_ms;
  bool retry = retryable && lease.attempt < lease.max_attempts;
  cmd.events.emplace_back(
    node_failed{lease.node_id, error, lease.attempt, retry});
  if (retry) {
    auto delay = retry_delay_ms(policy_of_item(lease.retry), lease.attempt,
                                lease.execution_id + "/" + lease.node_id);
    cmd.events.emplace_back(
      retry_scheduled{lease.node_id, lease.attempt + 1, delay});
    cmd.items.emplace_back(requeue_op{lease.item_id, lease.fence,
                                      lease.attempt + 1,
                                      now_ms + static_cast<int64_t>(delay)});
  } else {
    cmd.items.emplace_back(dead_letter_op{lease.item_id, lease.fence, error});
  }
  return cmd;
}

} // namespace jamjet
