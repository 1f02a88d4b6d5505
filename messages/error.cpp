#include "jamjet/messages/error.hpp"

#include <caf/message.hpp>

namespace jamjet {

std::string to_string(error_code code) {
  switch (code) {
    case error_code::bad_input:
      return "bad_input";
    case error_code::invalid_workflow:
      return "invalid_workflow";
    case error_code::unknown_workflow:
      return "unknown_workflow";
    case error_code::unknown_execution:
      return "unknown_execution";
    case error_code::missing_handler:
      return "missing_handler";
    case error_code::store_failure:
      return "store_failure";
    case error_code::stale_fence:
      return "stale_fence";
    case error_code::unavailable:
      return "unavailable";
    case error_code::access_denied:
      return "access_denied";
  }
  return "unknown";
}

caf::error make_error(error_code code, std::string what) {
  return caf::error(static_cast<uint8_t>(code), error_category,
                    caf::make_message(std::move(what)));
}

std::string error_message(const caf::error& err) {
  if (err.category() == error_category) {
    const auto& ctx = err.context();
    if (ctx.size() == 1 && ctx.match_element<std::string>(0))
      return ctx.get_as<std::string>(0);
    return to_string(static_cast<error_code>(err.code()));
  }
  return caf::to_string(err);
}

error_code code_of(const caf::error& err) {
  if (err.category() == error_category)
    return static_cast<error_code>(err.code());
  return error_code::unavailable;
}

void throw_error(const caf::error& err) {
  throw error(code_of(err), error_message(err));
}

} // namespace jamjet
