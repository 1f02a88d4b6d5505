#pragma once

// supervisor: the registry of workflows and running executions.
//
// Protocol:
//   published_events                       (from the backend) route each
//                                          execution's events to its actor;
//                                          answer waiters on terminal events
//   (register, ir_json) -> "id@version"    validate, store and register
//   (start, start_request) -> exec_id      commit WorkflowStarted, spawn the
//                                          execution actor
//   (await, exec_id) -> execution_outcome  answered when the execution ends
//   (status, exec_id) -> execution_record
//   (cancel, exec_id, reason) -> ok        ask the execution to cancel
//   (recover) -> recovery_report           after a restart: register the
//                                          stored workflows, respawn every
//                                          running execution folded from its
//                                          log, hand open items to the
//                                          dispatcher

#include <string>

#include <caf/fwd.hpp>
#include <caf/typed_actor.hpp>

#include "actors/backend.hpp"
#include "actors/dispatcher.hpp"
#include "actors/execution.hpp"

namespace jamjet {

/// The supervisor's interface.
using supervisor_actor = caf::typed_actor<
  caf::reacts_to<published_events>,
  caf::replies_to<register_atom, std::string>::with<std::string>,
  caf::replies_to<start_atom, start_request>::with<std::string>,
  caf::replies_to<await_atom, std::string>::with<execution_outcome>,
  caf::replies_to<status_atom, std::string>::with<execution_record>,
  caf::replies_to<cancel_atom, std::string, std::string>::with<caf::ok_atom>,
  caf::replies_to<recover_atom>::with<recovery_report>>;

/// Spawns a supervisor whose executions commit through `backend`.
supervisor_actor spawn_supervisor(caf::actor_system& sys, backend_actor backend,
                                  dispatcher_actor dispatcher,
                                  execution_limits limits = {});

} // namespace jamjet
