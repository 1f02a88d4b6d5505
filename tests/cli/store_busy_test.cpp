// Readers of a store that another process holds locked wait (bounded) for
// it instead of failing with "database is locked".

#include <catch2/catch.hpp>

#include <chrono>
#include <filesystem>
#include <future>
#include <thread>

#include "cli_paths.hpp"
#include "jamjet/support/subprocess.hpp"
#include "testing/contains.hpp"
#include "testing/temp_dir.hpp"

using namespace jamjet;
using jamjet::testing::contains;
using jamjet::testing::example;
using jamjet::testing::temp_dir;

namespace {

subprocess_result jamjet_cli(std::vector<std::string> args) {
  subprocess_options opts;
  opts.argv.push_back(JAMJET_CLI_PATH);
  for (auto& a : args)
    opts.argv.push_back(std::move(a));
  opts.timeout = std::chrono::seconds{120};
  return run_subprocess(opts);
}

// Holds an exclusive lock on the store for 1.5 s (in rollback-journal mode,
// as a store is while its first owner creates it), writing `marker` once it
// holds it.
const char* locker = R"(
import sqlite3, sys, time
db = sqlite3.connect(sys.argv[1], isolation_level=None)
db.execute("PRAGMA journal_mode=DELETE")
db.execute("BEGIN EXCLUSIVE")
open(sys.argv[2], "w").close()
time.sleep(1.5)
db.execute("COMMIT")
)";

} // namespace

TEST_CASE("status waits for a store another process holds locked",
          "[cli][store]") {
  temp_dir dir;
  auto db = dir.path + "/s.db";
  REQUIRE(jamjet_cli({"run", example("diamond.json"), "--db", db}).exit_code ==
          0);
  auto marker = dir.path + "/locked";
  auto script = dir.write("locker.py", locker);
  auto held = std::async(std::launch::async, [&] {
    subprocess_options opts;
    opts.argv = {"python3", script, db, marker};
    opts.timeout = std::chrono::seconds{60};
    return run_subprocess(opts);
  });
  for (int i = 0; i < 1000 && !std::filesystem::exists(marker); ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds{10});
  REQUIRE(std::filesystem::exists(marker));
  auto status = jamjet_cli({"status", "--db", db});
  INFO(status.err);
  CHECK(status.exit_code == 0);
  CHECK_FALSE(contains(status.err, "locked"));
  CHECK(contains(status.out, "completed"));
  auto lock = held.get();
  INFO(lock.err);
  REQUIRE(lock.exit_code == 0);
  // And the store still works as its owner's afterwards.
  CHECK(jamjet_cli({"run", example("diamond.json"), "--db", db}).exit_code ==
        0);
}
