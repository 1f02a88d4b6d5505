// Requests to executions (cancel, signal, approve) print one shape whether
// they go through a store's inbox (`--db`) or to a scheduler node
// (`--connect`), and `submit` prints an id the other commands take as is.

#include <catch2/catch.hpp>

#include <sstream>
#include <thread>

#include <nlohmann/json.hpp>

#include "system_cli.hpp"
#include "testing/temp_dir.hpp"

using namespace jamjet;
using json = nlohmann::json;
using jamjet::testing::background;
using jamjet::testing::cli;
using jamjet::testing::free_port;
using jamjet::testing::temp_dir;
using namespace std::chrono_literals;

namespace {

const char* gate_ir = R"({"workflow_id":"gate","version":"1",
  "start_node":"ask","nodes":{
    "ask":{"id":"ask","kind":{"type":"human_approval","description":"ok?"}},
    "pay":{"id":"pay","kind":{"type":"wait","condition":"external_event",
           "correlation_key":"paid"}}},
  "edges":[{"from":"ask","to":"pay"},{"from":"pay","to":"end"}]})";

/// The execution id `submit` printed: one line, nothing else.
std::string bare_id(const subprocess_result& res) {
  REQUIRE(res.exit_code == 0);
  REQUIRE(res.out.size() > 1);
  REQUIRE(res.out.back() == '\n');
  auto id = res.out.substr(0, res.out.size() - 1);
  REQUIRE(id.find_first_of(" \t\n{}\"") == std::string::npos);
  return id;
}

/// The status of `id` on the node, once it is not running any more.
std::string final_status(const std::vector<std::string>& connect,
                         const std::string& id) {
  for (int i = 0; i < 500; ++i) {
    auto args = connect;
    args.insert(args.begin(), {"status", id});
    auto res = cli(args);
    if (res.exit_code == 0) {
      auto st = json::parse(res.out)["status"].get<std::string>();
      if (st != "running")
        return st;
    }
    std::this_thread::sleep_for(20ms);
  }
  FAIL("execution " << id << " never ended");
  return {};
}

} // namespace

TEST_CASE("cancel, signal and approve print one shape with --db and "
          "--connect",
          "[requests]") {
  temp_dir dir;
  auto db = dir.path + "/s.db";
  auto endpoint = "127.0.0.1:" + std::to_string(free_port());
  background serve{
    {"serve", "--db", db, "--listen", endpoint, "--insecure", "--lease", "60"}};
  std::vector<std::string> connect{"--connect", endpoint};
  bool up = false;
  for (int i = 0; i < 500 && !up; ++i) {
    up = cli({"status", "--connect", endpoint}).exit_code == 0;
    if (!up)
      std::this_thread::sleep_for(20ms);
  }
  REQUIRE(up);
  auto wf = dir.write("gate.json", gate_ir);
  auto a = bare_id(cli({"submit", wf, "--connect", endpoint}));
  auto b = bare_id(cli({"submit", wf, "--connect", endpoint}));
  auto c = bare_id(cli({"submit", wf, "--connect", endpoint}));

  // Through the node: applied at once.
  auto approved = cli({"approve", a, "ask", "--connect", endpoint});
  REQUIRE(approved.exit_code == 0);
  CHECK(json::parse(approved.out) == json{{"request", "approve"},
                                          {"execution_id", a},
                                          {"node_id", "ask"},
                                          {"outcome", "applied"}});
  // The approval lets `pay` wait for its event; then the signal goes in.
  json signalled;
  for (int i = 0; i < 500; ++i) {
    auto res =
      cli({"signal", a, "paid", "--payload", "{}", "--connect", endpoint});
    if (res.exit_code == 0) {
      signalled = json::parse(res.out);
      break;
    }
    std::this_thread::sleep_for(20ms);
  }
  CHECK(signalled == json{{"request", "signal"},
                          {"execution_id", a},
                          {"key", "paid"},
                          {"outcome", "applied"}});
  auto remote_cancel =
    cli({"cancel", b, "--reason", "not needed", "--connect", endpoint});
  REQUIRE(remote_cancel.exit_code == 0);
  CHECK(json::parse(remote_cancel.out) == json{{"request", "cancel"},
                                               {"execution_id", b},
                                               {"reason", "not needed"},
                                               {"outcome", "applied"}});

  // Through the store's inbox, which the node reads: queued, same fields.
  auto local_cancel = cli({"cancel", c, "--reason", "stale", "--db", db});
  REQUIRE(local_cancel.exit_code == 0);
  CHECK(json::parse(local_cancel.out) == json{{"request", "cancel"},
                                              {"execution_id", c},
                                              {"reason", "stale"},
                                              {"outcome", "queued"}});

  CHECK(final_status(connect, a) == "completed");
  CHECK(final_status(connect, b) == "cancelled");
  CHECK(final_status(connect, c) == "cancelled");
}
