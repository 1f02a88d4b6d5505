#include "jamjet/core/progress.hpp"

#include <algorithm>

#include "jamjet/core/condition.hpp"
#include "jamjet/messages/json_limits.hpp"
#include "jamjet/support/enum_names.hpp"
#include "jamjet/support/log.hpp"

namespace jamjet {

constexpr enum_name_table<node_state, 6> node_state_names{{
  {node_state::pending, "pending"},
  {node_state::scheduled, "scheduled"},
  {node_state::completed, "completed"},
  {node_state::failed, "failed"},
  {node_state::skipped, "skipped"},
  {node_state::cancelled, "cancelled"},
}};

std::string to_string(node_state x) {
  return std::string{name_in(node_state_names, x, "?")};
}

constexpr enum_name_table<execution_phase, 5> phase_names{{
  {execution_phase::created, "created"},
  {execution_phase::running, "running"},
  {execution_phase::completed, "completed"},
  {execution_phase::failed, "failed"},
  {execution_phase::cancelled, "cancelled"},
}};

std::string to_string(execution_phase x) {
  return std::string{name_in(phase_names, x, "?")};
}

progress::progress(graph_ptr graph)
  : graph_(std::move(graph)), nodes_(graph_->size(), node_state::pending),
    edges_(graph_->edges().size(), edge_open) {
  recount();
}

void progress::recount() {
  auto n = graph_->size();
  undecided_in_.assign(n, 0);
  live_in_.assign(n, 0);
  ready_.clear();
  dead_ends_.clear();
  in_flight_ = 0;
  done_ = 0;
  auto& edges = graph_->edges();
  for (uint32_t e = 0; e < edges.size(); ++e) {
    if (edges[e].to == end_rank)
      continue;
    auto to = static_cast<uint32_t>(edges[e].to);
    if (edges_[e] == edge_open)
      ++undecided_in_[to];
    else if (edges_[e] == edge_live)
      ++live_in_[to];
  }
  for (uint32_t r = 0; r < n; ++r) {
    auto x = nodes_[r];
    if (x == node_state::scheduled)
      ++in_flight_;
    if (x == node_state::completed || x == node_state::skipped)
      ++done_;
    if (x != node_state::pending || undecided_in_[r] > 0)
      continue;
    if (live_in_[r] > 0 || graph_->node(r).in_edges.empty())
      ready_.insert(r);
    else
      dead_ends_.insert(r);
  }
}

int64_t progress::rank(const std::string& node_id) const {
  auto r = graph_->rank_of(node_id);
  if (r < 0)
    log()->warn("event names unknown node '{}' of workflow '{}'", node_id,
                graph_->workflow_id());
  return r;
}

void progress::decide(uint32_t e, bool is_live) {
  if (edges_[e] != edge_open)
    return;
  edges_[e] = is_live ? edge_live : edge_dead;
  auto to_rank = graph_->edges()[e].to;
  if (to_rank == end_rank)
    return;
  auto to = static_cast<uint32_t>(to_rank);
  --undecided_in_[to];
  if (is_live)
    ++live_in_[to];
  if (undecided_in_[to] > 0 || nodes_[to] != node_state::pending)
    return;
  if (live_in_[to] > 0)
    ready_.insert(to);
  else
    dead_ends_.insert(to);
}

void progress::decide_edges(uint32_t r, const std::string& output) {
  auto& node = graph_->node(r);
  auto& edges = graph_->edges();
  auto target_id = [&](uint32_t e) -> std::string {
    auto to = edges[e].to;
    return to == end_rank ? std::string{end_node}
                          : graph_->node(static_cast<uint32_t>(to)).id;
  };
  if (node.spec.role == node_role::condition) {
    // The branch taken is recorded in the output, so replays agree.
    auto out = try_parse_bounded(output, json_limits::stored());
    std::string target;
    if (out.is_object() && out.contains("target") && out["target"].is_string())
      target = out["target"].get<std::string>();
    for (auto e : node.out_edges)
      decide(e, !target.empty() && target_id(e) == target);
    return;
  }
  std::optional<bool> approved;
  if (node.spec.role == node_role::approval && node.spec.fallback) {
    auto out = try_parse_bounded(output, json_limits::stored());
    approved = !(out.is_object() && out.contains("approved") &&
                 out["approved"].is_boolean() && !out["approved"].get<bool>());
  }
  for (auto e : node.out_edges) {
    if (approved && (target_id(e) == *node.spec.fallback) == *approved) {
      decide(e, false);
      continue;
    }
    bool holds = true;
    if (edges[e].condition) {
      std::string problem;
      holds = eval_condition(*edges[e].condition, state_, &problem);
      if (!problem.empty())
        log()->warn("workflow '{}': condition of edge '{}' -> '{}' is "
                    "malformed, taken as false: {}",
                    graph_->workflow_id(), node.id, target_id(e), problem);
    }
    decide(e, holds);
  }
}

void progress::settle(uint32_t r, node_state to) {
  auto from = nodes_[r];
  if (from == node_state::completed || from == node_state::skipped ||
      from == node_state::failed || from == node_state::cancelled)
    return; // settled once; later events change nothing
  if (from == node_state::scheduled)
    --in_flight_;
  else {
    ready_.erase(r);
    dead_ends_.erase(r);
  }
  nodes_[r] = to;
  if (to == node_state::completed || to == node_state::skipped)
    ++done_;
  if (to == node_state::skipped)
    for (auto e : graph_->node(r).out_edges)
      decide(e, false);
}

fold_status progress::fold(const event& e) {
  if (e.sequence <= last_seq_)
    return fold_status::duplicate;
  if (e.sequence != last_seq_ + 1)
    return fold_status::gap;
  last_seq_ = e.sequence;
  e.kind.apply<void>([this](const auto& x) { on(x); });
  return fold_status::applied;
}

void progress::on(const workflow_started& x) {
  phase_ = execution_phase::running;
  auto input = try_parse_bounded(x.initial_input, json_limits::stored());
  state_ = input.is_object() ? std::move(input) : nlohmann::json::object();
}

void progress::on(const workflow_completed&) {
  phase_ = execution_phase::completed;
}

void progress::on(const workflow_failed&) {
  phase_ = execution_phase::failed;
}

void progress::on(const workflow_cancelled&) {
  phase_ = execution_phase::cancelled;
}

void progress::on(const node_scheduled& x) {
  auto r = rank(x.node_id);
  if (r >= 0 && nodes_[r] == node_state::pending) {
    nodes_[r] = node_state::scheduled;
    ready_.erase(static_cast<uint32_t>(r));
    ++in_flight_;
  }
}

void progress::on(const node_completed& x) {
  auto r = rank(x.node_id);
  if (r < 0 || nodes_[r] == node_state::completed ||
      nodes_[r] == node_state::skipped)
    return;
  auto rk = static_cast<uint32_t>(r);
  auto& node = graph_->node(rk);
  auto patch = try_parse_bounded(x.state_patch, json_limits::stored());
  if (!patch.is_discarded() && !patch.is_null())
    state_.merge_patch(patch);
  if (node.spec.role == node_role::wait) {
    // An event that arrived for it is consumed by its completion.
    auto i = inbox_.find(node.spec.correlation_key);
    if (i != inbox_.end() && node.spec.wait != wait_kind::timer) {
      i->second.pop_front();
      if (i->second.empty())
        inbox_.erase(i);
    }
  }
  decisions_.erase(rk);
  settle(rk, node_state::completed);
  decide_edges(rk, x.output);
}

void progress::on(const node_failed& x) {
  auto r = rank(x.node_id);
  if (r < 0 || nodes_[r] == node_state::failed)
    return;
  auto rk = static_cast<uint32_t>(r);
  decisions_.erase(rk);
  if (!x.retryable) {
    failures_.emplace_back(rk, "node '" + x.node_id + "' failed: " + x.error);
    settle(rk, node_state::failed);
  } else if (graph_->node(rk).spec.role != node_role::work) {
    ++retries_[rk];
  }
}

void progress::on(const node_redriven& x) {
  auto r = rank(x.node_id);
  if (r < 0 || nodes_[r] != node_state::failed)
    return;
  // Back in its queue: in flight again, and the execution with it.
  auto rk = static_cast<uint32_t>(r);
  nodes_[rk] = node_state::scheduled;
  ++in_flight_;
  failures_.erase(std::remove_if(failures_.begin(), failures_.end(),
                                 [rk](auto& f) { return f.first == rk; }),
                  failures_.end());
  phase_ = execution_phase::running;
}

void progress::on(const node_skipped& x) {
  auto r = rank(x.node_id);
  if (r >= 0)
    settle(static_cast<uint32_t>(r), node_state::skipped);
}

void progress::on(const node_cancelled& x) {
  auto r = rank(x.node_id);
  if (r >= 0)
    settle(static_cast<uint32_t>(r), node_state::cancelled);
}

void progress::on(const timer_created& x) {
  auto& t = timers_[x.node_id];
  ++t.first;
  t.second = false;
}

void progress::on(const timer_fired& x) {
  auto i = timers_.find(x.node_id);
  if (i != timers_.end())
    i->second.second = true;
}

void progress::on(const external_event_received& x) {
  inbox_[x.correlation_key].push_back(x.payload);
}

void progress::on(const approval_received& x) {
  auto r = rank(x.node_id);
  if (r >= 0 && nodes_[r] != node_state::completed &&
      nodes_[r] != node_state::failed)
    decisions_[static_cast<uint32_t>(r)] = approval_decision{
      x.decision == "approved", x.user_id,
      x.comment ? std::optional<std::string>{*x.comment} : std::nullopt,
      x.state_patch};
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
  out.reserve(80 + nodes_.size() + edges_.size() + state_text.size());
  out += "{\"seq\":";
  out += std::to_string(last_seq_);
  out += ",\"phase\":";
  out += std::to_string(static_cast<int>(phase_));
  out += ",\"nodes\":\"";
  for (auto x : nodes_)
    out += static_cast<char>('0' + static_cast<int>(x));
  out += "\",\"edges\":\"";
  out += edges_;
  out += "\",\"failures\":";
  out += failures.dump();
  if (!retries_.empty() || !timers_.empty() || !inbox_.empty() ||
      !decisions_.empty()) {
    nlohmann::json wait = nlohmann::json::object();
    for (auto& [r, n] : retries_)
      wait["retries"].push_back({r, n});
    for (auto& [node, t] : timers_)
      wait["timers"].push_back({node, t.first, t.second});
    for (auto& [key, payloads] : inbox_)
      wait["inbox"].push_back({key, payloads});
    for (auto& [r, d] : decisions_)
      wait["decisions"].push_back(
        {r, d.approved, d.user_id,
         d.comment ? nlohmann::json(*d.comment) : nlohmann::json(nullptr),
         d.state_patch});
    out += ",\"wait\":";
    out += wait.dump();
  }
  out += ",\"state\":";
  out += state_text;
  out += '}';
  return out;
}

namespace {

/// Reads the "wait" part of a snapshot; false when malformed.
bool restore_wait(const nlohmann::json& wait, size_t nodes,
                  std::map<uint32_t, uint32_t>& retries,
                  std::map<std::string, std::pair<uint32_t, bool>>& timers,
                  std::map<std::string, std::deque<std::string>>& inbox,
                  std::map<uint32_t, approval_decision>& decisions) {
  if (!wait.is_object())
    return false;
  auto rank_ok = [nodes](const nlohmann::json& x) {
    return x.is_number_unsigned() && x.get<uint64_t>() < nodes;
  };
  if (auto i = wait.find("retries"); i != wait.end())
    for (auto& r : *i) {
      if (!r.is_array() || r.size() != 2 || !rank_ok(r[0]) ||
          !r[1].is_number_unsigned())
        return false;
      retries[r[0].get<uint32_t>()] = r[1].get<uint32_t>();
    }
  if (auto i = wait.find("timers"); i != wait.end())
    for (auto& t : *i) {
      if (!t.is_array() || t.size() != 3 || !t[0].is_string() ||
          !t[1].is_number_unsigned() || !t[2].is_boolean())
        return false;
      timers[t[0].get<std::string>()] = {t[1].get<uint32_t>(),
                                         t[2].get<bool>()};
    }
  if (auto i = wait.find("inbox"); i != wait.end())
    for (auto& k : *i) {
      if (!k.is_array() || k.size() != 2 || !k[0].is_string() ||
          !k[1].is_array())
        return false;
      auto& q = inbox[k[0].get<std::string>()];
      for (auto& p : k[1]) {
        if (!p.is_string())
          return false;
        q.push_back(p.get<std::string>());
      }
    }
  if (auto i = wait.find("decisions"); i != wait.end())
    for (auto& d : *i) {
      if (!d.is_array() || d.size() != 5 || !rank_ok(d[0]) ||
          !d[1].is_boolean() || !d[2].is_string() || !d[4].is_string())
        return false;
      approval_decision x;
      x.approved = d[1].get<bool>();
      x.user_id = d[2].get<std::string>();
      if (d[3].is_string())
        x.comment = d[3].get<std::string>();
      x.state_patch = d[4].get<std::string>();
      decisions[d[0].get<uint32_t>()] = std::move(x);
    }
  return true;
}

} // namespace

bool progress::restore(const std::string& snapshot) {
  auto j = try_parse_bounded(snapshot, json_limits::stored());
  if (!j.is_object() || !j.contains("nodes") || !j["nodes"].is_string() ||
      (j.contains("edges") && !j["edges"].is_string()) || !j.contains("seq") ||
      !j["seq"].is_number_unsigned() || !j.contains("phase") ||
      !j["phase"].is_number_integer() || !j.contains("state") ||
      !j["state"].is_object() || !j.contains("failures") ||
      !j["failures"].is_array())
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
  std::string edges;
  if (j.contains("edges")) {
    edges = j["edges"].get<std::string>();
  } else {
    // Written before routing existed, when every edge of a completed node
    // was followed.
    for (auto& e : graph_->edges())
      edges += states[e.from] == node_state::completed ? edge_live
               : states[e.from] == node_state::skipped ? edge_dead
                                                       : edge_open;
  }
  if (edges.size() != graph_->edges().size() ||
      edges.find_first_not_of("012") != std::string::npos)
    return false;
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
  std::map<uint32_t, uint32_t> retries;
  std::map<std::string, std::pair<uint32_t, bool>> timers;
  std::map<std::string, std::deque<std::string>> inbox;
  std::map<uint32_t, approval_decision> decisions;
  if (j.contains("wait") && !restore_wait(j["wait"], states.size(), retries,
                                          timers, inbox, decisions))
    return false;
  // Everything else follows from the node and edge states.
  nodes_ = std::move(states);
  edges_ = edges;
  failures_ = std::move(failures);
  retries_ = std::move(retries);
  timers_ = std::move(timers);
  inbox_ = std::move(inbox);
  decisions_ = std::move(decisions);
  phase_ = static_cast<execution_phase>(phase);
  last_seq_ = j["seq"].get<uint64_t>();
  state_ = std::move(j["state"]);
  recount();
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

std::vector<skip_entry> progress::skippable() const {
  std::vector<skip_entry> result;
  if (dead_ends_.empty())
    return result;
  // Skipping a node kills its out-edges; follow that in rank order (edges
  // go to higher ranks), on copies of the counts.
  auto open_in = undecided_in_;
  std::set<uint32_t> todo = dead_ends_;
  std::set<uint32_t> skipped;
  auto& edges = graph_->edges();
  while (!todo.empty()) {
    auto r = *todo.begin();
    todo.erase(todo.begin());
    skipped.insert(r);
    std::string reason = "not on the path taken: ";
    std::string why;
    for (auto e : graph_->node(r).in_edges) {
      auto& from = graph_->node(edges[e].from);
      if (!why.empty())
        why += ", ";
      if (skipped.count(edges[e].from) > 0 ||
          nodes_[edges[e].from] == node_state::skipped)
        why += "'" + from.id + "' was skipped";
      else
        why += "edge from '" + from.id + "' not taken";
    }
    result.push_back(skip_entry{r, reason + why});
    for (auto e : graph_->node(r).out_edges) {
      if (edges_[e] != edge_open || edges[e].to == end_rank)
        continue;
      auto to = static_cast<uint32_t>(edges[e].to);
      if (--open_in[to] == 0 && live_in_[to] == 0 &&
          nodes_[to] == node_state::pending)
        todo.insert(to);
    }
  }
  return result;
}

uint32_t progress::attempt_of(uint32_t rank) const {
  auto i = retries_.find(rank);
  return 1 + (i == retries_.end() ? 0 : i->second);
}

uint32_t progress::timers_of(const std::string& node) const {
  auto i = timers_.find(node);
  return i == timers_.end() ? 0 : i->second.first;
}

bool progress::newest_timer_fired(const std::string& node) const {
  auto i = timers_.find(node);
  return i != timers_.end() && i->second.second;
}

const std::string* progress::pending_event(const std::string& key) const {
  auto i = inbox_.find(key);
  return i == inbox_.end() || i->second.empty() ? nullptr : &i->second.front();
}

std::optional<std::string>
progress::signal_problem(const std::string& execution_id,
                         const std::string& key) const {
  std::string known;
  for (uint32_t r = 0; r < graph_->size(); ++r) {
    auto& spec = graph_->node(r).spec;
    if (spec.role != node_role::wait || spec.wait == wait_kind::timer ||
        (nodes_[r] != node_state::pending &&
         nodes_[r] != node_state::scheduled))
      continue;
    if (spec.correlation_key == key)
      return std::nullopt;
    known += (known.empty() ? "'" : ", '") + spec.correlation_key + "'";
  }
  return "execution '" + execution_id + "' has no wait node waiting for key '" +
         key + "'" +
         (known.empty() ? std::string{" (none waits for events)"}
                        : " (keys waited for: " + known + ")");
}

std::optional<std::string>
progress::approval_problem(const std::string& execution_id,
                           const std::string& node_id) const {
  auto r = graph_->rank_of(node_id);
  if (r < 0 ||
      graph_->node(static_cast<uint32_t>(r)).spec.role != node_role::approval)
    return "execution '" + execution_id + "' has no human_approval node '" +
           node_id + "'";
  auto x = nodes_[static_cast<uint32_t>(r)];
  if (x != node_state::pending && x != node_state::scheduled)
    return "human_approval node '" + node_id + "' of execution '" +
           execution_id + "' is already " + to_string(x);
  if (auto d = decisions_.find(static_cast<uint32_t>(r)); d != decisions_.end())
    return "human_approval node '" + node_id + "' of execution '" +
           execution_id + "' is already decided (" +
           (d->second.approved ? "approved" : "rejected") + " by '" +
           d->second.user_id + "')";
  return std::nullopt;
}

const approval_decision* progress::decision(uint32_t rank) const {
  auto i = decisions_.find(rank);
  return i == decisions_.end() ? nullptr : &i->second;
}

std::vector<uint32_t> progress::scheduled_nodes() const {
  std::vector<uint32_t> result;
  for (uint32_t r = 0; r < nodes_.size(); ++r)
    if (nodes_[r] == node_state::scheduled)
      result.push_back(r);
  return result;
}

} // namespace jamjet
