#pragma once

// Substring tests for assertions on messages and outputs.

#include <string>

namespace jamjet::testing {

/// Whether `text` contains `part`.
inline bool contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

} // namespace jamjet::testing
