// Crash tests with real processes: `jamjet run` on an SQLite file is killed
// with SIGKILL at random instants (and inside group commits), then
// `jamjet resume` runs the execution to its end. Afterwards every promise of
// the design must hold on the stored log.

#include <catch2/catch.hpp>

#include <atomic>
#include <csignal>
#include <fstream>
#include <random>
#include <sstream>
#include <thread>
#include <unistd.h>

#include <nlohmann/json.hpp>

#include "invariants.hpp"
#include "jamjet/store/sqlite_store.hpp"
#include "jamjet/support/subprocess.hpp"
#include "testing/temp_dir.hpp"

using namespace jamjet;
using jamjet::testing::temp_dir;
using json = nlohmann::json;

namespace {

/// start -> m0..m4 -> join -> t0 -> t1 -> t2: command nodes that take a
/// little while, append to a run log, and patch {<node>: <attempt>}.
struct crash_workflow {
  invariants::dag g;
  std::string json_text;

  explicit crash_workflow(const std::string& runs_file) {
    auto cmd = [&](const std::string& id) {
      std::string script = "cat >/dev/null; sleep 0.03; echo \"$JAMJET_NODE_ID "
                           "$JAMJET_ATTEMPT\" >> '" +
                           runs_file +
                           "'; printf '{\"%s\":%s}' \"$JAMJET_NODE_ID\" "
                           "\"$JAMJET_ATTEMPT\"";
      return json{
        {"id", id},
        {"kind", {{"type", "command"}, {"argv", {"sh", "-c", script}}}},
        {"retry_policy", "attempts_5"},
        {"node_timeout_secs", 30}};
    };
    json nodes = json::object();
    json edges = json::array();
    auto add = [&](const std::string& id) {
      nodes[id] = cmd(id);
      return g.add_node(id, "command", std::string{"attempts_5"});
    };
    auto edge = [&](size_t from, size_t to) {
      g.add_edge(from, to);
      edges.push_back(
        {{"from", g.ids[from]}, {"to", g.ids[to]}, {"condition", nullptr}});
    };
    auto start = add("start");
    auto join = add("join");
    for (int i = 0; i < 5; ++i) {
      auto m = add("m" + std::to_string(i));
      edge(start, m);
      edge(m, join);
    }
    auto prev = join;
    for (int i = 0; i < 3; ++i) {
      auto t = add("t" + std::to_string(i));
      edge(prev, t);
      prev = t;
    }
    edges.push_back(
      {{"from", g.ids[prev]}, {"to", "end"}, {"condition", nullptr}});
    json_text = json{{"workflow_id", "crashy"},
                     {"version", "1"},
                     {"start_node", "start"},
                     {"nodes", nodes},
                     {"edges", edges},
                     {"retry_policies",
                      {{"attempts_5",
                        {{"max_attempts", 5},
                         {"backoff", "exponential"},
                         {"initial_delay", 1},
                         {"max_delay", 8},
                         {"jitter", false},
                         {"retryable_on", json::array()}}}}},
                     {"timeouts", json::object()}}
                  .dump();
  }
};

subprocess_result
jamjet_cli(std::vector<std::string> args,
           std::chrono::milliseconds kill_after = std::chrono::milliseconds{0},
           std::vector<std::pair<std::string, std::string>> env = {}) {
  subprocess_options opts;
  opts.argv.push_back(JAMJET_CLI_PATH);
  for (auto& a : args)
    opts.argv.push_back(std::move(a));
  opts.env = std::move(env);
  opts.timeout = std::chrono::seconds{180};
  std::thread killer;
  auto cancel = std::make_shared<std::atomic<bool>>(false);
  if (kill_after.count() > 0) {
    opts.cancelled = cancel;
    killer = std::thread{[cancel, kill_after] {
      std::this_thread::sleep_for(kill_after);
      cancel->store(true);
    }};
  }
  auto res = run_subprocess(opts);
  if (killer.joinable())
    killer.join();
  return res;
}

/// Resumes until nothing runs, then checks every promise on the store.
void resume_and_check(const crash_workflow& wf, const std::string& db,
                      const std::string& runs_file) {
  auto resume = jamjet_cli({"resume", "--db", db, "--lease", "0.5"});
  INFO("resume stderr: " << resume.err);
  REQUIRE(resume.exit_code == 0);
  sqlite_options ro;
  ro.read_only = true;
  auto st = sqlite_store::open(db, ro);
  auto execs = st->executions();
  if (execs.empty()) {
    // Killed before WorkflowStarted committed: nothing was promised.
    SUCCEED("killed before the execution was committed");
    return;
  }
  REQUIRE(execs.size() == 1);
  auto& rec = execs[0];
  CHECK(rec.status == execution_status_code::completed);
  auto log = st->read_events(rec.id, 1);
  invariants::expectation x;
  x.execution_id = rec.id;
  x.workflow_id = "crashy";
  x.version = "1";
  auto report = invariants::check_log(wf.g, log, x);
  INFO(invariants::join_lines(report.violations));
  CHECK(report.violations.empty());
  // Every node completed exactly once, with its own patch in the state.
  REQUIRE(report.final_state);
  for (auto& id : wf.g.ids)
    CHECK(report.final_state->contains(id));
  CHECK(json::parse(rec.result) == *report.final_state);
  // Handlers ran at least once for every node (more after a crash is fine).
  std::ifstream runs{runs_file};
  std::set<std::string> ran;
  for (std::string node, attempt; runs >> node >> attempt;)
    ran.insert(node);
  for (auto& id : wf.g.ids)
    CHECK(ran.count(id) == 1);
  CHECK(st->open_items().empty());
}

} // namespace

TEST_CASE("kill -9 at random instants, then resume", "[crash]") {
  std::mt19937 rng{20261126};
  std::uniform_int_distribution<int> delay{40, 900};
  for (int round = 0; round < 12; ++round) {
    temp_dir dir;
    auto runs = dir.path + "/runs.txt";
    auto db = dir.path + "/crash.db";
    crash_workflow wf{runs};
    std::ofstream{dir.path + "/wf.json"} << wf.json_text;
    auto after = std::chrono::milliseconds{delay(rng)};
    INFO("round " << round << ", killed after " << after.count() << " ms");
    auto killed = jamjet_cli(
      {"run", dir.path + "/wf.json", "--db", db, "--lease", "0.5"}, after);
    if (!killed.cancelled) {
      // It finished before the kill: still a valid data point.
      CHECK(killed.exit_code == 0);
    }
    resume_and_check(wf, db, runs);
  }
}

TEST_CASE("kill -9 inside group commits, then resume", "[crash]") {
  // The store kills its own process after writing a transaction's rows and
  // before COMMIT: the whole batch must vanish, and nothing before it.
  int kills = 0;
  for (int k : {1, 2, 3, 5, 8, 12, 17, 23}) {
    temp_dir dir;
    auto runs = dir.path + "/runs.txt";
    auto db = dir.path + "/crash.db";
    crash_workflow wf{runs};
    std::ofstream{dir.path + "/wf.json"} << wf.json_text;
    INFO("killed inside transaction " << k);
    auto killed =
      jamjet_cli({"run", dir.path + "/wf.json", "--db", db, "--lease", "0.5"},
                 std::chrono::milliseconds{0},
                 {{"JAMJET_TEST_KILL_IN_COMMIT", std::to_string(k)}});
    if (killed.term_signal == SIGKILL)
      ++kills;
    else
      CHECK(killed.exit_code == 0); // fewer transactions than k
    resume_and_check(wf, db, runs);
  }
  // The run commits in a few dozen transactions; most k must hit one.
  CHECK(kills >= 6);
}

TEST_CASE("a resume killed in turn still ends correctly", "[crash]") {
  std::mt19937 rng{7};
  std::uniform_int_distribution<int> delay{100, 700};
  for (int round = 0; round < 3; ++round) {
    temp_dir dir;
    auto runs = dir.path + "/runs.txt";
    auto db = dir.path + "/crash.db";
    crash_workflow wf{runs};
    std::ofstream{dir.path + "/wf.json"} << wf.json_text;
    jamjet_cli({"run", dir.path + "/wf.json", "--db", db, "--lease", "0.5"},
               std::chrono::milliseconds{delay(rng)});
    jamjet_cli({"resume", "--db", db, "--lease", "0.5"},
               std::chrono::milliseconds{delay(rng)});
    resume_and_check(wf, db, runs);
  }
}
