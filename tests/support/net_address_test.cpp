// The loopback check that decides whether `serve --insecure` may run
// without a token: on resolved addresses, not on the host's spelling.

#include <catch2/catch.hpp>

#include "jamjet/support/net_address.hpp"

using jamjet::is_loopback_host;

TEST_CASE("numeric loopback addresses are loopback", "[net_address]") {
  CHECK(is_loopback_host("127.0.0.1"));
  CHECK(is_loopback_host("127.1.2.3"));
  CHECK(is_loopback_host("127.255.255.254"));
  CHECK(is_loopback_host("::1"));
  CHECK(is_loopback_host("[::1]"));
  CHECK(is_loopback_host("::ffff:127.0.0.1"));
}

TEST_CASE("localhost resolves to loopback", "[net_address]") {
  CHECK(is_loopback_host("localhost"));
}

TEST_CASE("other addresses and names are not loopback", "[net_address]") {
  CHECK_FALSE(is_loopback_host("0.0.0.0"));
  CHECK_FALSE(is_loopback_host("::"));
  CHECK_FALSE(is_loopback_host("10.0.0.5"));
  CHECK_FALSE(is_loopback_host("128.0.0.1"));
  CHECK_FALSE(is_loopback_host("::2"));
  CHECK_FALSE(is_loopback_host("::ffff:10.0.0.1"));
  CHECK_FALSE(is_loopback_host(""));
}

TEST_CASE("a name spelled like a loopback address is checked by resolving it",
          "[net_address]") {
  // Not a loopback address whatever its prefix: it does not resolve here
  // (.example is reserved), or if it did, to somewhere else.
  CHECK_FALSE(is_loopback_host("127.example"));
  CHECK_FALSE(is_loopback_host("127.0.0.1.example"));
  CHECK_FALSE(is_loopback_host("localhost.example"));
}
