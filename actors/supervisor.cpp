#include "jamjet/actors/supervisor.hpp"

#include <map>
#include <set>
#include <unordered_map>

#include "jamjet/support/log.hpp"
#include <caf/all.hpp>

#include "jamjet/core/scheduler_nodes.hpp"
#include "jamjet/messages/error.hpp"
#include "jamjet/messages/json_limits.hpp"
#include "jamjet/support/clock.hpp"
#include "jamjet/support/ids.hpp"

namespace jamjet {

namespace {

struct supervisor_state {
  backend_actor backend;
  dispatcher_actor dispatcher;
  execution_limits limits;
  std::chrono::milliseconds inbox_poll{0};
  /// Set when the store failed.
  std::string store_failure;
  /// Inbox requests being delivered.
  std::set<int64_t> inbox_busy;
  /// Inbox cancels by execution: dropped once the execution has ended, so
  /// a crash before that delivers them again.
  std::map<std::string, std::vector<int64_t>> inbox_cancels;
  /// Compiled workflows.
  workflow_registry workflows;
  /// Actors of running executions.
  std::unordered_map<std::string, execution_actor> routes;
  /// Waiters for the end of running executions.
  std::unordered_map<
    std::string, std::vector<caf::typed_response_promise<execution_outcome>>>
    waiters;

  static inline const char* name = "jamjet.supervisor";
};

using supervisor_ptr = supervisor_actor::stateful_pointer<supervisor_state>;

/// The error branch of a request whose answer goes to `rp`: passes the
/// error on.
template <class T>
auto forward_error(caf::typed_response_promise<T> rp) {
  return [rp](caf::error& err) mutable { rp.deliver(std::move(err)); };
}

// -- waiters and results ------------------------------------------------------

execution_outcome outcome_of(const execution_record& rec) {
  execution_outcome out;
  out.execution_id = rec.id;
  out.status = rec.status;
  if (rec.status == execution_status_code::completed)
    out.final_state = rec.result;
  else
    out.error = rec.result;
  return out;
}

/// The outcome a terminal event gives its execution.
execution_outcome outcome_of(const event& e) {
  execution_outcome out;
  out.execution_id = e.execution_id;
  if (auto x = caf::get_if<workflow_completed>(&e.kind)) {
    out.status = execution_status_code::completed;
    out.final_state = x->final_state;
  } else if (auto y = caf::get_if<workflow_failed>(&e.kind)) {
    out.status = execution_status_code::failed;
    out.error = y->error;
  } else if (auto z = caf::get_if<workflow_cancelled>(&e.kind)) {
    out.status = execution_status_code::cancelled;
    out.error = z->reason ? *z->reason : std::string{"cancelled"};
  }
  return out;
}

/// Ends every wait with the error `why(execution_id)` gives.
template <class Why>
void fail_waiters(supervisor_ptr self, Why why) {
  for (auto& [id, rps] : self->state.waiters)
    for (auto& rp : rps)
      rp.deliver(why(id));
  self->state.waiters.clear();
}

/// Answers when execution `id` ends: at once when it has ended already.
caf::result<execution_outcome> await_execution(supervisor_ptr self,
                                               const std::string& id) {
  auto& st = self->state;
  if (!st.store_failure.empty())
    return make_error(error_code::store_failure,
                      "the store failed (" + st.store_failure + ")");
  auto rp = self->make_response_promise<execution_outcome>();
  if (st.routes.count(id) > 0) {
    st.waiters[id].push_back(rp);
    return rp;
  }
  self->request(st.backend, caf::infinite, record_atom::value, id)
    .then(
      [self, rp, id](execution_record& rec) mutable {
        if (rec.status == execution_status_code::running)
          self->state.waiters[id].push_back(rp);
        else
          rp.deliver(outcome_of(rec));
      },
      forward_error(rp));
  return rp;
}

// -- routing published events -------------------------------------------------

/// Settles what waited for the end of an execution: its inbox cancels, its
/// route and its waiters.
void on_terminal(supervisor_ptr self, const event& e) {
  auto& st = self->state;
  if (auto c = st.inbox_cancels.find(e.execution_id);
      c != st.inbox_cancels.end()) {
    for (auto id : c->second) {
      caf::anon_send(st.backend, inbox_atom::value, id);
      st.inbox_busy.erase(id);
    }
    st.inbox_cancels.erase(c);
  }
  st.routes.erase(e.execution_id);
  auto i = st.waiters.find(e.execution_id);
  if (i == st.waiters.end())
    return;
  auto out = outcome_of(e);
  for (auto& rp : i->second)
    rp.deliver(out);
  st.waiters.erase(i);
}

/// Hands each execution its committed events, in commit order.
void route(supervisor_ptr self, std::vector<event>& events) {
  auto& st = self->state;
  // Group by execution, keeping commit order within each.
  std::vector<std::pair<std::string, std::vector<event>>> groups;
  std::unordered_map<std::string, size_t> index;
  for (auto& e : events) {
    auto [i, added] = index.emplace(e.execution_id, groups.size());
    if (added)
      groups.emplace_back(e.execution_id, std::vector<event>{});
    groups[i->second].second.emplace_back(std::move(e));
  }
  for (auto& [id, evs] : groups) {
    bool terminal = is_terminal(evs.back().kind);
    std::optional<event> last;
    if (terminal)
      last = evs.back();
    if (auto r = st.routes.find(id); r != st.routes.end())
      self->send(r->second, std::move(evs));
    if (terminal)
      on_terminal(self, *last);
  }
}

/// No execution can move on: ends the waits with the store's error and
/// stops every execution.
void on_store_failure(supervisor_ptr self, const std::string& failure) {
  auto& st = self->state;
  st.store_failure = failure;
  log()->error("store failed; {} running execution(s) stop here",
               st.routes.size());
  fail_waiters(self, [&failure](const std::string& id) {
    return make_error(error_code::store_failure,
                      "execution '" + id +
                        "' cannot go on: the store failed (" + failure + ")");
  });
  for (auto& [id, exec] : st.routes)
    self->send_exit(exec, caf::exit_reason::user_shutdown);
  st.routes.clear();
}

void on_published(supervisor_ptr self, published_events& msg) {
  if (!msg.store_failure.empty())
    on_store_failure(self, msg.store_failure);
  else
    route(self, msg.events);
}

/// Executions are not linked (one failing must not take the others down),
/// so the supervisor takes them with it when it is told to exit.
void on_exit(supervisor_ptr self, const caf::exit_msg& msg) {
  for (auto& [id, exec] : self->state.routes)
    self->send_exit(exec, msg.reason);
  fail_waiters(self, [](const std::string& id) {
    return make_error(error_code::unavailable,
                      "the runtime shut down before execution '" + id +
                        "' ended");
  });
  self->quit(msg.reason);
}

// -- registration -------------------------------------------------------------

/// Stores the definition `ir_json` of `graph`, then registers `graph`.
caf::result<std::string> register_graph(supervisor_ptr self, graph_ptr graph,
                                        const std::string& ir_json) {
  auto rp = self->make_response_promise<std::string>();
  self
    ->request(self->state.backend, caf::infinite, register_atom::value,
              graph->workflow_id(), graph->version(), ir_json)
    .then(
      [self, rp, graph](caf::ok_atom) mutable {
        rp.deliver(self->state.workflows.add(graph));
      },
      forward_error(rp));
  return rp;
}

/// Compiles, stores and registers a workflow definition.
caf::result<std::string> register_ir(supervisor_ptr self,
                                     const std::string& ir_json) {
  graph_ptr graph;
  try {
    graph = workflow_registry::compile(ir_json);
  } catch (const error& ex) {
    return make_error(ex.code(), ex.what());
  }
  return register_graph(self, std::move(graph), ir_json);
}

/// Registers a workflow definition found in the store.
void adopt_workflow(supervisor_ptr self, const workflow_definition& def) {
  try {
    self->state.workflows.add(workflow_registry::compile(def.ir_json));
  } catch (const error& ex) {
    log()->error("stored workflow '{}' version '{}' does not load: {}",
                 def.workflow_id, def.version, ex.what());
  }
}

// -- starts and recovery ------------------------------------------------------

/// Commits `WorkflowStarted` (and the workflow timeout) for a new
/// execution of a registered workflow, and spawns its actor.
caf::result<std::string> start_execution(supervisor_ptr self,
                                         start_request& req) {
  auto& st = self->state;
  auto graph = st.workflows.find(req.workflow_id, req.version);
  if (!graph)
    return std::move(graph.error());
  // Outside data: bounded before the commit (json_limits.hpp).
  if (auto problem = json_limit_problem(req.input))
    return make_error(error_code::bad_input, "input refused: " + *problem);
  auto id = req.execution_id.empty() ? make_uuid() : req.execution_id;
  if (st.routes.count(id) > 0)
    return make_error(error_code::bad_input,
                      "execution '" + id + "' is already running");
  auto exec =
    spawn_execution(self->system(), id, *graph, st.backend, st.limits);
  st.routes.emplace(id, exec);
  command cmd;
  cmd.execution_id = id;
  cmd.now_ms = now_ms(self);
  cmd.events.emplace_back(
    workflow_started{req.workflow_id, (*graph)->version(), req.input});
  // The workflow timeout is a durable timer like any other.
  if (auto limit = (*graph)->timeouts().workflow_ms; limit > 0)
    add_timer(cmd, std::string{}, std::string{workflow_timeout_key},
              cmd.now_ms + static_cast<int64_t>(limit), 1);
  auto rp = self->make_response_promise<std::string>();
  self->request(st.backend, caf::infinite, commit_atom::value, cmd)
    .then([rp, id](const commit_result&) mutable { rp.deliver(id); },
          [self, rp, id, exec](caf::error& err) mutable {
            self->state.routes.erase(id);
            self->send_exit(exec, caf::exit_reason::user_shutdown);
            rp.deliver(std::move(err));
          });
  return rp;
}

/// Fails an execution that cannot be resumed: its stored events cannot be
/// read (a row too deep or malformed, written by an older version), or its
/// workflow is missing or does not load. It must not stay "running" for
/// ever, nor be retried at every start. Its open items are cancelled and
/// taken out of `items`.
void fail_unresumable(supervisor_ptr self, const recovered_execution& ex,
                      const std::string& why, std::vector<work_item>& items) {
  auto& id = ex.record.id;
  log()->error("cannot resume execution '{}': {}", id, why);
  command cmd;
  cmd.execution_id = id;
  cmd.now_ms = now_ms(self);
  cmd.urgent = true;
  auto keep = items.begin();
  for (auto& item : items) {
    if (item.execution_id == id)
      cmd.items.emplace_back(cancel_op{item.id});
    else
      *keep++ = std::move(item);
  }
  items.erase(keep, items.end());
  cmd.events.emplace_back(workflow_failed{"cannot resume: " + why});
  self->request(self->state.backend, caf::infinite, commit_atom::value, cmd)
    .then([](const commit_result&) {},
          [id](caf::error& err) {
            log()->error("cannot fail execution '{}': {}", id,
                         error_message(err));
          });
}

recovery_report recover(supervisor_ptr self, recovery_snapshot& snap) {
  auto& st = self->state;
  recovery_report report;
  for (auto& def : snap.workflows)
    adopt_workflow(self, def);
  report.workflows = std::move(snap.workflows);
  for (auto& ex : snap.executions) {
    auto& rec = ex.record;
    if (st.routes.count(rec.id) > 0)
      continue;
    execution_record brief;
    brief.id = rec.id;
    brief.workflow_id = rec.workflow_id;
    brief.workflow_version = rec.workflow_version;
    brief.status = rec.status;
    auto graph = st.workflows.find(rec.workflow_id, rec.workflow_version);
    if (!ex.unreadable.empty() || !graph) {
      // Reported with the others: whoever awaits it sees it fail.
      auto why = !ex.unreadable.empty()
                   ? ex.unreadable
                   : "workflow '" + rec.workflow_id + "' version '" +
                       rec.workflow_version +
                       "' is missing from the store or does not load";
      fail_unresumable(self, ex, why, snap.items);
      report.resumed.push_back(std::move(brief));
      continue;
    }
    auto exec =
      spawn_execution(self->system(), rec.id, *graph, st.backend, st.limits);
    st.routes.emplace(rec.id, exec);
    self->send(exec, recover_atom::value, std::move(ex.snapshot),
               ex.snapshot_sequence, std::move(ex.events));
    report.resumed.push_back(std::move(brief));
  }
  self->send(st.dispatcher, recover_atom::value, std::move(snap.items));
  if (!report.resumed.empty())
    log()->info("resumed {} running execution(s)", report.resumed.size());
  return report;
}

/// Reads what the store holds and recovers it; then starts polling the
/// inbox when that is on.
caf::result<recovery_report> recover_all(supervisor_ptr self) {
  auto rp = self->make_response_promise<recovery_report>();
  self->request(self->state.backend, caf::infinite, recover_atom::value)
    .then(
      [self, rp](recovery_snapshot& snap) mutable {
        rp.deliver(recover(self, snap));
        if (self->state.inbox_poll.count() > 0)
          self->send(self, inbox_atom::value);
      },
      forward_error(rp));
  return rp;
}

// -- requests to executions ---------------------------------------------------

/// The error for a request to an execution that is not running here.
caf::result<caf::ok_atom> not_running(supervisor_ptr self,
                                      const std::string& id,
                                      const std::string& what) {
  auto rp = self->make_response_promise<caf::ok_atom>();
  self->request(self->state.backend, caf::infinite, record_atom::value, id)
    .then(
      [rp, what](execution_record& rec) mutable {
        rp.deliver(make_error(error_code::bad_input,
                              "cannot " + what + " execution '" + rec.id +
                                "': it is " + to_string(rec.status)));
      },
      forward_error(rp));
  return rp;
}

caf::result<execution_record> status_of(supervisor_ptr self,
                                        const std::string& id) {
  auto rp = self->make_response_promise<execution_record>();
  self->request(self->state.backend, caf::infinite, record_atom::value, id)
    .then([rp](execution_record& rec) mutable { rp.deliver(rec); },
          forward_error(rp));
  return rp;
}

caf::result<caf::ok_atom> signal_execution(supervisor_ptr self,
                                           const std::string& id,
                                           std::string& key,
                                           std::string& payload) {
  auto r = self->state.routes.find(id);
  if (r == self->state.routes.end())
    return not_running(self, id, "deliver an event to");
  return self->delegate(r->second, signal_atom::value, std::move(key),
                        std::move(payload));
}

caf::result<caf::ok_atom> approve_execution(supervisor_ptr self,
                                            const std::string& id,
                                            approval_request& req) {
  auto r = self->state.routes.find(id);
  if (r == self->state.routes.end())
    return not_running(self, id, "deliver an approval to");
  return self->delegate(r->second, approve_atom::value, std::move(req));
}

caf::result<caf::ok_atom> cancel_execution(supervisor_ptr self,
                                           const std::string& id,
                                           std::string& reason) {
  auto& st = self->state;
  auto r = st.routes.find(id);
  if (r != st.routes.end()) {
    self->send(r->second, cancel_atom::value, std::move(reason));
    return caf::ok_atom::value;
  }
  auto rp = self->make_response_promise<caf::ok_atom>();
  self->request(st.backend, caf::infinite, record_atom::value, id)
    .then(
      [rp](execution_record& rec) mutable {
        rp.deliver(make_error(error_code::bad_input,
                              "execution '" + rec.id + "' is already " +
                                to_string(rec.status) + "; nothing to cancel"));
      },
      forward_error(rp));
  return rp;
}

// -- inbox --------------------------------------------------------------------

void poll_inbox_later(supervisor_ptr self) {
  if (self->state.inbox_poll.count() > 0)
    self->delayed_send(self, self->state.inbox_poll, inbox_atom::value);
}

/// Delivers one request another process left in the store, then drops it
/// (at least once: a crash before the drop delivers it again).
void deliver_inbox(supervisor_ptr self, inbox_message& msg) {
  auto& st = self->state;
  if (!st.inbox_busy.insert(msg.id).second)
    return;
  auto done = [self, id = msg.id, exec = msg.execution_id,
               kind = msg.kind](const caf::error& err) {
    if (err)
      log()->warn("{} request for execution '{}' not delivered: {}", kind, exec,
                  error_message(err));
    caf::anon_send(self->state.backend, inbox_atom::value, id);
    self->state.inbox_busy.erase(id);
  };
  auto r = st.routes.find(msg.execution_id);
  if (r == st.routes.end()) {
    done(make_error(error_code::bad_input, "the execution is not running"));
    return;
  }
  auto ok = [done](caf::ok_atom) { done(caf::none); };
  if (msg.kind == "signal") {
    self
      ->request(r->second, caf::infinite, signal_atom::value, msg.target,
                msg.payload)
      .then(ok, done);
  } else if (msg.kind == "approve" || msg.kind == "reject") {
    approval_request req{msg.target, msg.kind == "approve", msg.user_id,
                         msg.comment, msg.payload};
    self->request(r->second, caf::infinite, approve_atom::value, req)
      .then(ok, done);
  } else if (msg.kind == "cancel") {
    // Kept in the inbox until the execution's end is committed.
    self->send(r->second, cancel_atom::value, msg.target);
    st.inbox_cancels[msg.execution_id].push_back(msg.id);
  } else {
    done(make_error(error_code::bad_input,
                    "unknown request kind '" + msg.kind + "'"));
  }
}

/// Reads the inbox, delivers what it holds, and looks again later.
void poll_inbox(supervisor_ptr self) {
  self->request(self->state.backend, caf::infinite, inbox_atom::value)
    .then(
      [self](std::vector<inbox_message>& msgs) {
        for (auto& msg : msgs)
          deliver_inbox(self, msg);
        poll_inbox_later(self);
      },
      [self](caf::error& err) {
        log()->error("cannot read the inbox: {}", error_message(err));
        poll_inbox_later(self);
      });
}

// -- behavior -----------------------------------------------------------------

supervisor_actor::behavior_type supervisor_impl(supervisor_ptr self,
                                                backend_actor backend,
                                                dispatcher_actor dispatcher,
                                                supervisor_config cfg) {
  self->state.backend = std::move(backend);
  self->state.dispatcher = std::move(dispatcher);
  self->state.limits = cfg.limits;
  self->state.inbox_poll = cfg.inbox_poll;
  self->set_exit_handler(
    [self](const caf::exit_msg& msg) { on_exit(self, msg); });
  return {
    [=](published_events& msg) { on_published(self, msg); },
    [=](register_atom, const std::string& ir_json) {
      return register_ir(self, ir_json);
    },
    [=](register_atom, graph_ptr& graph, const std::string& ir_json) {
      return register_graph(self, std::move(graph), ir_json);
    },
    [=](workflows_atom) { return self->state.workflows; },
    [=](start_atom, start_request& req) { return start_execution(self, req); },
    [=](await_atom, const std::string& id) {
      return await_execution(self, id);
    },
    [=](status_atom, const std::string& id) { return status_of(self, id); },
    [=](recover_atom) { return recover_all(self); },
    [=](signal_atom, const std::string& id, std::string& key,
        std::string& payload) {
      return signal_execution(self, id, key, payload);
    },
    [=](approve_atom, const std::string& id, approval_request& req) {
      return approve_execution(self, id, req);
    },
    [=](inbox_atom) { poll_inbox(self); },
    [=](cancel_atom, const std::string& id, std::string& reason) {
      return cancel_execution(self, id, reason);
    },
  };
}

} // namespace

supervisor_actor spawn_supervisor(caf::actor_system& sys, backend_actor backend,
                                  dispatcher_actor dispatcher,
                                  supervisor_config cfg) {
  return sys.spawn(supervisor_impl, std::move(backend), std::move(dispatcher),
                   cfg);
}

} // namespace jamjet
