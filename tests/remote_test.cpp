// Scheduler, workers and clients over TCP on 127.0.0.1, in one process:
// the protocol, access control and bad peers. (tests/distributed_test.cpp
// runs them as separate processes.)

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

using namespace jamjet;
using json = nlohmann::json;

namespace {

const char* fan_ir = R"({"workflow_id":"fan","version":"1","start_node":"a",
  "nodes":{"a":{"id":"a","kind":{"type":"tool","patch":{"a":1}}},
           "b":{"id":"b","kind":{"type":"tool","patch":{"b":1}}},
           "c":{"id":"c","kind":{"type":"tool","patch":{"c":1}}},
           "d":{"id":"d","kind":{"type":"tool","patch":{"d":1}}}},
  "edges":[{"from":"a","to":"b"},{"from":"a","to":"c"},{"from":"b","to":"d"},
           {"from":"c","to":"d"},{"from":"d","to":"end"}]})";

node_outcome patch_handler(const node_context& ctx) {
  auto patch = ctx.node["kind"].value("patch", json::object());
  return node_outcome::success(patch, patch);
}

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

/// Sends raw bytes to the port and waits until the node closes the
/// connection; returns how many bytes the node answered.
size_t send_raw(uint16_t port, const std::string& bytes) {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  REQUIRE(fd >= 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  REQUIRE(::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0);
  REQUIRE(::write(fd, bytes.data(), bytes.size()) ==
          static_cast<ssize_t>(bytes.size()));
  timeval tv{10, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
  size_t total = 0;
  char buf[256];
  for (ssize_t n; (n = ::read(fd, buf, sizeof(buf))) > 0;)
    total += static_cast<size_t>(n);
  ::close(fd);
  return total;
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
    auto frame = encode_frame(wire_msg{wire_request{1, "list", {}}});
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

TEST_CASE("client arguments that are not JSON or not UTF-8 are refused and "
          "the node goes on",
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
  auto refused = [&](const std::string& op, std::vector<std::string> args) {
    try {
      client.call(op, std::move(args));
      return std::string{"accepted"};
    } catch (const jamjet::error& e) {
      return std::string{to_string(e.code())};
    }
  };
  CHECK(refused("signal", {id, "k", "{not json"}) == "bad_input");
  CHECK(refused("cancel", {id, "\xff\xfe"}) == "bad_input");
  CHECK(refused("approve", {id, "wait", "u", "", "0", "[1]"}) == "bad_input");
  CHECK(refused("nope", {}) == "bad_input");
  CHECK(refused("status", {}) == "bad_input");
  // Nothing reached the log, and the node serves on.
  client.signal(id, "k", {{"v", 1}});
  auto out = client.await(id);
  CHECK(out["status"] == "completed");
  CHECK(out["final_state"] == json{{"v", 1}});
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

TEST_CASE("a frame reader cuts frames and refuses bad lengths", "[remote]") {
  auto frame = encode_frame(wire_msg{wire_cancel{"item-1"}});
  frame_reader reader;
  std::optional<wire_msg> msg;
  std::vector<char> prefix(frame.begin(), frame.begin() + 4);
  std::vector<char> payload(frame.begin() + 4, frame.end());
  auto next = reader.feed(prefix, 1024, msg);
  REQUIRE(next);
  CHECK(*next == payload.size());
  CHECK_FALSE(msg);
  next = reader.feed(payload, 1024, msg);
  REQUIRE(next);
  CHECK(*next == frame_reader::prefix_size);
  REQUIRE(msg);
  CHECK(caf::get<wire_cancel>(*msg).item_id == "item-1");
  // Over the limit, or empty: refused.
  CHECK_FALSE(frame_reader{}.feed(prefix, payload.size() - 1, msg));
  CHECK_FALSE(frame_reader{}.feed(std::vector<char>(4, 0), 1024, msg));
  // A payload that does not decode.
  frame_reader bad;
  REQUIRE(bad.feed(prefix, 1024, msg));
  CHECK_FALSE(bad.feed(std::vector<char>(payload.size(), '\xc8'), 1024, msg));
}
