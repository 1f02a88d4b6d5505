#include "jamjet/core/scheduler_nodes.hpp"

#include "jamjet/core/condition.hpp"
#include "jamjet/core/retry.hpp"
#include "jamjet/messages/json_limits.hpp"
#include "jamjet/support/log.hpp"

namespace jamjet {

namespace {

using json = nlohmann::json;

std::string secs(uint64_t ms) {
  return ms % 1000 == 0 ? std::to_string(ms / 1000) + " s"
                        : std::to_string(ms) + " ms";
}

void disarm_current(const progress& prog, const std::string& node_id,
                    command& cmd) {
  auto n = prog.timers_of(node_id);
  if (n > 0 && !prog.newest_timer_fired(node_id))
    cmd.items.emplace_back(
      disarm_op{timer_item_id(cmd.execution_id, node_id, n)});
}

void complete(const graph_node& node, const json& output, const json& patch,
              command& cmd) {
  cmd.events.emplace_back(
    node_completed{node.id, output.dump(), patch.dump(), 0, std::string{}});
}

/// A failed attempt of waiting node `rank`: retried by the node's policy
/// (a new timer covering the retry delay and the wait) or terminal.
void fail_wait(const progress& prog, uint32_t rank, const std::string& error,
               const std::string& error_class, command& cmd) {
  auto& node = prog.graph().node(rank);
  auto attempt = prog.attempt_of(rank);
  bool retry = attempt < node.max_attempts &&
               retries_class(node.retry, error_class) &&
               node.spec.timeout_ms > 0;
  cmd.events.emplace_back(node_failed{node.id, error, attempt, retry});
  if (!retry)
    return;
  auto delay =
    retry_delay_ms(node.retry, attempt, cmd.execution_id + "/" + node.id);
  cmd.events.emplace_back(retry_scheduled{node.id, attempt + 1, delay});
  add_timer(cmd, node.id, node.spec.correlation_key,
            cmd.now_ms + static_cast<int64_t>(delay + node.spec.timeout_ms),
            prog.timers_of(node.id) + 1);
}

} // namespace

std::string timer_item_id(const std::string& execution_id,
                          const std::string& node_id, uint32_t n) {
  return execution_id + "/" + node_id + "#timer" + std::to_string(n);
}

void add_timer(command& cmd, const std::string& node_id,
               const std::optional<std::string>& key, int64_t fire_at_ms,
               uint32_t n) {
  caf::optional<std::string> k;
  if (key)
    k = *key;
  cmd.events.emplace_back(timer_created{node_id, fire_at_ms, k});
  work_item item;
  item.id = timer_item_id(cmd.execution_id, node_id, n);
  item.execution_id = cmd.execution_id;
  item.node_id = node_id;
  item.queue_type = timer_queue;
  item.payload =
    json{{"correlation_key", key ? json(*key) : json(nullptr)}}.dump();
  item.attempt = 1;
  item.max_attempts = 1;
  item.created_at_ms = cmd.now_ms;
  item.not_before_ms = fire_at_ms;
  cmd.items.emplace_back(enqueue_op{std::move(item)});
}

void plan_condition(const progress& prog, uint32_t rank, command& cmd) {
  auto& node = prog.graph().node(rank);
  json output = {{"branch", nullptr}, {"target", nullptr}};
  json problems = json::array();
  auto& branches = node.spec.branches;
  for (size_t i = 0; i < branches.size(); ++i) {
    bool taken = true;
    if (branches[i].condition) {
      std::string problem;
      taken = eval_condition(*branches[i].condition, prog.state(), &problem);
      if (!problem.empty()) {
        log()->warn("condition node '{}' branch {}: malformed condition, "
                    "taken as false: {}",
                    node.id, i, problem);
        problems.push_back({{"branch", i}, {"problem", problem}});
      }
    }
    if (taken) {
      output["branch"] = i;
      output["target"] = branches[i].target;
      break;
    }
  }
  if (!problems.empty())
    output["problems"] = std::move(problems);
  complete(node, output, json::object(), cmd);
}

void plan_wait_start(const progress& prog, uint32_t rank, command& cmd) {
  auto& node = prog.graph().node(rank);
  cmd.events.emplace_back(node_scheduled{node.id, "scheduler"});
  if (node.spec.timeout_ms == 0)
    return;
  std::optional<std::string> key;
  if (node.spec.role == node_role::wait)
    key = node.spec.correlation_key;
  add_timer(cmd, node.id, key,
            cmd.now_ms + static_cast<int64_t>(node.spec.timeout_ms),
            prog.timers_of(node.id) + 1);
}

bool plan_wait_resolution(const progress& prog, uint32_t rank, command& cmd) {
  auto& node = prog.graph().node(rank);
  auto& spec = node.spec;
  bool fired = prog.newest_timer_fired(node.id) &&
               prog.timers_of(node.id) >= prog.attempt_of(rank);
  if (spec.role == node_role::wait) {
    if (spec.wait != wait_kind::timer)
      if (auto payload = prog.pending_event(spec.correlation_key)) {
        auto value = try_parse_bounded(*payload, json_limits::stored());
        if (value.is_discarded())
          value = nullptr;
        disarm_current(prog, node.id, cmd);
        complete(node, value, value.is_object() ? value : json::object(), cmd);
        return true;
      }
    if (!fired)
      return false;
    switch (spec.wait) {
      case wait_kind::timer:
        complete(node, {{"timer_fired", true}}, json::object(), cmd);
        break;
      case wait_kind::either:
        complete(node, {{"timed_out", true}}, json::object(), cmd);
        break;
      case wait_kind::external_event:
        fail_wait(prog, rank,
                  "no external event with key '" + spec.correlation_key +
                    "' within " + secs(spec.timeout_ms),
                  "timeout", cmd);
        break;
    }
    return true;
  }
  if (spec.role != node_role::approval)
    return false;
  auto routed_or_failed = [&](json output, const std::string& error) {
    if (spec.fallback) {
      complete(node, output, json::object(), cmd);
    } else {
      cmd.events.emplace_back(
        node_failed{node.id, error, prog.attempt_of(rank), false});
    }
  };
  if (auto d = prog.decision(rank)) {
    disarm_current(prog, node.id, cmd);
    json output = {{"approved", d->approved},
                   {"user_id", d->user_id},
                   {"comment", d->comment ? json(*d->comment) : json(nullptr)}};
    if (d->approved) {
      auto patch = try_parse_bounded(d->state_patch, json_limits::stored());
      complete(node, output, patch.is_object() ? patch : json::object(), cmd);
    } else {
      routed_or_failed(output, "rejected by '" + d->user_id + "'" +
                                 (d->comment ? ": " + *d->comment : ""));
    }
    return true;
  }
  if (!fired)
    return false;
  routed_or_failed({{"approved", false}, {"timed_out", true}},
                   "no approval within " + secs(spec.timeout_ms));
  return true;
}

std::vector<std::string> open_timer_ids(const progress& prog,
                                        const std::string& execution_id) {
  std::vector<std::string> result;
  for (auto& [node, t] : prog.timers())
    if (t.first > 0 && !t.second)
      result.push_back(timer_item_id(execution_id, node, t.first));
  return result;
}

} // namespace jamjet
