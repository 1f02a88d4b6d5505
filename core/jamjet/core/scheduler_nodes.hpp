#pragma once

// The nodes the scheduler runs itself, as pure planning functions over an
// execution's progress: `condition` nodes (routing), `wait` nodes (durable
// timers, external events) and `human_approval` nodes.
//
// Each function appends the events and item operations of its decision to a
// command; the execution actor commits it. Timers are work items on the
// `timer_queue`, due at their fire time, so they are as durable as any work
// item: the dispatcher turns a due timer into `TimerFired` after a restart
// as well.

#include <cstdint>
#include <optional>
#include <string>

#include "jamjet/core/progress.hpp"
#include "jamjet/messages/command.hpp"

namespace jamjet {

/// The key of the workflow-timeout timer (its node id is empty).
inline constexpr const char* workflow_timeout_key = "workflow_timeout";

/// The id of the `n`-th timer of a node (`node_id` empty: the workflow).
std::string timer_item_id(const std::string& execution_id,
                          const std::string& node_id, uint32_t n);

/// Appends `TimerCreated` and its timer item, due at `fire_at_ms`, as the
/// `n`-th timer of `node_id`.
void add_timer(command& cmd, const std::string& node_id,
               const std::optional<std::string>& key, int64_t fire_at_ms,
               uint32_t n);

/// Evaluates condition node `rank` against the state: `NodeCompleted` whose
/// output records the branch taken (`{"branch": i, "target": id}`, or nulls
/// when none holds) and any malformed expressions (`"problems"`).
void plan_condition(const progress& prog, uint32_t rank, command& cmd);

/// Starts wait or approval node `rank` (attempt 1): `NodeScheduled` and,
/// when it has a deadline, its timer.
void plan_wait_start(const progress& prog, uint32_t rank, command& cmd);

/// Settles waiting node `rank` if what it waits for has happened: an
/// external event or its timer (wait), a decision or its timeout
/// (approval). Returns false, appending nothing, while it must wait on.
bool plan_wait_resolution(const progress& prog, uint32_t rank, command& cmd);

/// Timer items not yet fired, as ids (the workflow timer included), for
/// disarming when the execution ends.
std::vector<std::string> open_timer_ids(const progress& prog,
                                        const std::string& execution_id);

} // namespace jamjet
