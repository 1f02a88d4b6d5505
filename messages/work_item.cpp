#include "jamjet/messages/work_item.hpp"

namespace jamjet {

std::string to_string(item_status x) {
  switch (x) {
    case item_status::ready:
      return "ready";
    case item_status::leased:
      return "leased";
    case item_status::done:
      return "done";
    case item_status::dead:
      return "dead";
    case item_status::cancelled:
      return "cancelled";
  }
  return "unknown";
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
