// Workers reach `jamjet serve` through a proxy that delays, splits and cuts
// their connections and partitions them from the node twice, then heals.
// Every execution completes, and no node completes twice.

#include <catch2/catch.hpp>

#include <future>
#include <map>
#include <sstream>
#include <thread>

#include <nlohmann/json.hpp>

#include "jamjet/support/subprocess.hpp"
#include "system_cli.hpp"
#include "testing/contains.hpp"
#include "testing/temp_dir.hpp"

using namespace jamjet;
using jamjet::testing::background;
using jamjet::testing::cli;
using jamjet::testing::contains;
using jamjet::testing::free_port;
using jamjet::testing::temp_dir;
using json = nlohmann::json;
using namespace std::chrono_literals;

namespace {

/// start -> w0..w{n-1} -> join, command nodes sleeping `secs`, each with a
/// retry policy generous enough for the cuts (each reclaim is an attempt).
std::string fan(int n, double secs) {
  json nodes = json::object();
  json edges = json::array();
  auto cmd = [&](const std::string& id) {
    std::string script = "cat >/dev/null; sleep " + std::to_string(secs) +
                         "; printf '{\"" + id + "\":1}'";
    return json{{"id", id},
                {"kind", {{"type", "command"}, {"argv", {"sh", "-c", script}}}},
                {"retry_policy", "net"},
                {"node_timeout_secs", 60}};
  };
  nodes["start"] = cmd("start");
  nodes["join"] = cmd("join");
  edges.push_back({{"from", "join"}, {"to", "end"}});
  for (int i = 0; i < n; ++i) {
    auto id = "w" + std::to_string(i);
    nodes[id] = cmd(id);
    edges.push_back({{"from", "start"}, {"to", id}});
    edges.push_back({{"from", id}, {"to", "join"}});
  }
  return json{
    {"workflow_id", "fan"},
    {"version", "1"},
    {"start_node", "start"},
    {"nodes", nodes},
    {"edges", edges},
    {"retry_policies",
     {{"net",
       {{"max_attempts", 100}, {"backoff", "fixed"}, {"initial_delay", 0}}}}}}
    .dump();
}

} // namespace

TEST_CASE("workers behind a faulty network: every execution completes, no "
          "node completes twice",
          "[distributed][faults]") {
  temp_dir dir;
  auto node_port = std::to_string(free_port());
  auto proxy_port = std::to_string(free_port());
  auto node = "127.0.0.1:" + node_port;
  auto proxied = "127.0.0.1:" + proxy_port;
  background serve{
    {"serve", "--db", dir.path + "/s.db", "--listen", node, "--token", "t0k"}};
  bool up = false;
  for (int i = 0; i < 500 && !up; ++i) {
    up = cli({"status", "--connect", node, "--token", "t0k"}).exit_code == 0;
    std::this_thread::sleep_for(20ms);
  }
  REQUIRE(up);
  auto proxy =
    background::program({"python3", JAMJET_SYSTEM_TEST_DIR "/fault_proxy.py",
                         proxy_port, node_port, "7", "8"});
  std::this_thread::sleep_for(300ms);
  background w1{{"worker", "--connect", proxied, "--token", "t0k", "--slots",
                 "2", "--name", "one"}};
  background w2{{"worker", "--connect", proxied, "--token", "t0k", "--slots",
                 "2", "--name", "two"}};
  auto wf = dir.write("fan.json", fan(12, 0.4));
  // Three executions, submitted straight to the node (the clients' path is
  // not under test), each waited for.
  std::vector<std::future<subprocess_result>> runs;
  for (int k = 0; k < 3; ++k)
    runs.push_back(std::async(std::launch::async, [&] {
      return cli({"submit", wf, "--connect", node, "--token", "t0k", "--wait"});
    }));
  for (auto& r : runs) {
    auto res = r.get();
    INFO(res.err);
    CHECK(res.exit_code == 0);
  }
  auto all =
    json::parse(cli({"status", "--connect", node, "--token", "t0k"}).out);
  REQUIRE(all.size() == 3);
  size_t started = 0;
  for (auto& ex : all) {
    CHECK(ex["status"] == "completed");
    auto log =
      cli({"events", ex["execution_id"], "--connect", node, "--token", "t0k"});
    REQUIRE(log.exit_code == 0);
    std::map<std::string, int> completed;
    std::istringstream lines{log.out};
    for (std::string line; std::getline(lines, line);) {
      auto e = json::parse(line);
      auto type = e["kind"]["type"].get<std::string>();
      if (type == "node_completed")
        ++completed[e["kind"]["node_id"].get<std::string>()];
      if (type == "node_started")
        ++started;
    }
    CHECK(completed.size() == 14);
    for (auto& [id, n] : completed) {
      INFO(id);
      CHECK(n == 1);
    }
  }
  // The faults were real: connections were cut while in use.
  auto faults = proxy.stop();
  bool cut_live = false;
  std::istringstream lines{faults.out};
  for (std::string line; std::getline(lines, line);)
    if ((line.rfind("cut ", 0) == 0 && line != "cut 0") ||
        contains(line, "partition (cut") && !contains(line, "(cut 0)"))
      cut_live = true;
  INFO(faults.out);
  CHECK(cut_live);
  // ... and hit running work: attempts were reclaimed and run again.
  CHECK(started > 42);
}
