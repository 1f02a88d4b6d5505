#include "jamjet/core/unknown_fields.hpp"

#include <algorithm>

#include "jamjet/support/suggest.hpp"

namespace jamjet {

namespace {

using json = nlohmann::json;
using names = std::vector<std::string>;

// The schemas, as JamJet writes them (its `WorkflowIr`, `NodeDef`,
// `EdgeDef`, `RetryPolicy`, `TimeoutConfig` and `NodeKind` variants) and as
// this runtime reads them.

const names top_level_fields{
  "workflow_id", "version",        "start_node", "nodes",
  "edges",       "retry_policies", "timeouts",   "name",
  "description", "state_schema",   "models",     "tools",
  "mcp_servers", "remote_agents",  "labels",     "strategy_metadata"};

const names node_fields{
  "id", "kind", "retry_policy", "node_timeout_secs", "description", "labels"};

const names edge_fields{"from", "to", "condition"};

const names policy_fields{"max_attempts", "backoff", "initial_delay",
                          "max_delay",    "jitter",  "retryable_on"};

const names timeout_fields{"node_timeout", "workflow_timeout",
                           "heartbeat_interval", "approval_timeout"};

const names branch_fields{"condition", "target"};

/// The fields of the kinds this runtime executes itself; null for others.
const names* kind_fields(const std::string& type) {
  static const names noop{"type", "state_patch"};
  static const names command{"type", "argv"};
  static const names condition{"type", "branches", "expression"};
  static const names wait{"type", "condition", "correlation_key",
                          "timeout_secs"};
  static const names approval{"type", "description", "timeout_secs",
                              "fallback_node"};
  if (type == "noop")
    return &noop;
  if (type == "command")
    return &command;
  if (type == "condition")
    return &condition;
  if (type == "wait")
    return &wait;
  if (type == "human_approval")
    return &approval;
  return nullptr;
}

/// "unknown field 'x' <where>; did you mean 'y'?" for each member of `obj`
/// not in `known`.
void check(const json& obj, const names& known, const std::string& where,
           std::vector<std::string>& out) {
  if (!obj.is_object())
    return;
  for (auto i = obj.begin(); i != obj.end(); ++i) {
    if (std::find(known.begin(), known.end(), i.key()) != known.end())
      continue;
    auto msg = "unknown field '" + i.key() + "' " + where;
    if (auto near = nearest_name(i.key(), known))
      msg += "; did you mean '" + *near + "'?";
    out.push_back(std::move(msg));
  }
}

} // namespace

std::vector<std::string> unknown_field_warnings(const workflow_ir& ir) {
  std::vector<std::string> out;
  check(ir.extra, top_level_fields, "at the top level", out);
  check(ir.timeouts, timeout_fields, "in timeouts", out);
  for (const auto& [name, policy] : ir.retry_policies)
    check(policy.extra, policy_fields, "in retry policy '" + name + "'", out);
  for (const auto& [key, node] : ir.nodes) {
    check(node.extra, node_fields, "on node '" + key + "'", out);
    auto* known = kind_fields(node.kind_type);
    if (known == nullptr)
      continue;
    auto where = "in the kind of node '" + key + "' (" + node.kind_type + ")";
    check(node.kind, *known, where, out);
    if (node.kind_type != "condition")
      continue;
    auto branches = node.kind.find("branches");
    if (branches == node.kind.end() || !branches->is_array())
      continue;
    for (size_t i = 0; i < branches->size(); ++i)
      check((*branches)[i], branch_fields,
            "in branch " + std::to_string(i) + " of condition node '" + key +
              "'",
            out);
  }
  for (size_t i = 0; i < ir.edges.size(); ++i) {
    const auto& e = ir.edges[i];
    check(e.extra, edge_fields,
          "on edges[" + std::to_string(i) + "] (" + e.from + " -> " + e.to +
            ")",
          out);
  }
  return out;
}

} // namespace jamjet
