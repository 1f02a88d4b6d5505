// JamJet's HTTP API through `jamjet serve --http`, reached by a stdlib-only
// Python client modelled on JamJet's SDK (jamjet_http_client.py): real
// processes on 127.0.0.1.

#include <catch2/catch.hpp>

#include <algorithm>
#include <fstream>
#include <set>

#include <nlohmann/json.hpp>

#include "jamjet/support/subprocess.hpp"
#include "system_cli.hpp"
#include "testing/temp_dir.hpp"

using namespace jamjet;
using json = nlohmann::json;
using jamjet::testing::background;
using jamjet::testing::free_port;
using jamjet::testing::temp_dir;

namespace {

const std::string client_py =
  std::string{JAMJET_SYSTEM_TEST_DIR} + "/jamjet_http_client.py";

subprocess_result run_client(std::vector<std::string> args) {
  subprocess_options opts;
  opts.argv = {"python3", client_py};
  for (auto& a : args)
    opts.argv.push_back(std::move(a));
  opts.timeout = std::chrono::seconds{120};
  return run_subprocess(opts);
}

json last_line(const std::string& out) {
  auto end = out.find_last_not_of("\n");
  auto begin = out.rfind('\n', end);
  return json::parse(out.substr(begin == std::string::npos ? 0 : begin + 1),
                     nullptr, false);
}

} // namespace

TEST_CASE("http system: a python_fn node runs on an HTTP worker while "
          "built-in nodes run on a binary-protocol worker") {
  temp_dir dir;
  auto db = dir.path + "/node.db";
  auto listen = "127.0.0.1:" + std::to_string(free_port());
  auto http = "127.0.0.1:" + std::to_string(free_port());
  background node{{"serve", "--db", db, "--listen", listen, "--http", http}};
  dir.write("tools.py",
            "def double(inp):\n    return {\"y\": inp[\"x\"] * 2}\n");
  // The token file appears when serve starts; the worker waits for it.
  for (int i = 0; i < 500 && !std::ifstream{db + ".token"}; ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds{10});
  background worker{{"worker", "--connect", listen, "--queues", "general",
                     "--token-file", db + ".token"}};
  auto res = run_client({"e2e", "http://" + http, db + ".token", dir.path});
  INFO(res.out << res.err);
  REQUIRE(res.exit_code == 0);
  auto out = last_line(res.out);
  REQUIRE(out.is_object());
  CHECK(out["created"] == json{{"workflow_id", "mixed"}, {"version", "1.0.0"}});
  auto& ex = out["execution"];
  CHECK(ex["status"] == "completed");
  CHECK(ex["current_state"]["y"] == 42);
  CHECK(out["approvals"]["pending"][0]["node_id"] == "ok");
  CHECK(out["approve"]["accepted"] == true);
  std::set<std::string> transports;
  for (auto& w : out["workers"])
    transports.insert(w["transport"].get<std::string>());
  CHECK(transports == std::set<std::string>{"http", "native"});
  auto events = out["events"];
  CHECK(std::count(events.begin(), events.end(), "node_completed") == 4);
  CHECK(events.back() == "workflow_completed");
  CHECK(out["listed"].size() == 1);
  CHECK(out["statuses"] == json{{"unknown", 404},
                                {"viewer_less", 401},
                                {"stale", 409},
                                {"agents", 501}});
}

TEST_CASE("http system: idle, slow, garbage and oversized requests leave "
          "the node serving others") {
  temp_dir dir;
  auto db = dir.path + "/node.db";
  auto listen = "127.0.0.1:" + std::to_string(free_port());
  auto http = "127.0.0.1:" + std::to_string(free_port());
  background node{{"serve", "--db", db, "--listen", listen, "--http", http}};
  for (int i = 0; i < 500 && !std::ifstream{db + ".token"}; ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds{10});
  auto res = run_client({"load", "http://" + http, db + ".token"});
  INFO(res.out << res.err);
  REQUIRE(res.exit_code == 0);
  auto out = last_line(res.out);
  REQUIRE(out.is_object());
  CHECK(out["health"] == "ok");
  CHECK(out["after"] == "ok");
  CHECK(out["listed"] == 0);
  REQUIRE(out["garbage"].size() == 3);
  for (auto& line : out["garbage"])
    CHECK(line.get<std::string>().rfind("HTTP/1.1 4", 0) == 0);
  CHECK(out["garbage"][2].get<std::string>().find("413") != std::string::npos);
  // The binary protocol still answers too.
  auto st = jamjet::testing::cli(
    {"status", "--connect", listen, "--token-file", db + ".token"});
  CHECK(st.exit_code == 0);
}
