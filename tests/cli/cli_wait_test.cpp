// The command line for waiting executions: signal, approve, reject and
// cancel a run that another process owns, or one left in the store; and
// JamJet's fixtures run with user programs for their node kinds.

#include <catch2/catch.hpp>

#include <future>
#include <thread>

#include <nlohmann/json.hpp>

#include "cli_paths.hpp"
#include "jamjet/support/subprocess.hpp"
#include "testing/contains.hpp"
#include "testing/temp_dir.hpp"

using namespace jamjet;
using jamjet::testing::contains;
using jamjet::testing::fixture;
using json = nlohmann::json;
using jamjet::testing::temp_dir;

namespace {

subprocess_result cli(std::vector<std::string> args,
                      std::shared_ptr<std::atomic<bool>> kill = nullptr) {
  subprocess_options opts;
  opts.argv.push_back(JAMJET_CLI_PATH);
  for (auto& a : args)
    opts.argv.push_back(std::move(a));
  opts.timeout = std::chrono::seconds{120};
  opts.cancelled = std::move(kill);
  return run_subprocess(opts);
}

/// The id of the only execution in `db`, once it has `n` events or more.
std::string wait_for_events(const std::string& db, uint64_t n) {
  for (int i = 0; i < 2000; ++i) {
    auto res = cli({"status", "--db", db});
    if (res.exit_code == 0) {
      auto all = json::parse(res.out, nullptr, false);
      if (all.is_array() && all.size() == 1 && all[0]["last_sequence"] >= n)
        return all[0]["execution_id"];
    }
    std::this_thread::sleep_for(std::chrono::milliseconds{10});
  }
  FAIL("no execution with " << n << " events in " << db);
  return {};
}

const char* gate_ir = R"({"workflow_id":"gate","version":"1",
  "start_node":"ask","nodes":{
    "ask":{"id":"ask","kind":{"type":"human_approval","description":"ok?",
           "fallback_node":"no"}},
    "pay":{"id":"pay","kind":{"type":"wait","condition":"external_event",
           "correlation_key":"paid"}},
    "no":{"id":"no","kind":{"type":"noop","state_patch":{"ok":false}}}},
  "edges":[{"from":"ask","to":"pay"},{"from":"ask","to":"no"},
           {"from":"pay","to":"end"},{"from":"no","to":"end"}]})";

} // namespace

TEST_CASE("approve and signal reach a run that owns the store", "[cli][wait]") {
  temp_dir dir;
  auto db = dir.path + "/j.db";
  auto wf = dir.write("gate.json", gate_ir);
  auto run = std::async(std::launch::async, [&] {
    return cli({"run", wf, "--db", db});
  });
  // workflow_started, node_scheduled:ask: the approval waits.
  auto id = wait_for_events(db, 2);
  SECTION("bad requests are refused with a clear error, exit 2") {
    auto wrong_node = cli({"approve", id, "pay", "--db", db});
    CHECK(wrong_node.exit_code == 2);
    CHECK(contains(wrong_node.err, "no human_approval node 'pay'"));
    auto wrong_key = cli({"signal", id, "nope", "--db", db});
    CHECK(wrong_key.exit_code == 2);
    CHECK(contains(wrong_key.err, "no wait node waiting for key 'nope'"));
    CHECK(contains(wrong_key.err, "'paid'"));
    auto no_exec = cli({"signal", "missing", "paid", "--db", db});
    CHECK(no_exec.exit_code == 2);
    CHECK(contains(no_exec.err, "no execution 'missing'"));
    auto bad_json = cli({"signal", id, "paid", "--payload", "{", "--db", db});
    CHECK(bad_json.exit_code == 2);
    CHECK(contains(bad_json.err, "--payload is not valid JSON"));
    CHECK(cli({"approve", id, "--db", db}).exit_code == 2);
    REQUIRE(cli({"cancel", id, "--db", db}).exit_code == 0);
    auto res = run.get();
    CHECK(res.exit_code == 1);
    CHECK(contains(res.err, "cancelled"));
  }
  SECTION("approve, then signal: the run completes with the payload") {
    auto ok = cli({"approve", id, "ask", "--comment", "fine", "--user", "ann",
                   "--patch", R"({"approved_by":"ann"})", "--db", db});
    REQUIRE(ok.exit_code == 0);
    auto queued = json::parse(ok.out);
    CHECK(queued == json{{"request", "approve"},
                         {"execution_id", id},
                         {"node_id", "ask"},
                         {"outcome", "queued"}});
    wait_for_events(db, 6);
    REQUIRE(
      cli({"signal", id, "paid", "--payload", R"({"amount":3})", "--db", db})
        .exit_code == 0);
    auto res = run.get();
    INFO(res.err);
    REQUIRE(res.exit_code == 0);
    CHECK(json::parse(res.out) == json{{"approved_by", "ann"}, {"amount", 3}});
    auto events = cli({"events", id, "--db", db}).out;
    CHECK(contains(events, R"("comment":"fine")"));
    CHECK(contains(events, R"("type":"node_skipped")"));
    // The execution has ended: more requests are refused.
    auto late = cli({"signal", id, "paid", "--db", db});
    CHECK(late.exit_code == 2);
    CHECK(contains(late.err, "already completed"));
  }
}

TEST_CASE("a rejection left in the store takes effect at the next resume",
          "[cli][wait]") {
  temp_dir dir;
  auto db = dir.path + "/j.db";
  auto wf = dir.write("gate.json", gate_ir);
  auto kill = std::make_shared<std::atomic<bool>>(false);
  auto run = std::async(std::launch::async, [&] {
    return cli({"run", wf, "--db", db}, kill);
  });
  auto id = wait_for_events(db, 2);
  kill->store(true); // SIGKILL: the run dies while the approval waits
  run.get();
  REQUIRE(cli({"reject", id, "ask", "--comment", "no", "--db", db}).exit_code ==
          0);
  auto resume = cli({"resume", "--db", db});
  INFO(resume.err);
  REQUIRE(resume.exit_code == 0);
  auto status = json::parse(cli({"status", id, "--db", db}).out);
  CHECK(status["status"] == "completed");
  CHECK(status["final_state"] == json{{"ok", false}});
}

TEST_CASE("fixtures run with programs for their model and limit kinds",
          "[cli][fixtures]") {
  temp_dir dir;
  // Stand-ins: the model answers under the node's id; the limit marks it.
  auto model = dir.write("model.sh", R"(#!/bin/sh
python3 -c 'import json,sys; d=json.load(sys.stdin); n=d["node"]["id"]; print(json.dumps({n: "ok", "attempt": d["attempt"]}))'
)",
                         true);
  auto limit = dir.write("limit.sh", R"(#!/bin/sh
cat >/dev/null; echo '{"limit_hit": true}'
)",
                         true);
  auto run = [&](bool exceeded) {
    return cli({"run", fixture("fleet_researcher_ir.json"), "--memory",
                "--input", json{{"__cost_exceeded__", exceeded}}.dump(),
                "--handler", "model=" + model, "--handler",
                "limit_exceeded=" + limit});
  };
  auto cheap = run(false);
  INFO(cheap.err);
  REQUIRE(cheap.exit_code == 0);
  auto state = json::parse(cheap.out);
  CHECK(state["__finalize__"] == "ok");
  CHECK_FALSE(state.contains("limit_hit"));
  auto dear = run(true);
  REQUIRE(dear.exit_code == 0);
  state = json::parse(dear.out);
  CHECK(state["limit_hit"] == true);
  CHECK(state["__plan__"] == "ok");
  CHECK_FALSE(state.contains("__step_0__"));
  // Without a program for a kind, run names it and starts nothing.
  auto missing = cli({"run", fixture("fleet_researcher_ir.json"), "--memory",
                      "--handler", "model=" + model});
  CHECK(missing.exit_code == 2);
  CHECK(contains(missing.err, "has kind 'limit_exceeded'"));
}

TEST_CASE("one decision per approval node: the first counts, the others are "
          "told it is decided",
          "[cli][wait]") {
  temp_dir dir;
  auto db = dir.path + "/j.db";
  auto wf = dir.write("gate.json", gate_ir);
  SECTION("in the inbox of a store nobody owns") {
    auto kill = std::make_shared<std::atomic<bool>>(false);
    auto run = std::async(std::launch::async, [&] {
      return cli({"run", wf, "--db", db}, kill);
    });
    auto id = wait_for_events(db, 2);
    kill->store(true);
    run.get();
    REQUIRE(cli({"reject", id, "ask", "--user", "ann", "--db", db}).exit_code ==
            0);
    auto late = cli({"approve", id, "ask", "--user", "bob", "--db", db});
    CHECK(late.exit_code == 2);
    CHECK(contains(late.err, "already decided (rejected by 'ann'"));
    // The rejection leads to the fallback, and the run ends.
    auto resume = cli({"resume", "--db", db});
    INFO(resume.err);
    CHECK(resume.exit_code == 0);
    auto events = cli({"events", id, "--db", db}).out;
    CHECK(contains(events, R"("user_id":"ann")"));
    CHECK_FALSE(contains(events, R"("user_id":"bob")"));
    // Now the execution has ended: refused again.
    CHECK(cli({"approve", id, "ask", "--db", db}).exit_code == 2);
  }
  SECTION("four at once to a run that owns the store") {
    auto run = std::async(std::launch::async, [&] {
      return cli({"run", wf, "--db", db});
    });
    auto id = wait_for_events(db, 2);
    std::vector<std::future<subprocess_result>> calls;
    for (int k = 0; k < 4; ++k)
      calls.push_back(std::async(std::launch::async, [&, k] {
        return cli({k % 2 ? "reject" : "approve", id, "ask", "--user",
                    "u" + std::to_string(k), "--db", db});
      }));
    int acknowledged = 0;
    for (auto& c : calls) {
      auto res = c.get();
      if (res.exit_code == 0) {
        ++acknowledged;
      } else {
        CHECK(res.exit_code == 2);
        CHECK(contains(res.err, "already"));
      }
    }
    CHECK(acknowledged == 1);
    // The approval leads to the wait node, the rejection to `no`: either way
    // the run ends after a signal or on its own; cancel it to finish.
    wait_for_events(db, 4);
    auto events = cli({"events", id, "--db", db}).out;
    size_t decisions = 0;
    for (auto at = events.find("approval_received"); at != std::string::npos;
         at = events.find("approval_received", at + 1))
      ++decisions;
    CHECK(decisions == 1);
    cli({"cancel", id, "--db", db});
    run.get();
  }
}
