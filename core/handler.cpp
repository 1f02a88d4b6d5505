#include "jamjet/core/handler.hpp"

#include <mutex>

namespace jamjet {

void handler_registry::add_kind(const std::string& kind, handler_entry entry) {
  std::unique_lock<std::shared_mutex> guard{mtx_};
  by_kind_[kind] = std::move(entry);
}

void handler_registry::add_queue(const std::string& queue,
                                 handler_entry entry) {
  std::unique_lock<std::shared_mutex> guard{mtx_};
  by_queue_[queue] = std::move(entry);
}

handler_entry handler_registry::find(const std::string& kind,
                                     const std::string& queue) const {
  std::shared_lock<std::shared_mutex> guard{mtx_};
  if (auto i = by_kind_.find(kind); i != by_kind_.end())
    return i->second;
  if (auto i = by_queue_.find(queue); i != by_queue_.end())
    return i->second;
  return {};
}

bool handler_registry::has(const std::string& kind,
                           const std::string& queue) const {
  std::shared_lock<std::shared_mutex> guard{mtx_};
  return by_kind_.count(kind) > 0 || by_queue_.count(queue) > 0;
}

} // namespace jamjet
