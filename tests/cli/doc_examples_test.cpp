// The examples of docs/workflow-format.md, extracted and checked with the
// real command, so that the page cannot drift from the program:
//
//   <!-- example: run -->        validate --strict passes, run --memory
//                                completes; a following `<!-- output -->`
//                                block is the final state it prints
//   <!-- example: validate -->   validate --strict passes
//   <!-- example: invalid "X" -->
//                                validate --strict exits 2, saying X
//
// Every other ```json block must be valid JSON, and none may be a whole
// workflow (one with a workflow_id) without a mark.

#include <catch2/catch.hpp>

#include <fstream>
#include <sstream>

#include <nlohmann/json.hpp>

#include "jamjet/support/subprocess.hpp"
#include "testing/contains.hpp"
#include "testing/files.hpp"
#include "testing/temp_dir.hpp"

using namespace jamjet;
using jamjet::testing::contains;
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

/// One ```json block of a Markdown file and the mark before it.
struct block {
  size_t line = 0;
  /// What follows "<!-- " on the line before the fence, or empty.
  std::string mark;
  std::string text;
};

std::vector<block> json_blocks(const std::string& markdown) {
  std::vector<block> out;
  std::istringstream in{markdown};
  std::string line;
  std::string previous;
  size_t n = 0;
  while (std::getline(in, line)) {
    ++n;
    if (line == "```json") {
      block b;
      b.line = n;
      if (previous.rfind("<!-- ", 0) == 0 && previous.size() > 9)
        b.mark = previous.substr(5, previous.size() - 9);
      while (std::getline(in, line) && line != "```") {
        ++n;
        b.text += line + "\n";
      }
      ++n;
      out.push_back(std::move(b));
    }
    previous = line;
  }
  return out;
}

/// The quoted text of `invalid "X"`.
std::string quoted(const std::string& mark) {
  auto open = mark.find('"');
  auto close = mark.rfind('"');
  if (open == std::string::npos || close <= open)
    return {};
  return mark.substr(open + 1, close - open - 1);
}

} // namespace

TEST_CASE("the examples of the workflow format reference are right", "[docs]") {
  auto doc = jamjet::testing::read_file(std::string{JAMJET_DOCS_DIR} +
                                        "/workflow-format.md");
  auto blocks = json_blocks(doc);
  temp_dir dir;
  int runs = 0;
  int validated = 0;
  int invalid = 0;
  for (size_t i = 0; i < blocks.size(); ++i) {
    const auto& b = blocks[i];
    INFO("docs/workflow-format.md line " << b.line << ": " << b.mark);
    auto value = json::parse(b.text, nullptr, false);
    REQUIRE_FALSE(value.is_discarded());
    if (b.mark.empty() || b.mark == "output") {
      // A fragment, or the output of the run before it.
      CHECK_FALSE((value.is_object() && value.contains("workflow_id")));
      continue;
    }
    auto file = dir.write("example" + std::to_string(i) + ".json", b.text);
    if (b.mark.rfind("example: invalid", 0) == 0) {
      auto needle = quoted(b.mark);
      REQUIRE_FALSE(needle.empty());
      auto res = jamjet_cli({"validate", file, "--strict"});
      CHECK(res.exit_code == 2);
      CHECK(res.out.empty());
      CHECK(contains(res.err, needle));
      ++invalid;
      continue;
    }
    auto checked = jamjet_cli({"validate", file, "--strict"});
    INFO(checked.err);
    CHECK(checked.exit_code == 0);
    CHECK(checked.err.empty());
    if (b.mark == "example: validate") {
      ++validated;
      continue;
    }
    REQUIRE(b.mark == "example: run");
    ++runs;
    auto res = jamjet_cli({"run", file, "--memory"});
    INFO(res.err);
    REQUIRE(res.exit_code == 0);
    if (i + 1 < blocks.size() && blocks[i + 1].mark == "output")
      CHECK(json::parse(res.out) == json::parse(blocks[i + 1].text));
  }
  // The page has its minimal and complete examples, and more.
  CHECK(runs >= 3);
  CHECK(validated >= 1);
  CHECK(invalid >= 2);
}
