#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include "jamjet/support/tls.hpp"
#include "testing/certs.hpp"
#include "testing/contains.hpp"

using namespace jamjet;
using jamjet::testing::contains;

namespace {

testing::test_certs& certs() {
  static testing::test_certs c; // made once: openssl takes a moment
  return c;
}

/// Two sessions joined back to back in memory: what one writes, the other
/// receives.
struct pipe_pair {
  tls_session server;
  tls_session client;
  std::vector<char> server_got, client_got;
  bool server_ok = true, client_ok = true;

  pipe_pair(const tls_config& scfg, const tls_config& ccfg,
            const std::string& host = "localhost")
    : server(tls_context::server(scfg), tls_session::server_side),
      client(tls_context::client(ccfg), tls_session::client_side, host) {
    // nop
  }

  /// Shuttles bytes until neither side has any to send.
  void pump() {
    for (int round = 0; round < 50; ++round) {
      std::vector<char> c2s, s2c;
      bool moved = client.take_output(c2s) | server.take_output(s2c);
      if (!c2s.empty() && server_ok)
        server_ok = server.receive(c2s.data(), c2s.size(), server_got);
      if (!s2c.empty() && client_ok)
        client_ok = client.receive(s2c.data(), s2c.size(), client_got);
      if (!moved)
        return;
    }
  }
};

tls_config node_cfg() {
  tls_config c;
  c.enabled = true;
  c.cert_file = certs().node_cert;
  c.key_file = certs().node_key;
  return c;
}

tls_config peer_cfg() {
  tls_config c;
  c.enabled = true;
  c.ca_file = certs().ca;
  return c;
}

std::string text(const std::vector<char>& v) {
  return {v.begin(), v.end()};
}

} // namespace

TEST_CASE("TLS sessions over memory carry text both ways", "[tls]") {
  pipe_pair p{node_cfg(), peer_cfg()};
  std::string hello = "hello node";
  p.client.send(hello.data(), hello.size()); // before the handshake: held
  p.pump();
  REQUIRE(p.server_ok);
  REQUIRE(p.client_ok);
  CHECK(p.client.established());
  CHECK(p.server.established());
  CHECK(text(p.server_got) == hello);
  std::string big(200000, 'x'); // many records
  big[12345] = 'y';
  p.server.send(big.data(), big.size());
  p.pump();
  CHECK(text(p.client_got) == big);
  CHECK_FALSE(p.server.peer_verified()); // the client showed no certificate
}

TEST_CASE("a peer verifies the node's certificate and name", "[tls]") {
  SECTION("an unknown CA") {
    auto cfg = peer_cfg();
    cfg.ca_file = certs().other_ca;
    pipe_pair p{node_cfg(), cfg};
    p.pump();
    CHECK_FALSE(p.client_ok);
    CHECK(contains(p.client.error(), "certificate was not accepted"));
    CHECK_FALSE(p.client.established());
  }
  SECTION("a name the certificate does not carry") {
    pipe_pair p{node_cfg(), peer_cfg(), "127.0.0.2"};
    p.pump();
    CHECK_FALSE(p.client_ok);
    CHECK(contains(p.client.error(), "certificate was not accepted"));
  }
  SECTION("the address it does carry") {
    pipe_pair p{node_cfg(), peer_cfg(), "127.0.0.1"};
    p.pump();
    CHECK(p.client_ok);
    CHECK(p.client.established());
  }
  SECTION("a certificate for another host") {
    auto scfg = node_cfg();
    scfg.cert_file = certs().wrong_name_cert;
    scfg.key_file = certs().wrong_name_key;
    pipe_pair p{scfg, peer_cfg()};
    p.pump();
    CHECK_FALSE(p.client_ok);
  }
}

TEST_CASE("client certificates are verified and name their role", "[tls]") {
  auto scfg = node_cfg();
  scfg.ca_file = certs().ca;
  auto [cert, key] = certs().client("w1", "worker");
  auto ccfg = peer_cfg();
  ccfg.cert_file = cert;
  ccfg.key_file = key;
  pipe_pair p{scfg, ccfg};
  p.pump();
  REQUIRE(p.server_ok);
  REQUIRE(p.server.established());
  CHECK(p.server.peer_verified());
  CHECK(p.server.peer_subject("OU") == std::string{"worker"});
  CHECK(p.server.peer_subject("CN") == std::string{"w1"});

  SECTION("one from another CA fails the handshake") {
    auto [ocert, okey] = certs().client("intruder", "operator", true);
    auto bad = peer_cfg();
    bad.cert_file = ocert;
    bad.key_file = okey;
    pipe_pair q{scfg, bad};
    q.pump();
    CHECK_FALSE(q.server_ok);
    CHECK_FALSE(q.server.peer_verified());
  }
  SECTION("none at all, when one is required") {
    auto strict = scfg;
    strict.require_peer_cert = true;
    pipe_pair q{strict, peer_cfg()};
    q.pump();
    CHECK_FALSE(q.server_ok);
  }
  SECTION("none at all, when optional: no role from it") {
    pipe_pair q{scfg, peer_cfg()};
    q.pump();
    CHECK(q.server_ok);
    CHECK_FALSE(q.server.peer_verified());
    CHECK_FALSE(q.server.peer_subject("OU"));
  }
}

TEST_CASE("garbage and bad files give clear errors", "[tls]") {
  tls_session s{tls_context::server(node_cfg()), tls_session::server_side};
  std::vector<char> plain;
  std::string junk = "GET / HTTP/1.1\r\n\r\n";
  CHECK_FALSE(s.receive(junk.data(), junk.size(), plain));
  CHECK(contains(s.error(), "TLS"));
  CHECK(plain.empty());
  CHECK_FALSE(s.receive(junk.data(), junk.size(), plain)); // stays failed

  auto cfg = node_cfg();
  cfg.key_file = certs().wrong_name_key; // not this certificate's key
  CHECK_THROWS_WITH(tls_context::server(cfg),
                    Catch::Contains("does not match the certificate"));
  cfg = node_cfg();
  cfg.cert_file = "/nonexistent.pem";
  CHECK_THROWS_WITH(tls_context::server(cfg),
                    Catch::Contains("cannot load the TLS certificate "
                                    "'/nonexistent.pem'"));
  cfg = node_cfg();
  cfg.key_file.clear();
  CHECK_THROWS_AS(tls_context::server(cfg), tls_error);
  auto pcfg = peer_cfg();
  pcfg.ca_file = "/nonexistent-ca.pem";
  CHECK_THROWS_WITH(tls_context::client(pcfg),
                    Catch::Contains("/nonexistent-ca.pem"));
  CHECK(looks_like_tls(0x16));
  CHECK_FALSE(looks_like_tls('{'));
}
