#pragma once

// The compiled workflows of a runtime, by id and version.
//
// One class for every holder of workflows (the supervisor actor, the
// embedding API), so that registration compiles the IR once and lookups
// resolve versions and word their errors the same way everywhere.

#include <string>
#include <unordered_map>
#include <vector>

#include <caf/expected.hpp>

#include "jamjet/core/graph.hpp"
#include "jamjet/core/handler.hpp"

namespace jamjet {

/// Compiled workflows by id and version, and the latest registered version
/// of each id. A plain value: not thread-safe, its owner serialises access.
/// Copies are cheap (graphs are shared and immutable).
class workflow_registry {
 public:
  /// Compiles IR JSON text. Throws `jamjet::error`: `bad_input` for text
  /// that is not IR, `invalid_workflow` naming every problem of the graph.
  static graph_ptr compile(const std::string& ir_json);

  /// "workflow_id@version", the key callers see for a registration.
  static std::string key(const std::string& workflow_id,
                         const std::string& version);

  /// Adds `graph`, replacing one of the same id and version. Its version
  /// becomes the latest of its id: the latest is the version registered
  /// last, not the highest. Returns its `key`.
  std::string add(graph_ptr graph);

  /// The graph of `workflow_id` at `version`, or at its latest version when
  /// `version` is empty; else an `unknown_workflow` error naming the id
  /// (and the version).
  caf::expected<graph_ptr> find(const std::string& workflow_id,
                                const std::string& version = {}) const;

  /// Number of registered workflow versions.
  size_t size() const noexcept;

 private:
  struct versions {
    std::string latest;
    std::unordered_map<std::string, graph_ptr> graphs;
  };

  std::unordered_map<std::string, versions> workflows_;
};

/// The work nodes of `graph` that `handlers` cannot run, as "node 'x' has
/// kind 'y'" lines in rank order; empty when every node can run.
std::vector<std::string> missing_handlers(const workflow_graph& graph,
                                          const handler_registry& handlers);

} // namespace jamjet
