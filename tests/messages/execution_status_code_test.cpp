// The execution status enum and its text, which stores write and the CLI
// and the network print.

#include <catch2/catch.hpp>

#include "jamjet/messages/execution_status_code.hpp"

using namespace jamjet;

TEST_CASE("execution statuses keep their text and parse back",
          "[execution_status]") {
  CHECK(to_string(execution_status_code::running) == "running");
  CHECK(to_string(execution_status_code::completed) == "completed");
  CHECK(to_string(execution_status_code::failed) == "failed");
  CHECK(to_string(execution_status_code::cancelled) == "cancelled");
  for (auto x :
       {execution_status_code::running, execution_status_code::completed,
        execution_status_code::failed, execution_status_code::cancelled})
    CHECK(parse_execution_status(to_string(x)) == x);
}

TEST_CASE("other text is no execution status", "[execution_status]") {
  CHECK(!parse_execution_status(""));
  CHECK(!parse_execution_status("Running"));
  CHECK(!parse_execution_status("done"));
  CHECK(!parse_execution_status("unknown"));
}
