#pragma once

// Registration of the runtime's message types with CAF.

#include <caf/actor_system_config.hpp>

namespace jamjet {

/// Registers every message type of the runtime (events, work items,
/// commands and their parts) with `cfg`, so that CAF can serialise and
/// print them. Call once before creating the `caf::actor_system`.
void add_message_types(caf::actor_system_config& cfg);

} // namespace jamjet
