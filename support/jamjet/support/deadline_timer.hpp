#pragma once

// One timer for many deadlines.
//
// An actor that must wake at the earliest of many deadlines (the
// dispatcher's delayed items, the lease reaper's leases, the backend's lazy
// flush, the worker's heartbeats) keeps one `deadline_timer` and sends
// itself one delayed message per arm, carrying the generation `arm_at`
// returns. A later, earlier arm or a `disarm` makes every pending message
// stale: `fire` tells the one that counts from the others. The class is
// pure bookkeeping; `actors/timer.hpp` sends the message. Deadlines are
// plain numbers in whatever unit the owner picks (one unit per timer).

#include <cstdint>
#include <optional>

namespace jamjet {

class deadline_timer {
 public:
  /// Asks to be woken at `at` or earlier. Returns the generation to send
  /// with the delayed message, or nothing when a pending wake-up comes no
  /// later than `at` anyway.
  std::optional<uint64_t> arm_at(int64_t at);

  /// A wake-up arrived: true when it is the current one (the timer is then
  /// no longer armed), false for a stale one, which must be ignored.
  bool fire(uint64_t generation);

  /// Makes every pending wake-up stale.
  void disarm();

  bool armed() const { return armed_; }

  /// The deadline the pending wake-up is for; meaningful when armed().
  int64_t at() const { return at_; }

 private:
  uint64_t generation_ = 0;
  int64_t at_ = 0;
  bool armed_ = false;
};

} // namespace jamjet
