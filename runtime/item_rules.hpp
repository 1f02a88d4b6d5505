#pragma once

// The rules every store applies to work-item operations.
//
// Kept apart from any store so that the in-memory and SQLite stores agree:
// given an item as stored (or none) and an operation, `apply_item_op` yields
// the item after the operation, or the error that rejects the command.

#include <optional>
#include <string>

#include <caf/expected.hpp>

#include "messages/command.hpp"
#include "messages/event.hpp"

namespace jamjet {

/// The item after `op`, or why `op` is refused. `current` is the stored item
/// (none for an unknown id); `now_ms` stamps enqueues.
caf::expected<work_item> apply_item_op(const std::optional<work_item>& current,
                                       const item_op& op, int64_t now_ms);

/// Checks the events of a command against the execution's status:
/// `workflow_started` only first and only for a new execution; nothing after
/// a terminal event, except a `node_redriven` first (it reopens a failed
/// execution). `exists`/`terminal` describe the stored execution.
caf::error check_events(const command& cmd, bool exists, bool terminal);

/// The status string an event leaves an execution in, if it changes it.
std::optional<std::string> status_after(const event_kind& kind);

} // namespace jamjet
