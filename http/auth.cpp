#include "jamjet/http/auth.hpp"

#include <cctype>

#include "jamjet/support/log.hpp"

namespace jamjet::http {

access_need need_of(const std::string& method, const std::string& path) {
  if (method == "GET" || method == "HEAD")
    return access_need::read;
  if (path.rfind("/work-items/", 0) == 0)
    return access_need::work;
  return access_need::operate;
}

std::optional<std::string> bearer_token(const std::string& header) {
  constexpr size_t n = 6; // "bearer"
  if (header.size() <= n)
    return std::nullopt;
  for (size_t i = 0; i < n; ++i)
    if (std::tolower(static_cast<unsigned char>(header[i])) != "bearer"[i])
      return std::nullopt;
  if (header[n] != ' ')
    return std::nullopt;
  auto begin = header.find_first_not_of(' ', n);
  if (begin == std::string::npos)
    return std::nullopt;
  auto end = header.find_last_not_of(" \t");
  return header.substr(begin, end - begin + 1);
}

auth_guard::auth_guard(access_list access, net_limits limits)
  : access_(std::move(access)), limits_(limits) {
  // nop
}

auth_guard::verdict auth_guard::check(const std::string& peer,
                                      const std::string& authorization,
                                      clock::time_point now) {
  verdict v;
  if (access_.empty()) {
    v.what = outcome::ok;
    v.role = access_role::operator_;
    return v;
  }
  std::lock_guard<std::mutex> guard{mtx_};
  auto rec = peers_.find(peer);
  if (rec != peers_.end() && now < rec->second.blocked_until) {
    // Refused unchecked, and not logged one by one.
    ++rec->second.refused;
    v.what = outcome::blocked;
    v.retry_after = std::chrono::duration_cast<std::chrono::seconds>(
                      rec->second.blocked_until - now) +
                    std::chrono::seconds{1};
    v.message = "too many failed authentications from " + peer +
                "; try again in " + std::to_string(v.retry_after.count()) +
                " s";
    return v;
  }
  auto token = bearer_token(authorization);
  if (token) {
    if (auto role = access_.role_of(*token)) {
      v.what = outcome::ok;
      v.role = *role;
      return v;
    }
  }
  v.what = outcome::denied;
  v.message = token ? "invalid token"
                    : "missing Authorization: Bearer <token> (the node's "
                      "token file, or JAMJET_TOKEN)";
  if (rec == peers_.end()) {
    if (peers_.size() >= 4096) { // forget addresses in good standing
      for (auto j = peers_.begin(); j != peers_.end();) {
        if (now >= j->second.blocked_until &&
            (j->second.failures.empty() ||
             now - j->second.failures.back() > limits_.auth_window))
          j = peers_.erase(j);
        else
          ++j;
      }
    }
    rec = peers_.emplace(peer, record{}).first;
  }
  auto& fails = rec->second.failures;
  while (!fails.empty() && now - fails.front() > limits_.auth_window)
    fails.pop_front();
  fails.push_back(now);
  if (limits_.max_auth_failures > 0 &&
      fails.size() >= limits_.max_auth_failures) {
    rec->second.blocked_until = now + limits_.auth_backoff;
    if (rec->second.refused > 0)
      log()->warn("HTTP: {} more requests from {} were refused while it was "
                  "blocked",
                  rec->second.refused, peer);
    rec->second.refused = 0;
    fails.clear();
    log()->warn("HTTP: {} failed authentications from {} within {} ms: "
                "refusing its requests for {} ms",
                limits_.max_auth_failures, peer, limits_.auth_window.count(),
                limits_.auth_backoff.count());
  } else {
    log()->warn("HTTP: failed authentication from {} ({}; failure {} of {} "
                "allowed in {} ms)",
                peer, token ? "wrong token" : "no token", fails.size(),
                limits_.max_auth_failures, limits_.auth_window.count());
  }
  return v;
}

} // namespace jamjet::http
