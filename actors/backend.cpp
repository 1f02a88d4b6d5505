#include "jamjet/actors/backend.hpp"

#include <iterator>

#include "jamjet/support/log.hpp"
#include <caf/all.hpp>

#include "jamjet/actors/timer.hpp"
#include "jamjet/messages/error.hpp"

namespace jamjet {

namespace {

struct pending_command {
  command cmd;
  caf::typed_response_promise<commit_result> rp;
};

struct backend_state {
  std::shared_ptr<store> st;
  backend_config cfg;
  std::vector<pending_command> pending;
  bool flush_scheduled = false;
  /// The delayed flush for commands that are not urgent. A flush that
  /// takes the pending commands disarms it, so one armed earlier cannot
  /// flush later commands early.
  deadline_timer lazy_flush;
  /// Set when the store failed: every later command is refused.
  std::string broken;
  std::vector<event_sink_actor> event_sinks;
  std::vector<item_sink_actor> item_sinks;

  static inline const char* name = "jamjet.backend";
};

using backend_ptr = backend_actor::stateful_pointer<backend_state>;

/// Commits everything pending as one batch, then answers and publishes.
void flush(backend_ptr self) {
  auto& st = self->state;
  st.flush_scheduled = false;
  st.lazy_flush.disarm();
  if (st.pending.empty())
    return;
  auto batch = std::move(st.pending);
  st.pending.clear();
  std::vector<command> cmds;
  cmds.reserve(batch.size());
  for (auto& p : batch)
    cmds.emplace_back(std::move(p.cmd));
  std::vector<caf::expected<commit_result>> results;
  try {
    results = st.st->apply(cmds);
  } catch (const std::exception& ex) {
    st.broken = ex.what();
    log()->critical("store failed, refusing further work: {}", st.broken);
    auto err = make_error(error_code::store_failure,
                          std::string{"store failure: "} + ex.what());
    for (auto& p : batch)
      p.rp.deliver(err);
    // Nothing will be committed any more: let waiters know.
    published_events failed;
    failed.store_failure = st.broken;
    for (auto& sink : st.event_sinks)
      self->send(sink, failed);
    return;
  }
  published_events evs;
  published_items items;
  for (size_t i = 0; i < batch.size(); ++i) {
    auto& res = results[i];
    if (!res) {
      log()->debug("command for execution '{}' refused: {}",
                   cmds[i].execution_id, error_message(res.error()));
      batch[i].rp.deliver(res.error());
      continue;
    }
    if (batch[i].rp.pending()) {
      evs.events.insert(evs.events.end(), res->events.begin(),
                        res->events.end());
      items.items.insert(items.items.end(), res->items.begin(),
                         res->items.end());
      batch[i].rp.deliver(std::move(*res));
    } else {
      // Nobody waits for the answer (fire-and-forget): publish, no copies.
      std::move(res->events.begin(), res->events.end(),
                std::back_inserter(evs.events));
      std::move(res->items.begin(), res->items.end(),
                std::back_inserter(items.items));
    }
  }
  if (!evs.events.empty())
    for (auto& sink : st.event_sinks)
      self->send(sink, evs);
  if (!items.items.empty())
    for (auto& sink : st.item_sinks)
      self->send(sink, items);
}

/// Answers a read of the store: its value, or a `store_failure` naming
/// what the store threw. `read` returns a `T` or a `caf::expected<T>`.
template <class T, class Read>
caf::result<T> guarded(Read&& read) {
  try {
    return read();
  } catch (const std::exception& ex) {
    return make_error(error_code::store_failure, ex.what());
  }
}

backend_actor::behavior_type
backend_impl(backend_ptr self, std::shared_ptr<store> st, backend_config cfg) {
  self->state.st = std::move(st);
  self->state.cfg = cfg;
  auto refused = [self] {
    return make_error(error_code::unavailable,
                      "the store has failed (" + self->state.broken +
                        "); no further work is accepted");
  };
  return {
    [=](commit_atom, command& cmd) -> caf::result<commit_result> {
      auto& s = self->state;
      if (!s.broken.empty())
        return refused();
      auto rp = self->make_response_promise<commit_result>();
      bool urgent = cmd.urgent;
      s.pending.push_back(pending_command{std::move(cmd), rp});
      if (!s.st->blocking() || s.pending.size() >= s.cfg.max_batch) {
        // Nothing to gain from batching in memory; a full batch goes now.
        flush(self);
      } else if (urgent && !s.flush_scheduled) {
        // The flush message queues behind every command already waiting,
        // so they all land in the same transaction.
        s.flush_scheduled = true;
        self->send(self, flush_atom::value);
      } else if (!urgent && !s.flush_scheduled && !s.lazy_flush.armed()) {
        arm_after(self, s.lazy_flush, s.cfg.lazy_delay, flush_atom::value);
      }
      return rp;
    },
    [=](flush_atom) { flush(self); },
    [=](flush_atom, uint64_t generation) {
      auto& s = self->state;
      if (s.lazy_flush.fire(generation))
        flush(self);
    },
    [=](subscribe_atom, event_sink_actor& sink) {
      self->state.event_sinks.push_back(std::move(sink));
    },
    [=](subscribe_atom, item_sink_actor& sink) {
      self->state.item_sinks.push_back(std::move(sink));
    },
    [=](read_atom, const std::string& id,
        uint64_t from) -> caf::result<std::vector<event>> {
      flush(self);
      return guarded<std::vector<event>>(
        [&] { return self->state.st->read_events(id, from); });
    },
    [=](record_atom, const std::string& id) -> caf::result<execution_record> {
      flush(self);
      return guarded<execution_record>(
        [&]() -> caf::expected<execution_record> {
          if (auto rec = self->state.st->find_execution(id))
            return std::move(*rec);
          return make_error(error_code::unknown_execution,
                            "unknown execution '" + id + "'");
        });
    },
    [=](record_atom) -> caf::result<std::vector<execution_record>> {
      flush(self);
      return guarded<std::vector<execution_record>>(
        [&] { return self->state.st->executions(); });
    },
    [=](inbox_atom) -> caf::result<std::vector<inbox_message>> {
      return guarded<std::vector<inbox_message>>(
        [&] { return self->state.st->inbox(); });
    },
    [=](inbox_atom, int64_t id) {
      try {
        self->state.st->drop_inbox(id);
      } catch (const std::exception& ex) {
        log()->error("cannot drop inbox request {}: {}", id, ex.what());
      }
    },
    [=](dlq_atom) -> caf::result<std::vector<dead_letter>> {
      flush(self);
      return guarded<std::vector<dead_letter>>(
        [&] { return self->state.st->dead_letters(); });
    },
    [=](register_atom, const std::string& workflow_id,
        const std::string& version,
        const std::string& ir_json) -> caf::result<caf::ok_atom> {
      if (!self->state.broken.empty())
        return refused();
      return guarded<caf::ok_atom>([&]() -> caf::expected<caf::ok_atom> {
        if (auto err =
              self->state.st->put_workflow(workflow_id, version, ir_json))
          return err;
        return caf::ok_atom::value;
      });
    },
    [=](recover_atom) -> caf::result<recovery_snapshot> {
      flush(self);
      return guarded<recovery_snapshot>(
        [&] { return self->state.st->recovery(); });
    },
  };
}

} // namespace

backend_actor spawn_backend(caf::actor_system& sys, std::shared_ptr<store> st,
                            backend_config cfg) {
  if (st->blocking())
    return sys.spawn<caf::detached>(backend_impl, std::move(st), cfg);
  return sys.spawn(backend_impl, std::move(st), cfg);
}

} // namespace jamjet
