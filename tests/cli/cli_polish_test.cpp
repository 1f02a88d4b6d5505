// The command line's manners: its version, misspelled subcommands, stores
// that do not exist, JSON arguments with their error positions, and error
// messages that say each thing once.

#include <catch2/catch.hpp>

#include <regex>
#include <unistd.h>

#include <nlohmann/json.hpp>

#include "cli_paths.hpp"
#include "jamjet/support/subprocess.hpp"
#include "testing/contains.hpp"
#include "testing/ir_builder.hpp"
#include "testing/temp_dir.hpp"

using namespace jamjet;
using jamjet::testing::contains;
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

bool exists(const std::string& path) {
  return ::access(path.c_str(), F_OK) == 0;
}

} // namespace

TEST_CASE("jamjet --version prints the version, which --help shows too",
          "[cli][polish]") {
  auto version = jamjet_cli({"--version"});
  REQUIRE(version.exit_code == 0);
  std::smatch m;
  std::regex pattern{R"(^jamjet (\d+\.\d+\.\d+)\n$)"};
  REQUIRE(std::regex_match(version.out, m, pattern));
  auto help = jamjet_cli({"--help"});
  CHECK(help.exit_code == 0);
  CHECK(contains(help.out, "jamjet " + m[1].str()));
  CHECK(contains(help.out, "--version"));
}

TEST_CASE("an unknown subcommand is named, with the nearest one suggested",
          "[cli][polish]") {
  auto typo = jamjet_cli({"stauts", "--db", "x.db"});
  CHECK(typo.exit_code == 2);
  CHECK(contains(typo.err, "unknown command 'stauts'"));
  CHECK(contains(typo.err, "did you mean 'status'?"));
  CHECK(typo.out.empty());
  // After a top-level option too.
  auto after = jamjet_cli({"--log-level", "info", "vaildate", "wf.json"});
  CHECK(after.exit_code == 2);
  CHECK(contains(after.err, "did you mean 'validate'?"));
  // Nothing near: named, without a guess.
  auto far = jamjet_cli({"frobnicate"});
  CHECK(far.exit_code == 2);
  CHECK(contains(far.err, "unknown command 'frobnicate'"));
  CHECK_FALSE(contains(far.err, "did you mean"));
  // Subcommands of subcommands.
  auto nested = jamjet_cli({"dlq", "lsit"});
  CHECK(nested.exit_code == 2);
  CHECK(contains(nested.err, "unknown command 'lsit' of `jamjet dlq`"));
  CHECK(contains(nested.err, "did you mean 'list'?"));
  // A positional argument of a real subcommand is not a subcommand.
  temp_dir dir;
  auto wf = dir.write(
    "wf.json", ir_builder{"w"}.node("a", "noop").edge("a", "end").dump());
  CHECK(jamjet_cli({"validate", wf}).exit_code == 0);
}

TEST_CASE("commands that read a store say when there is none, creating "
          "nothing",
          "[cli][polish]") {
  temp_dir dir;
  auto db = dir.path + "/missing.db";
  std::vector<std::vector<std::string>> commands{
    {"status", "--db", db},
    {"status", "some-id", "--db", db},
    {"events", "some-id", "--db", db},
    {"resume", "--db", db},
    {"dlq", "list", "--db", db},
    {"dlq", "redrive", "item", "--db", db},
    {"check", "--db", db},
    {"cancel", "some-id", "--db", db},
    {"signal", "some-id", "key", "--db", db},
  };
  for (auto& args : commands) {
    INFO(args[0]);
    auto res = jamjet_cli(args);
    CHECK(res.exit_code == 2);
    CHECK(contains(res.err, "no store at '" + db + "'"));
    CHECK(contains(res.err, "does not exist"));
    CHECK_FALSE(exists(db));
  }
}

TEST_CASE("JSON arguments that do not parse say where, as workflow files do",
          "[cli][polish]") {
  temp_dir dir;
  auto wf = dir.write(
    "wf.json", ir_builder{"w"}.node("a", "noop").edge("a", "end").dump());
  auto inline_input =
    jamjet_cli({"run", wf, "--memory", "--input", R"({"a":})"});
  CHECK(inline_input.exit_code == 2);
  CHECK(contains(inline_input.err, "--input is not valid JSON"));
  CHECK(contains(inline_input.err, "line 1, column 6"));
  auto file = dir.write("in.json", "{\n  \"a\": 1,\n  \"b\": tru\n}\n");
  auto file_input = jamjet_cli({"run", wf, "--memory", "--input", "@" + file});
  CHECK(file_input.exit_code == 2);
  CHECK(contains(file_input.err, "--input file '" + file + "'"));
  CHECK(contains(file_input.err, "line 3"));
  auto db = dir.path + "/j.db";
  REQUIRE(jamjet_cli({"run", wf, "--db", db}).exit_code == 0);
  auto id =
    json::parse(jamjet_cli({"status", "--db", db}).out)[0]["execution_id"]
      .get<std::string>();
  auto payload =
    jamjet_cli({"signal", id, "k", "--payload", "[1,\n2,,]", "--db", db});
  CHECK(payload.exit_code == 2);
  CHECK(contains(payload.err, "--payload is not valid JSON"));
  CHECK(contains(payload.err, "line 2, column 3"));
}

TEST_CASE("a failed node is named once in the error", "[cli][polish]") {
  temp_dir dir;
  auto wf = dir.write(
    "wf.json",
    ir_builder{"f"}
      .node("a", {{"type", "command"}, {"argv", {"sh", "-c", "echo hello"}}})
      .retry_policy("no_retry")
      .edge("a", "end")
      .dump());
  auto res = jamjet_cli({"run", wf, "--memory"});
  CHECK(res.exit_code == 1);
  CHECK(contains(res.err, "node 'a' failed: command stdout is not valid JSON"));
  CHECK_FALSE(contains(res.err, "node 'a' failed: node 'a'"));
}
