#pragma once

// supervisor: the registry of workflows and running executions.
//
// Protocol:
//   published_events                       (from the backend) route each
//                                          execution's events to its actor;
//                                          answer waiters on terminal events
//   (register, ir_json) -> "id@version"    validate, store and register
//   (register, graph, ir_json) -> "id@version"
//                                          store and register a workflow
//                                          the caller compiled already
//   (workflows) -> workflow_registry       a copy of the registered
//                                          workflows (local callers only)
//   (start, start_request) -> exec_id      commit WorkflowStarted, spawn the
//                                          execution actor
//   (await, exec_id) -> execution_outcome  answered when the execution ends
//   (status, exec_id) -> execution_record
//   (cancel, exec_id, reason) -> ok        ask the execution to cancel
//   (signal, exec_id, key, payload) -> ok  an external event for a running
//                                          execution (error: not running, or
//                                          nothing waits for `key`)
//   (approve, exec_id, approval_request) -> ok
//                                          a decision on an approval node
//   (recover) -> recovery_report           after a restart: register the
//                                          stored workflows, respawn every
//                                          running execution folded from its
//                                          log, hand open items to the
//                                          dispatcher; then, when polling is
//                                          on, look for inbox requests
//   (inbox)                                (to itself) deliver the requests
//                                          other processes left in the store
//                                          (`jamjet signal --db ...`)

#include <chrono>
#include <string>

#include <caf/allowed_unsafe_message_type.hpp>
#include <caf/fwd.hpp>
#include <caf/typed_actor.hpp>

#include "jamjet/actors/backend.hpp"
#include "jamjet/actors/dispatcher.hpp"
#include "jamjet/actors/execution.hpp"
#include "jamjet/core/workflow_registry.hpp"

// Compiled graphs travel only between actors of one process: they are not
// serialisable, and no message holding one goes over the network.
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(jamjet::graph_ptr)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(jamjet::workflow_registry)

namespace jamjet {

/// Ask for a copy of the registered workflows (supervisor).
using workflows_atom = caf::atom_constant<caf::atom("workflows")>;

/// The supervisor's interface.
using supervisor_actor = caf::typed_actor<
  caf::reacts_to<published_events>,
  caf::replies_to<register_atom, std::string>::with<std::string>,
  caf::replies_to<register_atom, graph_ptr, std::string>::with<std::string>,
  caf::replies_to<workflows_atom>::with<workflow_registry>,
  caf::replies_to<start_atom, start_request>::with<std::string>,
  caf::replies_to<await_atom, std::string>::with<execution_outcome>,
  caf::replies_to<status_atom, std::string>::with<execution_record>,
  caf::replies_to<cancel_atom, std::string, std::string>::with<caf::ok_atom>,
  caf::replies_to<signal_atom, std::string, std::string,
                  std::string>::with<caf::ok_atom>,
  caf::replies_to<approve_atom, std::string,
                  approval_request>::with<caf::ok_atom>,
  caf::replies_to<recover_atom>::with<recovery_report>,
  caf::reacts_to<inbox_atom>>;

/// Spawns a supervisor whose executions commit through `backend`.
/// How often the supervisor looks for inbox requests; zero: never.
struct supervisor_config {
  execution_limits limits;
  std::chrono::milliseconds inbox_poll{0};
};

supervisor_actor spawn_supervisor(caf::actor_system& sys, backend_actor backend,
                                  dispatcher_actor dispatcher,
                                  supervisor_config cfg = {});

} // namespace jamjet
