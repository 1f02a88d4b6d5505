#include "runtime/retry.hpp"

#include <algorithm>

namespace jamjet {

uint64_t default_retry_delay_ms(uint32_t attempt) {
  uint32_t shift = std::min<uint32_t>(attempt == 0 ? 0 : attempt - 1, 6);
  return (uint64_t{1} << shift) * 1000;
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
    auto delay = default_retry_delay_ms(lease.attempt);
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
