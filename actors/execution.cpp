#include "jamjet/actors/execution.hpp"

#include <functional>
#include <optional>
#include <set>

#include "jamjet/support/log.hpp"
#include <caf/all.hpp>

#include "jamjet/core/progress.hpp"
#include "jamjet/core/scheduler_nodes.hpp"
#include "jamjet/messages/error.hpp"
#include "jamjet/messages/json_limits.hpp"
#include "jamjet/support/clock.hpp"
#include "jamjet/support/ids.hpp"

namespace jamjet {

namespace {

struct execution_state {
  std::string id;
  backend_actor backend;
  execution_limits limits;
  std::optional<progress> prog;
  /// Nodes whose scheduling is committed but not yet folded.
  std::set<uint32_t> requested;
  /// Approval nodes whose decision is sent for commit but not yet folded:
  /// a second decision meanwhile is refused like one after the fold.
  std::set<uint32_t> deciding;
  /// The terminal event has been sent for commit.
  bool finishing = false;
  /// Set once a cancel was asked for.
  std::optional<std::string> cancel_reason;
  bool cancel_sent = false;

  static inline const char* name = "jamjet.execution";
};

using execution_ptr = execution_actor::stateful_pointer<execution_state>;

void commit(execution_ptr self, command cmd) {
  cmd.execution_id = self->state.id;
  cmd.now_ms = now_ms(self);
  // Fire and forget: the committed events come back through the supervisor.
  caf::anon_send(self->state.backend, commit_atom::value, std::move(cmd));
}

void refold_from_log(execution_ptr self);

/// Ends the execution while nodes may be in flight: `NodeCancelled` for
/// each (their work items cancelled, their workers told to stop), timers
/// disarmed, then `terminal` (WorkflowCancelled, or WorkflowFailed after a
/// workflow timeout).
/// The command that ends the execution with `terminal`: `NodeCancelled`
/// for each node in flight (their work items cancelled), timers disarmed,
/// then `terminal`.
command stop_command(execution_ptr self, event_kind terminal) {
  auto& st = self->state;
  auto& prog = *st.prog;
  command cmd;
  cmd.execution_id = st.id;
  cmd.now_ms = now_ms(self);
  for (auto r : prog.scheduled_nodes()) {
    auto& node = prog.graph().node(r);
    cmd.events.emplace_back(node_cancelled{node.id});
    if (node.spec.role == node_role::work)
      cmd.items.emplace_back(cancel_op{item_id_for(st.id, node.id)});
  }
  for (auto& id : open_timer_ids(prog, st.id))
    cmd.items.emplace_back(disarm_op{id});
  cmd.events.emplace_back(std::move(terminal));
  return cmd;
}

void send_stop(execution_ptr self, event_kind terminal) {
  auto& st = self->state;
  auto cmd = stop_command(self, std::move(terminal));
  st.cancel_sent = true;
  // A refusal means a node settled meanwhile. Its event may reach us before
  // or after this reply, so read the log now: folding it steps again, with
  // the current set of in-flight nodes.
  self->request(st.backend, caf::infinite, commit_atom::value, std::move(cmd))
    .then([](const commit_result&) {},
          [self](const caf::error& err) {
            log()->debug("stop of '{}' refused, retrying: {}", self->state.id,
                         error_message(err));
            self->state.cancel_sent = false;
            refold_from_log(self);
          });
}

/// Commits the execution's end when nothing it waits for is left.
void finish(execution_ptr self, event_kind terminal) {
  auto& st = self->state;
  st.finishing = true;
  command cmd;
  // Waiting nodes never settle by themselves: cancel them.
  for (auto r : st.prog->scheduled_nodes())
    cmd.events.emplace_back(node_cancelled{st.prog->graph().node(r).id});
  for (auto& id : open_timer_ids(*st.prog, st.id))
    cmd.items.emplace_back(disarm_op{id});
  cmd.events.emplace_back(std::move(terminal));
  commit(self, std::move(cmd));
}

/// A work item for node `rank`, attempt 1.
work_item make_item(execution_ptr self, const graph_node& node,
                    const std::string& state_text, int64_t now) {
  auto& st = self->state;
  work_item item;
  item.id = item_id_for(st.id, node.id);
  item.execution_id = st.id;
  item.node_id = node.id;
  item.queue_type = node.queue_type;
  item.payload = "{\"node\":" + node.json + ",\"state\":" + state_text + "}";
  item.attempt = 1;
  item.max_attempts = node.max_attempts;
  item.created_at_ms = now;
  item.retry = node.retry_json;
  item.timeout_ms = node.timeout_ms;
  item.lease_ms = st.prog->graph().timeouts().heartbeat_ms;
  return item;
}

/// Decides what to do after folding: finish, stop or go on (skip, settle
/// waiting nodes, run runnable ones).
void step(execution_ptr self) {
  auto& st = self->state;
  auto& prog = *st.prog;
  if (prog.terminal()) {
    self->quit();
    return;
  }
  if (prog.phase() != execution_phase::running || st.finishing)
    return;
  if (st.cancel_reason || prog.timed_out()) {
    if (st.requested.empty() && !st.cancel_sent) {
      if (st.cancel_reason)
        send_stop(self, workflow_cancelled{*st.cancel_reason});
      else
        send_stop(
          self,
          workflow_failed{
            "workflow '" + prog.graph().workflow_id() + "' timed out after " +
            std::to_string(prog.graph().timeouts().workflow_ms / 1000) + " s"});
    }
    return;
  }
  if (prog.failure()) {
    // Work in flight settles by itself; waiting nodes are cancelled.
    bool working = false;
    for (auto r : prog.scheduled_nodes())
      working |= prog.graph().node(r).spec.role == node_role::work;
    if (!working && st.requested.empty())
      finish(self, workflow_failed{*prog.failure()});
    return;
  }
  if (prog.all_done()) {
    finish(self, workflow_completed{prog.state().dump()});
    return;
  }
  command cmd;
  cmd.execution_id = st.id;
  cmd.now_ms = now_ms(self);
  for (auto& skip : prog.skippable()) {
    if (st.requested.count(skip.rank) > 0)
      continue;
    cmd.events.emplace_back(
      node_skipped{prog.graph().node(skip.rank).id, std::move(skip.reason)});
    st.requested.insert(skip.rank);
  }
  // One pending event settles one wait node per step: a second node
  // waiting for the same key tries again once the first one's completion
  // (which consumes the event) is folded.
  std::set<std::string> keys_used;
  for (auto r : prog.scheduled_nodes()) {
    auto& spec = prog.graph().node(r).spec;
    if (spec.role == node_role::work || st.requested.count(r) > 0)
      continue;
    if (spec.role == node_role::wait && spec.wait != wait_kind::timer &&
        prog.has_event(spec.correlation_key) &&
        !keys_used.insert(spec.correlation_key).second)
      continue;
    if (plan_wait_resolution(prog, r, cmd))
      st.requested.insert(r);
  }
  auto busy = prog.in_flight() + st.requested.size();
  if (busy < st.limits.max_in_flight) {
    auto room =
      std::min(st.limits.max_in_flight - busy, st.limits.max_per_wake);
    std::string state_text;
    for (auto r : prog.runnable(room, st.requested)) {
      auto& node = prog.graph().node(r);
      switch (node.spec.role) {
        case node_role::condition:
          plan_condition(prog, r, cmd);
          break;
        case node_role::wait:
        case node_role::approval:
          plan_wait_start(prog, r, cmd);
          break;
        case node_role::work:
          if (state_text.empty())
            state_text = prog.state().dump();
          cmd.events.emplace_back(node_scheduled{node.id, node.queue_type});
          cmd.items.emplace_back(
            enqueue_op{make_item(self, node, state_text, cmd.now_ms)});
          break;
      }
      st.requested.insert(r);
    }
    if (!cmd.events.empty()) {
      // Recovery restores this instead of folding the log up to here.
      cmd.snapshot =
        state_text.empty() ? prog.snapshot() : prog.snapshot(state_text);
      cmd.snapshot_sequence = prog.last_sequence();
    }
  }
  if (!cmd.events.empty())
    commit(self, std::move(cmd));
}

/// Commits one event of an outside request (a signal, a decision) and
/// answers the request once it is committed; `on_failure` runs when the
/// commit is refused.
caf::result<caf::ok_atom>
commit_and_reply(execution_ptr self, event_kind kind,
                 std::function<void()> on_failure = nullptr) {
  auto& st = self->state;
  command cmd;
  cmd.execution_id = st.id;
  cmd.now_ms = now_ms(self);
  cmd.events.emplace_back(std::move(kind));
  auto rp = self->make_response_promise<caf::ok_atom>();
  self->request(st.backend, caf::infinite, commit_atom::value, std::move(cmd))
    .then(
      [rp](const commit_result&) mutable { rp.deliver(caf::ok_atom::value); },
      [rp, on_failure](caf::error& err) mutable {
        if (on_failure)
          on_failure();
        rp.deliver(std::move(err));
      });
  return rp;
}

/// Folds committed events; false when a gap made it re-read the log.
bool fold_events(execution_ptr self, const std::vector<event>& events) {
  auto& st = self->state;
  for (auto& e : events) {
    if (st.limits.before_fold)
      st.limits.before_fold(e);
    switch (st.prog->fold(e)) {
      case fold_status::applied:
        // A node whose command is folded may be acted on again.
        if (auto* d = caf::get_if<approval_received>(&e.kind)) {
          auto r = st.prog->graph().rank_of(d->node_id);
          if (r >= 0)
            st.deciding.erase(static_cast<uint32_t>(r));
        }
        if (caf::holds_alternative<node_scheduled>(e.kind) ||
            caf::holds_alternative<node_completed>(e.kind) ||
            caf::holds_alternative<node_failed>(e.kind) ||
            caf::holds_alternative<node_skipped>(e.kind)) {
          auto r = st.prog->graph().rank_of(node_id_of(e.kind));
          if (r >= 0)
            st.requested.erase(static_cast<uint32_t>(r));
        }
        break;
      case fold_status::duplicate:
        break;
      case fold_status::gap:
        // Cannot happen while the backend publishes in commit order; refold
        // from the log rather than act on a partial view.
        log()->error("execution '{}': event {} after {}, reading the log",
                     st.id, e.sequence, st.prog->last_sequence());
        refold_from_log(self);
        return false;
    }
  }
  return true;
}

/// Reads the log after what is folded, folds it, then steps.
void refold_from_log(execution_ptr self) {
  auto& st = self->state;
  self
    ->request(st.backend, caf::infinite, read_atom::value, st.id,
              st.prog->last_sequence() + 1)
    .then([self](std::vector<event>& missing) {
      if (fold_events(self, missing))
        step(self);
    });
}

/// What an exception thrown inside the actor says.
std::string describe(const std::exception_ptr& eptr) {
  try {
    std::rethrow_exception(eptr);
  } catch (const std::exception& ex) {
    return ex.what();
  } catch (...) {
    return "an unknown exception";
  }
}

/// A defect inside the actor (an exception from a handler) fails this
/// execution and nothing else; CAF then stops the actor. Fire and forget:
/// the stop (cancelling what is in flight), then the failure alone, in
/// case a node settled meanwhile and the store refused the stop (the
/// store refuses the second command when the first was committed).
void fail_on_defect(execution_ptr self, const std::string& what) {
  auto& st = self->state;
  log()->error("execution '{}' failed inside the runtime: {}", st.id, what);
  auto why = "internal error in the runtime: " + what;
  command failed;
  failed.execution_id = st.id;
  failed.now_ms = now_ms(self);
  failed.events.emplace_back(workflow_failed{why});
  try {
    auto stop = stop_command(self, workflow_failed{why});
    if (stop.events.size() > 1 || !stop.items.empty())
      caf::anon_send(st.backend, commit_atom::value, std::move(stop));
  } catch (...) {
    // The progress itself is broken: the failure alone below.
  }
  caf::anon_send(st.backend, commit_atom::value, std::move(failed));
}

execution_actor::behavior_type execution_impl(execution_ptr self,
                                              std::string id, graph_ptr graph,
                                              backend_actor backend,
                                              execution_limits limits) {
  self->state.id = std::move(id);
  self->state.backend = std::move(backend);
  self->state.limits = limits;
  self->state.prog.emplace(std::move(graph));
  self->set_exception_handler(
    [self](caf::scheduled_actor*, std::exception_ptr& eptr) -> caf::error {
      auto what = describe(eptr);
      fail_on_defect(self, what);
      return make_error(error_code::unavailable, what);
    });
  return {
    [=](std::vector<event>& events) {
      if (fold_events(self, events))
        step(self);
    },
    [=](recover_atom, std::string& snapshot, uint64_t snapshot_sequence,
        std::vector<event>& events) {
      auto& st = self->state;
      bool fits = snapshot.empty()
                    ? snapshot_sequence == 0
                    : st.prog->restore(snapshot) &&
                        st.prog->last_sequence() == snapshot_sequence;
      if (!fits) {
        log()->warn("execution '{}': snapshot unusable, folding its whole "
                    "log",
                    st.id);
        st.prog.emplace(st.prog->shared_graph());
        refold_from_log(self);
        return;
      }
      if (fold_events(self, events))
        step(self);
    },
    [=](signal_atom, std::string& key,
        std::string& payload) -> caf::result<caf::ok_atom> {
      auto& st = self->state;
      if (auto problem = st.prog->signal_problem(st.id, key))
        return make_error(error_code::bad_input, *problem);
      // Outside data (the inbox, a client, the API): bounded before the
      // commit, never refused only after it.
      if (auto problem = json_limit_problem(payload))
        return make_error(error_code::bad_input,
                          "signal payload refused: " + *problem);
      return commit_and_reply(
        self, external_event_received{std::move(key), std::move(payload)});
    },
    [=](approve_atom, approval_request& req) -> caf::result<caf::ok_atom> {
      auto& st = self->state;
      if (auto problem = st.prog->approval_problem(st.id, req.node_id))
        return make_error(error_code::bad_input, *problem);
      if (auto problem = json_limit_problem(req.state_patch))
        return make_error(error_code::bad_input,
                          "approval state patch refused: " + *problem);
      auto rank = static_cast<uint32_t>(st.prog->graph().rank_of(req.node_id));
      if (!st.deciding.insert(rank).second)
        return make_error(error_code::bad_input,
                          "human_approval node '" + req.node_id +
                            "' of execution '" + st.id +
                            "' is already decided (another decision is being "
                            "recorded)");
      return commit_and_reply(
        self,
        approval_received{std::move(req.node_id), std::move(req.user_id),
                          req.approved ? "approved" : "rejected",
                          std::move(req.comment), std::move(req.state_patch)},
        [self, rank] { self->state.deciding.erase(rank); });
    },
    [=](cancel_atom, std::string& reason) {
      auto& st = self->state;
      if (!st.cancel_reason)
        st.cancel_reason = std::move(reason);
      step(self);
    },
  };
}

} // namespace

execution_actor spawn_execution(caf::actor_system& sys, std::string id,
                                graph_ptr graph, backend_actor backend,
                                execution_limits limits) {
  return sys.spawn(execution_impl, std::move(id), std::move(graph),
                   std::move(backend), limits);
}

} // namespace jamjet
