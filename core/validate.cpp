#include "jamjet/core/validate.hpp"

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <string_view>
#include <unordered_map>

#include "jamjet/core/condition.hpp"
#include "jamjet/core/node_spec.hpp"
#include "jamjet/messages/error.hpp"

namespace jamjet {

namespace {

/// Longest list of ids spelled out in one message.
constexpr size_t max_listed = 50;

/// Marks an unset entry in the index vectors below.
constexpr uint32_t none = UINT32_MAX;

std::string quote_id(std::string_view id) {
  std::string result;
  result.reserve(id.size() + 2);
  result += '\'';
  result += id;
  result += '\'';
  return result;
}

/// "'a', 'b' and 'c'", shortened to `max_listed` ids.
std::string id_list(const std::vector<std::string_view>& ids) {
  std::string result;
  auto shown = std::min(ids.size(), max_listed);
  for (size_t i = 0; i < shown; ++i) {
    if (i > 0)
      result += (i + 1 == ids.size()) ? " and " : ", ";
    result += quote_id(ids[i]);
  }
  if (shown < ids.size())
    result += " and " + std::to_string(ids.size() - shown) + " more";
  return result;
}

/// "a -> b -> c -> a" for the cycle a, b, c; long cycles are shortened.
std::string cycle_path(const std::vector<std::string_view>& cycle) {
  std::string result;
  auto append = [&](std::string_view id) {
    if (!result.empty())
      result += " -> ";
    result += id;
  };
  if (cycle.size() <= max_listed) {
    for (auto id : cycle)
      append(id);
  } else {
    auto head = max_listed / 2;
    auto tail = max_listed - head;
    for (size_t i = 0; i < head; ++i)
      append(cycle[i]);
    append("... (" + std::to_string(cycle.size() - max_listed) + " more)");
    for (size_t i = cycle.size() - tail; i < cycle.size(); ++i)
      append(cycle[i]);
  }
  append(cycle.front());
  return result;
}

/// The nodes of an IR as dense indices (in the order of `ir.nodes`) and the
/// edges between known nodes as adjacency lists.
struct graph {
  std::vector<std::string_view> names;
  std::unordered_map<std::string_view, uint32_t> index;
  std::vector<std::vector<uint32_t>> successors;

  explicit graph(const workflow_ir& ir) {
    names.reserve(ir.nodes.size());
    index.reserve(ir.nodes.size());
    for (const auto& entry : ir.nodes) {
      index.emplace(entry.first, static_cast<uint32_t>(names.size()));
      names.emplace_back(entry.first);
    }
    successors.resize(names.size());
  }

  uint32_t find(std::string_view id) const {
    auto i = index.find(id);
    return i == index.end() ? none : i->second;
  }

  size_t size() const { return names.size(); }
};

/// Strongly connected components (Tarjan), without recursion. Returns the
/// component of each node; components with a cycle are listed in `cyclic`.
std::vector<uint32_t> components(const graph& g,
                                 std::vector<std::vector<uint32_t>>& cyclic) {
  auto n = g.size();
  std::vector<uint32_t> order(n, none);
  std::vector<uint32_t> low(n, 0);
  std::vector<uint32_t> component(n, none);
  std::vector<bool> on_stack(n, false);
  std::vector<uint32_t> stack;
  struct frame {
    uint32_t node;
    size_t next;
  };
  std::vector<frame> calls;
  uint32_t counter = 0;
  uint32_t components_found = 0;
  auto enter = [&](uint32_t v) {
    order[v] = low[v] = counter++;
    stack.push_back(v);
    on_stack[v] = true;
    calls.push_back(frame{v, 0});
  };
  for (uint32_t root = 0; root < n; ++root) {
    if (order[root] != none)
      continue;
    enter(root);
    while (!calls.empty()) {
      auto v = calls.back().node;
      const auto& next = g.successors[v];
      if (calls.back().next < next.size()) {
        auto w = next[calls.back().next++];
        if (order[w] == none)
          enter(w);
        else if (on_stack[w])
          low[v] = std::min(low[v], order[w]);
        continue;
      }
      calls.pop_back();
      if (!calls.empty()) {
        auto parent = calls.back().node;
        low[parent] = std::min(low[parent], low[v]);
      }
      if (low[v] != order[v])
        continue;
      std::vector<uint32_t> members;
      uint32_t w;
      do {
        w = stack.back();
        stack.pop_back();
        on_stack[w] = false;
        component[w] = components_found;
        members.push_back(w);
      } while (w != v);
      bool has_cycle = members.size() > 1 ||
                       std::find(next.begin(), next.end(), v) != next.end();
      if (has_cycle)
        cyclic.push_back(std::move(members));
      ++components_found;
    }
  }
  return component;
}

/// A shortest cycle through `start` inside its component (breadth first).
/// `parent` is scratch space of size n, untouched for this component so far.
std::vector<std::string_view>
cycle_through(const graph& g, const std::vector<uint32_t>& component,
              std::vector<uint32_t>& parent, uint32_t start) {
  std::vector<uint32_t> queue{start};
  parent[start] = start;
  for (size_t head = 0; head < queue.size(); ++head) {
    auto u = queue[head];
    for (auto w : g.successors[u]) {
      if (component[w] != component[start])
        continue;
      if (w == start) {
        std::vector<std::string_view> result;
        for (auto v = u; v != start; v = parent[v])
          result.push_back(g.names[v]);
        result.push_back(g.names[start]);
        std::reverse(result.begin(), result.end());
        return result;
      }
      if (parent[w] == none) {
        parent[w] = u;
        queue.push_back(w);
      }
    }
  }
  return {}; // Unreachable for a cyclic component.
}

void check_start(const workflow_ir& ir, std::vector<std::string>& problems) {
  if (ir.nodes.empty())
    problems.emplace_back("the workflow has no nodes");
  if (ir.start_node.empty())
    problems.emplace_back("start_node is missing or empty");
  else if (ir.nodes.count(ir.start_node) == 0)
    problems.emplace_back("start_node " + quote_id(ir.start_node) +
                          " names no node of the workflow");
}

void check_ids(const workflow_ir& ir, std::vector<std::string>& problems) {
  for (const auto& [key, node] : ir.nodes) {
    if (key == end_node)
      problems.emplace_back("node " + quote_id(key) +
                            " uses the name reserved for the sink");
    if (node.id != key)
      problems.emplace_back("node " + quote_id(key) + " has id " +
                            quote_id(node.id) +
                            ", which differs from its key in nodes");
  }
}

/// Checks the edges and adds those between known nodes to `g`.
void check_edges(const workflow_ir& ir, graph& g,
                 std::vector<std::string>& problems) {
  for (size_t i = 0; i < ir.edges.size(); ++i) {
    const auto& edge = ir.edges[i];
    auto name =
      "edges[" + std::to_string(i) + "] (" + edge.from + " -> " + edge.to + ")";
    auto from = none;
    if (edge.from == end_node) {
      problems.emplace_back(name + " leaves " + quote_id(end_node) +
                            ", the sink, which has no outgoing edges");
    } else {
      from = g.find(edge.from);
      if (from == none)
        problems.emplace_back(name + " comes from unknown node " +
                              quote_id(edge.from));
    }
    auto to = none;
    if (edge.to != end_node) {
      to = g.find(edge.to);
      if (to == none)
        problems.emplace_back(name + " leads to unknown node " +
                              quote_id(edge.to));
    }
    if (from != none && to != none)
      g.successors[from].push_back(to);
  }
}

void check_cycles(const graph& g, std::vector<std::string>& problems) {
  std::vector<std::vector<uint32_t>> cyclic;
  auto component = components(g, cyclic);
  if (cyclic.empty())
    return;
  // Report each cyclic component once, through its first node by key order.
  std::vector<uint32_t> starts;
  for (const auto& members : cyclic)
    starts.push_back(*std::min_element(members.begin(), members.end()));
  std::sort(starts.begin(), starts.end());
  std::vector<uint32_t> parent(g.size(), none);
  for (auto start : starts) {
    auto cycle = cycle_through(g, component, parent, start);
    problems.emplace_back("the graph has a cycle: " + cycle_path(cycle));
  }
}

void check_reachable(const workflow_ir& ir, const graph& g,
                     std::vector<std::string>& problems) {
  auto start = g.find(ir.start_node);
  if (start == none)
    return; // Already reported; everything would be unreachable.
  std::vector<bool> seen(g.size(), false);
  std::vector<uint32_t> todo{start};
  seen[start] = true;
  while (!todo.empty()) {
    auto u = todo.back();
    todo.pop_back();
    for (auto w : g.successors[u]) {
      if (!seen[w]) {
        seen[w] = true;
        todo.push_back(w);
      }
    }
  }
  std::vector<std::string_view> unreachable;
  for (size_t i = 0; i < g.size(); ++i)
    if (!seen[i])
      unreachable.push_back(g.names[i]);
  if (unreachable.empty())
    return;
  auto what = unreachable.size() == 1 ? "node " : "nodes ";
  problems.emplace_back(
    what + id_list(unreachable) + (unreachable.size() == 1 ? " is" : " are") +
    " unreachable from start node " + quote_id(ir.start_node));
}

void check_policies(const workflow_ir& ir, std::vector<std::string>& problems) {
  for (const auto& [key, node] : ir.nodes) {
    if (!node.retry_policy)
      continue;
    const auto& name = *node.retry_policy;
    if (ir.retry_policies.count(name) == 0 && !builtin_retry_policy(name))
      problems.emplace_back("node " + quote_id(key) + " names retry policy " +
                            quote_id(name) +
                            ", which is neither defined in retry_policies"
                            " nor built in (no_retry, io_default,"
                            " llm_default)");
  }
}

/// Whether the IR has an edge `from` -> `to`.
bool has_edge(const workflow_ir& ir, const std::string& from,
              const std::string& to) {
  for (const auto& e : ir.edges)
    if (e.from == from && e.to == to)
      return true;
  return false;
}

/// Checks what the scheduler reads from node kinds and `timeouts`: every
/// branch target and fallback node must exist and be joined to its node by
/// an edge (routing follows edges).
void check_kinds(const workflow_ir& ir, std::vector<std::string>& problems) {
  read_timeouts(ir.timeouts, problems);
  auto check_target = [&](const std::string& what, const std::string& from,
                          const std::string& to) {
    if (to == end_node)
      return;
    if (ir.nodes.count(to) == 0)
      problems.emplace_back(what + " names unknown node " + quote_id(to));
    else if (!has_edge(ir, from, to))
      problems.emplace_back(what + " names node " + quote_id(to) +
                            ", but there is no edge " + quote_id(from) +
                            " -> " + quote_id(to));
  };
  for (const auto& [key, node] : ir.nodes) {
    auto spec = read_node_spec(node, problems);
    for (size_t i = 0; i < spec.branches.size(); ++i)
      check_target("condition node " + quote_id(key) + " branch " +
                     std::to_string(i) + " target",
                   key, spec.branches[i].target);
    if (spec.fallback)
      check_target("human_approval node " + quote_id(key) + " fallback_node",
                   key, *spec.fallback);
  }
}

} // namespace

std::vector<std::string> validate(const workflow_ir& ir) {
  std::vector<std::string> problems;
  check_start(ir, problems);
  check_ids(ir, problems);
  graph g{ir};
  check_edges(ir, g, problems);
  check_cycles(g, problems);
  check_reachable(ir, g, problems);
  check_policies(ir, problems);
  check_kinds(ir, problems);
  return problems;
}

std::vector<std::string> warnings(const workflow_ir& ir) {
  std::vector<std::string> result;
  std::vector<std::string> ignored;
  for (const auto& [key, node] : ir.nodes) {
    auto spec = read_node_spec(node, ignored);
    for (size_t i = 0; i < spec.branches.size(); ++i)
      if (spec.branches[i].condition)
        if (auto why = condition_problem(*spec.branches[i].condition))
          result.emplace_back("condition node " + quote_id(key) + " branch " +
                              std::to_string(i) +
                              " has a malformed condition, which is always "
                              "false: " +
                              *why);
  }
  for (size_t i = 0; i < ir.edges.size(); ++i)
    if (ir.edges[i].condition)
      if (auto why = condition_problem(*ir.edges[i].condition))
        result.emplace_back("edges[" + std::to_string(i) + "] (" +
                            ir.edges[i].from + " -> " + ir.edges[i].to +
                            ") has a malformed condition, which is always "
                            "false: " +
                            *why);
  return result;
}

void check_valid(const workflow_ir& ir) {
  auto problems = validate(ir);
  if (problems.empty())
    return;
  std::string msg = "workflow " + quote_id(ir.workflow_id) + " is invalid:";
  for (const auto& problem : problems) {
    msg += "\n  - ";
    msg += problem;
  }
  throw error(error_code::invalid_workflow, msg);
}

} // namespace jamjet
