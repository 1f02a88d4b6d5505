#pragma once

// What a client (`remote_client`, the CLI's --connect commands) asks a
// scheduler node: one struct per request, gathered in `client_request`, which
// travels in a `wire_request` (messages/wire.hpp) and from a client to its
// uplink actor. The node's gateway answers each with a `wire_reply` whose
// body is JSON text.
//
// Structured values (an input, a payload, a state patch) are JSON text in
// strings: nlohmann::json cannot be a CAF message field. The gateway checks
// every text field is UTF-8 and every JSON field parses, before anything
// reaches the log.

#include <string>

#include <caf/meta/type_name.hpp>
#include <caf/optional.hpp>
#include <caf/variant.hpp>

#include "jamjet/messages/access.hpp"

namespace jamjet {

/// Register a workflow; answers its key, "id@version".
struct client_register {
  /// The workflow's IR, JSON text.
  std::string ir;
};

/// Start an execution; answers its id.
struct client_start {
  std::string workflow_id;
  /// None: the latest registered version.
  caf::optional<std::string> version;
  /// The initial state, JSON text of an object.
  std::string input = "{}";
};

/// Wait for an execution's end; answers its outcome.
struct client_await {
  std::string execution_id;
};

/// One execution's record.
struct client_status {
  std::string execution_id;
};

/// Every execution's record.
struct client_list {};

/// An execution's log as JamJet JSON events; an unknown execution is an
/// error, not an empty log.
struct client_events {
  std::string execution_id;
};

/// Cancel an execution.
struct client_cancel {
  std::string execution_id;
  std::string reason;
};

/// Deliver an external event to an execution waiting on `key`.
struct client_signal {
  std::string execution_id;
  std::string key;
  /// JSON text of any value.
  std::string payload = "null";
};

/// Approve or reject a node waiting for a human.
struct client_decide {
  std::string execution_id;
  std::string node_id;
  bool approve = false;
  std::string user_id;
  caf::optional<std::string> comment;
  /// JSON text of an object applied to the state on approval; none: no
  /// patch.
  caf::optional<std::string> state_patch;
};

/// Every request a client can make. Appending a type keeps the others'
/// wire form; anything else changes the frame format (bump `wire_version`).
using client_request =
  caf::variant<client_register, client_start, client_await, client_status,
               client_list, client_events, client_cancel, client_signal,
               client_decide>;

/// The request's name for messages and logs: "register", "start", ...,
/// "approve" or "reject".
const char* request_name(const client_request& req);

/// What a request needs of its sender's role (messages/access.hpp): await,
/// status, list and events read; the others operate.
access_need need_of(const client_request& req);

bool operator==(const client_register& x, const client_register& y);
bool operator==(const client_start& x, const client_start& y);
bool operator==(const client_await& x, const client_await& y);
bool operator==(const client_status& x, const client_status& y);
bool operator==(const client_list& x, const client_list& y);
bool operator==(const client_events& x, const client_events& y);
bool operator==(const client_cancel& x, const client_cancel& y);
bool operator==(const client_signal& x, const client_signal& y);
bool operator==(const client_decide& x, const client_decide& y);

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, client_register& x) {
  return f(caf::meta::type_name("client_register"), x.ir);
}
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, client_start& x) {
  return f(caf::meta::type_name("client_start"), x.workflow_id, x.version,
           x.input);
}
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, client_await& x) {
  return f(caf::meta::type_name("client_await"), x.execution_id);
}
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, client_status& x) {
  return f(caf::meta::type_name("client_status"), x.execution_id);
}
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, client_list&) {
  return f(caf::meta::type_name("client_list"));
}
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, client_events& x) {
  return f(caf::meta::type_name("client_events"), x.execution_id);
}
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, client_cancel& x) {
  return f(caf::meta::type_name("client_cancel"), x.execution_id, x.reason);
}
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, client_signal& x) {
  return f(caf::meta::type_name("client_signal"), x.execution_id, x.key,
           x.payload);
}
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, client_decide& x) {
  return f(caf::meta::type_name("client_decide"), x.execution_id, x.node_id,
           x.approve, x.user_id, x.comment, x.state_patch);
}

} // namespace jamjet
