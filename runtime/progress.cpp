#include "runtime/progress.hpp"

#include <algorithm>

#include "runtime/log.hpp"

namespace jamjet {

std::string to_string(node_state x) {
  switch (x) {
    case node_state::pending:
      return "pending";
    case node_state::scheduled:
      return "scheduled";
    case node_state::completed:
      return "completed";
    case node_state::failed:
      return "failed";
    case node_state::skipped:
      return "skipped";
    case node_state::cancelled:
      return "cancelled";
  }
  return "?";
}

std::string to_string(execution_phase x) {
  switch (x) {
    case execution_phase::created:
      return "created";
    case execution_phase::running:
      return "running";
    case execution_phase::completed:
      return "completed";
    case execution_phase::failed:
      return "failed";
    case execution_phase::cancelled:
      return "cancelled";
  }
  return "?";
}

progress::progress(graph_ptr graph)
  : graph_(std::move(graph)), nodes_(graph_->size(), node_state::pending),
    waiting_on_(graph_->size(), 0) {
  for (uint32_t r = 0; r < graph_->size(); ++r) {
    waiting_on_[r] = static_cast<uint32_t>(graph_->node(r).preds.size());
    if (waiting_on_[r] == 0)
      ready_.insert(r);
  }
}

int64_t progress::rank(const std::string& node_id) const {
  auto r = graph_->rank_of(node_id);
  if (r < 0)
    log()->warn("event names unknown node '{}' of workflow '{}'", node_id,
                graph_->workflow_id());
  return r;
}

void progress::settle(uint32_t r, node_state to) {
  auto from = nodes_[r];
  if (from == node_state::completed || from == node_state::skipped ||
      from == node_state::failed || from == node_state::cancelled)
    return; // settled once; later events change nothing
  if (from == node_state::scheduled)
    --in_flight_;
  else
    ready_.erase(r);
  nodes_[r] = to;
  if (to == node_state::completed || to == node_state::skipped) {
    ++done_;
    for (auto s : graph_->node(r).succs)
      if (--waiting_on_[s] == 0 && nodes_[s] == node_state::pending)
        ready_.insert(s);
  }
}

fold_status progress::fold(const event& e) {
  if (e.sequence <= last_seq_)
    return fold_status::duplicate;
  if (e.sequence != last_seq_ + 1)
    return fold_status::gap;
  last_seq_ = e.sequence;
  auto on = [this](auto& x) {
    using T = std::decay_t<decltype(x)>;
    if constexpr (std::is_same_v<T, workflow_started>) {
      phase_ = execution_phase::running;
      auto input = nlohmann::json::parse(x.initial_input, nullptr, false);
      state_ = input.is_object() ? std::move(input) : nlohmann::json::object();
    } else if constexpr (std::is_same_v<T, workflow_completed>) {
      phase_ = execution_phase::completed;
    } else if constexpr (std::is_same_v<T, workflow_failed>) {
      phase_ = execution_phase::failed;
    } else if constexpr (std::is_same_v<T, workflow_cancelled>) {
      phase_ = execution_phase::cancelled;
    } else if constexpr (std::is_same_v<T, node_scheduled>) {
      auto r = rank(x.node_id);
      if (r >= 0 && nodes_[r] == node_state::pending) {
        nodes_[r] = node_state::scheduled;
        ready_.erase(static_cast<uint32_t>(r));
        ++in_flight_;
      }
    } else if constexpr (std::is_same_v<T, node_completed>) {
      auto r = rank(x.node_id);
      if (r >= 0 && nodes_[r] != node_state::completed) {
        auto patch = nlohmann::json::parse(x.state_patch, nullptr, false);
        if (!patch.is_discarded() && !patch.is_null())
          state_.merge_patch(patch);
        settle(static_cast<uint32_t>(r), node_state::completed);
      }
    } else if constexpr (std::is_same_v<T, node_failed>) {
      auto r = rank(x.node_id);
      if (r >= 0 && !x.retryable && nodes_[r] != node_state::failed) {
        failures_.emplace_back(static_cast<uint32_t>(r),
                               "node '" + x.node_id + "' failed: " + x.error);
        settle(static_cast<uint32_t>(r), node_state::failed);
      }
    } else if constexpr (std::is_same_v<T, node_redriven>) {
      auto r = rank(x.node_id);
      if (r >= 0 && nodes_[r] == node_state::failed) {
        // Back in its queue: in flight again, and the execution with it.
        auto rank = static_cast<uint32_t>(r);
        nodes_[rank] = node_state::scheduled;
        ++in_flight_;
        failures_.erase(
          std::remove_if(failures_.begin(), failures_.end(),
                         [rank](auto& f) { return f.first == rank; }),
          failures_.end());
        phase_ = execution_phase::running;
      }
    } else if constexpr (std::is_same_v<T, node_skipped>) {
      auto r = rank(x.node_id);
      if (r >= 0)
        settle(static_cast<uint32_t>(r), node_state::skipped);
    } else if constexpr (std::is_same_v<T, node_cancelled>) {
      auto r = rank(x.node_id);
      if (r >= 0)
        settle(static_cast<uint32_t>(r), node_state::cancelled);
    }
    // node_started, retry_scheduled, timers, external events and opaque
    // kinds do not change which nodes are done.
  };
  caf::visit(on, const_cast<event_kind&>(e.kind));
  return fold_status::applied;
}

std::string progress::snapshot() const {
  return snapshot(state_.dump());
}

std::string progress::snapshot(const std::string& state_text) const {
  // Written by hand: it goes out with every scheduling command, and
  // nlohmann's dump costs tens of instructions per character of the node
  // string, which grows with the workflow.
  auto failures = nlohmann::json::array();
  for (auto& [rank, msg] : failures_)
    failures.push_back({rank, msg});
  std::string out;
  out.reserve(64 + nodes_.size() + state_text.size());
  out += "{\"seq\":";
  out += std::to_string(last_seq_);
  out += ",\"phase\":";
  out += std::to_string(static_cast<int>(phase_));
  out += ",\"nodes\":\"";
  for (auto x : nodes_)
    out += static_cast<char>('0' + static_cast<int>(x));
  out += "\",\"failures\":";
  out += failures.dump();
  out += ",\"state\":";
  out += state_text;
  out += '}';
  return out;
}

bool progress::restore(const std::string& snapshot) {
  auto j = nlohmann::json::parse(snapshot, nullptr, false);
  if (!j.is_object() || !j.contains("nodes") || !j["nodes"].is_string() ||
      !j.contains("seq") || !j["seq"].is_number_unsigned() ||
      !j.contains("phase") || !j["phase"].is_number_integer() ||
      !j.contains("state") || !j["state"].is_object() ||
      !j.contains("failures") || !j["failures"].is_array())
    return false;
  auto& nodes = j["nodes"].get_ref<const std::string&>();
  if (nodes.size() != graph_->size())
    return false;
  std::vector<node_state> states(nodes.size());
  for (size_t i = 0; i < nodes.size(); ++i) {
    auto v = nodes[i] - '0';
    if (v < 0 || v > static_cast<int>(node_state::cancelled))
      return false;
    states[i] = static_cast<node_state>(v);
  }
  auto phase = j["phase"].get<int>();
  if (phase < 0 || phase > static_cast<int>(execution_phase::cancelled))
    return false;
  std::vector<std::pair<uint32_t, std::string>> failures;
  for (auto& f : j["failures"]) {
    if (!f.is_array() || f.size() != 2 || !f[0].is_number_unsigned() ||
        !f[1].is_string() || f[0].get<uint32_t>() >= states.size())
      return false;
    failures.emplace_back(f[0].get<uint32_t>(), f[1].get<std::string>());
  }
  // Everything else follows from the node states.
  nodes_ = std::move(states);
  failures_ = std::move(failures);
  phase_ = static_cast<execution_phase>(phase);
  last_seq_ = j["seq"].get<uint64_t>();
  state_ = std::move(j["state"]);
  in_flight_ = 0;
  done_ = 0;
  ready_.clear();
  auto is_done = [](node_state x) {
    return x == node_state::completed || x == node_state::skipped;
  };
  for (uint32_t r = 0; r < nodes_.size(); ++r) {
    if (nodes_[r] == node_state::scheduled)
      ++in_flight_;
    if (is_done(nodes_[r]))
      ++done_;
    uint32_t waiting = 0;
    for (auto p : graph_->node(r).preds)
      if (!is_done(nodes_[p]))
        ++waiting;
    waiting_on_[r] = waiting;
    if (waiting == 0 && nodes_[r] == node_state::pending)
      ready_.insert(r);
  }
  return true;
}

std::optional<std::string> progress::failure() const {
  if (failures_.empty())
    return std::nullopt;
  return failures_.front().second;
}

std::vector<uint32_t>
progress::runnable(size_t limit, const std::set<uint32_t>& exclude) const {
  std::vector<uint32_t> result;
  for (auto r : ready_) {
    if (result.size() >= limit)
      break;
    if (exclude.count(r) == 0)
      result.push_back(r);
  }
  return result;
}

std::vector<uint32_t> progress::scheduled_nodes() const {
  std::vector<uint32_t> result;
  for (uint32_t r = 0; r < nodes_.size(); ++r)
    if (nodes_[r] == node_state::scheduled)
      result.push_back(r);
  return result;
}

} // namespace jamjet
