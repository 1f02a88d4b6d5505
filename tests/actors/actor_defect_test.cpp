// A defect inside one execution's actor (an exception from a handler) fails
// that execution and nothing else.

#include <catch2/catch.hpp>

#include <stdexcept>

#include "actor_fixture.hpp"
#include "testing/ir_builder.hpp"

using namespace jamjet;
using namespace jamjet::testing;

TEST_CASE("an exception inside an execution's actor fails that execution "
          "only",
          "[actors][defect]") {
  fixture f{16, 8, [](const event& e) {
              auto* done = caf::get_if<node_completed>(&e.kind);
              if (e.execution_id == "e1" && done && done->node_id == "a")
                throw std::runtime_error("simulated defect");
            }};
  auto log = f.add_worker("w1", 4);
  ir_builder ir{"two"};
  ir.node("a", {{"type", "tool"}})
    .node("b", {{"type", "tool"}})
    .edge("a", "b")
    .edge("b", "end");
  f.register_workflow(ir.dump());
  f.start("two", "e1");
  f.start("two", "e2");
  REQUIRE(log->items.size() == 2);
  auto first = log->items;
  log->items.clear();
  for (auto& item : first)
    f.complete(item);
  // e1's actor threw while folding a's completion: e1 failed, clearly.
  CHECK(f.status("e1") == "failed");
  auto failed = f.events_of<workflow_failed>("e1");
  REQUIRE(failed.size() == 1);
  CHECK(failed[0].error.find("internal error in the runtime: simulated "
                             "defect") != std::string::npos);
  // e2 goes on: its b runs and completes.
  REQUIRE(log->items.size() == 1);
  CHECK(log->items[0].execution_id == "e2");
  CHECK(log->items[0].node_id == "b");
  f.complete(log->items[0]);
  CHECK(f.status("e2") == "completed");
}
