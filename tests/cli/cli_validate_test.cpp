// `validate` and `run` check a workflow before anything runs: misspelled
// fields are named (and refused under --strict), built-in kinds that could
// never run and programs that cannot start are errors, every problem is
// listed at once, and "is valid" comes only with exit 0.

#include <catch2/catch.hpp>

#include <nlohmann/json.hpp>

#include "cli_paths.hpp"
#include "jamjet/support/subprocess.hpp"
#include "testing/contains.hpp"
#include "testing/ir_builder.hpp"
#include "testing/temp_dir.hpp"

using namespace jamjet;
using jamjet::testing::contains;
using jamjet::testing::fixture;
using jamjet::testing::ir_builder;
using jamjet::testing::temp_dir;
using json = nlohmann::json;

namespace {

subprocess_result jamjet_cli(std::vector<std::string> args) {
  subprocess_options opts;
  opts.argv.push_back(JAMJET_CLI_PATH);
  for (auto& a : args)
    opts.argv.push_back(std::move(a));
  opts.timeout = std::chrono::seconds{120};
  return run_subprocess(opts);
}

/// The issue's workflow: a policy with a misspelled field, a node with a
/// misspelled retry_policy; both silently ignored before.
std::string typo_workflow() {
  return ir_builder{"typos"}
    .node("a", json{{"type", "noop"}, {"state_patch", {{"a", 1}}}})
    .node("b", json{{"type", "noop"}, {"state_patch", {{"b", 2}}}})
    .node_field("retry_polcy", "flaky")
    .edge("a", "b")
    .edge("b", "end")
    .policy("flaky", json{{"attempts", 4}})
    .dump();
}

} // namespace

TEST_CASE("misspelled fields are warnings naming the intended field; "
          "--strict refuses them",
          "[cli][validate]") {
  temp_dir dir;
  auto wf = dir.write("typos.json", typo_workflow());
  auto lax = jamjet_cli({"validate", wf});
  CHECK(lax.exit_code == 0);
  CHECK(contains(lax.err, "warning: unknown field 'retry_polcy' on node 'b'; "
                          "did you mean 'retry_policy'?"));
  CHECK(contains(lax.err, "warning: unknown field 'attempts' in retry policy "
                          "'flaky'; did you mean 'max_attempts'?"));
  CHECK(contains(lax.out, "is valid"));
  CHECK(contains(lax.out, "(2 warnings)"));

  auto strict = jamjet_cli({"validate", wf, "--strict"});
  CHECK(strict.exit_code == 2);
  CHECK(strict.out.empty()); // never "is valid" with a non-zero exit
  CHECK(contains(strict.err, "error: workflow 'typos' is invalid:"));
  CHECK(contains(strict.err, "  - unknown field 'retry_polcy' on node 'b'"));
  CHECK(contains(strict.err, "  - unknown field 'attempts'"));

  // run warns the same way, and runs; run --strict refuses before starting.
  auto run = jamjet_cli({"run", wf, "--memory"});
  CHECK(run.exit_code == 0);
  CHECK(contains(run.err, "unknown field 'retry_polcy'"));
  auto strict_run = jamjet_cli({"run", wf, "--memory", "--strict"});
  CHECK(strict_run.exit_code == 2);
  CHECK(strict_run.out.empty());
  CHECK(contains(strict_run.err, "unknown field 'retry_polcy'"));

  // JamJet's fixtures pass --strict: the fields of kinds other handlers run
  // are theirs.
  auto jamjet_file = jamjet_cli({"validate", fixture("hello_agent_ir.json"),
                                 "--handler", "model=cat", "--strict"});
  CHECK(jamjet_file.exit_code == 0);
  CHECK_FALSE(contains(jamjet_file.err, "warning"));
}

TEST_CASE("validate finds what would fail at run time, all at once",
          "[cli][validate]") {
  temp_dir dir;
  auto wf = dir.write(
    "bad.json", ir_builder{"bad"}
                  .node("a", json{{"type", "command"}, {"argv", "echo hi"}})
                  .node("b", json{{"type", "command"}})
                  .node("c", json{{"type", "comand"}, {"argv", {"true"}}})
                  .node("d", json{{"type", "model"}})
                  .edge("a", "b")
                  .edge("b", "c")
                  .edge("c", "d")
                  .edge("d", "nowhere")
                  .dump());
  auto res = jamjet_cli(
    {"validate", wf, "--handler", "model=" + dir.path + "/no-such-model.py"});
  CHECK(res.exit_code == 2);
  CHECK(res.out.empty());
  INFO(res.err);
  CHECK(contains(res.err, "node 'a' (command): kind.argv must be a non-empty "
                          "array of strings"));
  CHECK(contains(res.err, "not \"echo hi\""));
  CHECK(contains(res.err, "node 'b' (command): kind.argv"));
  CHECK(contains(res.err, "node 'c' has kind 'comand'"));
  CHECK(contains(res.err, "did you mean 'command'?"));
  CHECK(contains(res.err, "--handler model=" + dir.path +
                            "/no-such-model.py: '" + dir.path +
                            "/no-such-model.py' does not exist"));
  CHECK(contains(res.err, "leads to unknown node 'nowhere'"));
  // run refuses the same workflow before it starts.
  auto run = jamjet_cli({"run", wf, "--memory"});
  CHECK(run.exit_code == 2);
  CHECK(contains(run.err, "node 'a' (command): kind.argv"));
}

TEST_CASE("a missing handler is an error without \"is valid\"",
          "[cli][validate]") {
  auto res = jamjet_cli({"validate", fixture("hello_agent_ir.json")});
  CHECK(res.exit_code == 2);
  CHECK(res.out.empty());
  CHECK(contains(res.err, "node 'think' has kind 'model'"));
}

TEST_CASE("every structural problem of a file is listed at once",
          "[cli][validate]") {
  temp_dir dir;
  auto wf = dir.write("shape.json",
                      R"({"workflow_id":"s","nodes":[],"edges":{},
                          "retry_policies":{"p":{"backoff":"slow"}}})");
  auto res = jamjet_cli({"validate", wf});
  CHECK(res.exit_code == 2);
  CHECK(contains(res.err, "version: missing"));
  CHECK(contains(res.err, "nodes: expected an object, found an array"));
  CHECK(contains(res.err, "edges: expected an array, found an object"));
  CHECK(contains(res.err, "retry_policies.p.backoff"));
}

TEST_CASE("a command program not found here is a warning (workers may "
          "have it)",
          "[cli][validate]") {
  temp_dir dir;
  auto wf = dir.write(
    "prog.json",
    ir_builder{"p"}
      .node("a", json{{"type", "command"}, {"argv", {"no-such-program-xyz"}}})
      .edge("a", "end")
      .dump());
  auto lax = jamjet_cli({"validate", wf});
  CHECK(lax.exit_code == 0);
  CHECK(contains(lax.err, "node 'a' (command): 'no-such-program-xyz' is not "
                          "found in PATH"));
  CHECK(jamjet_cli({"validate", wf, "--strict"}).exit_code == 2);
}
