#pragma once

// The actor system configuration every binary and test uses, so that local
// and remote runs register the same message types and cannot drift.

#include <cstddef>

#include <caf/actor_system_config.hpp>

namespace jamjet {

/// CAF configuration with every message type and error category of the
/// project registered.
class system_config : public caf::actor_system_config {
 public:
  system_config();

  /// Sets the number of CAF scheduler threads (0 keeps CAF's default).
  system_config& scheduler_threads(size_t n);

  /// Switches to CAF's deterministic test coordinator (virtual time).
  system_config& testing();

  /// Loads CAF's middleman (caf::io), for nodes that talk over TCP.
  system_config& network();
};

} // namespace jamjet
