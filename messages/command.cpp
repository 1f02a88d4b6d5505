#include "jamjet/messages/command.hpp"

#include <type_traits>

#include <caf/sum_type.hpp>

namespace jamjet {

const std::string& item_id_of(const item_op& op) {
  auto f = [](const auto& x) -> const std::string& {
    if constexpr (std::is_same_v<std::decay_t<decltype(x)>, enqueue_op>)
      return x.item.id;
    else
      return x.item_id;
  };
  return caf::visit(f, op);
}

bool operator==(const enqueue_op& x, const enqueue_op& y) {
  return x.item == y.item;
}

bool operator==(const lease_op& x, const lease_op& y) {
  return x.item_id == y.item_id && x.fence == y.fence &&
         x.worker_id == y.worker_id && x.deadline_ms == y.deadline_ms;
}

bool operator==(const settle_op& x, const settle_op& y) {
  return x.item_id == y.item_id && x.fence == y.fence;
}

bool operator==(const requeue_op& x, const requeue_op& y) {
  return x.item_id == y.item_id && x.fence == y.fence &&
         x.attempt == y.attempt && x.not_before_ms == y.not_before_ms;
}

bool operator==(const dead_letter_op& x, const dead_letter_op& y) {
  return x.item_id == y.item_id && x.fence == y.fence && x.error == y.error;
}

bool operator==(const cancel_op& x, const cancel_op& y) {
  return x.item_id == y.item_id;
}

bool operator==(const redrive_op& x, const redrive_op& y) {
  return x.item_id == y.item_id && x.attempt == y.attempt &&
         x.max_attempts == y.max_attempts;
}

bool operator==(const fire_op& x, const fire_op& y) {
  return x.item_id == y.item_id;
}

bool operator==(const disarm_op& x, const disarm_op& y) {
  return x.item_id == y.item_id;
}

} // namespace jamjet
