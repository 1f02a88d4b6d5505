#pragma once

// The actor-test fixture: the scheduler's actors on CAF's test coordinator,
// with virtual time and a scripted worker the test answers for.

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include <caf/all.hpp>
#include <caf/scheduler/test_coordinator.hpp>

#include "jamjet/actors/scheduler.hpp"
#include "jamjet/actors/system_config.hpp"
#include "jamjet/store/memory_store.hpp"

namespace jamjet::testing {

using namespace std::chrono_literals;

/// What the scripted worker was sent.
struct worker_log {
  std::vector<work_item> items;
  std::vector<std::string> cancels;
};

struct scripted_worker_state {
  static inline const char* name = "scripted_worker";
};

/// A worker that only records what it gets; the test answers for it.
inline worker_actor::behavior_type
scripted_worker(worker_actor::stateful_pointer<scripted_worker_state> self,
                worker_host_actor host, std::string id, uint32_t slots,
                std::shared_ptr<worker_log> log) {
  self->send(host, join_atom::value, caf::actor_cast<worker_actor>(self), id,
             std::vector<std::string>{"*"}, slots);
  return {
    [=](work_item& item) { log->items.push_back(std::move(item)); },
    [=](cancel_atom, std::string& item_id) {
      log->cancels.push_back(std::move(item_id));
    },
    [=](tick_atom, uint64_t) {},
    [=](node_result&) {},
    [=](status_atom) { return uint32_t{0}; },
  };
}

struct fixture {
  system_config cfg;
  std::unique_ptr<caf::actor_system> sys;
  caf::scheduler::test_coordinator* sched = nullptr;
  std::shared_ptr<memory_store> store = std::make_shared<memory_store>();
  scheduler s;
  std::vector<worker_actor> workers;

  explicit fixture(size_t max_in_flight = 16, size_t max_per_wake = 8,
                   std::function<void(const event&)> before_fold = nullptr) {
    cfg.testing();
    sys = std::make_unique<caf::actor_system>(cfg);
    sched = &dynamic_cast<caf::scheduler::test_coordinator&>(sys->scheduler());
    scheduler_config sc;
    sc.limits.max_in_flight = max_in_flight;
    sc.limits.max_per_wake = max_per_wake;
    sc.limits.before_fold = std::move(before_fold);
    sc.dispatch.lease = 1000ms;
    s = spawn_scheduler(*sys, store, sc);
    run();
  }

  ~fixture() {
    for (auto& w : workers)
      caf::anon_send_exit(w, caf::exit_reason::user_shutdown);
    stop_scheduler(s);
    run();
  }

  void run() { sched->run(); }

  std::shared_ptr<worker_log> add_worker(const std::string& id,
                                         uint32_t slots) {
    auto log = std::make_shared<worker_log>();
    workers.push_back(sys->spawn(
      scripted_worker, worker_host_actor{s.dispatcher}, id, slots, log));
    run();
    return log;
  }

  void register_workflow(const std::string& json) {
    caf::anon_send(s.supervisor, register_atom::value, json);
    run();
  }

  void start(const std::string& workflow_id, const std::string& exec_id) {
    start_request req;
    req.workflow_id = workflow_id;
    req.execution_id = exec_id;
    caf::anon_send(s.supervisor, start_atom::value, req);
    run();
  }

  /// A result for `item` as its worker would report it.
  static node_result result_for(const work_item& item) {
    return jamjet::result_for(item, item.worker_id);
  }

  /// A successful result for `item`, not yet sent.
  static node_result success(const work_item& item,
                             const std::string& patch = "{}") {
    auto r = result_for(item);
    r.ok = true;
    r.output = "null";
    r.state_patch = patch;
    return r;
  }

  /// Reports a result for `item` as its worker would.
  void complete(const work_item& item, const std::string& patch = "{}") {
    caf::anon_send(s.dispatcher, success(item, patch));
    run();
  }

  void fail(const work_item& item, const std::string& error, bool retryable,
            const std::string& error_class = {}) {
    auto r = result_for(item);
    r.ok = false;
    r.error = error;
    r.retryable = retryable;
    r.error_class = error_class;
    caf::anon_send(s.dispatcher, r);
    run();
  }

  /// What a request answered: nothing yet, ok (an empty error) or an error.
  using answer = std::shared_ptr<std::optional<caf::error>>;

  /// Delivers an external event through the supervisor.
  answer signal(const std::string& exec_id, const std::string& key,
                const std::string& payload) {
    auto a = std::make_shared<std::optional<caf::error>>();
    sys->spawn(
      [](caf::event_based_actor* self, supervisor_actor sup, std::string id,
         std::string k, std::string p, answer out) {
        self->request(sup, caf::infinite, signal_atom::value, id, k, p)
          .then([out](caf::ok_atom) { *out = caf::error{}; },
                [out](caf::error& e) { *out = std::move(e); });
      },
      s.supervisor, exec_id, key, payload, a);
    run();
    return a;
  }

  /// Delivers an approval decision through the supervisor.
  answer decide(const std::string& exec_id, approval_request req) {
    auto a = std::make_shared<std::optional<caf::error>>();
    sys->spawn(
      [](caf::event_based_actor* self, supervisor_actor sup, std::string id,
         approval_request r, answer out) {
        self->request(sup, caf::infinite, approve_atom::value, id, r)
          .then([out](caf::ok_atom) { *out = caf::error{}; },
                [out](caf::error& e) { *out = std::move(e); });
      },
      s.supervisor, exec_id, std::move(req), a);
    run();
    return a;
  }

  /// Events of kind T in an execution's log.
  template <class T>
  std::vector<T> events_of(const std::string& exec_id) {
    std::vector<T> result;
    for (auto& e : store->read_events(exec_id, 1))
      if (auto x = caf::get_if<T>(&e.kind))
        result.push_back(*x);
    return result;
  }

  void advance(caf::timespan d) {
    sched->advance_time(d);
    run();
  }

  std::vector<std::string> kinds(const std::string& exec_id) {
    std::vector<std::string> result;
    for (auto& e : store->read_events(exec_id, 1)) {
      auto k = type_name_of(e.kind);
      auto n = node_id_of(e.kind);
      result.push_back(n.empty() ? k : k + ":" + n);
    }
    return result;
  }

  /// The execution's status as its text (readable when a check fails).
  std::string status(const std::string& exec_id) {
    return to_string(store->find_execution(exec_id)->status);
  }
};

inline std::string chain_ir(const std::string& id, int n,
                            const std::string& policy = "null") {
  std::string nodes, edges;
  for (int i = 0; i < n; ++i) {
    auto name = "n" + std::to_string(i);
    if (i > 0)
      nodes += ",";
    nodes += "\"" + name + "\":{\"id\":\"" + name +
             "\",\"kind\":{\"type\":\"tool\"},\"retry_policy\":" + policy + "}";
    if (i > 0)
      edges += ",";
    edges += "{\"from\":\"" + name + "\",\"to\":\"" +
             (i + 1 < n ? "n" + std::to_string(i + 1) : std::string{"end"}) +
             "\"}";
  }
  return "{\"workflow_id\":\"" + id +
         "\",\"version\":\"1\",\"start_node\":\"n0\",\"nodes\":{" + nodes +
         "},\"edges\":[" + edges + "]}";
}

/// start -> m0..m{w-1} -> join
inline std::string fan_ir(const std::string& id, int w) {
  std::string nodes =
    "\"start\":{\"id\":\"start\",\"kind\":{\"type\":\"tool\"}},"
    "\"join\":{\"id\":\"join\",\"kind\":{\"type\":\"tool\"}}";
  std::string edges = "{\"from\":\"join\",\"to\":\"end\"}";
  for (int i = 0; i < w; ++i) {
    auto m = "m" + std::to_string(i);
    nodes +=
      ",\"" + m + "\":{\"id\":\"" + m + "\",\"kind\":{\"type\":\"tool\"}}";
    edges += ",{\"from\":\"start\",\"to\":\"" + m + "\"},{\"from\":\"" + m +
             "\",\"to\":\"join\"}";
  }
  return "{\"workflow_id\":\"" + id +
         "\",\"version\":\"1\",\"start_node\":\"start\",\"nodes\":{" + nodes +
         "},\"edges\":[" + edges + "]}";
}

} // namespace jamjet::testing
