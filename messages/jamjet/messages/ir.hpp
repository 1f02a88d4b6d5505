#pragma once

// The workflow IR: JamJet's `WorkflowIr` JSON as C++ data.
//
// The IR is immutable once registered and shared between the actors of a
// process through `std::shared_ptr<const workflow_ir>`. It never crosses a
// process boundary as a struct: messages carry the JSON text instead, so the
// IR does not need an `inspect()` overload.

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace jamjet {

/// How the delay between attempts grows.
enum class backoff_kind { fixed, linear, exponential };

/// A named retry policy from the IR's `retry_policies` (or a built-in one).
struct retry_policy {
  /// Attempts in all, the first included; at least 1.
  uint32_t max_attempts = 3;
  /// Growth of the delay between attempts.
  backoff_kind backoff = backoff_kind::exponential;
  /// Delay before the first retry, in seconds.
  uint64_t initial_delay_secs = 1;
  /// Upper bound of any delay, in seconds.
  uint64_t max_delay_secs = 60;
  /// Whether delays get a deterministic jitter.
  bool jitter = false;
  /// Error classes that may be retried; empty means every error.
  std::vector<std::string> retryable_on;
  /// Every other field as given (unknown ones, kept for a faithful round
  /// trip and for the warnings that name them).
  nlohmann::json extra = nlohmann::json::object();
};

/// One node of the graph: `{id, kind{type,...}, retry_policy, ...}`.
struct node_def {
  /// Unique id, the key in the IR's `nodes` map.
  std::string id;
  /// `kind.type`, e.g. "model", "tool", "command".
  std::string kind_type;
  /// The whole `kind` object, unknown fields included.
  nlohmann::json kind = nlohmann::json::object();
  /// Name of a retry policy, if any.
  std::optional<std::string> retry_policy;
  /// Per-node timeout for a handler, in seconds.
  std::optional<uint64_t> node_timeout_secs;
  /// Every other field of the node (description, labels, unknown ones).
  nlohmann::json extra = nlohmann::json::object();
};

/// A directed edge; `to == "end"` marks the sink.
struct edge_def {
  std::string from;
  std::string to;
  /// Condition expression; unset for an unconditional edge.
  std::optional<std::string> condition;
  /// Every other field as given.
  nlohmann::json extra = nlohmann::json::object();
};

/// The name of the sink pseudo-node.
inline constexpr const char* end_node = "end";

/// A whole workflow definition.
struct workflow_ir {
  std::string workflow_id;
  std::string version;
  std::string start_node;
  /// Nodes by id (ordered, so iteration is deterministic).
  std::map<std::string, node_def> nodes;
  std::vector<edge_def> edges;
  /// Policies defined in the IR, by name.
  std::map<std::string, retry_policy> retry_policies;
  /// The IR's `timeouts` object as given.
  nlohmann::json timeouts = nlohmann::json::object();
  /// Every other top-level field, kept for a faithful round trip.
  nlohmann::json extra = nlohmann::json::object();
};

/// The queue type a node kind is dispatched to (design, section 4).
std::string queue_type_of(const std::string& kind_type);

/// The built-in policy for `no_retry`, `io_default` and `llm_default`.
std::optional<retry_policy> builtin_retry_policy(const std::string& name);

/// The policy of nodes that name none: 3 attempts, exponential from 1 s,
/// capped at 60 s, no jitter, every error retryable.
retry_policy default_retry_policy();

/// A node's policy: the IR's, else a built-in one, else the default.
retry_policy retry_policy_of(const workflow_ir& ir, const node_def& node);

/// Attempts allowed for a node: from its policy, 3 when it names none.
uint32_t max_attempts_of(const workflow_ir& ir, const node_def& node);

/// Reads a policy written by `to_json(retry_policy)`; throws like
/// `parse_ir`.
retry_policy retry_policy_from_json(const nlohmann::json& doc);

/// Parses an IR document. Throws `jamjet::error` (code `bad_input`) on
/// malformed JSON, naming the position, or on fields missing or of the
/// wrong type: every such field of the document in one error ("N
/// problems:\n  - ..."; one problem alone is the message). Does not check
/// the graph: see `validate()`.
workflow_ir parse_ir(const std::string& text);

/// Builds an IR from parsed JSON; throws like `parse_ir`.
workflow_ir ir_from_json(const nlohmann::json& doc);

/// Converts an IR back to JamJet's JSON layout.
nlohmann::json to_json(const workflow_ir& ir);
nlohmann::json to_json(const retry_policy& policy);

} // namespace jamjet
