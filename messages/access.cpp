#include "jamjet/messages/access.hpp"

#include <algorithm>

namespace jamjet {

const char* to_string(access_role r) noexcept {
  switch (r) {
    case access_role::viewer:
      return "viewer";
    case access_role::worker:
      return "worker";
    case access_role::operator_:
      return "operator";
  }
  return "unknown";
}

std::optional<access_role> parse_access_role(const std::string& name) {
  for (auto r :
       {access_role::viewer, access_role::worker, access_role::operator_})
    if (name == to_string(r))
      return r;
  return std::nullopt;
}

bool permits(access_role r, access_need n) noexcept {
  switch (r) {
    case access_role::operator_:
      return true;
    case access_role::viewer:
      return n == access_need::read;
    case access_role::worker:
      return n == access_need::work;
  }
  return false;
}

std::string refusal(access_role r, access_need n) {
  std::string what = n == access_need::read   ? "read executions"
                     : n == access_need::work ? "take or settle work"
                                              : "change executions";
  std::string may = r == access_role::viewer   ? "may only read"
                    : r == access_role::worker ? "may only take and settle work"
                                               : "may do everything";
  return std::string{"a "} + to_string(r) + " token " + may +
         "; this needs to " + what;
}

bool same_secret(const std::string& given, const std::string& expected) {
  // Every byte of the longer string is looked at, whatever matches.
  auto n = std::max(given.size(), expected.size());
  unsigned char diff = given.size() == expected.size() ? 0 : 1;
  for (size_t i = 0; i < n; ++i) {
    auto a = i < given.size() ? static_cast<unsigned char>(given[i]) : 0;
    auto b = i < expected.size() ? static_cast<unsigned char>(expected[i]) : 0;
    diff |= static_cast<unsigned char>(a ^ b);
  }
  return diff == 0;
}

void access_list::add(std::string token, access_role role) {
  if (!token.empty())
    entries_.push_back(entry{std::move(token), role});
}

std::optional<access_role>
access_list::role_of(const std::string& presented) const {
  if (entries_.empty())
    return access_role::operator_;
  std::optional<access_role> found;
  for (auto& e : entries_) // no early exit: every token is compared
    if (same_secret(presented, e.token) && !found)
      found = e.role;
  return found;
}

} // namespace jamjet
