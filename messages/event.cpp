#include "jamjet/messages/event.hpp"

#include <type_traits>
#include <utility>

#include <caf/sum_type.hpp>

#include <nlohmann/json.hpp>

#include "jamjet/messages/json_limits.hpp"

namespace jamjet {

namespace {

// -- type tags ----------------------------------------------------------------

const char* tag_of(const workflow_started&) {
  return "workflow_started";
}

const char* tag_of(const workflow_completed&) {
  return "workflow_completed";
}

const char* tag_of(const workflow_failed&) {
  return "workflow_failed";
}

const char* tag_of(const workflow_cancelled&) {
  return "workflow_cancelled";
}

const char* tag_of(const node_scheduled&) {
  return "node_scheduled";
}

const char* tag_of(const node_started&) {
  return "node_started";
}

const char* tag_of(const node_completed&) {
  return "node_completed";
}

const char* tag_of(const node_failed&) {
  return "node_failed";
}

const char* tag_of(const node_skipped&) {
  return "node_skipped";
}

const char* tag_of(const node_cancelled&) {
  return "node_cancelled";
}

const char* tag_of(const retry_scheduled&) {
  return "retry_scheduled";
}

const char* tag_of(const timer_created&) {
  return "timer_created";
}

const char* tag_of(const timer_fired&) {
  return "timer_fired";
}

const char* tag_of(const external_event_received&) {
  return "external_event_received";
}

const char* tag_of(const node_redriven&) {
  return "node_redriven";
}

const char* tag_of(const approval_received&) {
  return "approval_received";
}

const std::string& tag_of(const opaque_event& x) {
  return x.type;
}

// -- node ids -----------------------------------------------------------------

/// Detects kinds with a `node_id` member.
template <class T, class = void>
struct has_node_id : std::false_type {};

template <class T>
struct has_node_id<T, std::void_t<decltype(std::declval<T&>().node_id)>>
  : std::true_type {};

/// The `node_id` string of an opaque kind's body, or an empty string.
std::string opaque_node_id(const opaque_event& x) {
  auto body = try_parse_bounded(x.body, json_limits::stored());
  if (!body.is_object())
    return {};
  const auto& members = body.get_ref<const nlohmann::json::object_t&>();
  auto i = members.find("node_id");
  if (i == members.end() || !i->second.is_string())
    return {};
  return i->second.get_ref<const std::string&>();
}

} // namespace

std::string type_name_of(const event_kind& kind) {
  return caf::visit([](const auto& x) { return std::string{tag_of(x)}; }, kind);
}

std::string node_id_of(const event_kind& kind) {
  auto f = [](const auto& x) -> std::string {
    using type = std::decay_t<decltype(x)>;
    if constexpr (std::is_same_v<type, opaque_event>)
      return opaque_node_id(x);
    else if constexpr (has_node_id<type>::value)
      return x.node_id;
    else
      return {};
  };
  return caf::visit(f, kind);
}

bool is_terminal(const event_kind& kind) {
  return caf::holds_alternative<workflow_completed>(kind) ||
         caf::holds_alternative<workflow_failed>(kind) ||
         caf::holds_alternative<workflow_cancelled>(kind);
}

// -- equality -----------------------------------------------------------------

bool operator==(const workflow_started& x, const workflow_started& y) {
  return x.workflow_id == y.workflow_id &&
         x.workflow_version == y.workflow_version &&
         x.initial_input == y.initial_input;
}

bool operator==(const workflow_completed& x, const workflow_completed& y) {
  return x.final_state == y.final_state;
}

bool operator==(const workflow_failed& x, const workflow_failed& y) {
  return x.error == y.error;
}

bool operator==(const workflow_cancelled& x, const workflow_cancelled& y) {
  return x.reason == y.reason;
}

bool operator==(const node_scheduled& x, const node_scheduled& y) {
  return x.node_id == y.node_id && x.queue_type == y.queue_type;
}

bool operator==(const node_started& x, const node_started& y) {
  return x.node_id == y.node_id && x.worker_id == y.worker_id &&
         x.attempt == y.attempt;
}

bool operator==(const node_completed& x, const node_completed& y) {
  return x.node_id == y.node_id && x.output == y.output &&
         x.state_patch == y.state_patch && x.duration_ms == y.duration_ms &&
         x.extra == y.extra;
}

bool operator==(const node_failed& x, const node_failed& y) {
  return x.node_id == y.node_id && x.error == y.error &&
         x.attempt == y.attempt && x.retryable == y.retryable;
}

bool operator==(const node_skipped& x, const node_skipped& y) {
  return x.node_id == y.node_id && x.reason == y.reason;
}

bool operator==(const node_cancelled& x, const node_cancelled& y) {
  return x.node_id == y.node_id;
}

bool operator==(const retry_scheduled& x, const retry_scheduled& y) {
  return x.node_id == y.node_id && x.attempt == y.attempt &&
         x.delay_ms == y.delay_ms;
}

bool operator==(const timer_created& x, const timer_created& y) {
  return x.node_id == y.node_id && x.fire_at_ms == y.fire_at_ms &&
         x.correlation_key == y.correlation_key;
}

bool operator==(const timer_fired& x, const timer_fired& y) {
  return x.node_id == y.node_id && x.correlation_key == y.correlation_key;
}

bool operator==(const external_event_received& x,
                const external_event_received& y) {
  return x.correlation_key == y.correlation_key && x.payload == y.payload;
}

bool operator==(const node_redriven& x, const node_redriven& y) {
  return x.node_id == y.node_id && x.attempt == y.attempt;
}

bool operator==(const approval_received& x, const approval_received& y) {
  return x.node_id == y.node_id && x.user_id == y.user_id &&
         x.decision == y.decision && x.comment == y.comment &&
         x.state_patch == y.state_patch;
}

bool operator==(const opaque_event& x, const opaque_event& y) {
  return x.type == y.type && x.body == y.body;
}

bool operator==(const event& x, const event& y) {
  return x.id == y.id && x.execution_id == y.execution_id &&
         x.sequence == y.sequence && x.kind == y.kind &&
         x.created_at_ms == y.created_at_ms;
}

} // namespace jamjet
