#pragma once

// A fluent builder of workflow IR documents, the JSON that
// `jamjet/messages/ir.hpp` parses (see tests/fixtures/ and
// examples/workflows/ for full ones):
//
//   auto ir = ir_builder{"w"}                       // workflow_id, version "1"
//               .node("a", "tool").retry_policy("lin")
//               .node("b", json{{"type", "noop"}, {"state_patch", {{"b", 2}}}})
//               .edge("a", "b")
//               .edge("b", "end", "state.ok == true")
//               .policy("lin", json{{"max_attempts", 4}})
//               .timeouts(json{{"workflow_timeout", 5}})
//               .dump();
//
// The first node added is the start node unless `start()` names another.
// Node modifiers (`retry_policy`, `node_timeout`, `kind_field`,
// `node_field`) apply to the node added last. Only what is set is written;
// `nodes` and `edges` are always there. The builder checks nothing: invalid
// graphs are built as asked, for tests of validation.

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <type_traits>
#include <utility>

#include <nlohmann/json.hpp>

namespace jamjet::testing {

class ir_builder {
 public:
  using json = nlohmann::json;

  explicit ir_builder(std::string workflow_id, std::string version = "1") {
    doc_["workflow_id"] = std::move(workflow_id);
    doc_["version"] = std::move(version);
    doc_["nodes"] = json::object();
    doc_["edges"] = json::array();
  }

  /// Sets `start_node`.
  ir_builder& start(std::string node_id) {
    doc_["start_node"] = std::move(node_id);
    return *this;
  }

  /// Adds node `id` whose kind is `{"type": type}`.
  ir_builder& node(const std::string& id, const char* type) {
    return node(id, json{{"type", type}});
  }
  // (A template, so that a braced kind `{{"type", ...}, ...}` picks the
  // json overload below and never becomes a string.)
  template <class String,
            std::enable_if_t<std::is_same_v<String, std::string>, int> = 0>
  ir_builder& node(const std::string& id, const String& type) {
    return node(id, json{{"type", type}});
  }

  /// Adds node `id` with the whole `kind` object (which holds its `type`).
  ir_builder& node(const std::string& id, json kind) {
    if (!doc_.contains("start_node"))
      doc_["start_node"] = id;
    doc_["nodes"][id] = json{{"id", id}, {"kind", std::move(kind)}};
    last_node_ = id;
    return *this;
  }

  /// The last node's `retry_policy`, a policy name.
  ir_builder& retry_policy(const std::string& name) {
    return node_field("retry_policy", name);
  }

  /// The last node's `retry_policy` written as null (the default policy).
  ir_builder& retry_policy(std::nullptr_t) {
    return node_field("retry_policy", nullptr);
  }

  /// The last node's `node_timeout_secs`.
  ir_builder& node_timeout(uint64_t secs) {
    return node_field("node_timeout_secs", secs);
  }

  /// Sets `key` in the last node's `kind` object.
  ir_builder& kind_field(const std::string& key, json value) {
    doc_["nodes"][last_node_]["kind"][key] = std::move(value);
    return *this;
  }

  /// Sets any other field of the last node (e.g. a description).
  ir_builder& node_field(const std::string& key, json value) {
    doc_["nodes"][last_node_][key] = std::move(value);
    return *this;
  }

  /// Adds an edge, unconditional unless `condition` is given.
  ir_builder& edge(const std::string& from, const std::string& to,
                   std::optional<std::string> condition = std::nullopt) {
    json e{{"from", from}, {"to", to}};
    if (condition)
      e["condition"] = std::move(*condition);
    doc_["edges"].push_back(std::move(e));
    return *this;
  }

  /// Adds the named policy to `retry_policies`.
  ir_builder& policy(const std::string& name, json policy) {
    doc_["retry_policies"][name] = std::move(policy);
    return *this;
  }

  /// Sets the whole `retry_policies` object.
  ir_builder& policies(json all) {
    doc_["retry_policies"] = std::move(all);
    return *this;
  }

  /// Sets the `timeouts` object.
  ir_builder& timeouts(json timeouts) {
    doc_["timeouts"] = std::move(timeouts);
    return *this;
  }

  /// Sets any other top-level field.
  ir_builder& field(const std::string& key, json value) {
    doc_[key] = std::move(value);
    return *this;
  }

  /// The document built so far.
  const json& to_json() const { return doc_; }

  /// The document as JSON text, as tests pass it to parsers and runtimes.
  std::string dump() const { return doc_.dump(); }

 private:
  json doc_ = json::object();
  std::string last_node_;
};

} // namespace jamjet::testing
