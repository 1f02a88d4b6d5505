#include "jamjet/core/node_spec.hpp"

#include "jamjet/support/enum_names.hpp"

namespace jamjet {

namespace {

using json = nlohmann::json;

const json* member(const json& obj, const char* key) {
  if (!obj.is_object())
    return nullptr;
  auto i = obj.find(key);
  if (i == obj.end() || i->is_null())
    return nullptr;
  return &*i;
}

/// Longest duration accepted, in seconds (about 31 years): keeps every
/// deadline computed from it far from overflowing.
constexpr uint64_t max_secs = 1000000000;

/// Seconds (an unsigned integer) or a `{"secs", "nanos"}` object, as ms.
std::optional<uint64_t> duration_ms(const json& v, const std::string& what,
                                    std::vector<std::string>& problems) {
  auto too_long = [&](uint64_t secs) {
    if (secs <= max_secs)
      return false;
    problems.emplace_back(what + " is too long: " + std::to_string(secs) +
                          " s (at most " + std::to_string(max_secs) + ")");
    return true;
  };
  if (v.is_number_unsigned()) {
    if (too_long(v.get<uint64_t>()))
      return std::nullopt;
    return v.get<uint64_t>() * 1000;
  }
  if (v.is_number_integer() || v.is_number_float()) {
    problems.emplace_back(what +
                          " must be whole seconds (an unsigned "
                          "integer), not " +
                          v.dump());
    return std::nullopt;
  }
  if (v.is_object() && v.contains("secs") && v["secs"].is_number_unsigned()) {
    if (too_long(v["secs"].get<uint64_t>()))
      return std::nullopt;
    uint64_t ms = v["secs"].get<uint64_t>() * 1000;
    if (v.contains("nanos") && v["nanos"].is_number_unsigned())
      ms += v["nanos"].get<uint64_t>() / 1000000;
    return ms;
  }
  problems.emplace_back(what + " must be whole seconds or {\"secs\": n}, not " +
                        v.dump());
  return std::nullopt;
}

std::string quoted(const std::string& id) {
  return "'" + id + "'";
}

void read_branches(const node_def& node, node_spec& spec,
                   std::vector<std::string>& problems) {
  auto name = "condition node " + quoted(node.id);
  auto* branches = member(node.kind, "branches");
  if (!branches || !branches->is_array()) {
    problems.emplace_back(name + " needs kind.branches, an array of "
                                 "{condition, target}");
    return;
  }
  for (size_t i = 0; i < branches->size(); ++i) {
    auto& b = (*branches)[i];
    auto where = name + " branch " + std::to_string(i);
    if (!b.is_object()) {
      problems.emplace_back(where + " is not an object");
      continue;
    }
    branch_spec branch;
    auto* target = member(b, "target");
    if (!target || !target->is_string()) {
      problems.emplace_back(where + " has no target (a node id or \"end\")");
      continue;
    }
    branch.target = target->get<std::string>();
    if (auto* cond = member(b, "condition")) {
      if (!cond->is_string()) {
        problems.emplace_back(where + " has a condition that is not a string");
        continue;
      }
      branch.condition = cond->get<std::string>();
    }
    spec.branches.push_back(std::move(branch));
  }
}

constexpr enum_name_table<wait_kind, 3> wait_kind_names{{
  {wait_kind::timer, "timer"},
  {wait_kind::external_event, "external_event"},
  {wait_kind::either, "either"},
}};

void read_wait(const node_def& node, node_spec& spec,
               std::vector<std::string>& problems) {
  auto name = "wait node " + quoted(node.id);
  auto* cond = member(node.kind, "condition");
  auto wait = cond && cond->is_string()
                ? value_in(wait_kind_names, cond->get_ref<const std::string&>())
                : std::nullopt;
  if (wait)
    spec.wait = *wait;
  else
    problems.emplace_back(name + " needs kind.condition " +
                          names_in(wait_kind_names) + ", not " +
                          (cond ? cond->dump() : std::string{"none"}));
  spec.correlation_key = node.id;
  if (auto* key = member(node.kind, "correlation_key")) {
    if (key->is_string() && !key->get<std::string>().empty())
      spec.correlation_key = key->get<std::string>();
    else
      problems.emplace_back(name + " has a correlation_key that is not a "
                                   "non-empty string");
  }
  if (auto* t = member(node.kind, "timeout_secs"))
    if (auto ms = duration_ms(*t, name + " kind.timeout_secs", problems))
      spec.timeout_ms = *ms;
  if (spec.timeout_ms == 0 &&
      (spec.wait == wait_kind::timer || spec.wait == wait_kind::either) && wait)
    problems.emplace_back(name + " waits for a timer but has no "
                                 "kind.timeout_secs");
}

void read_approval(const node_def& node, node_spec& spec,
                   std::vector<std::string>& problems) {
  auto name = "human_approval node " + quoted(node.id);
  if (auto* t = member(node.kind, "timeout_secs"))
    if (auto ms = duration_ms(*t, name + " kind.timeout_secs", problems))
      spec.timeout_ms = *ms;
  if (auto* f = member(node.kind, "fallback_node")) {
    if (f->is_string())
      spec.fallback = f->get<std::string>();
    else
      problems.emplace_back(name + " has a fallback_node that is not a "
                                   "string");
  }
}

} // namespace

std::string to_string(wait_kind x) {
  return std::string{name_in(wait_kind_names, x, "?")};
}

node_spec read_node_spec(const node_def& node,
                         std::vector<std::string>& problems) {
  node_spec spec;
  if (node.node_timeout_secs)
    duration_ms(*node.node_timeout_secs,
                "node '" + node.id + "' node_timeout_secs", problems);
  if (node.kind_type == "condition") {
    spec.role = node_role::condition;
    read_branches(node, spec, problems);
  } else if (node.kind_type == "wait") {
    spec.role = node_role::wait;
    read_wait(node, spec, problems);
  } else if (node.kind_type == "human_approval") {
    spec.role = node_role::approval;
    read_approval(node, spec, problems);
  }
  return spec;
}

timeout_spec read_timeouts(const nlohmann::json& timeouts,
                           std::vector<std::string>& problems) {
  timeout_spec result;
  if (timeouts.is_null())
    return result;
  if (!timeouts.is_object()) {
    problems.emplace_back("timeouts must be an object");
    return result;
  }
  auto read = [&](const char* key, uint64_t& out) {
    if (auto* v = member(timeouts, key))
      if (auto ms = duration_ms(*v, std::string{"timeouts."} + key, problems))
        out = *ms;
  };
  read("node_timeout", result.node_ms);
  read("workflow_timeout", result.workflow_ms);
  read("heartbeat_interval", result.heartbeat_ms);
  read("approval_timeout", result.approval_ms);
  return result;
}

} // namespace jamjet
