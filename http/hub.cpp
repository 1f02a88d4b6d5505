#include "jamjet/http/hub.hpp"

#include <deque>
#include <map>
#include <unordered_map>

#include <caf/all.hpp>

#include "jamjet/support/clock.hpp"
#include "jamjet/support/log.hpp"

namespace jamjet::http {

namespace {

/// A claim waiting for an item.
struct waiting_claim {
  uint64_t serial = 0;
  caf::typed_response_promise<claim_result> rp;
};

/// One HTTP worker.
struct http_worker {
  worker_actor proxy;
  std::vector<std::string> queues;
  std::deque<waiting_claim> waiting;
  /// Leased to the worker and not yet given to a claim.
  std::deque<work_item> ready;
  /// Given to a claim, by item id.
  std::map<std::string, work_item> held;
  /// Slots last offered to the dispatcher.
  uint32_t offered = 0;
  bool joined = false;
  int64_t last_seen_ms = 0;
};

struct hub_state {
  scheduler sched;
  hub_config cfg;
  std::map<std::string, http_worker> workers;
  /// The worker each pushed item went to.
  std::unordered_map<std::string, std::string> owner;
  uint64_t next_serial = 0;

  static inline const char* name = "jamjet.http.hub";
};

using hub_ptr = hub_actor::stateful_pointer<hub_state>;

/// The actor standing for one HTTP worker: what the dispatcher sends it
/// goes to the hub. It ends when the hub does.
worker_actor::behavior_type proxy_impl(worker_actor::pointer self,
                                       hub_actor hub, std::string id) {
  self->monitor(hub);
  self->set_down_handler([self](const caf::down_msg&) { self->quit(); });
  return {
    [=](work_item& item) {
      self->send(hub, pushed_atom::value, id, std::move(item));
    },
    [=](cancel_atom, std::string& item_id) {
      self->send(hub, lost_atom::value, id, std::move(item_id));
    },
    [=](tick_atom, uint64_t) {},
    [=](node_result&) {},
    [=](status_atom) { return uint32_t{0}; },
  };
}

/// Offers the dispatcher as many slots as the worker holds or waits for.
void offer(hub_ptr self, const std::string& id, http_worker& w,
           bool force = false) {
  auto slots =
    static_cast<uint32_t>(w.held.size() + w.ready.size() + w.waiting.size());
  if (w.joined && slots == w.offered && !force)
    return;
  w.offered = slots;
  w.joined = true;
  self->send(self->state.sched.dispatcher, join_atom::value, w.proxy, id,
             w.queues, slots);
}

http_worker& worker_of(hub_ptr self, const std::string& id) {
  auto& st = self->state;
  auto i = st.workers.find(id);
  if (i != st.workers.end())
    return i->second;
  auto& w = st.workers[id];
  w.proxy = self->spawn(proxy_impl, hub_actor{self}, id);
  log()->info("HTTP worker '{}' connected", id);
  return w;
}

/// Tells the dispatcher an attempt will not be reported, so the worker's
/// slot goes back (its fence is stale by now: this changes nothing else).
void release_slot(hub_ptr self, const std::string& worker_id,
                  const work_item& item) {
  auto res = result_for(item, worker_id);
  res.error = "lease ended";
  self->send(self->state.sched.dispatcher, std::move(res));
}

caf::result<claim_result> on_claim(hub_ptr self, const std::string& id,
                                   std::vector<std::string>& queues,
                                   uint32_t wait_ms) {
  auto& w = worker_of(self, id);
  w.last_seen_ms = now_ms(self);
  bool changed = w.queues != queues;
  w.queues = std::move(queues);
  if (!w.ready.empty()) {
    auto item = std::move(w.ready.front());
    w.ready.pop_front();
    w.held[item.id] = item;
    if (changed)
      offer(self, id, w, true);
    return claim_result{true, std::move(item)};
  }
  auto rp = self->make_response_promise<claim_result>();
  auto serial = ++self->state.next_serial;
  w.waiting.push_back(waiting_claim{serial, rp});
  offer(self, id, w, changed);
  self->delayed_send(self, std::chrono::milliseconds{wait_ms},
                     claim_due_atom::value, id, serial);
  return rp;
}

void on_pushed(hub_ptr self, const std::string& id, work_item& item) {
  auto& st = self->state;
  auto i = st.workers.find(id);
  if (i == st.workers.end()) {
    // Dropped meanwhile: its proxy is gone, so the dispatcher reclaims.
    return;
  }
  auto& w = i->second;
  st.owner[item.id] = id;
  if (w.waiting.empty()) {
    w.ready.push_back(std::move(item));
    return;
  }
  auto claim = std::move(w.waiting.front());
  w.waiting.pop_front();
  w.held[item.id] = item;
  claim.rp.deliver(claim_result{true, std::move(item)});
}

void on_lost(hub_ptr self, const std::string& id, const std::string& item_id) {
  auto& st = self->state;
  st.owner.erase(item_id);
  auto i = st.workers.find(id);
  if (i == st.workers.end())
    return;
  auto& w = i->second;
  std::optional<work_item> lost;
  if (auto h = w.held.find(item_id); h != w.held.end()) {
    lost = std::move(h->second);
    w.held.erase(h);
  } else {
    for (auto r = w.ready.begin(); r != w.ready.end(); ++r)
      if (r->id == item_id) {
        lost = std::move(*r);
        w.ready.erase(r);
        break;
      }
  }
  if (!lost)
    return;
  log()->info("HTTP worker '{}' lost its lease on '{}'", id, item_id);
  release_slot(self, id, *lost);
  offer(self, id, w);
}

settle_outcome on_settle(hub_ptr self, settle_request& req) {
  auto& st = self->state;
  auto o = st.owner.find(req.item_id);
  if (o == st.owner.end())
    return {};
  auto id = o->second;
  auto& w = st.workers[id];
  w.last_seen_ms = now_ms(self);
  auto h = w.held.find(req.item_id);
  if (h == w.held.end())
    return {};
  if (req.has_fence && req.fence != h->second.fence)
    return settle_outcome{settle_status::stale_fence, {}};
  auto item = std::move(h->second);
  w.held.erase(h);
  st.owner.erase(o);
  auto res = result_for(item, id);
  res.ok = req.ok;
  res.duration_ms = req.duration_ms;
  if (req.ok) {
    res.output = std::move(req.output);
    res.state_patch = std::move(req.state_patch);
  } else {
    res.error = std::move(req.error);
    res.retryable = true;
  }
  self->send(st.sched.dispatcher, std::move(res));
  offer(self, id, w);
  return settle_outcome{settle_status::accepted, std::move(item)};
}

settle_outcome on_heartbeat(hub_ptr self, const std::string& item_id,
                            const std::string& worker_id, uint64_t fence) {
  auto& st = self->state;
  auto o = st.owner.find(item_id);
  if (o == st.owner.end())
    return {};
  auto& w = st.workers[o->second];
  if (!worker_id.empty() && worker_id == o->second)
    w.last_seen_ms = now_ms(self);
  auto h = w.held.find(item_id);
  if (h == w.held.end())
    return {};
  if (fence != h->second.fence)
    return settle_outcome{settle_status::stale_fence, {}};
  w.last_seen_ms = now_ms(self);
  self->send(st.sched.dispatcher, heartbeat_atom::value, item_id, fence);
  return settle_outcome{settle_status::accepted, h->second};
}

void on_claim_due(hub_ptr self, const std::string& id, uint64_t serial) {
  auto& st = self->state;
  auto i = st.workers.find(id);
  if (i == st.workers.end())
    return;
  auto& w = i->second;
  for (auto c = w.waiting.begin(); c != w.waiting.end(); ++c)
    if (c->serial == serial) {
      c->rp.deliver(claim_result{});
      w.waiting.erase(c);
      w.last_seen_ms = now_ms(self);
      offer(self, id, w);
      return;
    }
}

/// Drops workers that hold nothing and were not heard from for a while.
void sweep(hub_ptr self) {
  auto& st = self->state;
  auto now = now_ms(self);
  for (auto i = st.workers.begin(); i != st.workers.end();) {
    auto& w = i->second;
    if (w.waiting.empty() && w.held.empty() &&
        now - w.last_seen_ms > st.cfg.idle.count()) {
      log()->info("HTTP worker '{}' left (not heard from for {} ms)", i->first,
                  now - w.last_seen_ms);
      for (auto& item : w.ready)
        st.owner.erase(item.id);
      self->send_exit(w.proxy, caf::exit_reason::user_shutdown);
      i = st.workers.erase(i);
    } else {
      ++i;
    }
  }
  self->delayed_send(self, st.cfg.sweep, tick_atom::value);
}

caf::result<std::vector<worker_view>> on_workers(hub_ptr self) {
  auto rp = self->make_response_promise<std::vector<worker_view>>();
  self
    ->request(self->state.sched.dispatcher, std::chrono::seconds{10},
              workers_atom::value)
    .then(
      [self, rp](std::vector<worker_summary>& all) mutable {
        std::map<caf::actor_addr, std::pair<std::string, const http_worker*>>
          ours;
        for (auto& [id, w] : self->state.workers)
          ours.emplace(w.proxy.address(), std::make_pair(id, &w));
        std::vector<worker_view> views;
        for (auto& s : all) {
          worker_view v;
          auto i = ours.find(s.address);
          if (i != ours.end()) {
            v.transport = "http";
            v.last_seen_ms = i->second.second->last_seen_ms;
            v.claimed = static_cast<uint32_t>(i->second.second->held.size());
            v.waiting = static_cast<uint32_t>(i->second.second->waiting.size());
          } else {
            v.transport = "native";
          }
          v.summary = std::move(s);
          views.push_back(std::move(v));
        }
        rp.deliver(std::move(views));
      },
      [rp](caf::error& err) mutable { rp.deliver(std::move(err)); });
  return rp;
}

hub_actor::behavior_type hub_impl(hub_ptr self, scheduler sched,
                                  hub_config cfg) {
  self->state.sched = std::move(sched);
  self->state.cfg = cfg;
  // Ends with the scheduler; its proxies end with it.
  self->link_to(self->state.sched.supervisor);
  self->delayed_send(self, cfg.sweep, tick_atom::value);
  return {
    [=](claim_atom, std::string& id, std::vector<std::string>& queues,
        uint32_t wait_ms) { return on_claim(self, id, queues, wait_ms); },
    [=](settle_atom, settle_request& req) { return on_settle(self, req); },
    [=](heartbeat_atom, const std::string& item_id,
        const std::string& worker_id, uint64_t fence) {
      return on_heartbeat(self, item_id, worker_id, fence);
    },
    [=](workers_atom) { return on_workers(self); },
    [=](pushed_atom, const std::string& id, work_item& item) {
      on_pushed(self, id, item);
    },
    [=](lost_atom, const std::string& id, const std::string& item_id) {
      on_lost(self, id, item_id);
    },
    [=](claim_due_atom, const std::string& id, uint64_t serial) {
      on_claim_due(self, id, serial);
    },
    [=](tick_atom) { sweep(self); },
  };
}

} // namespace

hub_actor spawn_hub(caf::actor_system& sys, const scheduler& sched,
                    hub_config cfg) {
  return sys.spawn(hub_impl, sched, cfg);
}

} // namespace jamjet::http
