#include "jamjet/messages/execution_status_code.hpp"

#include "jamjet/support/enum_names.hpp"

namespace jamjet {

namespace {

constexpr enum_name_table<execution_status_code, 4> names{{
  {execution_status_code::running, "running"},
  {execution_status_code::completed, "completed"},
  {execution_status_code::failed, "failed"},
  {execution_status_code::cancelled, "cancelled"},
}};

} // namespace

std::string to_string(execution_status_code x) {
  return std::string{name_in(names, x)};
}

std::optional<execution_status_code>
parse_execution_status(const std::string& text) {
  return value_in(names, text);
}

} // namespace jamjet
