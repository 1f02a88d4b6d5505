// One conformance suite for every store, plus what only SQLite does.

#include <catch2/catch.hpp>

#include <cstdlib>
#include <fstream>
#include <sys/stat.h>
#include <unistd.h>

#include "jamjet/messages/error.hpp"
#include "jamjet/store/memory_store.hpp"
#include "jamjet/store/sqlite_store.hpp"
#include "testing/temp_dir.hpp"

using namespace jamjet;
using jamjet::testing::temp_dir;

namespace {

command start_cmd(const std::string& id, int64_t now = 100) {
  command c;
  c.execution_id = id;
  c.now_ms = now;
  c.events.emplace_back(workflow_started{"wf", "1", R"({"in":1})"});
  return c;
}

work_item make_item(const std::string& exec, const std::string& node) {
  work_item x;
  x.id = exec + "/" + node;
  x.execution_id = exec;
  x.node_id = node;
  x.queue_type = "general";
  x.payload = R"({"node":{},"state":{}})";
  x.max_attempts = 3;
  return x;
}

command schedule_cmd(const std::string& exec, const std::string& node) {
  command c;
  c.execution_id = exec;
  c.now_ms = 200;
  c.events.emplace_back(node_scheduled{node, "general"});
  c.items.emplace_back(enqueue_op{make_item(exec, node)});
  return c;
}

command lease_cmd(const std::string& exec, const std::string& node,
                  uint64_t fence) {
  command c;
  c.execution_id = exec;
  c.now_ms = 300;
  c.events.emplace_back(node_started{node, "w1", 1});
  c.items.emplace_back(lease_op{exec + "/" + node, fence, "w1", 30300});
  return c;
}

command complete_cmd(const std::string& exec, const std::string& node,
                     uint64_t fence) {
  command c;
  c.execution_id = exec;
  c.now_ms = 400;
  c.events.emplace_back(node_completed{node, "1", R"({"x":1})", 5, ""});
  c.items.emplace_back(settle_op{exec + "/" + node, fence});
  return c;
}

/// Applies one command, expecting it to succeed.
commit_result commit_ok(store& st, const command& cmd) {
  auto res = st.apply({cmd});
  REQUIRE(res.size() == 1);
  if (!res[0])
    FAIL("refused: " << error_message(res[0].error()));
  return std::move(*res[0]);
}

caf::error commit_err(store& st, const command& cmd) {
  auto res = st.apply({cmd});
  REQUIRE(res.size() == 1);
  REQUIRE_FALSE(res[0]);
  return res[0].error();
}

struct store_maker {
  temp_dir dir;
  std::shared_ptr<store> make(const std::string& kind) {
    if (kind == "memory")
      return std::make_shared<memory_store>();
    return sqlite_store::open(dir.path + "/test.db");
  }
};

} // namespace

TEST_CASE("stores assign contiguous sequences and keep the log", "[store]") {
  auto kind = GENERATE(as<std::string>{}, "memory", "sqlite");
  INFO(kind);
  store_maker m;
  auto st = m.make(kind);
  auto res = commit_ok(*st, start_cmd("e1"));
  REQUIRE(res.events.size() == 1);
  CHECK(res.events[0].sequence == 1);
  CHECK(res.events[0].created_at_ms == 100);
  CHECK_FALSE(res.events[0].id.empty());
  commit_ok(*st, schedule_cmd("e1", "a"));
  commit_ok(*st, start_cmd("e2"));
  commit_ok(*st, lease_cmd("e1", "a", 7));
  auto done = commit_ok(*st, complete_cmd("e1", "a", 7));
  CHECK(done.events[0].sequence == 4);
  REQUIRE(done.items.size() == 1);
  CHECK(done.items[0].status == item_status::done);
  auto log = st->read_events("e1", 1);
  REQUIRE(log.size() == 4);
  for (size_t i = 0; i < log.size(); ++i) {
    CHECK(log[i].sequence == i + 1);
    CHECK(log[i].execution_id == "e1");
  }
  CHECK(caf::get<node_completed>(log[3].kind).state_patch == R"({"x":1})");
  CHECK(st->read_events("e1", 3).size() == 2);
  CHECK(st->read_events("e1", 9).empty());
  CHECK(st->read_events("nope", 1).empty());
  CHECK(st->read_events("e2", 1).size() == 1);
  auto rec = st->find_execution("e1");
  REQUIRE(rec);
  CHECK(rec->status == execution_status_code::running);
  CHECK(rec->last_sequence == 4);
  CHECK(rec->workflow_id == "wf");
  CHECK(rec->input == R"({"in":1})");
  CHECK_FALSE(st->find_execution("nope"));
  auto all = st->executions();
  REQUIRE(all.size() == 2);
  CHECK(all[0].id == "e1");
  CHECK(all[1].id == "e2");
}

TEST_CASE("stores refuse commands that break the execution's life", "[store]") {
  auto kind = GENERATE(as<std::string>{}, "memory", "sqlite");
  INFO(kind);
  store_maker m;
  auto st = m.make(kind);
  commit_ok(*st, start_cmd("e1"));
  CHECK(commit_err(*st, start_cmd("e1")));
  CHECK(code_of(commit_err(*st, schedule_cmd("ghost", "a"))) ==
        error_code::unknown_execution);
  command end;
  end.execution_id = "e1";
  end.events.emplace_back(workflow_completed{R"({"done":1})"});
  commit_ok(*st, end);
  CHECK(st->find_execution("e1")->status == execution_status_code::completed);
  CHECK(st->find_execution("e1")->result == R"({"done":1})");
  // Nothing after a terminal event.
  CHECK(commit_err(*st, schedule_cmd("e1", "a")));
  CHECK(st->read_events("e1", 1).size() == 2);
  command failing;
  failing.execution_id = "e2";
  failing.events.emplace_back(workflow_started{"wf", "1", "{}"});
  failing.events.emplace_back(workflow_failed{"x"});
  failing.events.emplace_back(node_scheduled{"a", "general"});
  CHECK(commit_err(*st, failing));
  CHECK_FALSE(st->find_execution("e2"));
}

TEST_CASE("stores apply a command whole or not at all", "[store]") {
  auto kind = GENERATE(as<std::string>{}, "memory", "sqlite");
  INFO(kind);
  store_maker m;
  auto st = m.make(kind);
  commit_ok(*st, start_cmd("e1"));
  commit_ok(*st, schedule_cmd("e1", "a"));
  commit_ok(*st, lease_cmd("e1", "a", 7));
  // A stale fence refuses the command: the event is not appended either.
  auto err = commit_err(*st, complete_cmd("e1", "a", 6));
  CHECK(code_of(err) == error_code::stale_fence);
  CHECK(st->read_events("e1", 1).size() == 3);
  CHECK(st->open_items().at(0).status == item_status::leased);
  // Two enqueues of which the second is a duplicate: neither lands.
  command dup;
  dup.execution_id = "e1";
  dup.events.emplace_back(node_scheduled{"b", "general"});
  dup.items.emplace_back(enqueue_op{make_item("e1", "b")});
  dup.items.emplace_back(enqueue_op{make_item("e1", "a")});
  CHECK(commit_err(*st, dup));
  CHECK(st->open_items().size() == 1);
  CHECK(st->read_events("e1", 1).size() == 3);
  // In one batch, refused commands do not stop the others.
  auto res = st->apply({complete_cmd("e1", "a", 99), complete_cmd("e1", "a", 7),
                        complete_cmd("e1", "a", 7)});
  REQUIRE(res.size() == 3);
  CHECK_FALSE(res[0]);
  CHECK(res[1]);
  CHECK_FALSE(res[2]);
  CHECK(st->read_events("e1", 1).size() == 4);
  CHECK(st->open_items().empty());
}

TEST_CASE("stores keep requeues and dead letters", "[store]") {
  auto kind = GENERATE(as<std::string>{}, "memory", "sqlite");
  INFO(kind);
  store_maker m;
  auto st = m.make(kind);
  commit_ok(*st, start_cmd("e1"));
  commit_ok(*st, schedule_cmd("e1", "a"));
  commit_ok(*st, lease_cmd("e1", "a", 7));
  command retry;
  retry.execution_id = "e1";
  retry.now_ms = 500;
  retry.events.emplace_back(node_failed{"a", "lost", 1, true});
  retry.events.emplace_back(retry_scheduled{"a", 2, 1000});
  retry.items.emplace_back(requeue_op{"e1/a", 7, 2, 1500});
  commit_ok(*st, retry);
  auto open = st->open_items();
  REQUIRE(open.size() == 1);
  CHECK(open[0].status == item_status::ready);
  CHECK(open[0].attempt == 2);
  CHECK(open[0].not_before_ms == 1500);
  CHECK(open[0].worker_id.empty());
  commit_ok(*st, lease_cmd("e1", "a", 8));
  command dead;
  dead.execution_id = "e1";
  dead.now_ms = 900;
  dead.events.emplace_back(node_failed{"a", "gone", 2, false});
  dead.items.emplace_back(dead_letter_op{"e1/a", 8, "gone"});
  commit_ok(*st, dead);
  CHECK(st->open_items().empty());
  auto dls = st->dead_letters();
  REQUIRE(dls.size() == 1);
  CHECK(dls[0].item.id == "e1/a");
  CHECK(dls[0].item.status == item_status::dead);
  CHECK(dls[0].item.attempt == 2);
  CHECK(dls[0].error == "gone");
  CHECK(dls[0].dead_at_ms == 900);
}

TEST_CASE("stores keep workflow definitions immutable", "[store]") {
  auto kind = GENERATE(as<std::string>{}, "memory", "sqlite");
  INFO(kind);
  store_maker m;
  auto st = m.make(kind);
  CHECK_FALSE(st->put_workflow("wf", "1", "{\"a\":1}"));
  CHECK_FALSE(st->put_workflow("wf", "1", "{\"a\":1}"));
  CHECK(code_of(st->put_workflow("wf", "1", "{\"a\":2}")) ==
        error_code::invalid_workflow);
  CHECK_FALSE(st->put_workflow("wf", "2", "{\"a\":2}"));
  CHECK(st->find_workflow("wf", "1") ==
        std::optional<std::string>{"{\"a\":1}"});
  CHECK_FALSE(st->find_workflow("wf", "3"));
  auto all = st->workflows();
  REQUIRE(all.size() == 2);
  CHECK(all[0].version == "1");
  CHECK(all[1].version == "2");
}

TEST_CASE("the SQLite store survives reopening", "[store][sqlite]") {
  temp_dir dir;
  auto path = dir.path + "/s.db";
  {
    auto st = sqlite_store::open(path);
    commit_ok(*st, start_cmd("e1"));
    commit_ok(*st, schedule_cmd("e1", "a"));
    commit_ok(*st, lease_cmd("e1", "a", 7));
    CHECK_FALSE(st->put_workflow("wf", "1", "{}"));
  }
  auto st = sqlite_store::open(path);
  auto log = st->read_events("e1", 1);
  REQUIRE(log.size() == 3);
  CHECK(caf::holds_alternative<node_started>(log[2].kind));
  CHECK(st->find_execution("e1")->last_sequence == 3);
  REQUIRE(st->open_items().size() == 1);
  CHECK(st->open_items()[0].fence == 7);
  // The cached state continues where the file left off.
  auto res = commit_ok(*st, complete_cmd("e1", "a", 7));
  CHECK(res.events[0].sequence == 4);
  CHECK(st->workflows().size() == 1);
}

TEST_CASE("the SQLite store is owned by one process at a time",
          "[store][sqlite]") {
  temp_dir dir;
  auto path = dir.path + "/s.db";
  auto owner = sqlite_store::open(path);
  commit_ok(*owner, start_cmd("e1"));
  try {
    sqlite_store::open(path);
    FAIL("opened a locked store");
  } catch (const error& e) {
    CHECK(e.code() == error_code::store_failure);
    CHECK(std::string{e.what()}.find("in use by process " +
                                     std::to_string(::getpid())) !=
          std::string::npos);
  }
  // Readers need no lock and see committed data.
  sqlite_options ro;
  ro.read_only = true;
  auto reader = sqlite_store::open(path, ro);
  CHECK(reader->find_execution("e1"));
  CHECK(reader->read_events("e1", 1).size() == 1);
  CHECK_THROWS_AS(reader->apply({start_cmd("e2")}), error);
  owner.reset();
  CHECK_NOTHROW(sqlite_store::open(path));
}

TEST_CASE("foreign and corrupt files are refused untouched",
          "[store][sqlite]") {
  temp_dir dir;
  auto garbage = dir.path + "/garbage.db";
  std::ofstream{garbage} << std::string(8192, 'x');
  try {
    sqlite_store::open(garbage);
    FAIL("opened garbage");
  } catch (const error& e) {
    CHECK(std::string{e.what()}.find("not a jamjet database") !=
          std::string::npos);
  }
  auto foreign = dir.path + "/foreign.db";
  { auto st = sqlite_store::open(foreign); }
  // Make it someone else's database: drop our meta table, add theirs.
  std::string cmd =
    "sqlite3 '" + foreign + "' 'DROP TABLE jamjet_meta' 2>/dev/null";
  if (std::system(cmd.c_str()) == 0) {
    CHECK_THROWS_WITH(sqlite_store::open(foreign),
                      Catch::Contains("not a jamjet store"));
  }
  sqlite_options ro;
  ro.read_only = true;
  CHECK_THROWS_AS(sqlite_store::open(dir.path + "/missing.db", ro), error);
}

TEST_CASE("a full store fails the batch and keeps nothing of it",
          "[store][sqlite]") {
  temp_dir dir;
  auto path = dir.path + "/full.db";
  sqlite_options opts;
  opts.max_page_count = 40;
  auto st = sqlite_store::open(path, opts);
  commit_ok(*st, start_cmd("e1"));
  // Grow until the size limit is hit.
  std::string big(3000, 'y');
  bool failed = false;
  uint64_t committed_seq = 1;
  for (int i = 0; i < 200 && !failed; ++i) {
    command c;
    c.execution_id = "e1";
    c.events.emplace_back(
      opaque_event{"note", "{\"type\":\"note\",\"t\":\"" + big + "\"}"});
    try {
      st->apply({c});
      ++committed_seq;
    } catch (const error& e) {
      failed = true;
      CHECK(e.code() == error_code::store_failure);
      CHECK(std::string{e.what()}.find("full") != std::string::npos);
    }
  }
  REQUIRE(failed);
  // Neither the cache nor the file kept the failed batch.
  CHECK(st->find_execution("e1")->last_sequence == committed_seq);
  st.reset();
  auto again = sqlite_store::open(path);
  CHECK(again->read_events("e1", 1).size() == committed_seq);
  CHECK(again->find_execution("e1")->last_sequence == committed_seq);
}

TEST_CASE("a read-only file gives a clear error", "[store][sqlite]") {
  if (::geteuid() == 0)
    SUCCEED("root ignores file permissions; checked for other users only");
  temp_dir dir;
  auto path = dir.path + "/ro.db";
  { auto st = sqlite_store::open(path); }
  ::chmod(path.c_str(), 0444);
  ::chmod(dir.path.c_str(), 0555);
  if (::geteuid() != 0)
    CHECK_THROWS_AS(sqlite_store::open(path), error);
  ::chmod(dir.path.c_str(), 0755);
}

TEST_CASE("an event that cannot be stored refuses its command, not the "
          "store",
          "[store][sqlite]") {
  temp_dir dir;
  auto st = sqlite_store::open(dir.path + "/j.db");
  commit_ok(*st, start_cmd("e1"));
  command bad;
  bad.execution_id = "e1";
  bad.now_ms = 200;
  bad.events.emplace_back(
    node_completed{"a", "not json", "{}", 1, std::string{}});
  auto res = st->apply({bad});
  REQUIRE_FALSE(res[0]);
  CHECK(code_of(res[0].error()) == error_code::bad_input);
  CHECK(st->find_execution("e1")->last_sequence == 1);
  // The store goes on.
  command good;
  good.execution_id = "e1";
  good.now_ms = 300;
  good.events.emplace_back(node_skipped{"a", "x"});
  auto ok = st->apply({good});
  REQUIRE(ok[0]);
  CHECK(st->find_execution("e1")->last_sequence == 2);
}
