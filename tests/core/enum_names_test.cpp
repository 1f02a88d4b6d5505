#include <catch2/catch.hpp>

#include <set>
#include <string>

#include "jamjet/core/node_spec.hpp"
#include "jamjet/core/progress.hpp"
#include "jamjet/messages/error.hpp"
#include "jamjet/messages/execution_status_code.hpp"
#include "jamjet/messages/ir.hpp"
#include "jamjet/messages/work_item.hpp"
#include "jamjet/support/enum_names.hpp"

using namespace jamjet;

namespace {

enum class colour { red, green, blue, unnamed };

constexpr enum_name_table<colour, 3> colour_names{{
  {colour::red, "red"},
  {colour::green, "green"},
  {colour::blue, "blue"},
}};

} // namespace

TEST_CASE("enum_names: a table maps both ways", "[enum_names]") {
  CHECK(name_in(colour_names, colour::green) == "green");
  CHECK(name_in(colour_names, colour::unnamed) == "unknown");
  CHECK(name_in(colour_names, colour::unnamed, "?") == "?");
  CHECK(value_in(colour_names, "blue") == colour::blue);
  CHECK_FALSE(value_in(colour_names, "Blue"));
  CHECK_FALSE(value_in(colour_names, ""));
  CHECK(names_in(colour_names) == R"("red", "green" or "blue")");
  static_assert(*value_in(colour_names, "red") == colour::red);
}

TEST_CASE("enum_names: every status text parses back to its value",
          "[enum_names]") {
  for (auto x :
       {execution_status_code::running, execution_status_code::completed,
        execution_status_code::failed, execution_status_code::cancelled})
    CHECK(parse_execution_status(to_string(x)) == x);
  for (auto x : {item_status::ready, item_status::leased, item_status::done,
                 item_status::dead, item_status::cancelled})
    CHECK(parse_item_status(to_string(x)) == x);
  CHECK_FALSE(parse_item_status("Ready"));
}

TEST_CASE("enum_names: names are distinct within each enum", "[enum_names]") {
  std::set<std::string> codes;
  for (auto x : {error_code::bad_input, error_code::invalid_workflow,
                 error_code::unknown_workflow, error_code::unknown_execution,
                 error_code::missing_handler, error_code::store_failure,
                 error_code::stale_fence, error_code::unavailable,
                 error_code::access_denied})
    CHECK(codes.insert(to_string(x)).second);
  CHECK(codes.count("unknown") == 0);
  std::set<std::string> states;
  for (auto x :
       {node_state::pending, node_state::scheduled, node_state::completed,
        node_state::failed, node_state::skipped, node_state::cancelled})
    CHECK(states.insert(to_string(x)).second);
  CHECK(states.count("?") == 0);
  std::set<std::string> phases;
  for (auto x : {execution_phase::created, execution_phase::running,
                 execution_phase::completed, execution_phase::failed,
                 execution_phase::cancelled})
    CHECK(phases.insert(to_string(x)).second);
  std::set<std::string> waits;
  for (auto x :
       {wait_kind::timer, wait_kind::external_event, wait_kind::either})
    CHECK(waits.insert(to_string(x)).second);
}
