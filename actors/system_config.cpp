#include "jamjet/actors/system_config.hpp"

#include <caf/atom.hpp>
#include <caf/io/middleman.hpp>

#include "jamjet/actors/actor_types.hpp"
#include "jamjet/messages/error.hpp"
#include "jamjet/messages/type_registry.hpp"

namespace jamjet {

system_config::system_config() {
  jamjet::add_message_types(*this);
  add_actor_types(*this);
  add_error_category(
    error_category,
    [](uint8_t code, caf::atom_value, const caf::message& ctx) -> std::string {
      auto name = to_string(static_cast<error_code>(code));
      if (ctx.size() == 1 && ctx.match_element<std::string>(0))
        return name + ": " + ctx.get_as<std::string>(0);
      return name;
    });
  // Keep CAF's own console output quiet; the project logs with spdlog.
  set("logger.console", caf::atom("none"));
}

system_config& system_config::scheduler_threads(size_t n) {
  if (n > 0)
    set("scheduler.max-threads", n);
  return *this;
}

system_config& system_config::network() {
  load<caf::io::middleman>();
  return *this;
}

system_config& system_config::testing() {
  set("scheduler.policy", caf::atom("testing"));
  return *this;
}

} // namespace jamjet
