#include "jamjet/support/deadline_timer.hpp"

namespace jamjet {

std::optional<uint64_t> deadline_timer::arm_at(int64_t at) {
  if (armed_ && at_ <= at)
    return std::nullopt;
  armed_ = true;
  at_ = at;
  return ++generation_;
}

bool deadline_timer::fire(uint64_t generation) {
  if (!armed_ || generation != generation_)
    return false;
  armed_ = false;
  return true;
}

void deadline_timer::disarm() {
  armed_ = false;
  ++generation_;
}

} // namespace jamjet
