// A poison record never bricks a store: whatever a store holds, recovery
// goes on; what cannot be resumed fails clearly, everything else resumes.

#include <catch2/catch.hpp>

#include <future>

#include <nlohmann/json.hpp>

#include "system_cli.hpp"
#include "testing/contains.hpp"
#include "testing/temp_dir.hpp"

using jamjet::testing::cli;
using jamjet::testing::contains;
using jamjet::testing::python;
using jamjet::testing::temp_dir;
using json = nlohmann::json;

namespace {

/// A workflow `id` whose only node waits for the signal "go".
std::string waiting_ir(const std::string& id) {
  return R"({"workflow_id":")" + id + R"(","version":"1",
    "start_node":"w","nodes":{
      "w":{"id":"w","kind":{"type":"wait","condition":"external_event",
           "correlation_key":"go"}}},
    "edges":[{"from":"w","to":"end"}]})";
}

/// Starts `wf` on `db`, waits until it waits, and SIGKILLs it: the
/// execution stays running in the store. Returns its id.
std::string leave_running(const std::string& wf, const std::string& db) {
  auto kill = std::make_shared<std::atomic<bool>>(false);
  auto before = json::parse(cli({"status", "--db", db}).out, nullptr, false);
  auto run = std::async(std::launch::async, [&] {
    return cli({"run", wf, "--db", db}, kill);
  });
  std::string id;
  for (int i = 0; i < 2000 && id.empty(); ++i) {
    auto all = json::parse(cli({"status", "--db", db}).out, nullptr, false);
    if (all.is_array())
      for (auto& x : all) {
        bool known = false;
        if (before.is_array())
          for (auto& y : before)
            known = known || y["execution_id"] == x["execution_id"];
        if (!known && x["last_sequence"] >= 2)
          id = x["execution_id"];
      }
    std::this_thread::sleep_for(std::chrono::milliseconds{10});
  }
  kill->store(true);
  run.get();
  REQUIRE_FALSE(id.empty());
  return id;
}

} // namespace

TEST_CASE("an execution whose workflow row is corrupt fails at resume, and "
          "the others resume",
          "[poison][cli][recovery]") {
  temp_dir dir;
  auto db = dir.path + "/j.db";
  auto broken = leave_running(dir.write("a.json", waiting_ir("broken")), db);
  auto healthy = leave_running(dir.write("b.json", waiting_ir("healthy")), db);
  auto poked = python(R"PY(import sqlite3, sys
db = sqlite3.connect(sys.argv[1])
db.execute("UPDATE workflows SET ir_json = '{\"workflow_id\":' "
           "WHERE workflow_id = 'broken'")
db.commit()
)PY",
                      {db});
  REQUIRE(poked.exit_code == 0);
  REQUIRE(cli({"signal", healthy, "go", "--db", db}).exit_code == 0);
  auto resume = cli({"resume", "--db", db});
  INFO(resume.err);
  CHECK(resume.term_signal == 0);
  CHECK(resume.exit_code == 1);
  auto summary = json::parse(resume.out);
  CHECK(summary["executions"][broken] == "failed");
  CHECK(summary["executions"][healthy] == "completed");
  CHECK(contains(summary["errors"][broken].get<std::string>(),
                 "workflow 'broken' version '1' is missing from the store or "
                 "does not load"));
  CHECK(contains(resume.err, broken));
  auto status = json::parse(cli({"status", broken, "--db", db}).out);
  CHECK(status["status"] == "failed");
  CHECK(contains(status["error"].get<std::string>(), "cannot resume"));
  // Not retried at every start: nothing is left to resume.
  auto again = cli({"resume", "--db", db});
  CHECK(again.exit_code == 0);
  CHECK(json::parse(again.out)["resumed"] == 0);
}

TEST_CASE("a truncated or damaged log is an error, not a shorter history",
          "[poison][cli][recovery]") {
  temp_dir dir;
  auto db = dir.path + "/j.db";
  auto cut = leave_running(dir.write("a.json", waiting_ir("cut")), db);
  auto whole = leave_running(dir.write("b.json", waiting_ir("whole")), db);
  REQUIRE(cli({"events", cut, "--db", db}).exit_code == 0);
  // Lose the last event of `cut`, as a damaged file would.
  auto poked = python(R"PY(import sqlite3, sys
db = sqlite3.connect(sys.argv[1])
db.execute("DELETE FROM events WHERE execution_id = ? AND sequence = "
           "(SELECT max(sequence) FROM events WHERE execution_id = ?)",
           (sys.argv[2], sys.argv[2]))
db.commit()
)PY",
                      {db, cut});
  REQUIRE(poked.exit_code == 0);
  auto events = cli({"events", cut, "--db", db});
  CHECK(events.exit_code != 0);
  CHECK(events.term_signal == 0);
  CHECK(contains(events.err, "the log of execution '" + cut +
                               "' is truncated: it ends at event"));
  CHECK(events.out.empty());
  REQUIRE(cli({"signal", whole, "go", "--db", db}).exit_code == 0);
  auto resume = cli({"resume", "--db", db});
  INFO(resume.err);
  CHECK(resume.exit_code == 1);
  auto summary = json::parse(resume.out);
  CHECK(summary["executions"][cut] == "failed");
  CHECK(summary["executions"][whole] == "completed");
  CHECK(contains(summary["errors"][cut].get<std::string>(), "truncated"));
}

TEST_CASE("a log with an event missing in the middle is an error",
          "[poison][cli]") {
  temp_dir dir;
  auto db = dir.path + "/j.db";
  auto id = leave_running(dir.write("a.json", waiting_ir("gap")), db);
  auto poked = python(R"PY(import sqlite3, sys
db = sqlite3.connect(sys.argv[1])
db.execute("DELETE FROM events WHERE execution_id = ? AND sequence = 1",
           (sys.argv[2],))
db.commit()
)PY",
                      {db, id});
  REQUIRE(poked.exit_code == 0);
  auto events = cli({"events", id, "--db", db});
  CHECK(events.exit_code != 0);
  CHECK(contains(events.err, "is damaged: event 1 is missing"));
}

TEST_CASE("check reports a sound store, and names every problem of a "
          "damaged one",
          "[poison][cli][check]") {
  temp_dir dir;
  auto db = dir.path + "/j.db";
  auto missing = cli({"check", "--db", dir.path + "/none.db"});
  CHECK(missing.exit_code == 2);
  auto id = leave_running(dir.write("a.json", waiting_ir("gap")), db);
  leave_running(dir.write("b.json", waiting_ir("other")), db);
  auto sound = cli({"check", "--db", db});
  INFO(sound.err);
  REQUIRE(sound.exit_code == 0);
  auto report = json::parse(sound.out);
  CHECK(report["ok"] == true);
  CHECK(report["executions"] == 2);
  CHECK(report["workflows"] == 2);
  CHECK(report["events"].get<int>() >= 4);
  auto poked = python(R"PY(import sqlite3, sys
db = sqlite3.connect(sys.argv[1])
db.execute("DELETE FROM events WHERE execution_id = ? AND sequence = 1",
           (sys.argv[2],))
db.execute("UPDATE workflows SET ir_json = '[]' WHERE workflow_id = 'other'")
db.commit()
)PY",
                      {db, id});
  REQUIRE(poked.exit_code == 0);
  auto damaged = cli({"check", "--db", db});
  CHECK(damaged.exit_code == 1);
  auto found = json::parse(damaged.out);
  CHECK(found["ok"] == false);
  REQUIRE(found["problems"].size() == 2);
  CHECK(contains(damaged.out, "event 1 is missing"));
  CHECK(contains(damaged.out, "workflow 'other' version '1' does not load"));
}
