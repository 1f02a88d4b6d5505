// TLS and access roles on the binary protocol, in one process: a node with
// a certificate, clients and workers that verify it, client certificates
// that authenticate by their role, and tokens with fewer rights.

#include <catch2/catch.hpp>

#include <thread>

#include "jamjet/remote.hpp"
#include "jamjet/runtime.hpp"
#include "patch_handler.hpp"
#include "raw_peer.hpp"
#include "testing/certs.hpp"
#include "testing/contains.hpp"

using namespace jamjet;
using jamjet::testing::contains;
using jamjet::testing::patch_handler;
using json = nlohmann::json;

namespace {

testing::test_certs& certs() {
  static testing::test_certs c;
  return c;
}

const char* one_ir = R"({"workflow_id":"one","version":"1","start_node":"a",
  "nodes":{"a":{"id":"a","kind":{"type":"tool","patch":{"a":1}}}},
  "edges":[{"from":"a","to":"end"}]})";

runtime_config tls_node(bool with_ca = false) {
  runtime_config cfg;
  cfg.worker_slots = 0;
  cfg.listen = "127.0.0.1:0";
  cfg.token = "op-token";
  cfg.worker_token = "wk-token";
  cfg.viewer_token = "vw-token";
  cfg.tls.enabled = true;
  cfg.tls.cert_file = certs().node_cert;
  cfg.tls.key_file = certs().node_key;
  if (with_ca)
    cfg.tls.ca_file = certs().ca;
  return cfg;
}

tls_config verify_with(const std::string& ca) {
  tls_config t;
  t.enabled = true;
  t.ca_file = ca;
  return t;
}

/// The error a call throws, as "code: message".
template <class F>
std::string failure_of(F f) {
  try {
    f();
  } catch (const jamjet::error& e) {
    return to_string(e.code()) + ": " + e.what();
  }
  return "no error";
}

/// Runs a remote worker in a thread until destroyed.
struct worker_thread {
  remote_worker w;
  std::thread t;

  explicit worker_thread(remote_worker_config cfg) : w(std::move(cfg)) {
    w.register_handler("tool", patch_handler);
    t = std::thread{[this] {
      try {
        w.run();
      } catch (...) {
        // the tests look at what the node did
      }
    }};
  }

  ~worker_thread() {
    w.stop();
    t.join();
  }
};

remote_worker_config worker_cfg(uint16_t port, tls_config tls,
                                const std::string& token) {
  remote_worker_config wc;
  wc.port = port;
  wc.token = token;
  wc.slots = 2;
  wc.tls = std::move(tls);
  return wc;
}

} // namespace

TEST_CASE("a TLS node serves workers and clients that verify it",
          "[tls][remote]") {
  runtime node{tls_node()};
  worker_thread worker{
    worker_cfg(node.port(), verify_with(certs().ca), "wk-token")};
  remote_client client{"127.0.0.1", node.port(), "op-token",
                       verify_with(certs().ca)};
  client.register_workflow(one_ir);
  auto id = client.start("one", json::object());
  auto out = client.await(id);
  CHECK(out["status"] == "completed");
  CHECK(out["final_state"] == json{{"a", 1}});
  // By name too: the certificate carries localhost.
  remote_client by_name{"localhost", node.port(), "vw-token",
                        verify_with(certs().ca)};
  CHECK(by_name.status(id)["status"] == "completed");
}

TEST_CASE("peers refuse a node they cannot verify, and a TLS node refuses "
          "plain text",
          "[tls][remote]") {
  runtime node{tls_node()};
  CHECK(contains(failure_of([&] {
                   remote_client c{"127.0.0.1", node.port(), "op-token",
                                   verify_with(certs().other_ca)};
                 }),
                 "access_denied: cannot connect to the scheduler: TLS: the "
                 "certificate was not accepted"));
  auto wrong_name = verify_with(certs().ca);
  wrong_name.server_name = "elsewhere.test";
  CHECK(contains(
    failure_of([&] {
      remote_client c{"127.0.0.1", node.port(), "op-token", wrong_name};
    }),
    "certificate was not accepted"));
  CHECK(contains(failure_of([&] {
                   remote_client c{"127.0.0.1", node.port(), "op-token"};
                 }),
                 "this node speaks TLS"));
  // The node still serves the right peers.
  remote_client ok{"127.0.0.1", node.port(), "op-token",
                   verify_with(certs().ca)};
  CHECK(ok.status("").empty());
}

TEST_CASE("a TLS peer of a plain node is told so", "[tls][remote]") {
  runtime_config cfg;
  cfg.worker_slots = 0;
  cfg.listen = "127.0.0.1:0";
  cfg.token = "op-token";
  runtime node{cfg};
  CHECK(contains(failure_of([&] {
                   remote_client c{"127.0.0.1", node.port(), "op-token",
                                   verify_with(certs().ca)};
                 }),
                 "does not speak TLS"));
}

TEST_CASE("each role may do only its part", "[security][remote]") {
  runtime node{tls_node()};
  auto tls = verify_with(certs().ca);
  {
    remote_client op{"127.0.0.1", node.port(), "op-token", tls};
    op.register_workflow(one_ir);
  }
  SECTION("a viewer reads and changes nothing") {
    remote_client viewer{"127.0.0.1", node.port(), "vw-token", tls};
    CHECK(viewer.status("").empty());
    auto refused = failure_of([&] { viewer.start("one", json::object()); });
    CHECK(contains(refused, "access_denied: request 'start' refused: a "
                            "viewer token may only read"));
    CHECK(contains(failure_of([&] { viewer.register_workflow(one_ir); }),
                   "request 'register' refused"));
    CHECK(contains(failure_of([&] { viewer.cancel("x", "r"); }),
                   "request 'cancel' refused"));
    CHECK(viewer.status("").empty()); // nothing was started
  }
  SECTION("a viewer cannot take work") {
    remote_worker w{worker_cfg(node.port(), tls, "vw-token")};
    CHECK(
      contains(failure_of([&] { w.run(); }), "a viewer token may only read"));
  }
  SECTION("a worker token cannot act as a client") {
    CHECK(contains(failure_of([&] {
                     remote_client c{"127.0.0.1", node.port(), "wk-token", tls};
                   }),
                   "a worker token may only take and settle work"));
  }
}

TEST_CASE("client certificates authenticate by the role in their OU",
          "[tls][security][remote]") {
  runtime node{tls_node(true)};
  auto with_cert = [](const std::string& name, const std::string& ou,
                      bool other = false) {
    auto [cert, key] = certs().client(name, ou, other);
    auto t = verify_with(certs().ca);
    t.cert_file = cert;
    t.key_file = key;
    return t;
  };
  // An operator certificate, no token.
  remote_client op{"127.0.0.1", node.port(), "", with_cert("ops", "operator")};
  op.register_workflow(one_ir);
  // A worker certificate, no token: it runs the work.
  worker_thread worker{worker_cfg(node.port(), with_cert("w1", "worker"), "")};
  auto id = op.start("one", json::object());
  CHECK(op.await(id)["status"] == "completed");
  // A viewer certificate reads only.
  remote_client viewer{"127.0.0.1", node.port(), "",
                       with_cert("eyes", "viewer")};
  CHECK(viewer.status(id)["status"] == "completed");
  CHECK(contains(failure_of([&] { viewer.start("one", json::object()); }),
                 "viewer token may only read"));
  // Without a role in the certificate, a token is still needed.
  CHECK(contains(
    failure_of([&] {
      remote_client c{"127.0.0.1", node.port(), "", with_cert("anon", "")};
    }),
    "requires a token"));
  remote_client anon_with_token{"127.0.0.1", node.port(), "vw-token",
                                with_cert("anon2", "")};
  CHECK(anon_with_token.status(id)["status"] == "completed");
  // A certificate from another CA fails the handshake.
  CHECK(contains(failure_of([&] {
                   remote_client c{"127.0.0.1", node.port(), "op-token",
                                   with_cert("intruder", "operator", true)};
                 }),
                 "no error") == false);
}

TEST_CASE("a node that requires client certificates refuses peers without",
          "[tls][security][remote]") {
  auto cfg = tls_node(true);
  cfg.tls.require_peer_cert = true;
  runtime node{cfg};
  CHECK_FALSE(contains(failure_of([&] {
                         remote_client c{"127.0.0.1", node.port(), "op-token",
                                         verify_with(certs().ca)};
                       }),
                       "no error"));
  auto [cert, key] = certs().client("ok", "operator");
  auto t = verify_with(certs().ca);
  t.cert_file = cert;
  t.key_file = key;
  remote_client c{"127.0.0.1", node.port(), "", t};
  CHECK(c.status("").empty());
}

TEST_CASE("bad TLS files are clear errors", "[tls]") {
  auto cfg = tls_node();
  cfg.tls.key_file = certs().wrong_name_key;
  CHECK(contains(failure_of([&] { runtime node{cfg}; }),
                 "bad_input: the TLS key does not match the certificate"));
  CHECK(contains(
    failure_of([&] {
      remote_client c{"127.0.0.1", 1, "", verify_with("/nonexistent/ca.pem")};
    }),
    "bad_input: cannot load the TLS CA certificates "
    "'/nonexistent/ca.pem'"));
}
