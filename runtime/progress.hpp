#pragma once

// The progress of one execution, folded from its committed events.
//
// Pure logic, no actors: the execution actor feeds it committed events and
// asks it what to do next. The same log always folds to the same progress
// and the same decisions (design, promise 8).

#include <cstdint>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "messages/event.hpp"
#include "runtime/graph.hpp"

namespace jamjet {

/// Where a node is.
enum class node_state : uint8_t {
  pending,
  scheduled,
  completed,
  failed,
  skipped,
  cancelled,
};

/// Where an execution is.
enum class execution_phase : uint8_t {
  /// Nothing committed yet.
  created,
  running,
  completed,
  failed,
  cancelled,
};

std::string to_string(node_state x);
std::string to_string(execution_phase x);

/// What folding one event did.
enum class fold_status {
  /// The event was the next one and has been applied.
  applied,
  /// The event was already folded (sequence too low); ignored.
  duplicate,
  /// A sequence gap: the event was not applied.
  gap,
};

/// Progress of one execution.
class progress {
 public:
  explicit progress(graph_ptr graph);

  /// Folds the next committed event.
  fold_status fold(const event& e);

  /// The progress as JSON text, to restore it without folding the log up to
  /// `last_sequence()` again (recovery snapshots).
  std::string snapshot() const;

  /// The same, reusing `state_text`, the caller's dump of `state()`.
  std::string snapshot(const std::string& state_text) const;

  /// Restores a snapshot made by `snapshot()` for the same graph. Returns
  /// false (leaving the progress as it was) when it does not fit the graph
  /// or is malformed; the caller then folds the whole log instead.
  bool restore(const std::string& snapshot);

  /// Sequence of the last folded event (0 before any).
  uint64_t last_sequence() const noexcept { return last_seq_; }

  execution_phase phase() const noexcept { return phase_; }

  bool terminal() const noexcept {
    return phase_ == execution_phase::completed ||
           phase_ == execution_phase::failed ||
           phase_ == execution_phase::cancelled;
  }

  /// The merged state: initial input plus every state patch, in order.
  const nlohmann::json& state() const noexcept { return state_; }

  node_state state_of(uint32_t rank) const { return nodes_[rank]; }

  /// Nodes scheduled and not yet settled.
  size_t in_flight() const noexcept { return in_flight_; }

  /// Nodes completed or skipped.
  size_t done() const noexcept { return done_; }

  /// Whether every node is completed or skipped.
  bool all_done() const noexcept { return done_ == graph_->size(); }

  /// The first terminal node failure still standing, as
  /// "node 'x' failed: error".
  std::optional<std::string> failure() const;

  /// Runnable nodes (pending, every predecessor done) in rank order, at
  /// most `limit` of them, skipping those in `exclude`.
  std::vector<uint32_t> runnable(size_t limit,
                                 const std::set<uint32_t>& exclude = {}) const;

  /// Nodes scheduled and not settled, in rank order.
  std::vector<uint32_t> scheduled_nodes() const;

  const workflow_graph& graph() const noexcept { return *graph_; }

  const jamjet::graph_ptr& shared_graph() const noexcept { return graph_; }

 private:
  void settle(uint32_t rank, node_state to);
  int64_t rank(const std::string& node_id) const;

  graph_ptr graph_;
  std::vector<node_state> nodes_;
  /// Predecessors of each node that are not yet done.
  std::vector<uint32_t> waiting_on_;
  /// Pending nodes whose predecessors are all done.
  std::set<uint32_t> ready_;
  nlohmann::json state_ = nlohmann::json::object();
  uint64_t last_seq_ = 0;
  execution_phase phase_ = execution_phase::created;
  size_t in_flight_ = 0;
  size_t done_ = 0;
  /// Terminal failures in order, by rank, with their messages.
  std::vector<std::pair<uint32_t, std::string>> failures_;
};

} // namespace jamjet
