#pragma once

// Time as the actors see it.
//
// Actors read `self->clock().now()` so that tests can run on CAF's virtual
// clock. Durable timestamps are wall-clock milliseconds; `wall_ms` maps an
// actor clock reading to them with an offset fixed once per process, so
// virtual time advances them just as real time does.

#include <chrono>
#include <cstdint>

#include <caf/actor_clock.hpp>

namespace jamjet {

/// Milliseconds since the Unix epoch for an actor clock reading.
int64_t wall_ms(caf::actor_clock::time_point t);

/// Milliseconds since the Unix epoch, now, on the real clock.
int64_t wall_now_ms();

/// Reads the actor's clock as wall-clock milliseconds.
template <class Self>
int64_t now_ms(Self* self) {
  return wall_ms(self->clock().now());
}

} // namespace jamjet
