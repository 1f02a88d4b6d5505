#pragma once

// A validated workflow compiled for scheduling.
//
// Nodes are numbered by their rank in a deterministic topological order
// (Kahn's algorithm, ties broken by node id), so "runnable nodes in order"
// is simply "ready ranks in ascending order".

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "jamjet/core/node_spec.hpp"
#include "jamjet/messages/ir.hpp"

namespace jamjet {

/// Marks an edge to the sink in `graph_edge::to`.
inline constexpr int64_t end_rank = -1;

/// One edge of a compiled graph.
struct graph_edge {
  uint32_t from = 0;
  /// The target's rank, or `end_rank`.
  int64_t to = end_rank;
  /// Followed only when this holds (evaluated when `from` completes).
  std::optional<std::string> condition;
};

/// One node of a compiled graph.
struct graph_node {
  std::string id;
  std::string kind_type;
  std::string queue_type;
  /// Who runs it, and its kind's scheduling fields.
  node_spec spec;
  /// The node's retry policy, and as JSON text for its work items.
  retry_policy retry;
  std::string retry_json;
  uint32_t max_attempts = 3;
  /// Node timeout (node_timeout_secs, else timeouts.node_timeout); 0: none.
  uint64_t timeout_ms = 0;
  /// Compact JSON text of the node as in the IR.
  std::string json;
  /// Ranks of predecessors and successors ("end" excluded), ascending.
  std::vector<uint32_t> preds;
  std::vector<uint32_t> succs;
  /// Indices of the edges into and out of this node (into `edges()`).
  std::vector<uint32_t> in_edges;
  std::vector<uint32_t> out_edges;
};

/// An immutable, validated, ranked workflow graph.
class workflow_graph {
 public:
  /// Compiles a workflow. Throws `jamjet::error(invalid_workflow)` listing
  /// every problem when the IR does not validate.
  static std::shared_ptr<const workflow_graph> compile(workflow_ir ir);

  const workflow_ir& ir() const noexcept { return ir_; }

  const std::string& workflow_id() const noexcept { return ir_.workflow_id; }

  const std::string& version() const noexcept { return ir_.version; }

  /// Number of nodes.
  size_t size() const noexcept { return nodes_.size(); }

  /// The node of rank `rank`.
  const graph_node& node(uint32_t rank) const { return nodes_[rank]; }

  const std::vector<graph_node>& nodes() const noexcept { return nodes_; }

  /// The rank of node `id`, or -1.
  int64_t rank_of(const std::string& id) const;

  /// The rank of the start node.
  uint32_t start() const noexcept { return start_; }

  /// Every edge of the IR, in IR order.
  const std::vector<graph_edge>& edges() const noexcept { return edges_; }

  /// The IR's `timeouts`.
  const timeout_spec& timeouts() const noexcept { return timeouts_; }

 private:
  workflow_ir ir_;
  std::vector<graph_node> nodes_;
  std::vector<graph_edge> edges_;
  timeout_spec timeouts_;
  std::unordered_map<std::string, uint32_t> ranks_;
  uint32_t start_ = 0;
};

using graph_ptr = std::shared_ptr<const workflow_graph>;

} // namespace jamjet
