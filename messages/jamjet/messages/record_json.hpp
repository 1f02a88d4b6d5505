#pragma once

// Execution records and outcomes as JSON, as `jamjet status` prints them
// and the network gateway answers them.

#include <nlohmann/json.hpp>

#include "jamjet/messages/protocol.hpp"
#include "jamjet/messages/records.hpp"

namespace jamjet {

/// `{"execution_id", "workflow_id", "workflow_version", "status",
/// "last_sequence", "created_at", "updated_at"}` plus `final_state`
/// (completed) or `error` (failed, cancelled).
nlohmann::json to_json(const execution_record& rec);

/// `{"execution_id", "status", "final_state" | "error"}`.
nlohmann::json to_json(const execution_outcome& out);

} // namespace jamjet
