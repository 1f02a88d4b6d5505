#include "jamjet/messages/type_registry.hpp"

#include <vector>

#include "jamjet/messages/client_protocol.hpp"
#include "jamjet/messages/command.hpp"
#include "jamjet/messages/event.hpp"
#include "jamjet/messages/protocol.hpp"
#include "jamjet/messages/records.hpp"
#include "jamjet/messages/work_item.hpp"

namespace jamjet {

void add_message_types(caf::actor_system_config& cfg) {
  // Note: `add_message_type<T>("T")` also registers "std::vector<T>" and
  // "stream<T>". The explicit vector registrations below repeat that for
  // clarity; CAF keeps the first registration of a name.

  // -- events -----------------------------------------------------------------
  cfg.add_message_type<workflow_started>("workflow_started");
  cfg.add_message_type<workflow_completed>("workflow_completed");
  cfg.add_message_type<workflow_failed>("workflow_failed");
  cfg.add_message_type<workflow_cancelled>("workflow_cancelled");
  cfg.add_message_type<node_scheduled>("node_scheduled");
  cfg.add_message_type<node_started>("node_started");
  cfg.add_message_type<node_completed>("node_completed");
  cfg.add_message_type<node_failed>("node_failed");
  cfg.add_message_type<node_skipped>("node_skipped");
  cfg.add_message_type<node_cancelled>("node_cancelled");
  cfg.add_message_type<retry_scheduled>("retry_scheduled");
  cfg.add_message_type<timer_created>("timer_created");
  cfg.add_message_type<timer_fired>("timer_fired");
  cfg.add_message_type<external_event_received>("external_event_received");
  cfg.add_message_type<node_redriven>("node_redriven");
  cfg.add_message_type<approval_received>("approval_received");
  cfg.add_message_type<opaque_event>("opaque_event");
  cfg.add_message_type<event_kind>("event_kind");
  cfg.add_message_type<event>("event");
  cfg.add_message_type<std::vector<event>>("std::vector<event>");

  // -- work items -------------------------------------------------------------
  cfg.add_message_type<work_item>("work_item");
  cfg.add_message_type<std::vector<work_item>>("std::vector<work_item>");
  cfg.add_message_type<dead_letter>("dead_letter");

  // -- commands ---------------------------------------------------------------
  cfg.add_message_type<enqueue_op>("enqueue_op");
  cfg.add_message_type<lease_op>("lease_op");
  cfg.add_message_type<settle_op>("settle_op");
  cfg.add_message_type<requeue_op>("requeue_op");
  cfg.add_message_type<dead_letter_op>("dead_letter_op");
  cfg.add_message_type<cancel_op>("cancel_op");
  cfg.add_message_type<redrive_op>("redrive_op");
  cfg.add_message_type<fire_op>("fire_op");
  cfg.add_message_type<disarm_op>("disarm_op");
  cfg.add_message_type<item_op>("item_op");
  cfg.add_message_type<std::vector<item_op>>("std::vector<item_op>");
  cfg.add_message_type<command>("command");
  cfg.add_message_type<commit_result>("commit_result");

  // -- actor protocol ---------------------------------------------------------
  // Typed actor handles are registered by `add_actor_types` (actors/).
  cfg.add_message_type<published_events>("published_events");
  cfg.add_message_type<published_items>("published_items");
  cfg.add_message_type<start_request>("start_request");
  cfg.add_message_type<execution_outcome>("execution_outcome");
  cfg.add_message_type<node_result>("node_result");
  cfg.add_message_type<approval_request>("approval_request");
  cfg.add_message_type<lease_entry>("lease_entry");
  cfg.add_message_type<execution_record>("execution_record");
  cfg.add_message_type<std::vector<execution_record>>(
    "std::vector<execution_record>");
  cfg.add_message_type<std::vector<dead_letter>>("std::vector<dead_letter>");
  cfg.add_message_type<workflow_definition>("workflow_definition");
  cfg.add_message_type<std::vector<workflow_definition>>(
    "std::vector<workflow_definition>");
  cfg.add_message_type<recovered_execution>("recovered_execution");
  cfg.add_message_type<std::vector<recovered_execution>>(
    "std::vector<recovered_execution>");
  cfg.add_message_type<recovery_snapshot>("recovery_snapshot");
  cfg.add_message_type<recovery_report>("recovery_report");
  cfg.add_message_type<inbox_message>("inbox_message");
  cfg.add_message_type<std::vector<inbox_message>>(
    "std::vector<inbox_message>");

  // -- client requests --------------------------------------------------------
  // From a remote client to its uplink actor (call_atom, client_request).
  cfg.add_message_type<client_request>("client_request");
}

} // namespace jamjet
