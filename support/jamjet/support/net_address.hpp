#pragma once

// Whether a host name or address is this machine's loopback interface.

#include <string>

namespace jamjet {

/// Whether every address `host` resolves to (getaddrinfo, IPv4 and IPv6) is
/// a loopback address: 127.0.0.0/8, ::1, or ::ffff:127.0.0.0/104. A host
/// that does not resolve, resolves to nothing, or to any other address
/// (0.0.0.0 included) is not loopback; so is the empty host. The check is
/// on the resolved addresses, never on how the name is spelled: a name such
/// as "127.example" is loopback only if it resolves to loopback alone.
bool is_loopback_host(const std::string& host);

} // namespace jamjet
