#include "jamjet/support/ids.hpp"

#include <cstdint>
#include <random>

namespace jamjet {

std::string make_uuid() {
  thread_local std::mt19937_64 gen{std::random_device{}()};
  uint64_t hi = gen();
  uint64_t lo = gen();
  hi = (hi & 0xFFFFFFFFFFFF0FFFULL) | 0x0000000000004000ULL; // version 4
  lo = (lo & 0x3FFFFFFFFFFFFFFFULL) | 0x8000000000000000ULL; // variant 1
  // Formatted by hand: this runs for every event, and snprintf was a
  // measurable share of the hot path.
  static constexpr char hex[] = "0123456789abcdef";
  std::string out(36, '-');
  size_t pos = 0;
  auto put = [&](uint64_t bits, int nibbles) {
    for (int i = nibbles - 1; i >= 0; --i)
      out[pos++] = hex[(bits >> (i * 4)) & 0xF];
  };
  put(hi >> 32, 8);
  ++pos;
  put((hi >> 16) & 0xFFFF, 4);
  ++pos;
  put(hi & 0xFFFF, 4);
  ++pos;
  put(lo >> 48, 4);
  ++pos;
  put(lo & 0xFFFFFFFFFFFFULL, 12);
  return out;
}

std::string item_id_for(const std::string& execution_id,
                        const std::string& node_id) {
  return execution_id + "/" + node_id;
}

} // namespace jamjet
