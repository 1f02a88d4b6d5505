#pragma once

// A validated workflow compiled for scheduling.
//
// Nodes are numbered by their rank in a deterministic topological order
// (Kahn's algorithm, ties broken by node id), so "runnable nodes in order"
// is simply "ready ranks in ascending order".

#include <cstdint>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "messages/ir.hpp"

namespace jamjet {

/// One node of a compiled graph.
struct graph_node {
  std::string id;
  std::string kind_type;
  std::string queue_type;
  uint32_t max_attempts = 3;
  /// Compact JSON text of the node as in the IR.
  std::string json;
  /// Ranks of predecessors and successors ("end" excluded), ascending.
  std::vector<uint32_t> preds;
  std::vector<uint32_t> succs;
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

 private:
  workflow_ir ir_;
  std::vector<graph_node> nodes_;
  std::unordered_map<std::string, uint32_t> ranks_;
  uint32_t start_ = 0;
};

using graph_ptr = std::shared_ptr<const workflow_graph>;

} // namespace jamjet
