#pragma once

// backend: the single writer of the store.
//
// Protocol:
//   (commit, command) -> commit_result   batched; answered after the commit
//   (subscribe, event_sink)              receives published_events
//   (subscribe, item_sink)               receives published_items
//   (read, exec_id, from) -> [event]     the log from sequence `from`
//   (record, exec_id) -> execution_record
//   (record) -> [execution_record]
//   (dlq) -> [dead_letter]
//   (register, workflow_id, version, ir_json) -> ok
//   (recover) -> recovery_snapshot        what to resume after a restart
//   (inbox) -> [inbox_message]            requests other processes left in
//                                         the store (empty if it has none)
//   (inbox, id)                           drop a delivered request
//
// Commands waiting in the mailbox go into one store transaction (group
// commit, bounded by count). Only after it commits are callers answered and
// the committed events and items published, so nothing is observed before it
// is stored. When the store fails, every later command is refused.

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include <caf/fwd.hpp>
#include <caf/typed_actor.hpp>

#include "jamjet/messages/command.hpp"
#include "jamjet/messages/protocol.hpp"
#include "jamjet/store/store.hpp"

namespace jamjet {

/// Receives committed events.
using event_sink_actor = caf::typed_actor<caf::reacts_to<published_events>>;

/// Receives committed work-item changes.
using item_sink_actor = caf::typed_actor<caf::reacts_to<published_items>>;

/// The backend's interface.
using backend_actor = caf::typed_actor<
  caf::replies_to<commit_atom, command>::with<commit_result>,
  caf::reacts_to<flush_atom>, caf::reacts_to<flush_atom, uint64_t>,
  caf::reacts_to<subscribe_atom, event_sink_actor>,
  caf::reacts_to<subscribe_atom, item_sink_actor>,
  caf::replies_to<read_atom, std::string, uint64_t>::with<std::vector<event>>,
  caf::replies_to<record_atom, std::string>::with<execution_record>,
  caf::replies_to<record_atom>::with<std::vector<execution_record>>,
  caf::replies_to<dlq_atom>::with<std::vector<dead_letter>>,
  caf::replies_to<register_atom, std::string, std::string,
                  std::string>::with<caf::ok_atom>,
  caf::replies_to<recover_atom>::with<recovery_snapshot>,
  caf::replies_to<inbox_atom>::with<std::vector<inbox_message>>,
  caf::reacts_to<inbox_atom, int64_t>>;

/// Limits of one group commit.
struct backend_config {
  /// Commands per transaction at most.
  size_t max_batch = 1024;
  /// How long a command that is not urgent may wait for company.
  std::chrono::microseconds lazy_delay{2000};
};

/// Spawns the backend over `st`; detached when the store blocks.
backend_actor spawn_backend(caf::actor_system& sys, std::shared_ptr<store> st,
                            backend_config cfg = {});

} // namespace jamjet
