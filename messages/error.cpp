#include "jamjet/messages/error.hpp"

#include <caf/message.hpp>

#include "jamjet/support/enum_names.hpp"

namespace jamjet {

namespace {

constexpr enum_name_table<error_code, 9> error_code_names{{
  {error_code::bad_input, "bad_input"},
  {error_code::invalid_workflow, "invalid_workflow"},
  {error_code::unknown_workflow, "unknown_workflow"},
  {error_code::unknown_execution, "unknown_execution"},
  {error_code::missing_handler, "missing_handler"},
  {error_code::store_failure, "store_failure"},
  {error_code::stale_fence, "stale_fence"},
  {error_code::unavailable, "unavailable"},
  {error_code::access_denied, "access_denied"},
}};

} // namespace

std::string to_string(error_code code) {
  return std::string{name_in(error_code_names, code)};
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
