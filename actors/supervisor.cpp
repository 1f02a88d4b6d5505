#include "jamjet/actors/supervisor.hpp"

#include <map>
#include <set>
#include <unordered_map>

#include "jamjet/support/log.hpp"
#include <caf/all.hpp>

#include "jamjet/core/scheduler_nodes.hpp"
#include "jamjet/messages/error.hpp"
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
  /// Compiled workflows by "id@version".
  std::unordered_map<std::string, graph_ptr> graphs;
  /// Latest registered version per workflow id.
  std::unordered_map<std::string, std::string> latest;
  /// Actors of running executions.
  std::unordered_map<std::string, execution_actor> routes;
  /// Waiters for the end of running executions.
  std::unordered_map<
    std::string, std::vector<caf::typed_response_promise<execution_outcome>>>
    waiters;

  static inline const char* name = "jamjet.supervisor";
};

using supervisor_ptr = supervisor_actor::stateful_pointer<supervisor_state>;

execution_outcome outcome_of(const execution_record& rec) {
  execution_outcome out;
  out.execution_id = rec.id;
  out.status = rec.status;
  if (rec.status == "completed")
    out.final_state = rec.result;
  else
    out.error = rec.result;
  return out;
}

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
  execution_outcome out;
  out.execution_id = e.execution_id;
  if (auto x = caf::get_if<workflow_completed>(&e.kind)) {
    out.status = "completed";
    out.final_state = x->final_state;
  } else if (auto y = caf::get_if<workflow_failed>(&e.kind)) {
    out.status = "failed";
    out.error = y->error;
  } else if (auto z = caf::get_if<workflow_cancelled>(&e.kind)) {
    out.status = "cancelled";
    out.error = z->reason ? *z->reason : std::string{"cancelled"};
  }
  st.routes.erase(e.execution_id);
  auto i = st.waiters.find(e.execution_id);
  if (i == st.waiters.end())
    return;
  for (auto& rp : i->second)
    rp.deliver(out);
  st.waiters.erase(i);
}

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

/// Registers a workflow definition found in the store.
void adopt_workflow(supervisor_ptr self, const workflow_definition& def) {
  auto& st = self->state;
  try {
    auto graph = workflow_graph::compile(parse_ir(def.ir_json));
    st.graphs[graph->workflow_id() + "@" + graph->version()] = graph;
    st.latest[graph->workflow_id()] = graph->version();
  } catch (const error& ex) {
    log()->error("stored workflow '{}' version '{}' does not load: {}",
                 def.workflow_id, def.version, ex.what());
  }
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
    auto g = st.graphs.find(rec.workflow_id + "@" + rec.workflow_version);
    if (g == st.graphs.end()) {
      log()->error("cannot resume execution '{}': workflow '{}' version "
                   "'{}' is not in the store",
                   rec.id, rec.workflow_id, rec.workflow_version);
      continue;
    }
    auto exec =
      spawn_execution(self->system(), rec.id, g->second, st.backend, st.limits);
    st.routes.emplace(rec.id, exec);
    self->send(exec, recover_atom::value, std::move(ex.snapshot),
               ex.snapshot_sequence, std::move(ex.events));
    execution_record brief;
    brief.id = rec.id;
    brief.workflow_id = rec.workflow_id;
    brief.workflow_version = rec.workflow_version;
    brief.status = rec.status;
    report.resumed.push_back(std::move(brief));
  }
  self->send(st.dispatcher, recover_atom::value, std::move(snap.items));
  if (!report.resumed.empty())
    log()->info("resumed {} running execution(s)", report.resumed.size());
  return report;
}

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
                                "': it is " + rec.status));
      },
      [rp](caf::error& err) mutable { rp.deliver(std::move(err)); });
  return rp;
}

supervisor_actor::behavior_type supervisor_impl(supervisor_ptr self,
                                                backend_actor backend,
                                                dispatcher_actor dispatcher,
                                                supervisor_config cfg) {
  self->state.backend = std::move(backend);
  self->state.dispatcher = std::move(dispatcher);
  self->state.limits = cfg.limits;
  self->state.inbox_poll = cfg.inbox_poll;
  // Executions are not linked (one failing must not take the others down),
  // so the supervisor takes them with it when it is told to exit.
  self->set_exit_handler([self](const caf::exit_msg& msg) {
    for (auto& [id, exec] : self->state.routes)
      self->send_exit(exec, msg.reason);
    for (auto& [id, rps] : self->state.waiters)
      for (auto& rp : rps)
        rp.deliver(make_error(error_code::unavailable,
                              "the runtime shut down before execution '" + id +
                                "' ended"));
    self->state.waiters.clear();
    self->quit(msg.reason);
  });
  return {
    [=](published_events& msg) {
      if (!msg.store_failure.empty()) {
        // No execution can move on: end the waits with the store's error.
        auto& st = self->state;
        st.store_failure = msg.store_failure;
        log()->error("store failed; {} running execution(s) stop here",
                     st.routes.size());
        for (auto& [id, rps] : st.waiters)
          for (auto& rp : rps)
            rp.deliver(make_error(error_code::store_failure,
                                  "execution '" + id +
                                    "' cannot go on: the store failed (" +
                                    msg.store_failure + ")"));
        st.waiters.clear();
        for (auto& [id, exec] : st.routes)
          self->send_exit(exec, caf::exit_reason::user_shutdown);
        st.routes.clear();
        return;
      }
      route(self, msg.events);
    },
    [=](register_atom, const std::string& ir_json) -> caf::result<std::string> {
      graph_ptr graph;
      try {
        graph = workflow_graph::compile(parse_ir(ir_json));
      } catch (const error& ex) {
        return make_error(ex.code(), ex.what());
      }
      auto key = graph->workflow_id() + "@" + graph->version();
      auto rp = self->make_response_promise<std::string>();
      self
        ->request(self->state.backend, caf::infinite, register_atom::value,
                  graph->workflow_id(), graph->version(), ir_json)
        .then(
          [self, rp, graph, key](caf::ok_atom) mutable {
            auto& st = self->state;
            st.graphs[key] = graph;
            st.latest[graph->workflow_id()] = graph->version();
            rp.deliver(key);
          },
          [rp](caf::error& err) mutable { rp.deliver(std::move(err)); });
      return rp;
    },
    [=](start_atom, start_request& req) -> caf::result<std::string> {
      auto& st = self->state;
      auto version = req.version;
      if (version.empty()) {
        auto i = st.latest.find(req.workflow_id);
        if (i == st.latest.end())
          return make_error(error_code::unknown_workflow, "no workflow '" +
                                                            req.workflow_id +
                                                            "' is registered");
        version = i->second;
      }
      auto g = st.graphs.find(req.workflow_id + "@" + version);
      if (g == st.graphs.end())
        return make_error(error_code::unknown_workflow,
                          "no workflow '" + req.workflow_id + "' version '" +
                            version + "' is registered");
      auto id = req.execution_id.empty() ? make_uuid() : req.execution_id;
      if (st.routes.count(id) > 0)
        return make_error(error_code::bad_input,
                          "execution '" + id + "' is already running");
      auto exec =
        spawn_execution(self->system(), id, g->second, st.backend, st.limits);
      st.routes.emplace(id, exec);
      command cmd;
      cmd.execution_id = id;
      cmd.now_ms = now_ms(self);
      cmd.events.emplace_back(
        workflow_started{req.workflow_id, version, req.input});
      // The workflow timeout is a durable timer like any other.
      if (auto limit = g->second->timeouts().workflow_ms; limit > 0)
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
    },
    [=](await_atom, const std::string& id) -> caf::result<execution_outcome> {
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
            if (rec.status == "running")
              self->state.waiters[id].push_back(rp);
            else
              rp.deliver(outcome_of(rec));
          },
          [rp](caf::error& err) mutable { rp.deliver(std::move(err)); });
      return rp;
    },
    [=](status_atom, const std::string& id) -> caf::result<execution_record> {
      auto rp = self->make_response_promise<execution_record>();
      self->request(self->state.backend, caf::infinite, record_atom::value, id)
        .then([rp](execution_record& rec) mutable { rp.deliver(rec); },
              [rp](caf::error& err) mutable { rp.deliver(std::move(err)); });
      return rp;
    },
    [=](recover_atom) -> caf::result<recovery_report> {
      auto rp = self->make_response_promise<recovery_report>();
      self->request(self->state.backend, caf::infinite, recover_atom::value)
        .then(
          [self, rp](recovery_snapshot& snap) mutable {
            rp.deliver(recover(self, snap));
            if (self->state.inbox_poll.count() > 0)
              self->send(self, inbox_atom::value);
          },
          [rp](caf::error& err) mutable { rp.deliver(std::move(err)); });
      return rp;
    },
    [=](signal_atom, const std::string& id, std::string& key,
        std::string& payload) -> caf::result<caf::ok_atom> {
      auto r = self->state.routes.find(id);
      if (r == self->state.routes.end())
        return not_running(self, id, "deliver an event to");
      return self->delegate(r->second, signal_atom::value, std::move(key),
                            std::move(payload));
    },
    [=](approve_atom, const std::string& id,
        approval_request& req) -> caf::result<caf::ok_atom> {
      auto r = self->state.routes.find(id);
      if (r == self->state.routes.end())
        return not_running(self, id, "deliver an approval to");
      return self->delegate(r->second, approve_atom::value, std::move(req));
    },
    [=](inbox_atom) {
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
    },
    [=](cancel_atom, const std::string& id,
        std::string& reason) -> caf::result<caf::ok_atom> {
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
                                    rec.status + "; nothing to cancel"));
          },
          [rp](caf::error& err) mutable { rp.deliver(std::move(err)); });
      return rp;
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
