#include "jamjet/messages/work_item.hpp"

#include "jamjet/support/enum_names.hpp"

namespace jamjet {

namespace {

constexpr enum_name_table<item_status, 5> item_status_names{{
  {item_status::ready, "ready"},
  {item_status::leased, "leased"},
  {item_status::done, "done"},
  {item_status::dead, "dead"},
  {item_status::cancelled, "cancelled"},
}};

} // namespace

std::string to_string(item_status x) {
  return std::string{name_in(item_status_names, x)};
}

std::optional<item_status> parse_item_status(std::string_view text) {
  return value_in(item_status_names, text);
}

bool operator==(const work_item& x, const work_item& y) {
  return x.id == y.id && x.execution_id == y.execution_id &&
         x.node_id == y.node_id && x.queue_type == y.queue_type &&
         x.payload == y.payload && x.attempt == y.attempt &&
         x.max_attempts == y.max_attempts &&
         x.created_at_ms == y.created_at_ms &&
         x.lease_expires_at_ms == y.lease_expires_at_ms &&
         x.worker_id == y.worker_id && x.tenant_id == y.tenant_id &&
         x.not_before_ms == y.not_before_ms && x.fence == y.fence &&
         x.status == y.status && x.retry == y.retry &&
         x.timeout_ms == y.timeout_ms && x.lease_ms == y.lease_ms;
}

} // namespace jamjet
