#include "jamjet/actors/scheduler.hpp"

#include <caf/all.hpp>

namespace jamjet {

scheduler spawn_scheduler(caf::actor_system& sys, std::shared_ptr<store> st,
                          const scheduler_config& cfg) {
  scheduler s;
  auto inbox_poll =
    st->has_inbox() ? cfg.inbox_poll : std::chrono::milliseconds{0};
  s.backend = spawn_backend(sys, std::move(st), cfg.backend);
  s.reaper = spawn_lease_reaper(sys, s.backend);
  s.dispatcher = spawn_dispatcher(sys, s.backend, s.reaper, cfg.dispatch);
  s.supervisor = spawn_supervisor(sys, s.backend, s.dispatcher,
                                  supervisor_config{cfg.limits, inbox_poll});
  caf::anon_send(s.backend, subscribe_atom::value,
                 caf::actor_cast<event_sink_actor>(s.supervisor));
  caf::anon_send(s.backend, subscribe_atom::value,
                 caf::actor_cast<item_sink_actor>(s.dispatcher));
  return s;
}

void stop_scheduler(scheduler& s) {
  auto reason = caf::exit_reason::user_shutdown;
  caf::anon_send_exit(s.supervisor, reason);
  caf::anon_send_exit(s.dispatcher, reason);
  caf::anon_send_exit(s.reaper, reason);
  caf::anon_send_exit(s.backend, reason);
}

} // namespace jamjet
