#include "jamjet/runtime.hpp"

#include <atomic>
#include <mutex>
#include <thread>

#include <caf/all.hpp>

#include "jamjet/actors/gateway.hpp"
#include "jamjet/actors/scheduler.hpp"
#include "jamjet/actors/system_config.hpp"
#include "jamjet/actors/worker.hpp"
#include "jamjet/core/builtin_handlers.hpp"
#include "jamjet/core/graph.hpp"
#include "jamjet/core/workflow_registry.hpp"
#include "jamjet/messages/json_limits.hpp"
#include "jamjet/remote.hpp"
#include "jamjet/runtime_parts.hpp"
#include "jamjet/store/memory_store.hpp"

namespace jamjet {

namespace {

execution_result to_result(const execution_outcome& out) {
  execution_result r;
  r.execution_id = out.execution_id;
  r.status = to_string(out.status);
  r.error = out.error;
  if (!out.final_state.empty())
    r.state = try_parse_bounded(out.final_state, json_limits::stored());
  if (r.state.is_discarded())
    r.state = nullptr;
  return r;
}

std::exception_ptr to_exception(const caf::error& err) {
  return std::make_exception_ptr(error(code_of(err), error_message(err)));
}

/// Sends a request and blocks for its answer; throws on error.
template <class T, class Handle, class... Ts>
T ask(caf::actor_system& sys, const Handle& dest, Ts&&... xs) {
  caf::scoped_actor self{sys};
  std::optional<T> result;
  caf::error err;
  self->request(dest, caf::infinite, std::forward<Ts>(xs)...)
    .receive([&](T& x) { result = std::move(x); },
             [&](caf::error& e) { err = std::move(e); });
  if (!result)
    throw_error(err ? err : make_error(error_code::unavailable, "no answer"));
  return std::move(*result);
}

using outcome_callback = std::function<void(caf::expected<execution_outcome>)>;

/// A short-lived actor waiting for an execution's end.
void awaiter(caf::event_based_actor* self, supervisor_actor sup,
             std::string execution_id, outcome_callback fn) {
  self->request(sup, caf::infinite, await_atom::value, execution_id)
    .then([fn](execution_outcome& out) { fn(std::move(out)); },
          [fn](caf::error& err) { fn(std::move(err)); });
}

/// A short-lived actor starting one execution.
void starter(caf::event_based_actor* self, supervisor_actor sup,
             start_request req, std::shared_ptr<std::promise<std::string>> p) {
  self->request(sup, caf::infinite, start_atom::value, std::move(req))
    .then([p](std::string& id) { p->set_value(std::move(id)); },
          [p](caf::error& err) { p->set_exception(to_exception(err)); });
}

/// Calls `fn` with the outcome of an execution once it ends.
void await_outcome(caf::actor_system& sys, const supervisor_actor& sup,
                   const std::string& execution_id, outcome_callback fn) {
  // Arguments rather than captures: CAF 0.17 dereferences a null tuple for
  // function actors spawned without arguments (UBSan reports it).
  sys.spawn(awaiter, sup, execution_id, std::move(fn));
}

} // namespace

struct runtime::impl {
  runtime_config cfg;
  system_config sys_cfg;
  std::unique_ptr<caf::actor_system> sys;
  scheduler sched;
  std::shared_ptr<handler_registry> handlers =
    std::make_shared<handler_registry>();
  worker_actor worker;
  /// The network gateway, when listening.
  caf::actor gateway;
  uint16_t port = 0;
  /// Executions found running at start-up.
  std::vector<execution_record> resumed;
  bool worker_started = false;
  mutable std::mutex mtx;
  /// The workflows registered through this runtime or recovered, for the
  /// checks made before asking the supervisor (which keeps its own): the
  /// same graphs, compiled once.
  workflow_registry workflows;
  /// Set once by `shutdown`; read without the lock by `check_running`.
  std::atomic<bool> stopped{false};
  /// What `internal_parts` hands the layers above.
  parts exposed;

  graph_ptr find_graph(const std::string& id,
                       const std::string& version) const {
    std::lock_guard<std::mutex> guard{mtx};
    auto graph = workflows.find(id, version);
    if (!graph)
      throw_error(graph.error());
    return *graph;
  }

  bool has_graph(const std::string& id, const std::string& version) const {
    std::lock_guard<std::mutex> guard{mtx};
    return static_cast<bool>(workflows.find(id, version));
  }

  void check_running() const {
    if (stopped)
      throw error(error_code::unavailable, "the runtime has shut down");
  }

  void add_graph(graph_ptr graph) {
    std::lock_guard<std::mutex> guard{mtx};
    workflows.add(std::move(graph));
  }

  /// Spawns the local worker once.
  void start_worker() {
    std::lock_guard<std::mutex> guard{mtx};
    check_running();
    if (worker_started || cfg.worker_slots == 0)
      return;
    worker_started = true;
    worker_config wc;
    wc.slots = cfg.worker_slots;
    wc.heartbeat_interval = cfg.heartbeat;
    worker = spawn_worker(*sys, sched.dispatcher, handlers, wc);
  }
};

runtime::runtime(runtime_config cfg) : impl_(std::make_unique<impl>()) {
  auto& d = *impl_;
  if (!cfg.store)
    cfg.store = std::make_shared<memory_store>();
  d.cfg = cfg;
  auto threads = cfg.scheduler_threads;
  if (threads == 0)
    threads = std::max<size_t>(2, std::thread::hardware_concurrency());
  d.sys_cfg.scheduler_threads(threads);
  std::optional<std::pair<std::string, uint16_t>> endpoint;
  if (!cfg.listen.empty()) {
    endpoint = parse_endpoint(cfg.listen, "listen address");
    d.sys_cfg.network();
  }
  d.sys = std::make_unique<caf::actor_system>(d.sys_cfg);
  scheduler_config sc;
  sc.limits.max_in_flight = cfg.max_in_flight;
  sc.limits.max_per_wake = cfg.max_dispatch_per_wake;
  sc.dispatch.lease = cfg.lease;
  sc.inbox_poll = cfg.inbox_poll;
  d.sched = spawn_scheduler(*d.sys, cfg.store, sc);
  try {
    auto report =
      ask<recovery_report>(*d.sys, d.sched.supervisor, recover_atom::value);
    // The stored workflows as the supervisor compiled them (it logged those
    // that do not load: executions of them cannot resume).
    d.workflows =
      ask<workflow_registry>(*d.sys, d.sched.supervisor, workflows_atom::value);
    d.resumed = std::move(report.resumed);
    d.exposed = parts{d.sys.get(), d.sched};
    if (endpoint) {
      gateway_config gc;
      gc.host = endpoint->first;
      gc.port = endpoint->second;
      gc.access.add(cfg.token, access_role::operator_);
      gc.access.add(cfg.worker_token, access_role::worker);
      gc.access.add(cfg.viewer_token, access_role::viewer);
      gc.tls = cfg.tls;
      gc.limits = cfg.net;
      std::tie(d.gateway, d.port) = spawn_gateway(*d.sys, d.sched, gc);
    }
  } catch (...) {
    shutdown();
    throw;
  }
}

runtime::~runtime() {
  shutdown();
}

void runtime::register_handler(const std::string& kind, node_handler fn,
                               bool blocking) {
  impl_->handlers->add_kind(kind, handler_entry{std::move(fn), blocking});
}

void runtime::register_queue_handler(const std::string& queue, node_handler fn,
                                     bool blocking) {
  impl_->handlers->add_queue(queue, handler_entry{std::move(fn), blocking});
}

void runtime::register_builtin_handlers(std::chrono::seconds timeout) {
  jamjet::register_builtin_handlers(*impl_->handlers, timeout);
}

std::string runtime::register_workflow(const std::string& ir_json) {
  auto& d = *impl_;
  d.check_running();
  auto graph = workflow_registry::compile(ir_json);
  auto key = ask<std::string>(*d.sys, d.sched.supervisor, register_atom::value,
                              graph, ir_json);
  d.add_graph(std::move(graph));
  return key;
}

std::vector<std::string> runtime::resume() {
  auto& d = *impl_;
  d.check_running();
  if (d.cfg.worker_slots > 0) {
    std::vector<std::string> problems;
    for (auto& rec : d.resumed) {
      // An execution whose workflow did not load is being failed by the
      // supervisor ("cannot resume"); it needs no handler.
      if (!d.has_graph(rec.workflow_id, rec.workflow_version))
        continue;
      for (auto& m : missing_handlers(rec.workflow_id, rec.workflow_version))
        problems.push_back("execution " + rec.id + ": " + m);
    }
    if (!problems.empty()) {
      std::string msg = "cannot resume: no handler for";
      for (auto& p : problems)
        msg += "\n  - " + p;
      throw error(error_code::missing_handler, msg);
    }
  }
  d.start_worker();
  std::vector<std::string> ids;
  for (auto& rec : d.resumed)
    ids.push_back(rec.id);
  return ids;
}

std::vector<std::string>
runtime::missing_handlers(const std::string& workflow_id,
                          const std::string& version) const {
  auto graph = impl_->find_graph(workflow_id, version);
  return jamjet::missing_handlers(*graph, *impl_->handlers);
}

std::string runtime::start(const std::string& workflow_id,
                           const nlohmann::json& input,
                           const std::string& version) {
  return start_async(workflow_id, input, version).get();
}

std::future<std::string> runtime::start_async(const std::string& workflow_id,
                                              const nlohmann::json& input,
                                              const std::string& version) {
  auto& d = *impl_;
  d.check_running();
  if (!input.is_object())
    throw error(error_code::bad_input,
                "the input of an execution must be a JSON object, not " +
                  std::string{input.type_name()});
  auto graph = d.find_graph(workflow_id, version);
  if (d.cfg.worker_slots > 0) {
    auto missing = missing_handlers(workflow_id, graph->version());
    if (!missing.empty()) {
      std::string msg =
        "workflow '" + workflow_id + "' cannot start: no handler for";
      for (auto& m : missing)
        msg += "\n  - " + m;
      throw error(error_code::missing_handler, msg);
    }
  }
  d.start_worker();
  start_request req;
  req.workflow_id = workflow_id;
  req.version = graph->version();
  req.input = bounded_dump(input, "input");
  auto p = std::make_shared<std::promise<std::string>>();
  auto fut = p->get_future();
  d.sys->spawn(starter, d.sched.supervisor, std::move(req), p);
  return fut;
}

void runtime::on_result(const std::string& execution_id,
                        std::function<void(const execution_result&)> fn) {
  auto& d = *impl_;
  d.check_running();
  await_outcome(*d.sys, d.sched.supervisor, execution_id,
                [fn, execution_id](caf::expected<execution_outcome> out) {
                  if (out) {
                    fn(to_result(*out));
                    return;
                  }
                  execution_result r;
                  r.execution_id = execution_id;
                  r.status = to_string(execution_status_code::failed);
                  r.error = error_message(out.error());
                  fn(r);
                });
}

std::future<execution_result> runtime::result(const std::string& execution_id) {
  auto& d = *impl_;
  d.check_running();
  auto p = std::make_shared<std::promise<execution_result>>();
  auto fut = p->get_future();
  await_outcome(*d.sys, d.sched.supervisor, execution_id,
                [p](caf::expected<execution_outcome> out) {
                  if (out)
                    p->set_value(to_result(*out));
                  else
                    p->set_exception(to_exception(out.error()));
                });
  return fut;
}

execution_result runtime::wait(const std::string& execution_id) {
  return result(execution_id).get();
}

execution_status runtime::status(const std::string& execution_id) {
  auto& d = *impl_;
  d.check_running();
  auto rec = ask<execution_record>(*d.sys, d.sched.supervisor,
                                   status_atom::value, execution_id);
  return execution_status{rec.id, rec.workflow_id, rec.workflow_version,
                          to_string(rec.status), rec.last_sequence};
}

std::vector<event> runtime::events(const std::string& execution_id) {
  auto& d = *impl_;
  d.check_running();
  return ask<std::vector<event>>(*d.sys, d.sched.backend, read_atom::value,
                                 execution_id, uint64_t{1});
}

void runtime::cancel(const std::string& execution_id,
                     const std::string& reason) {
  auto& d = *impl_;
  d.check_running();
  ask<caf::ok_atom>(*d.sys, d.sched.supervisor, cancel_atom::value,
                    execution_id, reason);
}

void runtime::signal(const std::string& execution_id, const std::string& key,
                     const nlohmann::json& payload) {
  auto& d = *impl_;
  d.check_running();
  ask<caf::ok_atom>(*d.sys, d.sched.supervisor, signal_atom::value,
                    execution_id, key, bounded_dump(payload, "payload"));
}

void runtime::approve(const std::string& execution_id,
                      const std::string& node_id, const std::string& user_id,
                      const std::optional<std::string>& comment,
                      const nlohmann::json& state_patch) {
  if (!state_patch.is_null() && !state_patch.is_object())
    throw error(error_code::bad_input,
                "an approval's state patch must be a JSON object");
  decide(execution_id, node_id, true, user_id, comment,
         state_patch.is_null() ? std::string{}
                               : bounded_dump(state_patch, "state patch"));
}

void runtime::reject(const std::string& execution_id,
                     const std::string& node_id, const std::string& user_id,
                     const std::optional<std::string>& comment) {
  decide(execution_id, node_id, false, user_id, comment, std::string{});
}

void runtime::decide(const std::string& execution_id,
                     const std::string& node_id, bool approved,
                     const std::string& user_id,
                     const std::optional<std::string>& comment,
                     const std::string& state_patch) {
  auto& d = *impl_;
  d.check_running();
  approval_request req;
  req.node_id = node_id;
  req.approved = approved;
  req.user_id = user_id;
  if (comment)
    req.comment = *comment;
  req.state_patch = state_patch;
  ask<caf::ok_atom>(*d.sys, d.sched.supervisor, approve_atom::value,
                    execution_id, req);
}

const runtime::parts& runtime::internal_parts() const {
  return impl_->exposed;
}

uint16_t runtime::port() const noexcept {
  return impl_->port;
}

void runtime::shutdown() {
  auto& d = *impl_;
  {
    std::lock_guard<std::mutex> guard{d.mtx};
    if (d.stopped)
      return;
    d.stopped = true;
  }
  // The scheduler goes first: handlers that the worker's exit cancels must
  // not be recorded as failures. Their executions stay running in the store.
  if (d.gateway)
    caf::anon_send_exit(d.gateway, caf::exit_reason::user_shutdown);
  d.gateway = nullptr;
  stop_scheduler(d.sched);
  if (d.worker)
    caf::anon_send_exit(d.worker, caf::exit_reason::user_shutdown);
  d.worker = nullptr;
  d.sched = scheduler{};
  d.exposed = parts{};
  // The actor system's destructor waits for every actor to finish.
  d.sys.reset();
}

} // namespace jamjet
