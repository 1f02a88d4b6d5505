#pragma once

// The parts of a runtime that the layers built on it use (the HTTP server
// of http/ spawns actors of its own and talks to the scheduler's). Not
// installed, and not a stable API: embedding applications use runtime.hpp.

#include <caf/fwd.hpp>

#include "jamjet/actors/scheduler.hpp"
#include "jamjet/runtime.hpp"

namespace jamjet {

/// A runtime's actor system and scheduler actors, valid until the runtime
/// shuts down.
struct runtime::parts {
  caf::actor_system* system = nullptr;
  jamjet::scheduler scheduler;
};

} // namespace jamjet
