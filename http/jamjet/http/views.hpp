#pragma once

// JamJet's HTTP JSON, built from this runtime's records and events (pure
// functions, no actors): what GET /executions/:id, /approvals and a claimed
// work item look like to JamJet's clients and workers
// (runtime/api/src/routes.rs of jamjet-labs/jamjet).

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "jamjet/core/graph.hpp"
#include "jamjet/messages/event.hpp"
#include "jamjet/messages/records.hpp"
#include "jamjet/messages/work_item.hpp"

namespace jamjet::http {

/// An execution as JamJet serialises one: `execution_id`, `workflow_id`,
/// `workflow_version`, `status`, `initial_input`, `current_state`,
/// `started_at`, `updated_at`, `completed_at` (null while running),
/// `segment_number`; plus this runtime's `last_sequence` and, for a failed
/// or cancelled execution, `error`. `current_state` is the state folded
/// from `events` when given (with `graph`), else the final state of a
/// completed execution, else the initial input.
nlohmann::json execution_view(const execution_record& rec,
                              const graph_ptr& graph = nullptr,
                              const std::vector<event>* events = nullptr);

/// `{"pending": [...], "decided": [...]}` for an execution's
/// `human_approval` nodes: pending ones are scheduled, not ended and not
/// decided, as `{"node_id", "tool_name", "approver", "context",
/// "sequence"}` (the sequence of their `node_scheduled`); decided ones as
/// `{"node_id", "status", "user_id", "comment", "sequence"}` (the first
/// decision on each). An ended execution has nothing pending.
nlohmann::json approvals_view(const workflow_graph& graph,
                              const std::vector<event>& events);

/// The node ids of `approvals_view`'s pending list.
std::vector<std::string> pending_approvals(const workflow_graph& graph,
                                           const std::vector<event>& events);

/// The `work_item` of a claim: `{"id", "execution_id", "node_id",
/// "queue_type", "payload", "attempt", "lease_fence"}`. The payload is
/// JamJet's per kind: `{"workflow_id", "workflow_version", "node_id"}`,
/// and for `python_fn` also `module`, `function` and `input` (the state
/// when the node was scheduled), for `java_fn` `class`, `method` and
/// `input`, for `model` `model`, `system_prompt`, `prompt`, `tools` and
/// `messages` (from the state) when present; every payload keeps this
/// runtime's `node` (the IR node) and `state`.
nlohmann::json claimed_item_view(const work_item& item,
                                 const std::string& workflow_id,
                                 const std::string& workflow_version);

} // namespace jamjet::http
