#include "jamjet/actors/dispatcher.hpp"

#include <algorithm>
#include <deque>
#include <map>
#include <unordered_map>

#include "jamjet/support/log.hpp"
#include <caf/all.hpp>

#include "jamjet/actors/timer.hpp"
#include "jamjet/core/retry.hpp"
#include "jamjet/messages/json_limits.hpp"
#include "jamjet/support/clock.hpp"
#include <nlohmann/json.hpp>

namespace jamjet {

namespace {

struct worker_record {
  worker_actor handle;
  std::string id;
  std::vector<std::string> queues;
  uint32_t slots = 0;
  uint32_t busy = 0;

  bool serves(const std::string& queue) const {
    for (auto& q : queues)
      if (q == "*" || q == queue)
        return true;
    return false;
  }
};

struct lease_record {
  uint64_t fence = 0;
  caf::actor_addr worker;
  work_item item;
  /// When the attempt is cut off (node timeout); 0 = never.
  int64_t cutoff_ms = 0;
};

struct dispatcher_state {
  backend_actor backend;
  reaper_actor reaper;
  dispatcher_config cfg;
  /// Ready items per queue type, FIFO.
  std::map<std::string, std::deque<work_item>> ready;
  /// Items waiting for their `not_before`, by that instant.
  std::multimap<int64_t, work_item> delayed;
  /// Wakes the dispatcher when the earliest delayed item is due.
  deadline_timer timer;
  /// Workers in join order (round-robin start moves on).
  std::vector<worker_record> workers;
  size_t next_worker = 0;
  std::unordered_map<std::string, lease_record> leases;
  uint64_t next_fence = 0;

  static inline const char* name = "jamjet.dispatcher";

  worker_record* find_worker(const caf::actor_addr& addr) {
    for (auto& w : workers)
      if (w.handle.address() == addr)
        return &w;
    return nullptr;
  }
};

using dispatcher_ptr = dispatcher_actor::stateful_pointer<dispatcher_state>;

/// The lease deadline of `item` from `now`: one lease period (the
/// workflow's heartbeat interval, else the dispatcher's), never past the
/// attempt's cut-off.
int64_t lease_deadline(const dispatcher_state& st, const work_item& item,
                       int64_t cutoff_ms, int64_t now) {
  auto period = item.lease_ms > 0 ? static_cast<int64_t>(item.lease_ms)
                                  : static_cast<int64_t>(st.cfg.lease.count());
  auto deadline = now + period;
  return cutoff_ms > 0 ? std::min(deadline, cutoff_ms) : deadline;
}

lease_entry entry_of(const work_item& item, int64_t deadline,
                     int64_t cutoff_ms) {
  return lease_entry{item.id,    item.execution_id, item.node_id,
                     item.fence, item.attempt,      item.max_attempts,
                     deadline,   item.worker_id,    item.retry,
                     cutoff_ms};
}

/// Commits a due timer as `TimerFired`.
void fire_timer(dispatcher_ptr self, const work_item& item) {
  auto& st = self->state;
  caf::optional<std::string> key;
  auto payload = try_parse_bounded(item.payload, json_limits::stored());
  if (payload.is_object() && payload.contains("correlation_key") &&
      payload["correlation_key"].is_string())
    key = payload["correlation_key"].get<std::string>();
  command cmd;
  cmd.execution_id = item.execution_id;
  cmd.now_ms = now_ms(self);
  cmd.events.emplace_back(timer_fired{item.node_id, std::move(key)});
  cmd.items.emplace_back(fire_op{item.id});
  // Refused when the timer was disarmed meanwhile: then nothing fires.
  caf::anon_send(st.backend, commit_atom::value, std::move(cmd));
}

/// Leases `item` to `w`.
void lease_to(dispatcher_ptr self, worker_record& w, work_item item) {
  auto& st = self->state;
  auto now = now_ms(self);
  item.status = item_status::leased;
  item.fence = ++st.next_fence;
  item.worker_id = w.id;
  int64_t cutoff =
    item.timeout_ms > 0 ? now + static_cast<int64_t>(item.timeout_ms) : 0;
  item.lease_expires_at_ms = lease_deadline(st, item, cutoff, now);
  command cmd;
  cmd.execution_id = item.execution_id;
  cmd.now_ms = now;
  cmd.events.emplace_back(node_started{item.node_id, w.id, item.attempt});
  cmd.items.emplace_back(
    lease_op{item.id, item.fence, w.id, item.lease_expires_at_ms});
  // Nothing waits on the lease record; it rides along with the next commit.
  cmd.urgent = false;
  caf::anon_send(st.backend, commit_atom::value, std::move(cmd));
  self->send(st.reaper, track_atom::value,
             entry_of(item, item.lease_expires_at_ms, cutoff));
  ++w.busy;
  st.leases[item.id] =
    lease_record{item.fence, w.handle.address(), item, cutoff};
  self->send(w.handle, std::move(item));
}

/// Fills free slots of `w` from the queues it serves.
void feed(dispatcher_ptr self, worker_record& w) {
  auto& st = self->state;
  while (w.busy < w.slots) {
    bool found = false;
    for (auto& [queue, items] : st.ready) {
      if (items.empty() || !w.serves(queue))
        continue;
      auto item = std::move(items.front());
      items.pop_front();
      lease_to(self, w, std::move(item));
      found = true;
      break;
    }
    if (!found)
      return;
  }
}

/// Hands a newly ready item to a free worker, or queues it; fires a due
/// timer.
void offer(dispatcher_ptr self, work_item item) {
  auto& st = self->state;
  if (item.queue_type == timer_queue) {
    fire_timer(self, item);
    return;
  }
  auto n = st.workers.size();
  for (size_t k = 0; k < n; ++k) {
    auto& w = st.workers[(st.next_worker + k) % n];
    if (w.busy < w.slots && w.serves(item.queue_type)) {
      st.next_worker = (st.next_worker + k + 1) % n;
      lease_to(self, w, std::move(item));
      return;
    }
  }
  st.ready[item.queue_type].emplace_back(std::move(item));
}

void arm_timer(dispatcher_ptr self) {
  auto& st = self->state;
  if (st.delayed.empty())
    st.timer.disarm();
  else
    arm_deadline(self, st.timer, st.delayed.begin()->first, tick_atom::value);
}

/// Removes a cancelled or ended item from the queues.
void drop_queued(dispatcher_ptr self, const std::string& item_id) {
  auto& st = self->state;
  for (auto& [queue, items] : st.ready)
    items.erase(std::remove_if(items.begin(), items.end(),
                               [&](auto& x) { return x.id == item_id; }),
                items.end());
  for (auto i = st.delayed.begin(); i != st.delayed.end();) {
    if (i->second.id == item_id)
      i = st.delayed.erase(i);
    else
      ++i;
  }
}

/// Forgets the lease on `item_id` after the reaper reclaimed it (expiry or
/// node timeout), telling its worker to stop the attempt if it still runs.
void stop_lost_lease(dispatcher_ptr self, const std::string& item_id) {
  auto& st = self->state;
  auto i = st.leases.find(item_id);
  if (i == st.leases.end())
    return;
  if (auto w = st.find_worker(i->second.worker))
    self->send(w->handle, cancel_atom::value, item_id);
  st.leases.erase(i);
}

void on_items(dispatcher_ptr self, std::vector<work_item>& items) {
  auto& st = self->state;
  auto now = now_ms(self);
  bool delayed_any = false;
  for (auto& item : items) {
    switch (item.status) {
      case item_status::ready: {
        // New, or requeued after a failed attempt: a lease on it is over.
        stop_lost_lease(self, item.id);
        if (item.not_before_ms > now) {
          st.delayed.emplace(item.not_before_ms, std::move(item));
          delayed_any = true;
        } else {
          offer(self, std::move(item));
        }
        break;
      }
      case item_status::leased:
        break; // our own lease, already in place
      case item_status::cancelled: {
        drop_queued(self, item.id);
        auto i = st.leases.find(item.id);
        if (i != st.leases.end()) {
          if (auto w = st.find_worker(i->second.worker))
            self->send(w->handle, cancel_atom::value, item.id);
          self->send(st.reaper, untrack_atom::value, item.id, i->second.fence);
          st.leases.erase(i);
        }
        break;
      }
      case item_status::dead:
        stop_lost_lease(self, item.id);
        break;
      case item_status::done:
        break;
    }
  }
  if (delayed_any)
    arm_timer(self);
}

void on_result(dispatcher_ptr self, node_result& res) {
  auto& st = self->state;
  auto i = st.leases.find(res.item_id);
  // The slot goes back to the worker the lease went to (ids need not be
  // unique: a worker that reconnects has the same id); else by id.
  worker_record* w = nullptr;
  if (i != st.leases.end() && i->second.fence == res.fence)
    w = st.find_worker(i->second.worker);
  if (!w)
    for (auto& x : st.workers)
      if (x.id == res.worker_id)
        w = &x;
  if (w && w->busy > 0)
    --w->busy;
  if (i == st.leases.end() || i->second.fence != res.fence) {
    log()->info("stale result for '{}' (fence {}) from worker '{}' ignored",
                res.item_id, res.fence, res.worker_id);
  } else if (res.ok) {
    st.leases.erase(i);
    command cmd;
    cmd.execution_id = res.execution_id;
    cmd.now_ms = now_ms(self);
    cmd.events.emplace_back(node_completed{res.node_id, std::move(res.output),
                                           std::move(res.state_patch),
                                           res.duration_ms, std::string{}});
    cmd.items.emplace_back(settle_op{res.item_id, res.fence});
    caf::anon_send(st.backend, commit_atom::value, std::move(cmd));
    self->send(st.reaper, untrack_atom::value, res.item_id, res.fence);
  } else {
    // The handler's word, and the node's policy on the error's class.
    auto refusal =
      res.retryable
        ? class_refusal(policy_of_item(i->second.item.retry), res.error_class)
        : std::string{};
    bool retryable = res.retryable && refusal.empty();
    auto error = std::move(res.error);
    if (!res.error_class.empty())
      error += " [" + res.error_class + "]";
    if (!refusal.empty())
      error += " (" + refusal + ")";
    st.leases.erase(i);
    self->send(st.reaper, fail_atom::value, res.item_id, res.fence,
               std::move(error), retryable);
  }
  if (w)
    feed(self, *w);
}

dispatcher_actor::behavior_type dispatcher_impl(dispatcher_ptr self,
                                                backend_actor backend,
                                                reaper_actor reaper,
                                                dispatcher_config cfg) {
  auto& st = self->state;
  st.backend = std::move(backend);
  st.reaper = std::move(reaper);
  st.cfg = cfg;
  // Fences must grow across restarts too: start above any earlier run's.
  st.next_fence = static_cast<uint64_t>(wall_now_ms()) * 1000;
  self->set_down_handler([self](const caf::down_msg& msg) {
    auto& s = self->state;
    auto w = s.find_worker(msg.source);
    if (!w)
      return;
    auto id = w->id;
    std::vector<std::pair<std::string, uint64_t>> held;
    for (auto& [item_id, lease] : s.leases)
      if (lease.worker == msg.source)
        held.emplace_back(item_id, lease.fence);
    if (held.empty())
      log()->info("worker '{}' left ({})", id, caf::to_string(msg.reason));
    else
      log()->warn("worker '{}' is down ({}); reclaiming its {} lease(s)", id,
                  caf::to_string(msg.reason), held.size());
    for (auto& [item_id, fence] : held) {
      s.leases.erase(item_id);
      self->send(s.reaper, fail_atom::value, item_id, fence,
                 "worker '" + id + "' went down", true);
    }
    s.workers.erase(
      std::remove_if(s.workers.begin(), s.workers.end(),
                     [&](auto& x) { return x.handle.address() == msg.source; }),
      s.workers.end());
    s.next_worker = 0;
  });
  return {
    [=](published_items& msg) { on_items(self, msg.items); },
    [=](join_atom, worker_actor& handle, std::string& id,
        std::vector<std::string>& queues, uint32_t slots) {
      auto& s = self->state;
      if (auto known = s.find_worker(handle.address())) {
        // Joining again changes the offer; 0 slots drains the worker.
        log()->debug("worker '{}' now offers {} slots", id, slots);
        known->queues = std::move(queues);
        known->slots = slots;
        feed(self, *known);
        return;
      }
      self->monitor(handle);
      log()->debug("worker '{}' joined with {} slots", id, slots);
      s.workers.push_back(worker_record{std::move(handle), std::move(id),
                                        std::move(queues), slots, 0});
      feed(self, s.workers.back());
    },
    [=](node_result& res) { on_result(self, res); },
    [=](heartbeat_atom, const std::string& item_id, uint64_t fence) {
      auto& s = self->state;
      auto i = s.leases.find(item_id);
      if (i == s.leases.end() || i->second.fence != fence)
        return;
      auto& item = i->second.item;
      auto cutoff = i->second.cutoff_ms;
      item.lease_expires_at_ms = lease_deadline(s, item, cutoff, now_ms(self));
      self->send(s.reaper, track_atom::value,
                 entry_of(item, item.lease_expires_at_ms, cutoff));
    },
    [=](recover_atom, std::vector<work_item>& items) {
      auto& s = self->state;
      auto now = now_ms(self);
      bool delayed_any = false;
      for (auto& item : items) {
        if (item.status == item_status::leased) {
          // Held when the previous run ended; its holder may still report
          // under the old fence within one lease period.
          auto deadline = lease_deadline(s, item, 0, now);
          self->send(s.reaper, track_atom::value, entry_of(item, deadline, 0));
          s.next_fence = std::max(s.next_fence, item.fence);
          s.leases[item.id] =
            lease_record{item.fence, caf::actor_addr{}, std::move(item)};
        } else if (item.status == item_status::ready) {
          if (item.not_before_ms > now) {
            s.delayed.emplace(item.not_before_ms, std::move(item));
            delayed_any = true;
          } else {
            offer(self, std::move(item));
          }
        }
      }
      if (delayed_any)
        arm_timer(self);
    },
    [=](workers_atom) {
      std::vector<worker_summary> all;
      for (auto& w : self->state.workers)
        all.push_back(
          worker_summary{w.id, w.queues, w.slots, w.busy, w.handle.address()});
      return all;
    },
    [=](tick_atom, uint64_t generation) {
      auto& s = self->state;
      if (!s.timer.fire(generation))
        return;
      auto now = now_ms(self);
      std::vector<work_item> due;
      while (!s.delayed.empty() && s.delayed.begin()->first <= now) {
        due.emplace_back(std::move(s.delayed.begin()->second));
        s.delayed.erase(s.delayed.begin());
      }
      for (auto& item : due)
        offer(self, std::move(item));
      arm_timer(self);
    },
  };
}

} // namespace

dispatcher_actor spawn_dispatcher(caf::actor_system& sys, backend_actor backend,
                                  reaper_actor reaper, dispatcher_config cfg) {
  return sys.spawn(dispatcher_impl, std::move(backend), std::move(reaper), cfg);
}

} // namespace jamjet
