#include "jamjet/http/views.hpp"

#include <map>
#include <set>

#include "jamjet/core/progress.hpp"
#include "jamjet/messages/event_json.hpp"
#include "jamjet/messages/json_limits.hpp"

namespace jamjet::http {

namespace {

nlohmann::json stored(const std::string& text,
                      nlohmann::json fallback = nullptr) {
  if (text.empty())
    return fallback;
  auto value = try_parse_bounded(text, json_limits::stored());
  return value.is_discarded() ? fallback : value;
}

bool is_terminal(execution_status_code s) {
  return s != execution_status_code::running;
}

/// The state folded from the log; null when it does not fold.
nlohmann::json folded_state(const graph_ptr& graph,
                            const std::vector<event>& events) {
  progress prog{graph};
  for (auto& e : events)
    if (prog.fold(e) == fold_status::gap)
      return nullptr;
  return prog.state();
}

/// Whether `events` holds a terminal workflow event.
bool ended(const std::vector<event>& events) {
  for (auto& e : events)
    if (caf::holds_alternative<workflow_completed>(e.kind) ||
        caf::holds_alternative<workflow_failed>(e.kind) ||
        caf::holds_alternative<workflow_cancelled>(e.kind))
      return true;
  return false;
}

} // namespace

nlohmann::json execution_view(const execution_record& rec,
                              const graph_ptr& graph,
                              const std::vector<event>* events) {
  auto input = stored(rec.input, nlohmann::json::object());
  nlohmann::json state;
  if (graph && events)
    state = folded_state(graph, *events);
  if (state.is_null())
    state = rec.status == execution_status_code::completed
              ? stored(rec.result, input)
              : input;
  nlohmann::json j{
    {"execution_id", rec.id},
    {"workflow_id", rec.workflow_id},
    {"workflow_version", rec.workflow_version},
    {"status", to_string(rec.status)},
    {"initial_input", std::move(input)},
    {"current_state", std::move(state)},
    {"started_at", format_rfc3339_ms(rec.created_at_ms)},
    {"updated_at", format_rfc3339_ms(rec.updated_at_ms)},
    {"completed_at", is_terminal(rec.status)
                       ? nlohmann::json(format_rfc3339_ms(rec.updated_at_ms))
                       : nlohmann::json(nullptr)},
    {"segment_number", 0},
    {"last_sequence", rec.last_sequence},
  };
  if (rec.status != execution_status_code::completed &&
      rec.status != execution_status_code::running && !rec.result.empty())
    j["error"] = rec.result;
  return j;
}

namespace {

struct approval_track {
  uint64_t scheduled_seq = 0;
  bool open = false;
  bool decided = false;
  nlohmann::json decision;
};

std::map<std::string, approval_track> track(const workflow_graph& graph,
                                            const std::vector<event>& events) {
  std::map<std::string, approval_track> nodes;
  auto is_approval = [&](const std::string& id) {
    auto rank = graph.rank_of(id);
    return rank >= 0 && graph.node(static_cast<uint32_t>(rank)).kind_type ==
                          "human_approval";
  };
  auto close = [&](const std::string& id) {
    auto i = nodes.find(id);
    if (i != nodes.end())
      i->second.open = false;
  };
  for (auto& e : events) {
    if (auto x = caf::get_if<node_scheduled>(&e.kind)) {
      if (!is_approval(x->node_id))
        continue;
      auto& t = nodes[x->node_id];
      t.scheduled_seq = e.sequence;
      t.open = true;
    } else if (auto a = caf::get_if<approval_received>(&e.kind)) {
      auto& t = nodes[a->node_id];
      if (t.decided)
        continue; // the first decision is the one that counts
      t.decided = true;
      t.decision = nlohmann::json{
        {"node_id", a->node_id},
        {"status", a->decision},
        {"user_id", a->user_id},
        {"comment",
         a->comment ? nlohmann::json(*a->comment) : nlohmann::json(nullptr)},
        {"sequence", e.sequence},
      };
    } else if (auto c = caf::get_if<node_completed>(&e.kind)) {
      close(c->node_id);
    } else if (auto f = caf::get_if<node_failed>(&e.kind)) {
      if (!f->retryable)
        close(f->node_id);
    } else if (auto k = caf::get_if<node_skipped>(&e.kind)) {
      close(k->node_id);
    } else if (auto n = caf::get_if<node_cancelled>(&e.kind)) {
      close(n->node_id);
    }
  }
  return nodes;
}

} // namespace

std::vector<std::string> pending_approvals(const workflow_graph& graph,
                                           const std::vector<event>& events) {
  std::vector<std::string> ids;
  if (ended(events))
    return ids;
  for (auto& [id, t] : track(graph, events))
    if (t.open && !t.decided)
      ids.push_back(id);
  return ids;
}

nlohmann::json approvals_view(const workflow_graph& graph,
                              const std::vector<event>& events) {
  auto pending = nlohmann::json::array();
  auto decided = nlohmann::json::array();
  bool over = ended(events);
  for (auto& [id, t] : track(graph, events)) {
    if (t.decided) {
      decided.push_back(t.decision);
    } else if (t.open && !over) {
      auto rank = static_cast<uint32_t>(graph.rank_of(id));
      auto node = stored(graph.node(rank).json, nlohmann::json::object());
      nlohmann::json approver = nullptr;
      if (node.contains("kind") && node["kind"].is_object() &&
          node["kind"].contains("approver"))
        approver = node["kind"]["approver"];
      pending.push_back(nlohmann::json{{"node_id", id},
                                       {"tool_name", nullptr},
                                       {"approver", approver},
                                       {"context", nullptr},
                                       {"sequence", t.scheduled_seq}});
    }
  }
  return nlohmann::json{{"pending", pending}, {"decided", decided}};
}

nlohmann::json claimed_item_view(const work_item& item,
                                 const std::string& workflow_id,
                                 const std::string& workflow_version) {
  auto stored_payload = stored(item.payload, nlohmann::json::object());
  if (!stored_payload.is_object())
    stored_payload = nlohmann::json::object();
  auto node = stored_payload.value("node", nlohmann::json::object());
  auto state = stored_payload.value("state", nlohmann::json::object());
  nlohmann::json payload{{"workflow_id", workflow_id},
                         {"workflow_version", workflow_version},
                         {"node_id", item.node_id}};
  auto kind =
    node.is_object() && node.contains("kind") && node["kind"].is_object()
      ? node["kind"]
      : nlohmann::json::object();
  auto type = kind.value("type", std::string{});
  auto copy = [&](const char* from, const char* to) {
    if (kind.contains(from) && !kind[from].is_null())
      payload[to] = kind[from];
  };
  if (type == "python_fn") {
    copy("module", "module");
    copy("function", "function");
    payload["input"] = state;
  } else if (type == "java_fn") {
    copy("class_name", "class");
    copy("method", "method");
    payload["input"] = state;
  } else if (type == "model") {
    copy("model_ref", "model");
    copy("system_prompt", "system_prompt");
    copy("prompt_ref", "prompt");
    copy("tools", "tools");
    if (state.is_object() && state.contains("messages"))
      payload["messages"] = state["messages"];
  }
  payload["node"] = std::move(node);
  payload["state"] = std::move(state);
  return nlohmann::json{{"id", item.id},
                        {"execution_id", item.execution_id},
                        {"node_id", item.node_id},
                        {"queue_type", item.queue_type},
                        {"payload", std::move(payload)},
                        {"attempt", item.attempt},
                        {"lease_fence", item.fence}};
}

} // namespace jamjet::http
