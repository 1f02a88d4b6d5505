// Deeply nested JSON from every place JSON enters (README "Limits"): each
// is refused with a clear error, or fails one attempt, and never crashes a
// process or bricks a store. The deep inputs are generated here.

#include <catch2/catch.hpp>

#include <arpa/inet.h>
#include <atomic>
#include <future>
#include <netinet/in.h>
#include <optional>
#include <sys/socket.h>
#include <thread>
#include <unistd.h>

#include <nlohmann/json.hpp>

#include "jamjet/messages/wire.hpp"
#include "jamjet/remote.hpp"
#include "jamjet/runtime.hpp"
#include "jamjet/support/subprocess.hpp"
#include "raw_peer.hpp"
#include "system_cli.hpp"
#include "testing/contains.hpp"
#include "testing/temp_dir.hpp"

using namespace jamjet;
using json = nlohmann::json;
using jamjet::testing::cli;
using jamjet::testing::contains;
using jamjet::testing::python;
using jamjet::testing::raw_peer;
using jamjet::testing::temp_dir;
using jamjet::testing::wait_for_events;

namespace {

/// Deeper than any stack survives a recursive walk of.
constexpr size_t very_deep = 100000;

/// `{"a":` nested `depth` deep around 1: an object, as inputs must be.
std::string deep_object(size_t depth = very_deep) {
  std::string text;
  text.reserve(depth * 6 + 1);
  for (size_t i = 0; i < depth; ++i)
    text += "{\"a\":";
  text += "1";
  text.append(depth, '}');
  return text;
}

/// A workflow whose only node waits for the signal "paid".
const char* wait_ir = R"({"workflow_id":"pay","version":"1",
  "start_node":"pay","nodes":{
    "pay":{"id":"pay","kind":{"type":"wait","condition":"external_event",
           "correlation_key":"paid"}}},
  "edges":[{"from":"pay","to":"end"}]})";

/// A valid IR with `extra` as the value of an unknown member.
std::string ir_with(const std::string& extra) {
  return R"({"workflow_id":"deep","version":"1","start_node":"a",
    "nodes":{"a":{"id":"a","kind":{"type":"noop"}}},
    "edges":[{"from":"a","to":"end"}],"labels":)" +
         extra + "}";
}

} // namespace

// -- the command line ---------------------------------------------------------

TEST_CASE("validate and run refuse deeply nested files with exit 2",
          "[deep_json][cli]") {
  temp_dir dir;
  SECTION("a deep IR document") {
    auto wf = dir.write("deep.json", ir_with(deep_object()));
    for (const char* cmd : {"validate", "run"}) {
      INFO(cmd);
      auto res =
        cmd == std::string{"run"} ? cli({cmd, wf, "--memory"}) : cli({cmd, wf});
      CHECK(res.term_signal == 0);
      CHECK(res.exit_code == 2);
      CHECK(contains(res.err, "JSON nested deeper than the limit of 256"));
    }
    // Within the limit: fine.
    auto ok = dir.write("ok.json", ir_with(deep_object(200)));
    CHECK(cli({"validate", ok}).exit_code == 0);
  }
  SECTION("deep JSON in a node's kind and timeouts") {
    auto kind = dir.write("kind.json",
                          R"({"workflow_id":"k","version":"1","start_node":"a",
      "nodes":{"a":{"id":"a","kind":{"type":"noop","state_patch":)" +
                            deep_object() + R"(}}},
      "edges":[{"from":"a","to":"end"}],"timeouts":)" +
                            deep_object() + "}");
    auto res = cli({"validate", kind});
    CHECK(res.term_signal == 0);
    CHECK(res.exit_code == 2);
    CHECK(contains(res.err, "nested deeper"));
  }
  SECTION("a huge number is a clear error, exit 2") {
    auto wf = dir.write("huge.json",
                        R"({"workflow_id":"h","version":"1","start_node":"a",
      "nodes":{"a":{"id":"a","kind":{"type":"noop"},
                    "node_timeout_secs":1e999}},
      "edges":[{"from":"a","to":"end"}]})");
    auto res = cli({"validate", wf});
    CHECK(res.exit_code == 2);
    CHECK(contains(res.err, "number out of range at line 3"));
    CHECK(contains(res.err, "1e999"));
    CHECK_FALSE(contains(res.err, "json.exception"));
  }
  SECTION("deep input to run, from a file or inline") {
    auto wf = dir.write("wf.json", wait_ir);
    auto input = dir.write("in.json", deep_object());
    auto db = dir.path + "/j.db";
    auto res = cli({"run", wf, "--db", db, "--input", "@" + input});
    CHECK(res.term_signal == 0);
    CHECK(res.exit_code == 2);
    CHECK(contains(res.err, "--input file '" + input +
                              "' refused: JSON "
                              "nested deeper"));
    auto inline_res = cli({"run", wf, "--memory", "--input", deep_object(300)});
    CHECK(inline_res.exit_code == 2);
    CHECK(contains(inline_res.err, "--input refused"));
    // Nothing started.
    auto status = cli({"status", "--db", db});
    if (status.exit_code == 0)
      CHECK(json::parse(status.out).empty());
  }
}

TEST_CASE("a deep signal payload is refused before anything is committed",
          "[deep_json][cli][wait]") {
  temp_dir dir;
  auto db = dir.path + "/j.db";
  auto wf = dir.write("wf.json", wait_ir);
  auto payload = dir.write("deep.json", deep_object());
  auto run = std::async(std::launch::async, [&] {
    return cli({"run", wf, "--db", db});
  });
  // workflow_started and the wait node's node_scheduled.
  auto id = wait_for_events(db, 2);
  auto before = json::parse(cli({"status", id, "--db", db}).out);
  auto deep =
    cli({"signal", id, "paid", "--payload", "@" + payload, "--db", db});
  CHECK(deep.term_signal == 0);
  CHECK(deep.exit_code == 2);
  CHECK(
    contains(deep.err, "refused: JSON nested deeper than the limit of 256"));
  CHECK(deep.out.empty()); // not "queued"
  // An older client could still put such a row in the inbox: the owning run
  // refuses it there, before its commit, and lives on.
  auto poked = python(R"PY(import sqlite3, sys
db = sqlite3.connect(sys.argv[1])
db.execute("INSERT INTO inbox (execution_id, kind, target, payload, user_id,"
           " created_at) VALUES (?, 'signal', 'paid', ?, '', 0)",
           (sys.argv[2], '{"a":' * 100000 + '1' + '}' * 100000))
db.commit()
)PY",
                      {db, id});
  REQUIRE(poked.exit_code == 0);
  std::this_thread::sleep_for(std::chrono::milliseconds{1000});
  auto after = json::parse(cli({"status", id, "--db", db}).out);
  CHECK(after["status"] == "running");
  CHECK(after["last_sequence"] == before["last_sequence"]);
  // The run is alive and the store fine: a good signal completes it.
  auto ok =
    cli({"signal", id, "paid", "--payload", R"({"paid":1})", "--db", db});
  REQUIRE(ok.exit_code == 0);
  auto res = run.get();
  INFO(res.err);
  CHECK(res.term_signal == 0);
  REQUIRE(res.exit_code == 0);
  CHECK(json::parse(res.out) == json{{"paid", 1}});
  CHECK(cli({"resume", "--db", db}).exit_code == 0);
}

TEST_CASE("a handler printing deep JSON fails its attempt, not the process",
          "[deep_json][cli]") {
  temp_dir dir;
  auto wf = dir.write("wf.json", R"IR({"workflow_id":"p","version":"1",
    "start_node":"a","nodes":{
      "a":{"id":"a","kind":{"type":"command","argv":["python3","-c",
           "print('{\"a\":' * 100000 + '1' + '}' * 100000)"]}}},
    "edges":[{"from":"a","to":"end"}]})IR");
  auto res = cli({"run", wf, "--db", dir.path + "/j.db"});
  CHECK(res.term_signal == 0);
  CHECK(res.exit_code == 1);
  CHECK(contains(res.err, "node 'a' failed"));
  CHECK(contains(res.err, "command stdout refused: JSON nested deeper"));
  // Refused for good: one attempt, not one crash per retry.
  auto events =
    cli({"events",
         json::parse(
           cli({"status", "--db", dir.path + "/j.db"}).out)[0]["execution_id"]
           .get<std::string>(),
         "--db", dir.path + "/j.db"});
  REQUIRE(events.exit_code == 0);
  size_t started = 0;
  for (size_t pos = 0;
       (pos = events.out.find("\"node_started\"", pos)) != std::string::npos;
       ++pos)
    ++started;
  CHECK(started == 1);
}

TEST_CASE("a deep event already in the store fails its execution at resume",
          "[deep_json][cli][recovery]") {
  temp_dir dir;
  auto db = dir.path + "/j.db";
  auto wf = dir.write("wf.json", wait_ir);
  auto kill = std::make_shared<std::atomic<bool>>(false);
  auto run = std::async(std::launch::async, [&] {
    return cli({"run", wf, "--db", db}, kill);
  });
  auto id = wait_for_events(db, 2);
  kill->store(true); // SIGKILL: the execution stays running in the store
  run.get();
  // What an older version committed for `signal --payload @deep.json`.
  auto poked = python(R"PY(import sqlite3, sys
db = sqlite3.connect(sys.argv[1])
ex = sys.argv[2]
(seq,) = db.execute("SELECT last_sequence FROM executions WHERE id = ?",
                    (ex,)).fetchone()
kind = ('{"type":"external_event_received","correlation_key":"paid",'
        '"payload":' + '{"a":' * 100000 + '1' + '}' * 100000 + '}')
db.execute("INSERT INTO events (execution_id, sequence, id, type, kind,"
           " created_at) VALUES (?, ?, 'poison', 'external_event_received',"
           " ?, 0)", (ex, seq + 1, kind))
db.execute("UPDATE executions SET last_sequence = ? WHERE id = ?",
           (seq + 1, ex))
db.commit()
)PY",
                      {db, id});
  REQUIRE(poked.exit_code == 0);
  // Reading the log is an error, not a crash.
  auto events = cli({"events", id, "--db", db});
  CHECK(events.term_signal == 0);
  CHECK(events.exit_code != 0);
  CHECK(contains(events.err, "in the store is unreadable"));
  auto resume = cli({"resume", "--db", db});
  INFO(resume.err);
  CHECK(resume.term_signal == 0);
  CHECK(resume.exit_code == 1);
  CHECK(json::parse(resume.out)["executions"][id] == "failed");
  auto status = json::parse(cli({"status", id, "--db", db}).out);
  CHECK(status["status"] == "failed");
  CHECK(contains(status["error"].get<std::string>(),
                 "event 3 in the store is unreadable"));
  CHECK(contains(status["error"].get<std::string>(), "nested deeper"));
  // The store works on: a later resume, and a new run.
  CHECK(cli({"resume", "--db", db}).term_signal == 0);
  auto again = std::async(std::launch::async, [&] {
    return cli({"run", wf, "--db", db});
  });
  std::string second;
  for (int i = 0; i < 2000 && second.empty(); ++i) {
    auto all = json::parse(cli({"status", "--db", db}).out, nullptr, false);
    if (all.is_array())
      for (auto& x : all)
        if (x["execution_id"] != id && x["last_sequence"] >= 2)
          second = x["execution_id"];
    std::this_thread::sleep_for(std::chrono::milliseconds{10});
  }
  REQUIRE_FALSE(second.empty());
  REQUIRE(cli({"signal", second, "paid", "--db", db}).exit_code == 0);
  CHECK(again.get().exit_code == 0);
}

// -- the embedding API --------------------------------------------------------

TEST_CASE("deep JSON through the embedding API is refused or fails an attempt",
          "[deep_json][runtime]") {
  runtime rt;
  rt.register_handler("tool", [](const node_context&) {
    return node_outcome::success(json::parse(deep_object()), json::object());
  });
  rt.register_workflow(R"({"workflow_id":"t","version":"1","start_node":"a",
    "nodes":{"a":{"id":"a","kind":{"type":"tool"},"retry_policy":"no_retry"}},
    "edges":[{"from":"a","to":"end"}]})");
  try {
    rt.start("t", json::parse(deep_object()));
    FAIL("no error");
  } catch (const jamjet::error& e) {
    CHECK(e.code() == error_code::bad_input);
    CHECK(contains(e.what(), "nested deeper"));
  }
  auto id = rt.start("t", json::object());
  auto res = rt.wait(id);
  CHECK(res.status == "failed");
  CHECK(contains(res.error, "handler output or state patch refused"));
}

// -- the network --------------------------------------------------------------

namespace {

runtime_config scheduler_only() {
  runtime_config cfg;
  cfg.worker_slots = 0;
  cfg.listen = "127.0.0.1:0";
  return cfg;
}

const char* tool_ir = R"({"workflow_id":"tool","version":"1",
  "start_node":"a","nodes":{"a":{"id":"a","kind":{"type":"tool"}}},
  "edges":[{"from":"a","to":"end"}]})";

} // namespace

TEST_CASE("serve refuses deep JSON in every request and keeps serving",
          "[deep_json][remote]") {
  runtime sched{scheduler_only()};
  REQUIRE(sched.port() != 0);
  remote_client client{"127.0.0.1", sched.port()};
  REQUIRE(client.register_workflow(wait_ir) == "pay@1");
  raw_peer raw{sched.port()};
  raw.hello();
  auto refused = [](const wire_reply& reply, const std::string& needle) {
    CHECK_FALSE(reply.ok);
    CHECK(static_cast<error_code>(reply.code) == error_code::bad_input);
    CHECK(contains(reply.body, needle));
  };
  refused(raw.call(client_start{"pay", caf::none, deep_object()}),
          "field 'input' is refused: JSON nested deeper");
  refused(raw.call(client_register{ir_with(deep_object())}),
          "IR document: JSON nested deeper");
  refused(raw.call(client_signal{"no-such-execution", "paid", deep_object()}),
          "field 'payload' is refused");
  client_decide decide;
  decide.execution_id = "no-such-execution";
  decide.node_id = "n";
  decide.state_patch = deep_object();
  refused(raw.call(decide), "field 'state_patch' is refused");
  // The client library refuses before sending.
  CHECK_THROWS_AS(client.start("pay", json::parse(deep_object())),
                  jamjet::error);
  // Everyone is still served.
  auto id = client.start("pay", json::object());
  client.signal(id, "paid", json{{"x", 1}});
  CHECK(client.await(id)["status"] == "completed");
  CHECK(raw.call(client_status{id}).ok);
}

TEST_CASE("a worker's deep node_result fails the attempt, not the node",
          "[deep_json][remote]") {
  runtime sched{scheduler_only()};
  remote_client client{"127.0.0.1", sched.port()};
  client.register_workflow(tool_ir);
  raw_peer worker{sched.port()};
  worker.hello({}, "worker");
  worker.send(wire_join{"raw-worker", {"*"}, 1});
  auto id = client.start("tool", json::object());
  std::optional<work_item> item;
  for (int i = 0; i < 10 && !item; ++i) {
    auto msg = worker.receive();
    REQUIRE(msg);
    if (auto x = caf::get_if<work_item>(&*msg))
      item = *x;
  }
  REQUIRE(item);
  auto res = result_for(*item, "raw-worker");
  res.ok = true;
  res.output = deep_object();
  res.state_patch = "{}";
  worker.send(res);
  auto out = client.await(id);
  CHECK(out["status"] == "failed");
  CHECK(contains(out["error"].get<std::string>(), "nested deeper"));
  CHECK(client.status(id)["status"] == "failed");
}

TEST_CASE("a deep progress snapshot already in the store fails its execution",
          "[deep_json][cli][recovery]") {
  temp_dir dir;
  auto db = dir.path + "/j.db";
  auto wf = dir.write("wf.json", wait_ir);
  auto kill = std::make_shared<std::atomic<bool>>(false);
  auto run = std::async(std::launch::async, [&] {
    return cli({"run", wf, "--db", db}, kill);
  });
  auto id = wait_for_events(db, 2);
  kill->store(true);
  run.get();
  auto poked = python(R"PY(import sqlite3, sys
db = sqlite3.connect(sys.argv[1])
snap = '{"state":' + '{"a":' * 100000 + '1' + '}' * 100000 + '}'
db.execute("UPDATE executions SET snapshot = ?, snapshot_seq = last_sequence"
           " WHERE id = ?", (snap, sys.argv[2]))
db.commit()
)PY",
                      {db, id});
  REQUIRE(poked.exit_code == 0);
  auto resume = cli({"resume", "--db", db});
  INFO(resume.err);
  CHECK(resume.term_signal == 0);
  CHECK(resume.exit_code == 1);
  auto status = json::parse(cli({"status", id, "--db", db}).out);
  CHECK(status["status"] == "failed");
  CHECK(contains(status["error"].get<std::string>(),
                 "progress snapshot in the store is unreadable"));
}
