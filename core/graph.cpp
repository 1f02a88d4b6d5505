#include "jamjet/core/graph.hpp"

#include <algorithm>
#include <queue>

#include "jamjet/core/validate.hpp"

namespace jamjet {

std::shared_ptr<const workflow_graph> workflow_graph::compile(workflow_ir ir) {
  check_valid(ir);
  auto g = std::make_shared<workflow_graph>();
  // Kahn's algorithm over the node ids (the IR map is ordered by id), with a
  // min-heap so that ties are broken by id.
  std::vector<std::string> ids;
  std::unordered_map<std::string, size_t> index;
  for (auto& [id, node] : ir.nodes) {
    index.emplace(id, ids.size());
    ids.push_back(id);
  }
  std::vector<std::vector<size_t>> out(ids.size());
  std::vector<size_t> in_degree(ids.size(), 0);
  for (auto& e : ir.edges) {
    if (e.to == end_node)
      continue;
    auto from = index.at(e.from);
    auto to = index.at(e.to);
    out[from].push_back(to);
  }
  for (auto& succs : out) {
    std::sort(succs.begin(), succs.end());
    succs.erase(std::unique(succs.begin(), succs.end()), succs.end());
    for (auto s : succs)
      ++in_degree[s];
  }
  std::priority_queue<size_t, std::vector<size_t>, std::greater<size_t>> ready;
  for (size_t i = 0; i < ids.size(); ++i)
    if (in_degree[i] == 0)
      ready.push(i);
  std::vector<uint32_t> rank_of_index(ids.size(), 0);
  std::vector<size_t> order;
  order.reserve(ids.size());
  while (!ready.empty()) {
    auto i = ready.top();
    ready.pop();
    rank_of_index[i] = static_cast<uint32_t>(order.size());
    order.push_back(i);
    for (auto s : out[i])
      if (--in_degree[s] == 0)
        ready.push(s);
  }
  // Validation rejected cycles, so every node has a rank.
  g->nodes_.resize(order.size());
  for (uint32_t rank = 0; rank < order.size(); ++rank) {
    auto i = order[rank];
    auto& def = ir.nodes.at(ids[i]);
    auto& n = g->nodes_[rank];
    n.id = def.id;
    n.kind_type = def.kind_type;
    n.queue_type = queue_type_of(def.kind_type);
    std::vector<std::string> ignored; // validation reported them
    n.spec = read_node_spec(def, ignored);
    n.retry = retry_policy_of(ir, def);
    n.retry_json = to_json(n.retry).dump();
    n.max_attempts = max_attempts_of(ir, def);
    nlohmann::json j = def.extra;
    j["id"] = def.id;
    j["kind"] = def.kind;
    j["retry_policy"] = def.retry_policy ? nlohmann::json(*def.retry_policy)
                                         : nlohmann::json(nullptr);
    j["node_timeout_secs"] = def.node_timeout_secs
                               ? nlohmann::json(*def.node_timeout_secs)
                               : nlohmann::json(nullptr);
    n.json = j.dump();
    for (auto s : out[i])
      n.succs.push_back(rank_of_index[s]);
    std::sort(n.succs.begin(), n.succs.end());
    g->ranks_.emplace(n.id, rank);
  }
  for (uint32_t rank = 0; rank < g->nodes_.size(); ++rank)
    for (auto s : g->nodes_[rank].succs)
      g->nodes_[s].preds.push_back(rank);
  for (auto& e : ir.edges) {
    graph_edge edge;
    edge.from = g->ranks_.at(e.from);
    edge.to = e.to == end_node ? end_rank : g->ranks_.at(e.to);
    edge.condition = e.condition;
    auto edge_index = static_cast<uint32_t>(g->edges_.size());
    g->nodes_[edge.from].out_edges.push_back(edge_index);
    if (edge.to != end_rank)
      g->nodes_[static_cast<size_t>(edge.to)].in_edges.push_back(edge_index);
    g->edges_.push_back(std::move(edge));
  }
  std::vector<std::string> ignored;
  g->timeouts_ = read_timeouts(ir.timeouts, ignored);
  for (auto& n : g->nodes_) {
    auto& def = ir.nodes.at(n.id);
    n.timeout_ms = def.node_timeout_secs ? *def.node_timeout_secs * 1000
                                         : g->timeouts_.node_ms;
    if (n.spec.role == node_role::approval && n.spec.timeout_ms == 0)
      n.spec.timeout_ms = g->timeouts_.approval_ms;
  }
  g->start_ = g->ranks_.at(ir.start_node);
  g->ir_ = std::move(ir);
  return g;
}

int64_t workflow_graph::rank_of(const std::string& id) const {
  auto i = ranks_.find(id);
  return i == ranks_.end() ? -1 : static_cast<int64_t>(i->second);
}

} // namespace jamjet
