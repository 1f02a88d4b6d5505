#pragma once

// The progress of one execution, folded from its committed events.
//
// Pure logic, no actors: the execution actor feeds it committed events and
// asks it what to do next. The same log always folds to the same progress
// and the same decisions (design, promise 8).

#include <cstdint>
#include <deque>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "jamjet/core/graph.hpp"
#include "jamjet/messages/event.hpp"

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

/// A decision on a `human_approval` node, folded and not yet acted on.
struct approval_decision {
  bool approved = false;
  std::string user_id;
  std::optional<std::string> comment;
  /// JSON text of a state patch; empty: none.
  std::string state_patch;
};

/// A node to skip and why.
struct skip_entry {
  uint32_t rank = 0;
  std::string reason;
};

/// Progress of one execution.
///
/// Routing: when a node completes, each of its out-edges is decided live or
/// dead: a `condition` node's edges are live only towards the branch target
/// recorded in its output (`{"target": ...}`); an approval's edge to its
/// fallback node is live only after a rejection (`{"approved": false}`) and
/// its other edges only after an approval; any other edge is live when it
/// has no condition or its condition holds on the state after the node's
/// patch. A skipped node's edges are dead. A pending node runs once every
/// in-edge is decided and at least one is live (a join over live edges); it
/// is skipped once every in-edge is decided dead.
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

  /// Runnable nodes (pending, every in-edge decided and one live) in rank
  /// order, at most `limit` of them, skipping those in `exclude`.
  std::vector<uint32_t> runnable(size_t limit,
                                 const std::set<uint32_t>& exclude = {}) const;

  /// Nodes to skip now, with the whole cascade: nodes left without a live
  /// in-edge, and the nodes that skipping them leaves without one, in rank
  /// order (so committing them in this order folds to the same result).
  std::vector<skip_entry> skippable() const;

  /// Attempt of a scheduler-run node (wait, approval): 1 + its retries.
  uint32_t attempt_of(uint32_t rank) const;

  /// Timers created for a node so far (`node` empty: the workflow timer).
  uint32_t timers_of(const std::string& node) const;

  /// Whether the newest timer of a node (or of the workflow) has fired.
  bool newest_timer_fired(const std::string& node) const;

  /// The oldest external event with `key` not yet consumed by a wait node.
  const std::string* pending_event(const std::string& key) const;

  /// Whether an event with `key` was received and not yet consumed.
  bool has_event(const std::string& key) const {
    return pending_event(key) != nullptr;
  }

  /// Why an external event with `key` cannot be accepted now (no wait node
  /// still waits, or will wait, for it; the keys that are waited for are
  /// named), or nothing when one does. `execution_id` is for the message.
  std::optional<std::string> signal_problem(const std::string& execution_id,
                                            const std::string& key) const;

  /// Why a decision on `node_id` cannot be accepted now (not a
  /// human_approval node, one that has ended, or one already decided: the
  /// first decision is the one that counts), or nothing.
  std::optional<std::string> approval_problem(const std::string& execution_id,
                                              const std::string& node_id) const;

  /// The decision on approval node `rank` not yet acted on, if any.
  const approval_decision* decision(uint32_t rank) const;

  /// Timers created and whether the newest fired, by node id ("" is the
  /// workflow timer).
  const std::map<std::string, std::pair<uint32_t, bool>>&
  timers() const noexcept {
    return timers_;
  }

  /// Whether the workflow timeout has fired.
  bool timed_out() const noexcept { return newest_timer_fired(std::string{}); }

  /// Nodes scheduled and not settled, in rank order.
  std::vector<uint32_t> scheduled_nodes() const;

  const workflow_graph& graph() const noexcept { return *graph_; }

  const jamjet::graph_ptr& shared_graph() const noexcept { return graph_; }

 private:
  // One fold step per event type. The template takes the events that do
  // not change which nodes are done (node_started, retry_scheduled and the
  // kinds the runtime does not act on).
  void on(const workflow_started& x);
  void on(const workflow_completed& x);
  void on(const workflow_failed& x);
  void on(const workflow_cancelled& x);
  void on(const node_scheduled& x);
  void on(const node_completed& x);
  void on(const node_failed& x);
  void on(const node_redriven& x);
  void on(const node_skipped& x);
  void on(const node_cancelled& x);
  void on(const timer_created& x);
  void on(const timer_fired& x);
  void on(const external_event_received& x);
  void on(const approval_received& x);
  template <class Event>
  void on(const Event&) {}

  void settle(uint32_t rank, node_state to);
  void decide_edges(uint32_t rank, const std::string& output);
  void decide(uint32_t edge, bool live);
  void recount();
  int64_t rank(const std::string& node_id) const;

  /// Edge states.
  static constexpr char edge_open = '0';
  static constexpr char edge_live = '1';
  static constexpr char edge_dead = '2';

  graph_ptr graph_;
  std::vector<node_state> nodes_;
  /// State of each edge: undecided, live or dead.
  std::string edges_;
  /// In-edges of each node not yet decided, and those decided live.
  std::vector<uint32_t> undecided_in_;
  std::vector<uint32_t> live_in_;
  /// Pending nodes with every in-edge decided and one live.
  std::set<uint32_t> ready_;
  /// Pending nodes with every in-edge decided dead.
  std::set<uint32_t> dead_ends_;
  /// Scheduler-run nodes: retries so far, by rank.
  std::map<uint32_t, uint32_t> retries_;
  /// Timers created and whether the newest fired, by node id ("" is the
  /// workflow timer).
  std::map<std::string, std::pair<uint32_t, bool>> timers_;
  /// External events received and not consumed, by key.
  std::map<std::string, std::deque<std::string>> inbox_;
  /// Approval decisions not yet acted on, by rank.
  std::map<uint32_t, approval_decision> decisions_;
  nlohmann::json state_ = nlohmann::json::object();
  uint64_t last_seq_ = 0;
  execution_phase phase_ = execution_phase::created;
  size_t in_flight_ = 0;
  size_t done_ = 0;
  /// Terminal failures in order, by rank, with their messages.
  std::vector<std::pair<uint32_t, std::string>> failures_;
};

} // namespace jamjet
