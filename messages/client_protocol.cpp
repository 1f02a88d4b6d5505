#include "jamjet/messages/client_protocol.hpp"

namespace jamjet {

namespace {

struct name_visitor {
  const char* operator()(const client_register&) const { return "register"; }
  const char* operator()(const client_start&) const { return "start"; }
  const char* operator()(const client_await&) const { return "await"; }
  const char* operator()(const client_status&) const { return "status"; }
  const char* operator()(const client_list&) const { return "list"; }
  const char* operator()(const client_events&) const { return "events"; }
  const char* operator()(const client_cancel&) const { return "cancel"; }
  const char* operator()(const client_signal&) const { return "signal"; }
  const char* operator()(const client_decide& x) const {
    return x.approve ? "approve" : "reject";
  }
};

} // namespace

const char* request_name(const client_request& req) {
  return caf::visit(name_visitor{}, req);
}

access_need need_of(const client_request& req) {
  if (caf::holds_alternative<client_await>(req) ||
      caf::holds_alternative<client_status>(req) ||
      caf::holds_alternative<client_list>(req) ||
      caf::holds_alternative<client_events>(req))
    return access_need::read;
  return access_need::operate;
}

bool operator==(const client_register& x, const client_register& y) {
  return x.ir == y.ir;
}

bool operator==(const client_start& x, const client_start& y) {
  return x.workflow_id == y.workflow_id && x.version == y.version &&
         x.input == y.input;
}

bool operator==(const client_await& x, const client_await& y) {
  return x.execution_id == y.execution_id;
}

bool operator==(const client_status& x, const client_status& y) {
  return x.execution_id == y.execution_id;
}

bool operator==(const client_list&, const client_list&) {
  return true;
}

bool operator==(const client_events& x, const client_events& y) {
  return x.execution_id == y.execution_id;
}

bool operator==(const client_cancel& x, const client_cancel& y) {
  return x.execution_id == y.execution_id && x.reason == y.reason;
}

bool operator==(const client_signal& x, const client_signal& y) {
  return x.execution_id == y.execution_id && x.key == y.key &&
         x.payload == y.payload;
}

bool operator==(const client_decide& x, const client_decide& y) {
  return x.execution_id == y.execution_id && x.node_id == y.node_id &&
         x.approve == y.approve && x.user_id == y.user_id &&
         x.comment == y.comment && x.state_patch == y.state_patch;
}

} // namespace jamjet
