#pragma once

// Where an execution is in its life, as one enum instead of status text.

#include <cstdint>
#include <optional>
#include <string>

#include "jamjet/support/export.hpp"

namespace jamjet {
JAMJET_API_BEGIN

/// The status of an execution. Its text (`to_string`) is what stores write
/// and what the CLI and the network print: "running", "completed",
/// "failed" or "cancelled".
enum class execution_status_code : uint8_t {
  /// Started and not ended yet.
  running,
  /// Ended with a final state.
  completed,
  /// Ended with an error (a node failed, or the workflow timed out).
  failed,
  /// Ended by a cancel request.
  cancelled,
};

/// The status's text, e.g. "completed".
std::string to_string(execution_status_code x);

/// The status named `text` (as `to_string` writes it); none for other text.
std::optional<execution_status_code>
parse_execution_status(const std::string& text);

// No `inspect`: CAF 0.17's serializers handle enums by their underlying type
// (see work_item.hpp), and printing picks up `to_string`.

JAMJET_API_END
} // namespace jamjet
