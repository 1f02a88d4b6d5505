#include "jamjet/core/workflow_registry.hpp"

#include "jamjet/messages/error.hpp"
#include "jamjet/messages/ir.hpp"

namespace jamjet {

graph_ptr workflow_registry::compile(const std::string& ir_json) {
  return workflow_graph::compile(parse_ir(ir_json));
}

std::string workflow_registry::key(const std::string& workflow_id,
                                   const std::string& version) {
  return workflow_id + "@" + version;
}

std::string workflow_registry::add(graph_ptr graph) {
  auto& entry = workflows_[graph->workflow_id()];
  entry.latest = graph->version();
  auto result = key(graph->workflow_id(), graph->version());
  entry.graphs[graph->version()] = std::move(graph);
  return result;
}

caf::expected<graph_ptr>
workflow_registry::find(const std::string& workflow_id,
                        const std::string& version) const {
  auto w = workflows_.find(workflow_id);
  if (w == workflows_.end() && version.empty())
    return make_error(error_code::unknown_workflow,
                      "no workflow '" + workflow_id + "' is registered");
  if (w != workflows_.end()) {
    auto& graphs = w->second.graphs;
    auto g = graphs.find(version.empty() ? w->second.latest : version);
    if (g != graphs.end())
      return g->second;
  }
  // Only an explicit version can be missing: the latest always is there.
  return make_error(error_code::unknown_workflow,
                    "no workflow '" + workflow_id + "' version '" + version +
                      "' is registered");
}

size_t workflow_registry::size() const noexcept {
  size_t n = 0;
  for (auto& [id, entry] : workflows_)
    n += entry.graphs.size();
  return n;
}

std::vector<std::string> missing_handlers(const workflow_graph& graph,
                                          const handler_registry& handlers) {
  std::vector<std::string> missing;
  for (auto& node : graph.nodes())
    if (node.spec.role == node_role::work &&
        !handlers.has(node.kind_type, node.queue_type))
      missing.push_back("node '" + node.id + "' has kind '" + node.kind_type +
                        "'");
  return missing;
}

} // namespace jamjet
