#pragma once

// The scheduler: backend, lease reaper, dispatcher and supervisor, wired.

#include <chrono>
#include <memory>

#include <caf/fwd.hpp>

#include "jamjet/actors/backend.hpp"
#include "jamjet/actors/dispatcher.hpp"
#include "jamjet/actors/execution.hpp"
#include "jamjet/actors/lease_reaper.hpp"
#include "jamjet/actors/supervisor.hpp"

namespace jamjet {

/// Settings of a scheduler.
struct scheduler_config {
  execution_limits limits;
  dispatcher_config dispatch;
  backend_config backend;
  /// How often to look for requests other processes leave in the store's
  /// inbox; zero: never (stores without an inbox).
  std::chrono::milliseconds inbox_poll{0};
};

/// Handles of a running scheduler.
struct scheduler {
  backend_actor backend;
  reaper_actor reaper;
  dispatcher_actor dispatcher;
  supervisor_actor supervisor;
};

/// Spawns and wires the scheduler's actors over `st`.
scheduler spawn_scheduler(caf::actor_system& sys, std::shared_ptr<store> st,
                          const scheduler_config& cfg = {});

/// Asks every actor of `s` to exit.
void stop_scheduler(scheduler& s);

} // namespace jamjet
