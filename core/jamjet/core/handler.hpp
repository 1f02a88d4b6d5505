#pragma once

// Node handlers: the code that does a node's work.
//
// A handler is a callable taking a `node_context` and returning a
// `node_outcome`. Handlers are registered per node kind (`kind.type`) and, as
// a fallback, per queue type. A blocking handler runs on a worker slot thread,
// off CAF's scheduler; a non-blocking ("inline") one runs on the worker
// actor's thread and must return quickly.

#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <shared_mutex>
#include <string>

#include <nlohmann/json.hpp>

#include "jamjet/support/export.hpp"

namespace jamjet {
JAMJET_API_BEGIN

/// What a handler gets to see.
struct node_context {
  std::string execution_id;
  std::string node_id;
  /// The node's IR JSON: `{"id":..,"kind":{"type":..,...},...}`.
  nlohmann::json node;
  /// The execution's state when the node was scheduled.
  nlohmann::json state;
  /// 1 for the first attempt.
  uint32_t attempt = 1;
  /// Set when the node is cancelled or the runtime shuts down; long-running
  /// handlers should poll it and return early.
  std::shared_ptr<const std::atomic<bool>> cancelled;

  /// Whether `cancelled` is set.
  bool is_cancelled() const noexcept {
    return cancelled && cancelled->load(std::memory_order_relaxed);
  }
};

/// What a handler returns: a result or a failure.
struct node_outcome {
  bool ok = true;
  /// The node's output (any JSON).
  nlohmann::json output = nullptr;
  /// RFC 7396 merge patch applied to the execution's state.
  nlohmann::json state_patch = nlohmann::json::object();
  /// Failure message, when `!ok`.
  std::string error;
  /// Whether a failure may be retried.
  bool retryable = true;
  /// The failure's class, matched against the retry policy's
  /// `retryable_on`: "timeout", "rate_limit", "server_error", "io_error",
  /// "connection_reset" or any custom name; empty: unclassified (retried
  /// only by policies that retry every class).
  std::string error_class;

  /// A successful outcome.
  static node_outcome
  success(nlohmann::json output,
          nlohmann::json state_patch = nlohmann::json::object()) {
    node_outcome r;
    r.output = std::move(output);
    r.state_patch = std::move(state_patch);
    return r;
  }

  /// A failed outcome.
  static node_outcome failure(std::string error, bool retryable = true,
                              std::string error_class = {}) {
    node_outcome r;
    r.ok = false;
    r.error = std::move(error);
    r.retryable = retryable;
    r.error_class = std::move(error_class);
    return r;
  }
};

/// A node handler.
using node_handler = std::function<node_outcome(const node_context&)>;

/// A handler and how to run it.
struct handler_entry {
  node_handler fn;
  /// Run on a slot thread (true) or inline on the worker actor (false).
  bool blocking = true;
};

/// Thread-safe handlers by node kind, with queue-type fallbacks.
class handler_registry {
 public:
  /// Registers (or replaces) the handler for node kind `kind`.
  void add_kind(const std::string& kind, handler_entry entry);

  /// Registers (or replaces) the fallback handler for queue type `queue`.
  void add_queue(const std::string& queue, handler_entry entry);

  /// The handler for a node: by kind first, then by queue type.
  /// Returns an entry with an empty `fn` when there is none.
  handler_entry find(const std::string& kind, const std::string& queue) const;

  /// Whether `find(kind, queue)` would succeed.
  bool has(const std::string& kind, const std::string& queue) const;

 private:
  mutable std::shared_mutex mtx_;
  std::map<std::string, handler_entry> by_kind_;
  std::map<std::string, handler_entry> by_queue_;
};

JAMJET_API_END
} // namespace jamjet
