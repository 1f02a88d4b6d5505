#pragma once

// Registration of the typed actor handles that travel inside messages.

#include <caf/actor_system_config.hpp>

namespace jamjet {

/// Registers every typed actor handle of the runtime with `cfg`, so that
/// handles sent in messages work across processes.
void add_actor_types(caf::actor_system_config& cfg);

} // namespace jamjet
