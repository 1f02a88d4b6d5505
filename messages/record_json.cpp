#include "jamjet/messages/record_json.hpp"

#include "jamjet/messages/event_json.hpp"
#include "jamjet/messages/json_limits.hpp"

namespace jamjet {

namespace {

/// A final state as stored; null when it cannot be read back (too deep,
/// or not JSON), never a discarded value that would print as invalid JSON.
nlohmann::json stored_state(const std::string& text) {
  auto result = try_parse_bounded(text, json_limits::stored());
  if (result.is_discarded())
    return nullptr;
  return result;
}

} // namespace

nlohmann::json to_json(const execution_record& rec) {
  nlohmann::json j{{"execution_id", rec.id},
                   {"workflow_id", rec.workflow_id},
                   {"workflow_version", rec.workflow_version},
                   {"status", to_string(rec.status)},
                   {"last_sequence", rec.last_sequence},
                   {"created_at", format_rfc3339_ms(rec.created_at_ms)},
                   {"updated_at", format_rfc3339_ms(rec.updated_at_ms)}};
  if (rec.status == execution_status_code::completed)
    j["final_state"] = stored_state(rec.result);
  else if (!rec.result.empty())
    j["error"] = rec.result;
  return j;
}

nlohmann::json to_json(const execution_outcome& out) {
  nlohmann::json j{{"execution_id", out.execution_id},
                   {"status", to_string(out.status)}};
  if (out.status == execution_status_code::completed)
    j["final_state"] = stored_state(out.final_state);
  else
    j["error"] = out.error;
  return j;
}

} // namespace jamjet
