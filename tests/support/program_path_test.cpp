// Whether a program can be started: paths and PATH look-ups, as `validate`
// checks `--handler` programs and `command` nodes.

#include <catch2/catch.hpp>

#include <fstream>
#include <sys/stat.h>

#include "jamjet/support/program_path.hpp"
#include "testing/contains.hpp"
#include "testing/temp_dir.hpp"

using jamjet::program_problem;
using jamjet::testing::contains;
using jamjet::testing::temp_dir;

TEST_CASE("a program given by path must exist and be executable",
          "[program_path]") {
  temp_dir dir;
  auto exe = dir.write("tool.sh", "#!/bin/sh\n", true);
  auto plain = dir.write("data.txt", "x");
  CHECK(program_problem(exe, "") == std::nullopt);
  auto missing = program_problem(dir.path + "/nope.sh", "");
  REQUIRE(missing);
  CHECK(contains(*missing, "does not exist"));
  CHECK(contains(*missing, dir.path + "/nope.sh"));
  auto not_exec = program_problem(plain, "");
  REQUIRE(not_exec);
  CHECK(contains(*not_exec, "is not executable"));
  auto directory = program_problem(dir.path + "/", "");
  REQUIRE(directory);
  CHECK(contains(*directory, "is a directory"));
  CHECK(program_problem("", "/bin"));
}

TEST_CASE("a bare name is looked up in PATH", "[program_path]") {
  temp_dir a;
  temp_dir b;
  b.write("mytool", "#!/bin/sh\n", true);
  a.write("other", "x");
  CHECK(program_problem("mytool", a.path + ":" + b.path) == std::nullopt);
  auto absent = program_problem("mytool", a.path);
  REQUIRE(absent);
  CHECK(contains(*absent, "'mytool' is not found in PATH"));
  // Found but not runnable: named as such.
  auto plain = program_problem("other", a.path + ":" + b.path);
  REQUIRE(plain);
  CHECK(contains(*plain, "is not executable"));
  // The process's PATH finds sh.
  CHECK(program_problem("sh") == std::nullopt);
}
