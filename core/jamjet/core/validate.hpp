#pragma once

// Static checks of a workflow graph, run before a workflow is registered.

#include <string>
#include <vector>

#include "jamjet/messages/ir.hpp"

namespace jamjet {

/// Checks a parsed IR for problems that would keep a workflow from ever
/// completing: no nodes, a missing or unknown start node, node ids that differ
/// from their keys, edges from or to unknown nodes, cycles, nodes unreachable
/// from the start node and unknown retry policies. Returns one sentence per
/// problem, in a deterministic order; an empty result means the IR is valid.
/// Runs in time roughly linear in the size of the graph and without recursion.
std::vector<std::string> validate(const workflow_ir& ir);

/// Things that are allowed but probably wrong: malformed condition
/// expressions (JamJet evaluates them as false). One sentence each.
std::vector<std::string> warnings(const workflow_ir& ir);

/// Throws `jamjet::error` (code `invalid_workflow`) listing every problem
/// `validate()` finds, as "workflow '<id>' is invalid:\n  - ...".
void check_valid(const workflow_ir& ir);

} // namespace jamjet
