#include "jamjet/actors/worker.hpp"

#include <atomic>
#include <map>
#include <optional>
#include <unistd.h>

#include <caf/all.hpp>
#include <spdlog/spdlog.h>

#include "jamjet/actors/timer.hpp"
#include "jamjet/messages/json_limits.hpp"
#include "jamjet/support/thread_pool.hpp"

namespace jamjet {

namespace {

std::atomic<uint64_t> worker_counter{0};

struct running_task {
  std::shared_ptr<std::atomic<bool>> cancelled;
  /// The item's lease period (its workflow's heartbeat interval); 0: the
  /// dispatcher's default.
  uint64_t lease_ms = 0;
};

struct worker_state {
  worker_host_actor host;
  std::shared_ptr<const handler_registry> handlers;
  worker_config cfg;
  /// Running blocking handlers by (item id, fence).
  std::map<std::pair<std::string, uint64_t>, running_task> tasks;
  /// The next heartbeat for the running tasks.
  deadline_timer heartbeat;
  /// Declared last: destroyed first, so its threads are joined while the
  /// rest of the state is still alive.
  std::unique_ptr<thread_pool> pool;

  ~worker_state() {
    for (auto& [key, task] : tasks)
      task.cancelled->store(true);
  }

  static inline const char* name = "jamjet.worker";
};

using worker_ptr = worker_actor::stateful_pointer<worker_state>;

/// Runs a handler for `item` (whose payload is `payload`, parsed) and turns
/// the outcome into a result.
node_result run_handler(const handler_entry& entry, const work_item& item,
                        nlohmann::json payload, const std::string& worker_id,
                        std::shared_ptr<std::atomic<bool>> cancelled) {
  auto res = result_for(item, worker_id);
  auto t0 = std::chrono::steady_clock::now();
  try {
    node_context ctx;
    ctx.execution_id = item.execution_id;
    ctx.node_id = item.node_id;
    ctx.attempt = item.attempt;
    ctx.cancelled = std::move(cancelled);
    if (payload.is_object()) {
      ctx.node = std::move(payload["node"]);
      ctx.state = std::move(payload["state"]);
    }
    auto out = entry.fn(ctx);
    res.ok = out.ok;
    // A handler's output is outside data: bounded before it is dumped (a
    // dump recurses once per level), and refused as a failed attempt.
    std::optional<std::string> problem;
    if (out.ok) {
      problem = json_depth_problem(out.output);
      if (!problem)
        problem = json_depth_problem(out.state_patch);
      if (problem)
        problem = "handler output or state patch refused: " + *problem;
    }
    if (!problem && out.ok) {
      res.output = out.output.dump();
      res.state_patch = out.state_patch.dump();
      if (res.output.size() + res.state_patch.size() > json_max_bytes)
        problem = "handler output and state patch of " +
                  std::to_string(res.output.size() + res.state_patch.size()) +
                  " bytes exceed the limit of " +
                  std::to_string(json_max_bytes) + " bytes";
    }
    if (problem) {
      res.ok = false;
      res.output.clear();
      res.state_patch.clear();
      res.error = std::move(*problem);
      res.retryable = false;
    } else if (!out.ok) {
      res.error = std::move(out.error);
      res.retryable = out.retryable;
      res.error_class = std::move(out.error_class);
    }
  } catch (const std::exception& ex) {
    res.ok = false;
    res.error = std::string{"handler threw: "} + ex.what();
    res.retryable = true;
  } catch (...) {
    res.ok = false;
    res.error = "handler threw a non-standard exception";
    res.retryable = true;
  }
  auto t1 = std::chrono::steady_clock::now();
  res.duration_ms = static_cast<uint64_t>(
    std::chrono::duration_cast<std::chrono::milliseconds>(t1 - t0).count());
  return res;
}

void arm_heartbeat(worker_ptr self) {
  auto& st = self->state;
  if (st.tasks.empty())
    return;
  // Three heartbeats per lease at least, for the shortest lease held.
  auto interval = st.cfg.heartbeat_interval;
  for (auto& [key, task] : st.tasks)
    if (task.lease_ms > 0)
      interval = std::min(
        interval,
        std::chrono::milliseconds{std::max<uint64_t>(task.lease_ms / 3, 1)});
  // A pending heartbeat that comes soon enough will do.
  arm_after(self, st.heartbeat, interval, tick_atom::value);
}

worker_actor::behavior_type
worker_impl(worker_ptr self, worker_host_actor host,
            std::shared_ptr<const handler_registry> handlers,
            worker_config cfg) {
  auto& st = self->state;
  if (cfg.id.empty())
    cfg.id = "worker-" + std::to_string(::getpid()) + "-" +
             std::to_string(++worker_counter);
  st.host = host;
  st.handlers = std::move(handlers);
  st.cfg = cfg;
  st.pool = std::make_unique<thread_pool>(cfg.slots);
  self->send(host, join_atom::value, caf::actor_cast<worker_actor>(self),
             cfg.id, cfg.queues, cfg.slots);
  return {
    [=](work_item& item) {
      auto& s = self->state;
      // The kind is in the payload's node; handlers by queue type are the
      // fallback.
      // Written by the runtime around bounded values: the stored limits.
      auto payload = try_parse_bounded(item.payload, json_limits::stored());
      std::string kind;
      if (payload.is_object() && payload.contains("node") &&
          payload["node"].contains("kind") &&
          payload["node"]["kind"].contains("type") &&
          payload["node"]["kind"]["type"].is_string())
        kind = payload["node"]["kind"]["type"].get<std::string>();
      auto entry = s.handlers->find(kind, item.queue_type);
      if (!entry.fn) {
        auto res = result_for(item, s.cfg.id);
        res.error = "worker '" + s.cfg.id + "' has no handler for node kind '" +
                    kind + "' (queue '" + item.queue_type + "')";
        res.retryable = false;
        self->send(s.host, std::move(res));
        return;
      }
      auto cancelled = std::make_shared<std::atomic<bool>>(false);
      if (!entry.blocking) {
        self->send(s.host, run_handler(entry, item, std::move(payload),
                                       s.cfg.id, cancelled));
        return;
      }
      s.tasks.emplace(std::make_pair(item.id, item.fence),
                      running_task{cancelled, item.lease_ms});
      auto me = caf::actor_cast<worker_actor>(self);
      auto id = s.cfg.id;
      s.pool->submit([me, entry, item = std::move(item),
                      payload = std::move(payload), id, cancelled]() mutable {
        caf::anon_send(
          me, run_handler(entry, item, std::move(payload), id, cancelled));
      });
      arm_heartbeat(self);
    },
    [=](node_result& res) {
      auto& s = self->state;
      s.tasks.erase(std::make_pair(res.item_id, res.fence));
      self->send(s.host, std::move(res));
    },
    [=](status_atom) {
      return static_cast<uint32_t>(self->state.tasks.size());
    },
    [=](cancel_atom, const std::string& item_id) {
      for (auto& [key, task] : self->state.tasks)
        if (key.first == item_id)
          task.cancelled->store(true);
    },
    [=](tick_atom, uint64_t generation) {
      auto& s = self->state;
      if (!s.heartbeat.fire(generation))
        return;
      for (auto& [key, task] : s.tasks)
        self->send(s.host, heartbeat_atom::value, key.first, key.second);
      arm_heartbeat(self);
    },
  };
}

} // namespace

worker_actor spawn_worker(caf::actor_system& sys, worker_host_actor host,
                          std::shared_ptr<const handler_registry> handlers,
                          worker_config cfg) {
  return sys.spawn(worker_impl, std::move(host), std::move(handlers),
                   std::move(cfg));
}

} // namespace jamjet
