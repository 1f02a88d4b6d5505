#include "jamjet/support/net_address.hpp"

#include <arpa/inet.h>
#include <cstring>
#include <netdb.h>
#include <netinet/in.h>
#include <sys/socket.h>

namespace jamjet {

namespace {

bool loopback_address(const sockaddr* sa) {
  if (sa->sa_family == AF_INET) {
    sockaddr_in in{};
    std::memcpy(&in, sa, sizeof(in));
    return (ntohl(in.sin_addr.s_addr) >> 24) == 127;
  }
  if (sa->sa_family == AF_INET6) {
    sockaddr_in6 in6{};
    std::memcpy(&in6, sa, sizeof(in6));
    const auto* a = &in6.sin6_addr;
    if (IN6_IS_ADDR_LOOPBACK(a))
      return true;
    return IN6_IS_ADDR_V4MAPPED(a) && a->s6_addr[12] == 127;
  }
  return false;
}

} // namespace

bool is_loopback_host(const std::string& host) {
  auto name = host;
  if (name.size() >= 2 && name.front() == '[' && name.back() == ']')
    name = name.substr(1, name.size() - 2);
  if (name.empty())
    return false;
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* found = nullptr;
  if (::getaddrinfo(name.c_str(), nullptr, &hints, &found) != 0)
    return false;
  bool any = false;
  bool all = true;
  for (auto* ai = found; ai != nullptr; ai = ai->ai_next) {
    if (ai->ai_addr == nullptr)
      continue;
    any = true;
    all = all && loopback_address(ai->ai_addr);
  }
  ::freeaddrinfo(found);
  return any && all;
}

} // namespace jamjet
