#pragma once

// The delayed wake-up of an actor's `deadline_timer`: `arm_deadline` for
// an absolute deadline in wall milliseconds, `arm_after` for a delay.

#include <algorithm>
#include <chrono>
#include <cstdint>

#include "jamjet/support/clock.hpp"
#include "jamjet/support/deadline_timer.hpp"

namespace jamjet {

/// Arms `timer` for `at_ms` (wall milliseconds on the actor's clock, so
/// tests can run it on CAF's virtual clock) and, when that needs a new
/// wake-up, has `self` receive `(atom, generation)` when it is due. The
/// handler passes the generation to `timer.fire`.
template <class Self, class Atom>
void arm_deadline(Self* self, deadline_timer& timer, int64_t at_ms, Atom atom) {
  auto generation = timer.arm_at(at_ms);
  if (!generation)
    return;
  auto delay = std::max<int64_t>(0, at_ms - now_ms(self));
  self->delayed_send(self, std::chrono::milliseconds{delay}, atom, *generation);
}

/// Arms `timer` for `delay` from now (in microseconds of the actor's
/// clock: the unit of every timer armed this way) and, when that needs a
/// new wake-up, has `self` receive `(atom, generation)` after `delay`.
template <class Self, class Atom>
void arm_after(Self* self, deadline_timer& timer,
               std::chrono::microseconds delay, Atom atom) {
  using std::chrono::duration_cast;
  using std::chrono::microseconds;
  auto now =
    duration_cast<microseconds>(self->clock().now().time_since_epoch());
  auto generation = timer.arm_at((now + delay).count());
  if (!generation)
    return;
  self->delayed_send(self, delay, atom, *generation);
}

} // namespace jamjet
