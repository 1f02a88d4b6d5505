// Power cuts: a workload on an SQLite store is killed at random instants,
// and every write it had not synced is then undone (tests/powercut/), as a
// power loss would drop it. Every acknowledged start and end survives, the
// store checks sound, and the executions resume to their ends.

#include <catch2/catch.hpp>

#include <csignal>
#include <future>
#include <map>
#include <random>
#include <set>
#include <sstream>
#include <thread>

#include <nlohmann/json.hpp>

#include "powercut_vfs.hpp"
#include "system_cli.hpp"
#include "testing/temp_dir.hpp"

using namespace jamjet;
using jamjet::testing::cli;
using jamjet::testing::power_cut;
using jamjet::testing::temp_dir;
using json = nlohmann::json;

TEST_CASE("acknowledged commits survive a power cut at random instants",
          "[powercut][durable]") {
  std::mt19937 rng{20261203};
  std::uniform_int_distribution<int> delay_ms{150, 900};
  int undone_total = 0;
  size_t acked_total = 0;
  for (int round = 0; round < 8; ++round) {
    INFO("round " << round);
    temp_dir dir;
    auto db = dir.path + "/p.db";
    auto kill = std::make_shared<std::atomic<bool>>(false);
    subprocess_options opts;
    opts.argv = {JAMJET_POWERCUT_RUNNER, db,
                 std::string{JAMJET_EXAMPLES_DIR} + "/workflows/diamond.json"};
    opts.cancelled = kill;
    opts.timeout = std::chrono::seconds{60};
    auto run =
      std::async(std::launch::async, [opts] { return run_subprocess(opts); });
    std::this_thread::sleep_for(std::chrono::milliseconds{delay_ms(rng)});
    kill->store(true); // SIGKILL, then the power goes
    auto killed = run.get();
    INFO(killed.err);
    REQUIRE(killed.term_signal == SIGKILL);
    undone_total += power_cut(db) + power_cut(db + "-wal");
    // What the workload was told is committed.
    std::set<std::string> started, completed;
    std::istringstream lines{killed.out};
    for (std::string line; std::getline(lines, line);) {
      if (line.rfind("started ", 0) == 0)
        started.insert(line.substr(8));
      else if (line.rfind("completed ", 0) == 0)
        completed.insert(line.substr(10));
    }
    acked_total += started.size() + completed.size();
    if (started.empty())
      continue; // killed before the first start: nothing was promised
    auto check = cli({"check", "--db", db});
    INFO(check.out << check.err);
    CHECK(check.exit_code == 0);
    auto status = cli({"status", "--db", db});
    REQUIRE(status.exit_code == 0);
    std::map<std::string, std::string> stored;
    for (auto& x : json::parse(status.out))
      stored[x["execution_id"]] = x["status"];
    for (auto& id : started) {
      INFO(id);
      CHECK(stored.count(id) == 1);
    }
    for (auto& id : completed) {
      INFO(id);
      CHECK(stored[id] == "completed");
    }
    // Everything left running resumes to its end.
    auto resume = cli({"resume", "--db", db});
    INFO(resume.err);
    CHECK(resume.exit_code == 0);
    for (auto& x : json::parse(cli({"status", "--db", db}).out))
      CHECK(x["status"] == "completed");
  }
  // The cuts were real: unsynced writes were dropped, promises were made.
  CHECK(undone_total > 0);
  CHECK(acked_total > 0);
}
