#pragma once

// Who an HTTP request comes from: `Authorization: Bearer TOKEN` looked up
// in the node's access list (messages/access.hpp), with failed
// authentications counted per peer address as the binary protocol counts
// them (messages/net_limits.hpp: past `max_auth_failures` within
// `auth_window`, every request from that address is refused for
// `auth_backoff`, unchecked). Thread-safe; pure bookkeeping besides its
// log lines, so tests drive it with their own clock.

#include <chrono>
#include <cstdint>
#include <deque>
#include <map>
#include <mutex>
#include <optional>
#include <string>

#include "jamjet/messages/access.hpp"
#include "jamjet/messages/net_limits.hpp"

namespace jamjet::http {

/// What an HTTP route needs: GETs read, /work-items/* work, other POSTs
/// operate.
access_need need_of(const std::string& method, const std::string& path);

/// The token of an `Authorization` header value ("Bearer TOKEN", the
/// scheme in any case); none when the header is empty or another scheme.
std::optional<std::string> bearer_token(const std::string& header);

class auth_guard {
 public:
  using clock = std::chrono::steady_clock;

  enum class outcome : uint8_t {
    /// Authenticated as `role`.
    ok,
    /// No token, a wrong one, or another scheme: 401.
    denied,
    /// Too many failures from this address: 429 for `retry_after`.
    blocked,
  };

  struct verdict {
    outcome what = outcome::denied;
    access_role role = access_role::viewer;
    std::string message;
    std::chrono::seconds retry_after{0};
  };

  auth_guard(access_list access, net_limits limits);

  /// Authenticates a request from `peer` with `authorization` (the header
  /// value, possibly empty).
  verdict check(const std::string& peer, const std::string& authorization,
                clock::time_point now = clock::now());

  /// Whether every peer is an operator (an empty access list).
  bool open() const noexcept { return access_.empty(); }

 private:
  struct record {
    std::deque<clock::time_point> failures;
    clock::time_point blocked_until{};
    uint64_t refused = 0;
  };

  access_list access_;
  net_limits limits_;
  std::mutex mtx_;
  std::map<std::string, record> peers_;
};

} // namespace jamjet::http
