#include "jamjet/actors/lease_reaper.hpp"

#include <set>
#include <unordered_map>

#include "jamjet/support/log.hpp"
#include <caf/all.hpp>

#include "jamjet/actors/timer.hpp"
#include "jamjet/support/clock.hpp"

namespace jamjet {

namespace {

struct reaper_state {
  backend_actor backend;
  /// Live leases by item id.
  std::unordered_map<std::string, lease_entry> leases;
  /// (deadline, item id) of every live lease, earliest first.
  std::set<std::pair<int64_t, std::string>> deadlines;
  /// Wakes the reaper at the earliest deadline.
  deadline_timer timer;

  static inline const char* name = "jamjet.lease_reaper";
};

using reaper_ptr = reaper_actor::stateful_pointer<reaper_state>;

void arm(reaper_ptr self) {
  auto& st = self->state;
  if (st.deadlines.empty())
    st.timer.disarm();
  else
    arm_deadline(self, st.timer, st.deadlines.begin()->first, tick_atom::value);
}

void forget(reaper_ptr self, const std::string& item_id) {
  auto& st = self->state;
  auto i = st.leases.find(item_id);
  if (i == st.leases.end())
    return;
  st.deadlines.erase(std::make_pair(i->second.deadline_ms, item_id));
  st.leases.erase(i);
}

/// Commits the failure of the attempt under `lease`.
void reclaim(reaper_ptr self, const lease_entry& lease,
             const std::string& error, bool retryable) {
  auto cmd = plan_attempt_failure(lease, error, retryable, now_ms(self));
  log()->debug("reclaiming '{}' attempt {}/{}: {}", lease.item_id,
               lease.attempt, lease.max_attempts, error);
  caf::anon_send(self->state.backend, commit_atom::value, std::move(cmd));
}

reaper_actor::behavior_type reaper_impl(reaper_ptr self,
                                        backend_actor backend) {
  self->state.backend = std::move(backend);
  return {
    [=](track_atom, lease_entry& lease) {
      auto& st = self->state;
      forget(self, lease.item_id);
      st.deadlines.emplace(lease.deadline_ms, lease.item_id);
      st.leases.emplace(lease.item_id, std::move(lease));
      arm(self);
    },
    [=](untrack_atom, const std::string& item_id, uint64_t fence) {
      auto& st = self->state;
      auto i = st.leases.find(item_id);
      if (i != st.leases.end() && i->second.fence == fence)
        forget(self, item_id);
    },
    [=](fail_atom, const std::string& item_id, uint64_t fence,
        const std::string& error, bool retryable) {
      auto& st = self->state;
      auto i = st.leases.find(item_id);
      if (i == st.leases.end() || i->second.fence != fence) {
        log()->debug("failure of '{}' under fence {} ignored: lease gone",
                     item_id, fence);
        return;
      }
      auto lease = i->second;
      forget(self, item_id);
      reclaim(self, lease, error, retryable);
    },
    [=](tick_atom, uint64_t generation) {
      auto& st = self->state;
      if (!st.timer.fire(generation))
        return;
      auto now = now_ms(self);
      while (!st.deadlines.empty() && st.deadlines.begin()->first <= now) {
        auto item_id = st.deadlines.begin()->second;
        auto lease = st.leases.at(item_id);
        forget(self, item_id);
        if (lease.cutoff_ms > 0 && lease.deadline_ms >= lease.cutoff_ms) {
          // The node timeout: heartbeats do not extend it. A timeout is
          // retried when the policy retries the class "timeout".
          auto policy = policy_of_item(lease.retry);
          reclaim(self, lease,
                  "node timed out: attempt " + std::to_string(lease.attempt) +
                    " ran past its node timeout [timeout]",
                  retries_class(policy, "timeout"));
        } else {
          // The worker is gone or stuck: always retried while attempts
          // remain, whatever the policy's error classes.
          reclaim(self, lease,
                  "lease expired (worker '" + lease.worker_id +
                    "' sent no result or heartbeat in time)",
                  true);
        }
      }
      arm(self);
    },
  };
}

} // namespace

reaper_actor spawn_lease_reaper(caf::actor_system& sys, backend_actor backend) {
  return sys.spawn(reaper_impl, std::move(backend));
}

} // namespace jamjet
