// The `jamjet` command line as users run it: exit codes, output, errors.

#include <catch2/catch.hpp>

#include <cstdio>
#include <fstream>
#include <sstream>
#include <sys/stat.h>
#include <thread>
#include <unistd.h>

#include <nlohmann/json.hpp>

#include "cli_paths.hpp"
#include "jamjet/support/subprocess.hpp"
#include "testing/contains.hpp"
#include "testing/ir_builder.hpp"
#include "testing/temp_dir.hpp"

using namespace jamjet;
using jamjet::testing::bad;
using jamjet::testing::contains;
using jamjet::testing::example;
using jamjet::testing::fixture;
using jamjet::testing::ir_builder;
using json = nlohmann::json;
using jamjet::testing::temp_dir;

namespace {

subprocess_result jamjet_cli(std::vector<std::string> args,
                             const std::string& stdin_data = {}) {
  subprocess_options opts;
  opts.argv.push_back(JAMJET_CLI_PATH);
  for (auto& a : args)
    opts.argv.push_back(std::move(a));
  opts.stdin_data = stdin_data;
  opts.timeout = std::chrono::seconds{120};
  return run_subprocess(opts);
}

} // namespace

TEST_CASE("help works everywhere and misuse exits 2", "[cli]") {
  auto help = jamjet_cli({"--help"});
  CHECK(help.exit_code == 0);
  CHECK(contains(help.out, "run"));
  CHECK(contains(help.out, "validate"));
  auto run_help = jamjet_cli({"run", "--help"});
  CHECK(run_help.exit_code == 0);
  CHECK(contains(run_help.out, "--input"));
  CHECK(jamjet_cli({"validate", "--help"}).exit_code == 0);
  CHECK(jamjet_cli({}).exit_code == 2);
  CHECK(jamjet_cli({"frobnicate"}).exit_code == 2);
  CHECK(jamjet_cli({"run"}).exit_code == 2);
  auto bogus = jamjet_cli({"run", example("pipeline.json"), "--bogus"});
  CHECK(bogus.exit_code == 2);
  CHECK(contains(bogus.err, "--bogus"));
  CHECK(jamjet_cli({"--log-level", "loud", "run", example("pipeline.json")})
          .exit_code == 2);
}

TEST_CASE("validate names each problem of a bad workflow", "[cli]") {
  struct expectation {
    const char* file;
    const char* needle;
  };
  std::vector<expectation> cases{
    {"malformed.json", "line"},
    {"cycle.json", "cycle"},
    {"unknown_edge.json", "unknown"},
    {"no_start.json", "start_node"},
    {"unreachable.json", "unreachable"},
    {"unknown_policy.json", "retry policy"},
    {"wrong_type.json", "kind"},
  };
  for (auto& c : cases) {
    INFO(c.file);
    auto res = jamjet_cli({"validate", bad(c.file)});
    CHECK(res.exit_code == 2);
    CHECK(contains(res.err, c.needle));
    CHECK(res.term_signal == 0);
  }
  auto missing = jamjet_cli({"validate", "/nonexistent/wf.json"});
  CHECK(missing.exit_code == 2);
  CHECK(contains(missing.err, "cannot read '/nonexistent/wf.json'"));
}

TEST_CASE("validate names node kinds without a handler", "[cli]") {
  auto res = jamjet_cli({"validate", fixture("fleet_researcher_ir.json")});
  CHECK(res.exit_code == 2);
  CHECK(contains(res.err, "node '__plan__' has kind 'model'"));
  // Conditions run in the scheduler and need no handler.
  CHECK_FALSE(contains(res.err, "has kind 'condition'"));
  CHECK(contains(res.err, "has kind 'limit_exceeded'"));
  auto ok = jamjet_cli(
    {"validate", fixture("hello_agent_ir.json"), "--handler", "model=cat"});
  CHECK(ok.exit_code == 0);
  CHECK(jamjet_cli({"validate", example("pipeline.json")}).exit_code == 0);
}

TEST_CASE("run prints the final state of a command pipeline", "[cli]") {
  auto res = jamjet_cli({"run", example("pipeline.json"), "--memory"});
  REQUIRE(res.exit_code == 0);
  auto state = json::parse(res.out);
  CHECK(state["words"] == 9);
  CHECK(state["lines"] == 2);
  CHECK(state["report"] == "9 words on 2 lines");
}

TEST_CASE("run takes its input inline or from a file", "[cli]") {
  temp_dir dir;
  auto wf = dir.write("wf.json", R"({"workflow_id":"n","version":"1",
    "start_node":"a","nodes":{"a":{"id":"a","kind":{"type":"noop",
    "state_patch":{"b":2}}}},"edges":[{"from":"a","to":"end"}]})");
  auto inline_run =
    jamjet_cli({"run", wf, "--memory", "--input", R"({"a":1})"});
  REQUIRE(inline_run.exit_code == 0);
  CHECK(json::parse(inline_run.out) == json{{"a", 1}, {"b", 2}});
  auto input = dir.write("in.json", R"({"a":{"deep":true}})");
  auto file_run = jamjet_cli({"run", wf, "--memory", "--input", "@" + input});
  REQUIRE(file_run.exit_code == 0);
  CHECK(json::parse(file_run.out)["a"]["deep"] == true);
  auto not_json = jamjet_cli({"run", wf, "--input", "{oops"});
  CHECK(not_json.exit_code == 2);
  CHECK(contains(not_json.err, "--input"));
  auto not_object = jamjet_cli({"run", wf, "--input", "[1,2]"});
  CHECK(not_object.exit_code == 2);
  CHECK(contains(not_object.err, "object"));
  auto no_file = jamjet_cli({"run", wf, "--input", "@/nonexistent.json"});
  CHECK(no_file.exit_code == 2);
}

TEST_CASE("run exits 1 when the workflow fails, naming the node", "[cli]") {
  temp_dir dir;
  auto wf = dir.write("wf.json", R"({"workflow_id":"f","version":"1",
    "start_node":"a","nodes":{
      "a":{"id":"a","kind":{"type":"command",
           "argv":["sh","-c","echo broken pipe >&2; exit 3"]},
           "retry_policy":"no_retry"},
      "b":{"id":"b","kind":{"type":"noop"}}},
    "edges":[{"from":"a","to":"b"},{"from":"b","to":"end"}]})");
  auto res = jamjet_cli({"run", wf, "--memory"});
  CHECK(res.exit_code == 1);
  CHECK(contains(res.err, "node 'a' failed"));
  CHECK(contains(res.err, "status 3"));
  CHECK(contains(res.err, "broken pipe"));
  CHECK(res.out.empty());
}

TEST_CASE("run refuses a workflow with unhandled kinds before it starts",
          "[cli]") {
  auto res = jamjet_cli({"run", fixture("hello_agent_ir.json"), "--memory"});
  CHECK(res.exit_code == 2);
  CHECK(contains(res.err, "node 'think' has kind 'model'"));
  CHECK(res.out.empty());
}

TEST_CASE("run with --handler runs a node kind with a user program", "[cli]") {
  temp_dir dir;
  // The program sees {"node", "state", "attempt"} and answers a patch.
  auto prog = dir.write("model.sh", R"(#!/bin/sh
input=$(cat)
case "$input" in
  *'"attempt":1'*'"query":"why?"'* | *'"query":"why?"'*'"attempt":1'*)
    echo '{"answer": "because"}' ;;
  *) echo "unexpected input: $input" >&2; exit 1 ;;
esac
)",
                        true);
  auto res =
    jamjet_cli({"run", fixture("hello_agent_ir.json"), "--memory", "--input",
                R"({"query":"why?"})", "--handler", "model=" + prog});
  INFO(res.err);
  REQUIRE(res.exit_code == 0);
  CHECK(json::parse(res.out) == json{{"query", "why?"}, {"answer", "because"}});
  auto bad_spec =
    jamjet_cli({"run", fixture("hello_agent_ir.json"), "--handler", "model"});
  CHECK(bad_spec.exit_code == 2);
  CHECK(contains(bad_spec.err, "KIND=PROGRAM"));
}

TEST_CASE("runs are durable: status, events and the store survive",
          "[cli][durable]") {
  temp_dir dir;
  auto db = dir.path + "/j.db";
  auto res = jamjet_cli({"run", example("pipeline.json"), "--db", db});
  REQUIRE(res.exit_code == 0);
  auto all = jamjet_cli({"status", "--db", db});
  REQUIRE(all.exit_code == 0);
  auto list = json::parse(all.out);
  REQUIRE(list.size() == 1);
  CHECK(list[0]["status"] == "completed");
  CHECK(list[0]["final_state"]["words"] == 9);
  std::string id = list[0]["execution_id"];
  auto one = jamjet_cli({"status", id, "--db", db});
  REQUIRE(one.exit_code == 0);
  CHECK(json::parse(one.out)["workflow_id"] == "word_stats");
  auto events = jamjet_cli({"events", id, "--db", db});
  REQUIRE(events.exit_code == 0);
  std::istringstream lines{events.out};
  uint64_t expected = 1;
  std::string last_type;
  for (std::string line; std::getline(lines, line); ++expected) {
    auto e = json::parse(line);
    CHECK(e["sequence"] == expected);
    CHECK(e["execution_id"] == id);
    last_type = e["kind"]["type"];
  }
  CHECK(expected > 10);
  CHECK(last_type == "workflow_completed");
  CHECK(jamjet_cli({"status", "nope", "--db", db}).exit_code == 2);
  CHECK(jamjet_cli({"events", "nope", "--db", db}).exit_code == 2);
  auto none = jamjet_cli({"status", "--db", dir.path + "/missing.db"});
  CHECK(none.exit_code != 0);
  CHECK_FALSE(none.err.empty());
}

TEST_CASE("a dead letter is listed, redriven and resumed to completion",
          "[cli][durable]") {
  temp_dir dir;
  auto db = dir.path + "/j.db";
  auto flag = dir.path + "/fixed";
  auto script = "test -f " + flag + R"( && echo '{"a":1}' || exit 4)";
  auto wf = dir.write(
    "wf.json",
    ir_builder{"f"}
      .node("a", {{"type", "command"}, {"argv", {"sh", "-c", script}}})
      .retry_policy("no_retry")
      .node("b", {{"type", "noop"}, {"state_patch", {{"b", 1}}}})
      .edge("a", "b")
      .edge("b", "end")
      .dump());
  CHECK(jamjet_cli({"run", wf, "--db", db}).exit_code == 1);
  auto dlq = jamjet_cli({"dlq", "list", "--db", db});
  REQUIRE(dlq.exit_code == 0);
  auto dead = json::parse(dlq.out);
  CHECK(dead["node_id"] == "a");
  CHECK(dead["status"] == "dead");
  CHECK(contains(dead["error"], "status 4"));
  std::string item = dead["id"];
  CHECK(jamjet_cli({"dlq", "redrive", "nope", "--db", db}).exit_code == 2);
  dir.write("fixed", "");
  auto redrive = jamjet_cli({"dlq", "redrive", item, "--db", db});
  REQUIRE(redrive.exit_code == 0);
  CHECK(json::parse(redrive.out)["attempt"] == 2);
  CHECK(jamjet_cli({"dlq", "list", "--db", db}).out.empty());
  // Redriving twice is refused: it is no longer a dead letter.
  CHECK(jamjet_cli({"dlq", "redrive", item, "--db", db}).exit_code == 2);
  auto resume = jamjet_cli({"resume", "--db", db});
  INFO(resume.err);
  REQUIRE(resume.exit_code == 0);
  auto summary = json::parse(resume.out);
  CHECK(summary["resumed"] == 1);
  auto status = json::parse(jamjet_cli({"status", "--db", db}).out);
  CHECK(status[0]["status"] == "completed");
  CHECK(status[0]["final_state"] == json{{"a", 1}, {"b", 1}});
  // The log records the failure, the redrive and the completion.
  auto events = jamjet_cli({"events", status[0]["execution_id"], "--db", db});
  CHECK(contains(events.out, "\"workflow_failed\""));
  CHECK(contains(events.out, "\"node_redriven\""));
  CHECK(contains(events.out, "\"workflow_completed\""));
}

TEST_CASE("a store in use, foreign or corrupt is refused with a clear error",
          "[cli][durable]") {
  temp_dir dir;
  auto db = dir.path + "/j.db";
  // The holder's node says when it runs, then waits to be released, so the
  // store is held for certain while the second process tries it.
  auto script = "touch '" + dir.path + "/started'; while [ ! -f '" + dir.path +
                "/release' ]; do sleep 0.02; done";
  auto wf = dir.write(
    "slow.json",
    json{
      {"workflow_id", "s"},
      {"version", "1"},
      {"start_node", "a"},
      {"nodes",
       {{"a",
         {{"id", "a"},
          {"kind", {{"type", "command"}, {"argv", {"sh", "-c", script}}}}}}}},
      {"edges", {{{"from", "a"}, {"to", "end"}}}}}
      .dump());
  std::thread holder{[&] { jamjet_cli({"run", wf, "--db", db}); }};
  for (int i = 0; i < 3000 && ::access((dir.path + "/started").c_str(), F_OK);
       ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds{20});
  auto second = jamjet_cli({"run", example("pipeline.json"), "--db", db});
  CHECK(second.exit_code == 1);
  CHECK(contains(second.err, "in use by process"));
  dir.write("release", "");
  holder.join();
  auto garbage = dir.write("garbage.db", std::string(4096, 'z'));
  auto bad = jamjet_cli({"run", example("pipeline.json"), "--db", garbage});
  CHECK(bad.exit_code == 1);
  CHECK(contains(bad.err, "not a jamjet database"));
  CHECK(jamjet_cli({"status", "--db", garbage}).exit_code == 1);
  CHECK(jamjet_cli({"run", example("pipeline.json"), "--db", db, "--memory"})
          .exit_code == 2);
  CHECK(jamjet_cli({"resume", "--memory"}).exit_code == 2);
}

TEST_CASE("the example workflows validate and run", "[cli]") {
  auto diamond = jamjet_cli({"run", example("diamond.json"), "--memory"});
  REQUIRE(diamond.exit_code == 0);
  CHECK(json::parse(diamond.out) ==
        json{{"started", true}, {"left", 1}, {"right", 2}, {"joined", true}});
  // The flaky command fails once (exit 75, class io_error) and is retried
  // after about 1 s.
  auto retry = jamjet_cli({"run", example("retry.json"), "--memory"});
  INFO(retry.err);
  REQUIRE(retry.exit_code == 0);
  CHECK(json::parse(retry.out) ==
        json{{"fetched_on_attempt", 2}, {"done", true}});
  for (auto name : {"pipeline.json", "diamond.json", "retry.json",
                    "approval.json", "order.json"})
    CHECK(jamjet_cli({"validate", example(name)}).exit_code == 0);
}
