#include "jamjet/messages/ir.hpp"

#include <algorithm>
#include <cstddef>
#include <limits>
#include <utility>

#include "jamjet/messages/error.hpp"
#include "jamjet/messages/json_limits.hpp"
#include "jamjet/messages/json_text.hpp"
#include "jamjet/support/enum_names.hpp"

namespace jamjet {

namespace {

using json = nlohmann::json;

// -- error reporting ----------------------------------------------------------

/// Describes a JSON value for an error message: scalars verbatim (shortened),
/// containers by their type.
std::string describe(const json& value) {
  if (value.is_object())
    return "an object";
  if (value.is_array())
    return "an array";
  auto text = value.dump();
  constexpr size_t max_len = 40;
  if (text.size() > max_len)
    text = text.substr(0, max_len) + "...";
  return text;
}

/// Throws `bad_input` for a field at `path` that is not what it should be.
[[noreturn]] void type_mismatch(const std::string& path, const char* expected,
                                const json& found) {
  throw error(error_code::bad_input,
              path + ": expected " + expected + ", found " + describe(found));
}

/// Throws `bad_input` for a required field at `path` that is absent.
[[noreturn]] void missing_field(const std::string& path, const char* expected) {
  throw error(error_code::bad_input,
              path + ": missing (expected " + expected + ")");
}

/// The problems found so far in one document: each read that fails is
/// recorded and parsing goes on, so that one pass names every problem.
using problem_list = std::vector<std::string>;

/// Runs `read`, recording a `bad_input` it throws in `problems` instead.
template <class F>
void collect(problem_list& problems, F&& read) {
  try {
    read();
  } catch (const error& e) {
    if (e.code() != error_code::bad_input)
      throw;
    problems.emplace_back(e.what());
  }
}

/// Throws every problem of a document at once: one alone as it is, more as
/// a list.
void throw_problems(const problem_list& problems) {
  if (problems.empty())
    return;
  if (problems.size() == 1)
    throw error(error_code::bad_input, problems.front());
  std::string msg =
    "the workflow has " + std::to_string(problems.size()) + " problems:";
  for (const auto& p : problems)
    msg += "\n  - " + p;
  throw error(error_code::bad_input, msg);
}

// -- field access -------------------------------------------------------------

/// The member `key` of `obj`, or null when absent.
const json* find_member(const json& obj, const char* key) {
  auto i = obj.find(key);
  return i == obj.end() ? nullptr : &*i;
}

/// A required string member.
std::string required_string(const json& obj, const char* key,
                            const std::string& path) {
  auto* value = find_member(obj, key);
  if (value == nullptr)
    missing_field(path, "a string");
  if (!value->is_string())
    type_mismatch(path, "a string", *value);
  return value->get<std::string>();
}

/// An optional string member: absent or null yields nullopt.
std::optional<std::string> optional_string(const json& obj, const char* key,
                                           const std::string& path) {
  auto* value = find_member(obj, key);
  if (value == nullptr || value->is_null())
    return std::nullopt;
  if (!value->is_string())
    type_mismatch(path, "null or a string", *value);
  return value->get<std::string>();
}

/// An unsigned integer that fits into `T`.
template <class T>
T unsigned_value(const json& value, const std::string& path,
                 const char* expected) {
  // Parsed text yields unsigned numbers; built JSON may hold signed ones.
  if (!value.is_number_integer() ||
      (!value.is_number_unsigned() && value.get<int64_t>() < 0))
    type_mismatch(path, expected, value);
  auto result = value.get<uint64_t>();
  if (result > std::numeric_limits<T>::max())
    type_mismatch(path, expected, value);
  return static_cast<T>(result);
}

/// Copies every member of `obj` whose key is not in `known` into an object.
template <size_t N>
json unknown_members(const json& obj, const char* const (&known)[N]) {
  auto result = json::object();
  for (auto i = obj.begin(); i != obj.end(); ++i) {
    auto is_known = std::any_of(std::begin(known), std::end(known),
                                [&](const char* k) { return i.key() == k; });
    if (!is_known)
      result[i.key()] = i.value();
  }
  return result;
}

// -- retry policies -----------------------------------------------------------

namespace {

constexpr enum_name_table<backoff_kind, 3> backoff_names{{
  {backoff_kind::fixed, "fixed"},
  {backoff_kind::linear, "linear"},
  {backoff_kind::exponential, "exponential"},
}};

} // namespace

const char* to_string(backoff_kind kind) {
  // The names are literals, so their data is NUL-terminated.
  return name_in(backoff_names, kind, "exponential").data();
}

retry_policy policy_from_json(const json& doc, const std::string& path,
                              problem_list& problems) {
  retry_policy result;
  if (!doc.is_object()) {
    collect(problems, [&] { type_mismatch(path, "an object", doc); });
    return result;
  }
  if (auto* v = find_member(doc, "max_attempts"))
    collect(problems, [&] {
      result.max_attempts = unsigned_value<uint32_t>(
        *v, path + ".max_attempts", "an unsigned 32-bit integer of at least 1");
      if (result.max_attempts < 1)
        type_mismatch(path + ".max_attempts",
                      "an unsigned 32-bit integer of at least 1", *v);
    });
  if (auto* v = find_member(doc, "backoff"))
    collect(problems, [&] {
      auto backoff = v->is_string() ? value_in(backoff_names,
                                               v->get_ref<const std::string&>())
                                    : std::nullopt;
      if (!backoff)
        type_mismatch(path + ".backoff", names_in(backoff_names).c_str(), *v);
      result.backoff = *backoff;
    });
  if (auto* v = find_member(doc, "initial_delay"))
    collect(problems, [&] {
      result.initial_delay_secs = unsigned_value<uint64_t>(
        *v, path + ".initial_delay", "an unsigned integer (seconds)");
    });
  if (auto* v = find_member(doc, "max_delay"))
    collect(problems, [&] {
      result.max_delay_secs = unsigned_value<uint64_t>(
        *v, path + ".max_delay", "an unsigned integer (seconds)");
    });
  if (auto* v = find_member(doc, "jitter"))
    collect(problems, [&] {
      if (!v->is_boolean())
        type_mismatch(path + ".jitter", "a boolean", *v);
      result.jitter = v->get<bool>();
    });
  if (auto* v = find_member(doc, "retryable_on"))
    collect(problems, [&] {
      if (!v->is_array())
        type_mismatch(path + ".retryable_on", "an array of strings", *v);
      for (size_t i = 0; i < v->size(); ++i) {
        const auto& item = (*v)[i];
        // A class name, or JamJet's custom class {"custom": "name"}.
        if (item.is_object() && item.size() == 1 && item.contains("custom") &&
            item["custom"].is_string()) {
          result.retryable_on.push_back(item["custom"].get<std::string>());
          continue;
        }
        if (!item.is_string())
          type_mismatch(path + ".retryable_on[" + std::to_string(i) + "]",
                        "a string or {\"custom\": name}", item);
        result.retryable_on.push_back(item.get<std::string>());
      }
    });
  static constexpr const char* known[] = {"max_attempts",  "backoff",
                                          "initial_delay", "max_delay",
                                          "jitter",        "retryable_on"};
  result.extra = unknown_members(doc, known);
  return result;
}

// -- nodes and edges ----------------------------------------------------------

node_def node_from_json(const std::string& key, const json& doc,
                        problem_list& problems) {
  auto path = "nodes." + key;
  node_def result;
  result.id = key;
  if (!doc.is_object()) {
    collect(problems, [&] { type_mismatch(path, "an object", doc); });
    return result;
  }
  if (auto* v = find_member(doc, "id"))
    collect(problems, [&] {
      if (!v->is_string())
        type_mismatch(path + ".id", "a string", *v);
      result.id = v->get<std::string>();
    });
  collect(problems, [&] {
    auto* kind = find_member(doc, "kind");
    if (kind == nullptr)
      missing_field(path + ".kind", "an object");
    if (!kind->is_object())
      type_mismatch(path + ".kind", "an object", *kind);
    result.kind = *kind;
    result.kind_type = required_string(*kind, "type", path + ".kind.type");
  });
  collect(problems, [&] {
    result.retry_policy =
      optional_string(doc, "retry_policy", path + ".retry_policy");
  });
  if (auto* v = find_member(doc, "node_timeout_secs"); v && !v->is_null())
    collect(problems, [&] {
      result.node_timeout_secs = unsigned_value<uint64_t>(
        *v, path + ".node_timeout_secs", "null or an unsigned integer");
    });
  static constexpr const char* known[] = {"id", "kind", "retry_policy",
                                          "node_timeout_secs"};
  result.extra = unknown_members(doc, known);
  return result;
}

edge_def edge_from_json(size_t index, const json& doc, problem_list& problems) {
  auto path = "edges[" + std::to_string(index) + "]";
  edge_def result;
  if (!doc.is_object()) {
    collect(problems, [&] { type_mismatch(path, "an object", doc); });
    return result;
  }
  collect(problems,
          [&] { result.from = required_string(doc, "from", path + ".from"); });
  collect(problems,
          [&] { result.to = required_string(doc, "to", path + ".to"); });
  collect(problems, [&] {
    result.condition = optional_string(doc, "condition", path + ".condition");
  });
  static constexpr const char* known[] = {"from", "to", "condition"};
  result.extra = unknown_members(doc, known);
  return result;
}

json node_to_json(const node_def& node) {
  auto result = node.extra.is_object() ? node.extra : json::object();
  result["id"] = node.id;
  auto kind = node.kind.is_object() ? node.kind : json::object();
  kind["type"] = node.kind_type;
  result["kind"] = std::move(kind);
  if (node.retry_policy)
    result["retry_policy"] = *node.retry_policy;
  else
    result["retry_policy"] = nullptr;
  if (node.node_timeout_secs)
    result["node_timeout_secs"] = *node.node_timeout_secs;
  else
    result["node_timeout_secs"] = nullptr;
  return result;
}

json edge_to_json(const edge_def& edge) {
  auto result = edge.extra.is_object() ? edge.extra : json::object();
  result["from"] = edge.from;
  result["to"] = edge.to;
  if (edge.condition)
    result["condition"] = *edge.condition;
  else
    result["condition"] = nullptr;
  return result;
}

} // namespace

// -- public API ---------------------------------------------------------------

std::string queue_type_of(const std::string& kind_type) {
  if (kind_type == "model")
    return "model";
  if (kind_type == "tool" || kind_type == "mcp_tool" ||
      kind_type == "a2a_task" || kind_type == "finalizer")
    return "tool";
  if (kind_type == "python_fn")
    return "python_tool";
  if (kind_type == "memory_retrieval")
    return "retrieval";
  return "general";
}

std::optional<retry_policy> builtin_retry_policy(const std::string& name) {
  retry_policy result;
  if (name == "no_retry") {
    result.max_attempts = 1;
    result.backoff = backoff_kind::fixed;
    result.initial_delay_secs = 0;
    result.max_delay_secs = 0;
    result.jitter = false;
    return result;
  }
  if (name == "io_default") {
    result.max_attempts = 3;
    result.backoff = backoff_kind::exponential;
    result.initial_delay_secs = 1;
    result.max_delay_secs = 30;
    result.jitter = true;
    result.retryable_on = {"io_error", "timeout", "connection_reset"};
    return result;
  }
  if (name == "llm_default") {
    result.max_attempts = 3;
    result.backoff = backoff_kind::exponential;
    result.initial_delay_secs = 2;
    result.max_delay_secs = 60;
    result.jitter = true;
    result.retryable_on = {"rate_limit", "timeout", "server_error"};
    return result;
  }
  return std::nullopt;
}

retry_policy default_retry_policy() {
  retry_policy result;
  result.max_attempts = 3;
  result.backoff = backoff_kind::exponential;
  result.initial_delay_secs = 1;
  result.max_delay_secs = 60;
  result.jitter = false;
  return result;
}

retry_policy retry_policy_of(const workflow_ir& ir, const node_def& node) {
  if (!node.retry_policy)
    return default_retry_policy();
  if (auto i = ir.retry_policies.find(*node.retry_policy);
      i != ir.retry_policies.end())
    return i->second;
  if (auto builtin = builtin_retry_policy(*node.retry_policy))
    return *builtin;
  return default_retry_policy();
}

uint32_t max_attempts_of(const workflow_ir& ir, const node_def& node) {
  return std::max<uint32_t>(retry_policy_of(ir, node).max_attempts, 1);
}

retry_policy retry_policy_from_json(const json& doc) {
  problem_list problems;
  auto result = policy_from_json(doc, "retry_policy", problems);
  throw_problems(problems);
  return result;
}

workflow_ir parse_ir(const std::string& text) {
  // Before anything turns the text into a value (json_limits.hpp).
  if (auto problem = json_limit_problem(text))
    throw error(error_code::bad_input, "IR document: " + *problem);
  return ir_from_json(parse_json_located(text));
}

workflow_ir ir_from_json(const json& doc) {
  // The members below are copied, and copies recurse.
  if (auto problem = json_depth_problem(doc))
    throw error(error_code::bad_input, "IR document: " + *problem);
  if (!doc.is_object())
    type_mismatch("IR document", "an object", doc);
  workflow_ir result;
  problem_list problems;
  collect(problems, [&] {
    result.workflow_id = required_string(doc, "workflow_id", "workflow_id");
  });
  collect(problems,
          [&] { result.version = required_string(doc, "version", "version"); });
  collect(problems, [&] {
    if (auto start = optional_string(doc, "start_node", "start_node"))
      result.start_node = std::move(*start);
  });
  if (auto* nodes = find_member(doc, "nodes")) {
    if (!nodes->is_object())
      collect(problems, [&] { type_mismatch("nodes", "an object", *nodes); });
    else
      for (auto i = nodes->begin(); i != nodes->end(); ++i)
        result.nodes.emplace(i.key(),
                             node_from_json(i.key(), i.value(), problems));
  }
  if (auto* edges = find_member(doc, "edges")) {
    if (!edges->is_array()) {
      collect(problems, [&] { type_mismatch("edges", "an array", *edges); });
    } else {
      result.edges.reserve(edges->size());
      for (size_t i = 0; i < edges->size(); ++i)
        result.edges.push_back(edge_from_json(i, (*edges)[i], problems));
    }
  }
  if (auto* policies = find_member(doc, "retry_policies")) {
    if (!policies->is_object())
      collect(problems,
              [&] { type_mismatch("retry_policies", "an object", *policies); });
    else
      for (auto i = policies->begin(); i != policies->end(); ++i)
        result.retry_policies.emplace(
          i.key(),
          policy_from_json(i.value(), "retry_policies." + i.key(), problems));
  }
  if (auto* timeouts = find_member(doc, "timeouts")) {
    if (!timeouts->is_object())
      collect(problems,
              [&] { type_mismatch("timeouts", "an object", *timeouts); });
    else
      result.timeouts = *timeouts;
  }
  throw_problems(problems);
  static constexpr const char* known[] = {
    "workflow_id", "version",        "start_node", "nodes",
    "edges",       "retry_policies", "timeouts"};
  result.extra = unknown_members(doc, known);
  return result;
}

json to_json(const workflow_ir& ir) {
  auto result = ir.extra.is_object() ? ir.extra : json::object();
  result["workflow_id"] = ir.workflow_id;
  result["version"] = ir.version;
  result["start_node"] = ir.start_node;
  auto nodes = json::object();
  for (const auto& [key, node] : ir.nodes)
    nodes[key] = node_to_json(node);
  result["nodes"] = std::move(nodes);
  auto edges = json::array();
  for (const auto& edge : ir.edges)
    edges.push_back(edge_to_json(edge));
  result["edges"] = std::move(edges);
  auto policies = json::object();
  for (const auto& [name, policy] : ir.retry_policies)
    policies[name] = to_json(policy);
  result["retry_policies"] = std::move(policies);
  result["timeouts"] = ir.timeouts.is_object() ? ir.timeouts : json::object();
  return result;
}

json to_json(const retry_policy& policy) {
  auto result = policy.extra.is_object() ? policy.extra : json::object();
  result["max_attempts"] = policy.max_attempts;
  result["backoff"] = to_string(policy.backoff);
  result["initial_delay"] = policy.initial_delay_secs;
  result["max_delay"] = policy.max_delay_secs;
  result["jitter"] = policy.jitter;
  result["retryable_on"] = policy.retryable_on;
  return result;
}

} // namespace jamjet
