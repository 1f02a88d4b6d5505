#pragma once

// What the scheduler reads from a node's `kind` and from the IR's
// `timeouts`: how a node runs (on a worker, or in the scheduler itself for
// conditions, waits and approvals) and its time limits.
//
// Pure functions over the parsed IR; `validate()` reports their problems and
// `workflow_graph::compile()` keeps their results.

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "jamjet/messages/ir.hpp"

namespace jamjet {

/// Who runs a node.
enum class node_role : uint8_t {
  /// A worker, through a work item (every kind not below).
  work,
  /// The scheduler: evaluates `branches` against the state (`condition`).
  condition,
  /// The scheduler: a durable timer and/or an external event (`wait`).
  wait,
  /// The scheduler: an approval or rejection (`human_approval`).
  approval,
};

/// What a `wait` node waits for (`kind.condition`).
enum class wait_kind : uint8_t { timer, external_event, either };

/// One branch of a `condition` node.
struct branch_spec {
  /// The expression; unset for the default branch.
  std::optional<std::string> condition;
  /// A node id or "end".
  std::string target;
};

/// The scheduler's view of one node's kind.
struct node_spec {
  node_role role = node_role::work;
  /// `condition`: the branches, in order.
  std::vector<branch_spec> branches;
  /// `wait`: what it waits for.
  wait_kind wait = wait_kind::timer;
  /// `wait`: the key external events must carry (default: the node id).
  std::string correlation_key;
  /// `wait`: the timer / the event deadline; `human_approval`: the approval
  /// deadline. Milliseconds; 0 = none.
  uint64_t timeout_ms = 0;
  /// `human_approval`: where a rejection goes instead of failing.
  std::optional<std::string> fallback;
};

/// Reads the scheduler-relevant fields of `node`'s kind. Problems (wrong
/// types, a timer without a duration, ...) are appended to `problems` as
/// sentences naming the node.
node_spec read_node_spec(const node_def& node,
                         std::vector<std::string>& problems);

/// The IR's `timeouts`, in milliseconds (0 = not set).
struct timeout_spec {
  uint64_t node_ms = 0;
  uint64_t workflow_ms = 0;
  uint64_t heartbeat_ms = 0;
  uint64_t approval_ms = 0;
};

/// Reads `timeouts`: each field is whole seconds, `{"secs", "nanos"}` (a
/// serialised Rust `Duration`) or null.
timeout_spec read_timeouts(const nlohmann::json& timeouts,
                           std::vector<std::string>& problems);

std::string to_string(wait_kind x);

} // namespace jamjet
