#include "jamjet/actors/actor_types.hpp"

#include "jamjet/actors/scheduler.hpp"
#include "jamjet/actors/worker.hpp"

namespace jamjet {

void add_actor_types(caf::actor_system_config& cfg) {
  cfg.add_message_type<backend_actor>("backend_actor");
  cfg.add_message_type<event_sink_actor>("event_sink_actor");
  cfg.add_message_type<item_sink_actor>("item_sink_actor");
  cfg.add_message_type<execution_actor>("execution_actor");
  cfg.add_message_type<worker_actor>("worker_actor");
  cfg.add_message_type<worker_host_actor>("worker_host_actor");
  cfg.add_message_type<worker_summary>("worker_summary");
  cfg.add_message_type<dispatcher_actor>("dispatcher_actor");
  cfg.add_message_type<reaper_actor>("reaper_actor");
  cfg.add_message_type<supervisor_actor>("supervisor_actor");
}

} // namespace jamjet
