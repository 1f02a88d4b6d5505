#pragma once

// Identifiers: random UUIDs (version 4) for events and executions.

#include <string>

namespace jamjet {

/// A random RFC 4122 version-4 UUID in its text form. Thread-safe.
std::string make_uuid();

/// The id of a node's work item within an execution.
std::string item_id_for(const std::string& execution_id,
                        const std::string& node_id);

} // namespace jamjet
