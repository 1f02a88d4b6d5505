#include "jamjet/support/clock.hpp"

namespace jamjet {

namespace {

int64_t offset_ms() {
  static const int64_t offset = [] {
    using namespace std::chrono;
    auto sys =
      duration_cast<milliseconds>(system_clock::now().time_since_epoch());
    auto steady = duration_cast<milliseconds>(
      caf::actor_clock::clock_type::now().time_since_epoch());
    return static_cast<int64_t>((sys - steady).count());
  }();
  return offset;
}

} // namespace

int64_t wall_ms(caf::actor_clock::time_point t) {
  using namespace std::chrono;
  return offset_ms() +
         duration_cast<milliseconds>(t.time_since_epoch()).count();
}

int64_t wall_now_ms() {
  return wall_ms(caf::actor_clock::clock_type::now());
}

} // namespace jamjet
