#include "jamjet/messages/execution_status_code.hpp"

namespace jamjet {

std::string to_string(execution_status_code x) {
  switch (x) {
    case execution_status_code::running:
      return "running";
    case execution_status_code::completed:
      return "completed";
    case execution_status_code::failed:
      return "failed";
    case execution_status_code::cancelled:
      return "cancelled";
  }
  return "unknown";
}

std::optional<execution_status_code>
parse_execution_status(const std::string& text) {
  for (auto x :
       {execution_status_code::running, execution_status_code::completed,
        execution_status_code::failed, execution_status_code::cancelled})
    if (to_string(x) == text)
      return x;
  return std::nullopt;
}

} // namespace jamjet
