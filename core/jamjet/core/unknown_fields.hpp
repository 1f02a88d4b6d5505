#pragma once

// Fields a workflow names that the runtime does not know, where it knows
// the schema: the document's top level, nodes, edges, retry policies,
// `timeouts`, and the kinds it executes itself (`noop`, `command`,
// `condition`, `wait`, `human_approval`). A misspelled field would
// otherwise be ignored without a word and a default would apply.
//
// The kinds the runtime hands to handlers it does not own (`model`, `tool`,
// ...) keep every field: their schema is their handler's, and JamJet's
// files carry many.

#include <string>
#include <vector>

#include "jamjet/messages/ir.hpp"

namespace jamjet {

/// One sentence per unknown field, naming where it is and, when a known
/// field is close, the likely intended one: "unknown field 'retry_polcy' on
/// node 'b'; did you mean 'retry_policy'?". In a deterministic order.
std::vector<std::string> unknown_field_warnings(const workflow_ir& ir);

} // namespace jamjet
