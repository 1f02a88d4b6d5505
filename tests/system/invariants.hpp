#pragma once

// Checks of the runtime's promises (design, section 3) on the committed event
// log of one execution, for tests that know the graph they ran.
//
// Everything here is computed from the test's own description of the graph,
// never from the runtime's compiled graph, so a check cannot inherit a bug of
// the code under test. Header-only: the test build compiles every
// `*_test.cpp` and nothing else.

#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <queue>
#include <set>
#include <sstream>
#include <string>
#include <unordered_map>
#include <vector>

#include <caf/sum_type.hpp>
#include <nlohmann/json.hpp>

#include "jamjet/messages/event.hpp"

namespace jamjet::invariants {

/// The queue type of a node kind, as the design's table says (section 4).
inline std::string expected_queue(const std::string& kind) {
  if (kind == "model")
    return "model";
  if (kind == "tool" || kind == "mcp_tool" || kind == "a2a_task" ||
      kind == "finalizer")
    return "tool";
  if (kind == "python_fn")
    return "python_tool";
  if (kind == "memory_retrieval")
    return "retrieval";
  return "general";
}

/// Attempts of a node with a built-in retry policy (or none). Tests name
/// policies of their own "attempts_N" for N attempts.
inline uint32_t
expected_max_attempts(const std::optional<std::string>& policy) {
  if (!policy)
    return 3;
  if (*policy == "no_retry")
    return 1;
  if (policy->rfind("attempts_", 0) == 0)
    return static_cast<uint32_t>(std::stoul(policy->substr(9)));
  return 3; // io_default, llm_default and unknown names
}

/// Delay before attempt `failed + 1` when a node names no retry policy.
inline uint64_t default_delay_ms(uint32_t failed) {
  uint32_t shift = failed == 0 ? 0 : failed - 1;
  if (shift > 6)
    shift = 6;
  return (uint64_t{1} << shift) * 1000;
}

/// A DAG as the test built it. Node indices are the test's own numbering.
struct dag {
  std::vector<std::string> ids;
  std::vector<std::string> kinds;
  std::vector<std::optional<std::string>> policies;
  std::vector<std::vector<size_t>> preds;
  std::vector<std::vector<size_t>> succs;
  std::unordered_map<std::string, size_t> index;

  size_t size() const noexcept { return ids.size(); }

  size_t add_node(std::string id, std::string kind,
                  std::optional<std::string> policy = std::nullopt) {
    auto v = ids.size();
    index.emplace(id, v);
    ids.push_back(std::move(id));
    kinds.push_back(std::move(kind));
    policies.push_back(std::move(policy));
    preds.emplace_back();
    succs.emplace_back();
    return v;
  }

  void add_edge(size_t from, size_t to) {
    preds[to].push_back(from);
    succs[from].push_back(to);
  }

  std::optional<size_t> find(const std::string& id) const {
    auto i = index.find(id);
    if (i == index.end())
      return std::nullopt;
    return i->second;
  }

  /// Every node reachable from `v`, `v` excluded.
  std::set<size_t> descendants(size_t v) const {
    std::set<size_t> seen;
    std::vector<size_t> todo{v};
    while (!todo.empty()) {
      auto u = todo.back();
      todo.pop_back();
      for (auto s : succs[u])
        if (seen.insert(s).second)
          todo.push_back(s);
    }
    return seen;
  }
};

/// Kahn's algorithm with a min-heap on node id: the order in which a runtime
/// limited to one node in flight must schedule the nodes.
inline std::vector<std::string> kahn_order(const dag& g) {
  std::vector<size_t> missing(g.size());
  using entry = std::pair<std::string, size_t>;
  std::priority_queue<entry, std::vector<entry>, std::greater<entry>> ready;
  for (size_t v = 0; v < g.size(); ++v) {
    std::set<size_t> distinct(g.preds[v].begin(), g.preds[v].end());
    missing[v] = distinct.size();
    if (missing[v] == 0)
      ready.emplace(g.ids[v], v);
  }
  std::vector<std::string> order;
  order.reserve(g.size());
  while (!ready.empty()) {
    auto v = ready.top().second;
    ready.pop();
    order.push_back(g.ids[v]);
    std::set<size_t> distinct(g.succs[v].begin(), g.succs[v].end());
    for (auto s : distinct)
      if (--missing[s] == 0)
        ready.emplace(g.ids[s], s);
  }
  return order;
}

/// How the execution is expected to end.
enum class ending { completed, failed };

/// What the test knows about one execution.
struct expectation {
  std::string execution_id;
  std::string workflow_id;
  std::string version;
  nlohmann::json input = nlohmann::json::object();
  ending end = ending::completed;
  /// The per-execution cap on nodes in flight; 0: not checked.
  size_t max_in_flight = 0;
};

/// What one node went through, according to the log.
struct node_trace {
  /// Sequence numbers; 0 when there is no such event.
  uint64_t scheduled = 0;
  uint64_t completed = 0;
  uint64_t terminal_failure = 0;
  uint64_t cancelled = 0;
  /// Attempts of its node_started events, in log order.
  std::vector<uint32_t> started;
  /// Attempts that failed retryably, in log order.
  std::vector<uint32_t> retried;
  /// The state patch of its node_completed.
  nlohmann::json patch;
};

/// The outcome of `check_log`.
struct report {
  std::vector<std::string> violations;
  std::vector<node_trace> nodes;
  /// Node ids in the order of their node_scheduled events.
  std::vector<std::string> schedule_order;
  /// The input merged with every node_completed patch in sequence order.
  nlohmann::json folded = nlohmann::json::object();
  /// workflow_completed.final_state, parsed.
  std::optional<nlohmann::json> final_state;
  /// workflow_failed.error.
  std::optional<std::string> failure;
  /// The first node with a terminal node_failed.
  std::optional<size_t> first_failed;
  /// The largest number of nodes in flight at any point of the log.
  size_t peak_in_flight = 0;
};

namespace detail {

enum class phase {
  unscheduled,
  queued,
  running,
  retry_wait,
  completed,
  failed,
  cancelled
};

inline const char* to_string(phase x) {
  switch (x) {
    case phase::unscheduled:
      return "unscheduled";
    case phase::queued:
      return "scheduled";
    case phase::running:
      return "started";
    case phase::retry_wait:
      return "failed retryably";
    case phase::completed:
      return "completed";
    case phase::failed:
      return "terminally failed";
    case phase::cancelled:
      return "cancelled";
  }
  return "?";
}

} // namespace detail

/// Checks promises 1, 2, 4, 5 and 6 of the design (and the state rules of
/// section 4) on the log `log` of one execution of `g`:
/// - sequences are exactly 1..n, one execution id, distinct event ids;
///   workflow_started first with the expected workflow and input, one
///   terminal event, last, of the expected kind;
/// - each node: scheduled at most once (exactly once and completed exactly
///   once when the execution completed), then started / failed / retried /
///   completed in that order with attempts 1, 2, ... up to its maximum; a
///   retryable node_failed is followed at once by retry_scheduled for the next
///   attempt (one atomic command), with the default delay when the node names
///   no policy, and the next node_started comes no earlier than that delay;
/// - a node is scheduled only after every predecessor completed;
/// - nodes in flight never exceed the cap;
/// - workflow_completed.final_state is the input merged with the patches in
///   sequence order; workflow_failed names the first terminally failed node,
///   nothing is left in flight, no descendant of a failed node was scheduled.
inline report check_log(const dag& g, const std::vector<event>& log,
                        const expectation& x) {
  using detail::phase;
  report r;
  r.nodes.resize(g.size());
  constexpr size_t max_violations = 40;
  auto violation = [&](const std::string& msg) {
    if (r.violations.size() < max_violations)
      r.violations.push_back(msg);
    else if (r.violations.size() == max_violations)
      r.violations.push_back("... (more violations left out)");
  };
  auto at = [](const event& e) {
    return "seq " + std::to_string(e.sequence) + " (" + type_name_of(e.kind) +
           (node_id_of(e.kind).empty() ? "" : " '" + node_id_of(e.kind) + "'") +
           ")";
  };
  if (log.empty()) {
    violation("the log is empty");
    return r;
  }
  std::vector<phase> ph(g.size(), phase::unscheduled);
  std::vector<uint32_t> attempt(g.size(), 0);
  std::vector<uint32_t> max_attempts(g.size());
  for (size_t v = 0; v < g.size(); ++v)
    max_attempts[v] = expected_max_attempts(g.policies[v]);
  /// Earliest allowed start of each node's next attempt (ms), 0 = any.
  std::vector<int64_t> not_before(g.size(), 0);
  std::set<std::string> event_ids;
  size_t in_flight = 0;
  bool ended = false;
  for (size_t i = 0; i < log.size(); ++i) {
    auto& e = log[i];
    if (e.sequence != i + 1)
      violation("event " + std::to_string(i + 1) + " of the log has sequence " +
                std::to_string(e.sequence));
    if (e.execution_id != x.execution_id)
      violation(at(e) + " belongs to execution '" + e.execution_id + "'");
    if (!event_ids.insert(e.id).second)
      violation(at(e) + " repeats event id '" + e.id + "'");
    if (ended)
      violation(at(e) + " comes after the terminal event");
    if (i == 0 && !caf::holds_alternative<workflow_started>(e.kind))
      violation("the first event is " + at(e) + ", not workflow_started");
    if (is_terminal(e.kind))
      ended = true;
    // Node events.
    auto node_id = node_id_of(e.kind);
    std::optional<size_t> v;
    if (!node_id.empty()) {
      v = g.find(node_id);
      if (!v) {
        violation(at(e) + " names a node the graph does not have");
        continue;
      }
    }
    auto wrong_phase = [&](const char* expected) {
      violation(at(e) + " while the node is " + detail::to_string(ph[*v]) +
                "; expected it " + expected);
    };
    if (auto ws = caf::get_if<workflow_started>(&e.kind)) {
      if (i != 0)
        violation(at(e) + ": workflow_started is not the first event");
      if (ws->workflow_id != x.workflow_id || ws->workflow_version != x.version)
        violation(at(e) + " names workflow '" + ws->workflow_id + "@" +
                  ws->workflow_version + "'");
      auto input = nlohmann::json::parse(ws->initial_input, nullptr, false);
      if (input != x.input)
        violation(at(e) + " has input " + ws->initial_input);
      if (i == 0)
        r.folded = input.is_object() ? input : nlohmann::json::object();
    } else if (auto ns = caf::get_if<node_scheduled>(&e.kind)) {
      if (ph[*v] != phase::unscheduled) {
        wrong_phase("never scheduled before");
        continue;
      }
      for (auto p : g.preds[*v])
        if (ph[p] != phase::completed)
          violation(at(e) + " although its predecessor '" + g.ids[p] + "' is " +
                    detail::to_string(ph[p]));
      if (ns->queue_type != expected_queue(g.kinds[*v]))
        violation(at(e) + " on queue '" + ns->queue_type + "' for kind '" +
                  g.kinds[*v] + "'");
      ph[*v] = phase::queued;
      attempt[*v] = 1;
      r.nodes[*v].scheduled = e.sequence;
      r.schedule_order.push_back(node_id);
      ++in_flight;
      if (in_flight > r.peak_in_flight)
        r.peak_in_flight = in_flight;
      if (x.max_in_flight > 0 && in_flight > x.max_in_flight)
        violation(at(e) + " makes " + std::to_string(in_flight) +
                  " nodes in flight; the cap is " +
                  std::to_string(x.max_in_flight));
    } else if (auto nst = caf::get_if<node_started>(&e.kind)) {
      if (ph[*v] != phase::queued) {
        wrong_phase("scheduled or retried");
        continue;
      }
      if (nst->attempt != attempt[*v])
        violation(at(e) + " has attempt " + std::to_string(nst->attempt) +
                  "; expected " + std::to_string(attempt[*v]));
      if (nst->attempt > max_attempts[*v])
        violation(at(e) + " has attempt " + std::to_string(nst->attempt) +
                  " beyond the node's " + std::to_string(max_attempts[*v]));
      if (nst->worker_id.empty())
        violation(at(e) + " names no worker");
      if (not_before[*v] != 0 && e.created_at_ms < not_before[*v])
        violation(at(e) + " at " + std::to_string(e.created_at_ms) +
                  " ms, before its retry delay ended at " +
                  std::to_string(not_before[*v]) + " ms");
      r.nodes[*v].started.push_back(nst->attempt);
      ph[*v] = phase::running;
    } else if (auto nc = caf::get_if<node_completed>(&e.kind)) {
      if (ph[*v] != phase::running) {
        wrong_phase("started");
        continue;
      }
      ph[*v] = phase::completed;
      --in_flight;
      r.nodes[*v].completed = e.sequence;
      auto patch = nlohmann::json::parse(nc->state_patch, nullptr, false);
      if (patch.is_discarded()) {
        violation(at(e) +
                  " has a state patch that is not JSON: " + nc->state_patch);
      } else {
        r.nodes[*v].patch = patch;
        r.folded.merge_patch(patch);
      }
    } else if (auto nf = caf::get_if<node_failed>(&e.kind)) {
      if (ph[*v] != phase::running) {
        wrong_phase("started");
        continue;
      }
      if (nf->attempt != attempt[*v])
        violation(at(e) + " has attempt " + std::to_string(nf->attempt) +
                  "; expected " + std::to_string(attempt[*v]));
      if (nf->retryable) {
        if (nf->attempt >= max_attempts[*v])
          violation(at(e) + " is retryable at attempt " +
                    std::to_string(nf->attempt) + " of " +
                    std::to_string(max_attempts[*v]));
        r.nodes[*v].retried.push_back(nf->attempt);
        ph[*v] = phase::retry_wait;
        // The retry must be in the same command: the very next event.
        auto next = i + 1 < log.size() ? &log[i + 1] : nullptr;
        auto rs = next ? caf::get_if<retry_scheduled>(&next->kind) : nullptr;
        if (!rs || rs->node_id != node_id)
          violation(at(e) + " is not followed at once by its retry_scheduled");
      } else {
        ph[*v] = phase::failed;
        --in_flight;
        r.nodes[*v].terminal_failure = e.sequence;
        if (!r.first_failed)
          r.first_failed = *v;
      }
    } else if (auto rsch = caf::get_if<retry_scheduled>(&e.kind)) {
      if (ph[*v] != phase::retry_wait) {
        wrong_phase("failed retryably");
        continue;
      }
      if (rsch->attempt != attempt[*v] + 1)
        violation(at(e) + " for attempt " + std::to_string(rsch->attempt) +
                  "; expected " + std::to_string(attempt[*v] + 1));
      if (!g.policies[*v] && rsch->delay_ms != default_delay_ms(attempt[*v]))
        violation(at(e) + " with delay " + std::to_string(rsch->delay_ms) +
                  " ms; expected " +
                  std::to_string(default_delay_ms(attempt[*v])));
      attempt[*v] = rsch->attempt;
      not_before[*v] = e.created_at_ms + static_cast<int64_t>(rsch->delay_ms);
      ph[*v] = phase::queued;
    } else if (caf::holds_alternative<node_cancelled>(e.kind)) {
      if (ph[*v] != phase::queued && ph[*v] != phase::running &&
          ph[*v] != phase::retry_wait) {
        wrong_phase("in flight");
        continue;
      }
      if (x.end == ending::completed)
        violation(at(e) + " in an execution expected to complete");
      ph[*v] = phase::cancelled;
      --in_flight;
      r.nodes[*v].cancelled = e.sequence;
    } else if (auto wc = caf::get_if<workflow_completed>(&e.kind)) {
      auto state = nlohmann::json::parse(wc->final_state, nullptr, false);
      if (state.is_discarded())
        violation(at(e) + ": final_state is not JSON");
      else
        r.final_state = state;
      if (state != r.folded)
        violation(at(e) + ": final_state differs from the input merged with "
                          "the state patches in sequence order");
    } else if (auto wf = caf::get_if<workflow_failed>(&e.kind)) {
      r.failure = wf->error;
      if (!r.first_failed)
        violation(at(e) + " without a terminal node_failed before it");
      else if (wf->error.find("'" + g.ids[*r.first_failed] + "'") ==
               std::string::npos)
        violation(at(e) + ": error '" + wf->error +
                  "' does not name the first failed node '" +
                  g.ids[*r.first_failed] + "'");
      if (in_flight != 0)
        violation(at(e) + " with " + std::to_string(in_flight) +
                  " nodes still in flight");
    } else {
      violation(at(e) + ": unexpected kind of event for this graph");
    }
  }
  auto& last = log.back().kind;
  bool ends_as_expected = x.end == ending::completed
                            ? caf::holds_alternative<workflow_completed>(last)
                            : caf::holds_alternative<workflow_failed>(last);
  if (!ends_as_expected)
    violation(
      "the last event is " + at(log.back()) + "; expected " +
      (x.end == ending::completed ? "workflow_completed" : "workflow_failed"));
  for (size_t v = 0; v < g.size(); ++v) {
    auto& id = g.ids[v];
    if (x.end == ending::completed && ph[v] != phase::completed)
      violation("node '" + id + "' is " + detail::to_string(ph[v]) +
                " at the end of a completed execution");
    if (ph[v] == phase::queued || ph[v] == phase::running ||
        ph[v] == phase::retry_wait)
      violation("node '" + id + "' is still " + detail::to_string(ph[v]) +
                " after the terminal event");
    if (ph[v] == phase::failed)
      for (auto d : g.descendants(v))
        if (r.nodes[d].scheduled != 0)
          violation("node '" + g.ids[d] + "' was scheduled although '" + id +
                    "', which it depends on, failed");
  }
  return r;
}

/// At most `limit` of `xs`, one a line.
inline std::string join_lines(const std::vector<std::string>& xs,
                              size_t limit = 20) {
  std::ostringstream out;
  for (size_t i = 0; i < xs.size() && i < limit; ++i)
    out << "\n  - " << xs[i];
  if (xs.size() > limit)
    out << "\n  ... and " << (xs.size() - limit) << " more";
  return out.str();
}

} // namespace jamjet::invariants
