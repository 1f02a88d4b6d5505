#include "actors/execution.hpp"

#include <optional>
#include <set>

#include "runtime/log.hpp"
#include <caf/all.hpp>

#include "messages/error.hpp"
#include "runtime/clock.hpp"
#include "runtime/ids.hpp"
#include "runtime/progress.hpp"

namespace jamjet {

namespace {

struct execution_state {
  std::string id;
  backend_actor backend;
  execution_limits limits;
  std::optional<progress> prog;
  /// Nodes whose scheduling is committed but not yet folded.
  std::set<uint32_t> requested;
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

void send_cancel(execution_ptr self) {
  auto& st = self->state;
  auto& prog = *st.prog;
  command cmd;
  for (auto r : prog.scheduled_nodes()) {
    auto& node = prog.graph().node(r);
    cmd.events.emplace_back(node_cancelled{node.id});
    cmd.items.emplace_back(cancel_op{item_id_for(st.id, node.id)});
  }
  cmd.events.emplace_back(workflow_cancelled{*st.cancel_reason});
  cmd.execution_id = st.id;
  cmd.now_ms = now_ms(self);
  st.cancel_sent = true;
  // A refusal means a node settled meanwhile. Its event may reach us before
  // or after this reply, so read the log now: folding it steps again, with
  // the current set of in-flight nodes.
  self->request(st.backend, caf::infinite, commit_atom::value, std::move(cmd))
    .then([](const commit_result&) {},
          [self](const caf::error& err) {
            log()->debug("cancel of '{}' refused, retrying: {}", self->state.id,
                         error_message(err));
            self->state.cancel_sent = false;
            refold_from_log(self);
          });
}

/// Decides what to do after folding: finish, cancel or schedule.
void step(execution_ptr self) {
  auto& st = self->state;
  auto& prog = *st.prog;
  if (prog.terminal()) {
    self->quit();
    return;
  }
  if (prog.phase() != execution_phase::running || st.finishing)
    return;
  if (st.cancel_reason) {
    if (st.requested.empty() && !st.cancel_sent)
      send_cancel(self);
    return;
  }
  if (prog.failure()) {
    if (prog.in_flight() == 0 && st.requested.empty()) {
      st.finishing = true;
      command cmd;
      cmd.events.emplace_back(workflow_failed{*prog.failure()});
      commit(self, std::move(cmd));
    }
    return;
  }
  if (prog.all_done()) {
    st.finishing = true;
    command cmd;
    cmd.events.emplace_back(workflow_completed{prog.state().dump()});
    commit(self, std::move(cmd));
    return;
  }
  auto busy = prog.in_flight() + st.requested.size();
  if (busy >= st.limits.max_in_flight)
    return;
  auto room = std::min(st.limits.max_in_flight - busy, st.limits.max_per_wake);
  auto ranks = prog.runnable(room, st.requested);
  if (ranks.empty())
    return;
  command cmd;
  auto now = now_ms(self);
  auto state_text = prog.state().dump();
  // Recovery restores this instead of folding the log up to here.
  cmd.snapshot = prog.snapshot(state_text);
  cmd.snapshot_sequence = prog.last_sequence();
  for (auto r : ranks) {
    auto& node = prog.graph().node(r);
    cmd.events.emplace_back(node_scheduled{node.id, node.queue_type});
    work_item item;
    item.id = item_id_for(st.id, node.id);
    item.execution_id = st.id;
    item.node_id = node.id;
    item.queue_type = node.queue_type;
    item.payload = "{\"node\":" + node.json + ",\"state\":" + state_text + "}";
    item.attempt = 1;
    item.max_attempts = node.max_attempts;
    item.created_at_ms = now;
    cmd.items.emplace_back(enqueue_op{std::move(item)});
    st.requested.insert(r);
  }
  commit(self, std::move(cmd));
}

/// Folds committed events; false when a gap made it re-read the log.
bool fold_events(execution_ptr self, const std::vector<event>& events) {
  auto& st = self->state;
  for (auto& e : events) {
    switch (st.prog->fold(e)) {
      case fold_status::applied:
        if (auto x = caf::get_if<node_scheduled>(&e.kind)) {
          auto r = st.prog->graph().rank_of(x->node_id);
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

execution_actor::behavior_type execution_impl(execution_ptr self,
                                              std::string id, graph_ptr graph,
                                              backend_actor backend,
                                              execution_limits limits) {
  self->state.id = std::move(id);
  self->state.backend = std::move(backend);
  self->state.limits = limits;
  self->state.prog.emplace(std::move(graph));
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
