// Scheduler, workers and clients over TCP on 127.0.0.1, in one process:
// the protocol, access control and bad peers.
// (tests/system/distributed_test.cpp runs them as separate processes.)

#include <catch2/catch.hpp>

#include <arpa/inet.h>
#include <future>
#include <netinet/in.h>
#include <sys/socket.h>
#include <thread>
#include <unistd.h>

#include "jamjet/messages/wire.hpp"
#include "jamjet/remote.hpp"
#include "jamjet/runtime.hpp"
#include "patch_handler.hpp"
#include "raw_peer.hpp"

using namespace jamjet;
using jamjet::testing::connect_loopback;
using jamjet::testing::patch_handler;
using jamjet::testing::raw_peer;
using jamjet::testing::send_raw;
using json = nlohmann::json;

namespace {

const char* fan_ir = R"({"workflow_id":"fan","version":"1","start_node":"a",
  "nodes":{"a":{"id":"a","kind":{"type":"tool","patch":{"a":1}}},
           "b":{"id":"b","kind":{"type":"tool","patch":{"b":1}}},
           "c":{"id":"c","kind":{"type":"tool","patch":{"c":1}}},
           "d":{"id":"d","kind":{"type":"tool","patch":{"d":1}}}},
  "edges":[{"from":"a","to":"b"},{"from":"a","to":"c"},{"from":"b","to":"d"},
           {"from":"c","to":"d"},{"from":"d","to":"end"}]})";

/// A scheduler-only runtime listening on a free loopback port.
runtime_config scheduler_only(const std::string& token = {}) {
  runtime_config cfg;
  cfg.worker_slots = 0;
  cfg.listen = "127.0.0.1:0";
  cfg.token = token;
  return cfg;
}

/// A remote worker serving in a thread until destroyed.
struct worker_thread {
  remote_worker w;
  std::thread t;
  std::exception_ptr failure;

  worker_thread(uint16_t port, const std::string& token = {})
    : w(remote_worker_config{"127.0.0.1", port, token, "", {"*"}, 2}) {
    w.register_handler("tool", patch_handler);
    t = std::thread{[this] {
      try {
        w.run();
      } catch (...) {
        failure = std::current_exception();
      }
    }};
  }

  ~worker_thread() {
    w.stop();
    t.join();
  }
};

/// The refusal of a bad request: its code and message.
std::string refusal(const wire_reply& reply) {
  CHECK_FALSE(reply.ok);
  return to_string(static_cast<error_code>(reply.code)) + ": " + reply.body;
}

} // namespace

TEST_CASE("a remote worker and a remote client drive a scheduler node",
          "[remote]") {
  runtime sched{scheduler_only()};
  REQUIRE(sched.port() != 0);
  worker_thread worker{sched.port()};
  remote_client client{"127.0.0.1", sched.port()};
  CHECK(client.register_workflow(fan_ir) == "fan@1");
  auto id = client.start("fan", {{"x", 0}});
  auto out = client.await(id);
  REQUIRE(out["status"] == "completed");
  CHECK(out["final_state"] ==
        json{{"x", 0}, {"a", 1}, {"b", 1}, {"c", 1}, {"d", 1}});
  CHECK(client.status(id)["status"] == "completed");
  CHECK(client.status("")[0]["execution_id"] == id);
  auto events = client.events(id);
  CHECK(events.size() > 10);
  CHECK(events.back()["kind"]["type"] == "workflow_completed");
  // Errors keep their code.
  try {
    client.status("nope");
    FAIL("no error");
  } catch (const jamjet::error& e) {
    CHECK(e.code() == error_code::unknown_execution);
  }
  CHECK_THROWS_AS(client.start("nope", json::object()), jamjet::error);
  CHECK(worker.w.connections() == 1);
}

TEST_CASE("a token is required before anything else", "[remote][security]") {
  runtime sched{scheduler_only("s3cret")};
  SECTION("a client with a wrong or no token is refused") {
    for (std::string token : {"wrong", ""}) {
      try {
        remote_client c{"127.0.0.1", sched.port(), token};
        FAIL("accepted");
      } catch (const jamjet::error& e) {
        INFO(e.what());
        CHECK(e.code() == error_code::access_denied);
        CHECK(std::string{e.what()}.find(token.empty() ? "requires a token"
                                                       : "wrong token") !=
              std::string::npos);
      }
    }
    remote_client ok{"127.0.0.1", sched.port(), "s3cret"};
    CHECK(ok.status("").empty());
  }
  SECTION("a worker with a wrong token stops with access_denied") {
    remote_worker_config wc;
    wc.port = sched.port();
    wc.token = "nope";
    remote_worker w{wc};
    CHECK_THROWS_AS(w.run(), jamjet::error);
  }
  SECTION("a request before the hello is refused") {
    auto frame = encode_frame(wire_msg{wire_request{1, client_list{}}});
    CHECK(send_raw(sched.port(), std::string{frame.begin(), frame.end()}) >
          0); // a wire_refused, then the connection closes
    remote_client ok{"127.0.0.1", sched.port(), "s3cret"};
    CHECK(ok.status("").empty());
  }
}

TEST_CASE("malformed, unknown and oversized frames close only their "
          "connection",
          "[remote][security]") {
  runtime sched{scheduler_only()};
  // Garbage that decodes to nothing.
  send_raw(sched.port(), std::string{"\x00\x00\x00\x05hello", 9});
  // An unknown message type (variant index 200).
  send_raw(sched.port(), std::string{"\x00\x00\x00\x01\xc8", 5});
  // A frame claiming 4 GiB.
  send_raw(sched.port(), std::string{"\xff\xff\xff\xff", 4});
  // A zero-length frame.
  send_raw(sched.port(), std::string{"\x00\x00\x00\x00", 4});
  // The node still serves everyone else.
  worker_thread worker{sched.port()};
  remote_client client{"127.0.0.1", sched.port()};
  client.register_workflow(fan_ir);
  CHECK(client.await(client.start("fan", json::object()))["status"] ==
        "completed");
}

TEST_CASE("endpoints are checked", "[remote]") {
  CHECK(parse_endpoint("127.0.0.1:7400", "x") ==
        std::pair<std::string, uint16_t>{"127.0.0.1", 7400});
  for (auto bad : {"7400", "host:", ":1", "h:99999", "h:12a"})
    CHECK_THROWS_AS(parse_endpoint(bad, "x"), jamjet::error);
  CHECK_THROWS_AS(remote_client("127.0.0.1", 1), jamjet::error);
}

TEST_CASE("a large frame before the hello closes the connection at once",
          "[remote][security]") {
  runtime sched{scheduler_only("tok")};
  // 1 MiB announced by a peer that has not said hello: refused without
  // waiting for (or reserving) the megabyte.
  CHECK(send_raw(sched.port(), std::string{"\x00\x10\x00\x00", 4}) == 0);
  remote_client ok{"127.0.0.1", sched.port(), "tok"};
  CHECK(ok.status("").empty());
}

TEST_CASE("client fields that are not JSON or not UTF-8 are refused with "
          "a clear error and the node goes on",
          "[remote][security]") {
  runtime_config cfg = scheduler_only();
  cfg.worker_slots = 1;
  runtime sched{cfg};
  sched.register_handler("tool", patch_handler);
  remote_client client{"127.0.0.1", sched.port()};
  client.register_workflow(R"({"workflow_id":"w","version":"1",
    "start_node":"wait","nodes":{"wait":{"id":"wait","kind":{"type":"wait",
      "condition":"external_event","correlation_key":"k"}}},
    "edges":[{"from":"wait","to":"end"}]})");
  auto id = client.start("w", json::object());
  auto refused = [&](auto request) {
    try {
      request();
      return std::string{"accepted"};
    } catch (const jamjet::error& e) {
      return to_string(e.code()) + ": " + e.what();
    }
  };
  // Through the typed client: it sends text as given.
  CHECK(refused([&] { client.cancel(id, "\xff\xfe"); }) ==
        "bad_input: request 'cancel': field 'reason' is not UTF-8");
  CHECK(refused([&] { client.signal(id, "k\xc0\xaf", 1); }) ==
        "bad_input: request 'signal': field 'key' is not UTF-8");
  CHECK(refused([&] {
          client.decide(id, "wait", true, "u", std::string{"\xed\xa0\x80"},
                        nullptr);
        }) == "bad_input: request 'approve': field 'comment' is not UTF-8");
  CHECK(refused([&] {
          client.decide(id, "wait", false, "u", std::nullopt, json::array({1}));
        }) == "bad_input: request 'reject': field 'state_patch' must be a JSON "
              "object");
  CHECK(refused([&] { client.start("w", json::array()); }) ==
        "bad_input: request 'start': field 'input' must be a JSON object");
  CHECK(refused([&] { client.status("\x80"); }) ==
        "bad_input: request 'status': field 'execution_id' is not UTF-8");
  // By hand: what the typed client cannot send.
  raw_peer raw{sched.port()};
  raw.hello();
  CHECK(refusal(raw.call(client_signal{id, "k", "{not json"})) ==
        "bad_input: request 'signal': field 'payload' must be JSON");
  CHECK(refusal(raw.call(client_start{"w", std::string{"\xff"}, "{}"})) ==
        "bad_input: request 'start': field 'version' is not UTF-8");
  CHECK(refusal(raw.call(
          client_decide{id, "wait", true, "u", caf::none, std::string{""}})) ==
        "bad_input: request 'approve': field 'state_patch' must be a JSON "
        "object");
  // Nothing reached the log, and the node serves on.
  client.signal(id, "k", {{"v", 1}});
  auto out = client.await(id);
  CHECK(out["status"] == "completed");
  CHECK(out["final_state"] == json{{"v", 1}});
  auto events = client.events(id);
  for (auto& e : events)
    CHECK(e["kind"]["type"] != "workflow_cancelled");
}

TEST_CASE("a peer speaking another protocol version is refused",
          "[remote][security]") {
  runtime sched{scheduler_only()};
  raw_peer old{sched.port()};
  old.send(wire_hello{wire_version - 1, "", "client", "old"});
  auto answer = old.receive();
  REQUIRE(answer);
  REQUIRE(caf::holds_alternative<wire_refused>(*answer));
  CHECK(caf::get<wire_refused>(*answer).reason ==
        "protocol version " + std::to_string(wire_version - 1) +
          " is not supported (this node speaks " +
          std::to_string(wire_version) + ")");
  CHECK_FALSE(old.receive()); // then the connection closes
  remote_client ok{"127.0.0.1", sched.port()};
  CHECK(ok.status("").empty());
}

TEST_CASE("a request of an unknown type closes the client's connection",
          "[remote][security]") {
  runtime sched{scheduler_only()};
  raw_peer raw{sched.port()};
  raw.hello();
  CHECK(raw.call(client_list{}).ok);
  // The request's type tag follows the message's tag and the 8-byte id.
  auto frame = encode_frame(wire_msg{wire_request{8, client_list{}}});
  frame.at(4 + 1 + 8) = 20;
  raw.send_bytes(frame);
  CHECK_FALSE(raw.receive());
  remote_client ok{"127.0.0.1", sched.port()};
  CHECK(ok.status("").empty());
}

TEST_CASE("a client waiting on a node that goes away gets an error",
          "[remote]") {
  auto sched = std::make_unique<runtime>(scheduler_only());
  remote_client client{"127.0.0.1", sched->port()};
  client.register_workflow(R"({"workflow_id":"w","version":"1",
    "start_node":"wait","nodes":{"wait":{"id":"wait","kind":{"type":"wait",
      "condition":"external_event","correlation_key":"k"}}},
    "edges":[{"from":"wait","to":"end"}]})");
  auto id = client.start("w", json::object());
  auto waiting =
    std::async(std::launch::async, [&] { return client.await(id); });
  std::this_thread::sleep_for(std::chrono::milliseconds{100});
  sched.reset(); // the node shuts down with the execution running
  CHECK_THROWS_AS(waiting.get(), jamjet::error);
}
