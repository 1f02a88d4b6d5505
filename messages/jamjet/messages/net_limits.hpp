#pragma once

// Limits a scheduler node (`jamjet serve`, actors/gateway.hpp) puts on
// its network peers, so that no peer (or address) can exhaust its
// descriptors, its memory or its token checks. README.md, "Limits".

#include <chrono>
#include <cstddef>
#include <cstdint>

namespace jamjet {

struct net_limits {
  /// Open connections at most; one more is refused (`wire_refused`, then
  /// closed) at once.
  uint32_t max_connections = 1024;
  /// Open connections from one peer address at most.
  uint32_t max_connections_per_peer = 64;
  /// A peer must have said hello within this of connecting.
  std::chrono::milliseconds hello_timeout{10000};
  /// A frame must be whole within this of its first byte (before and after
  /// the hello). A connection with no frame under way may idle for ever:
  /// workers are quiet between items.
  std::chrono::milliseconds frame_timeout{30000};
  /// Bytes of frames under way, over all connections, at most; a read that
  /// would exceed it closes its connection. Buffers grow with the bytes
  /// that arrive, never with the length a peer announces.
  size_t max_buffered = size_t{512} << 20;
  /// Bytes asked of a socket per read.
  size_t read_chunk = 64 * 1024;
  /// This many failed authentications (wrong or missing token) from one
  /// address within `auth_window`...
  uint32_t max_auth_failures = 5;
  std::chrono::milliseconds auth_window{10000};
  /// ...and every hello from that address is refused (whatever its token)
  /// for this long; logged once per period.
  std::chrono::milliseconds auth_backoff{60000};
};

} // namespace jamjet
