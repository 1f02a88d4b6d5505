#pragma once

// The rules every store applies to work-item operations.
//
// Kept apart from any store so that the in-memory and SQLite stores agree:
// given an item as stored (or none) and an operation, `apply_item_op` yields
// the item after the operation, or the error that rejects the command.

#include <functional>
#include <optional>
#include <string>
#include <vector>

#include <caf/expected.hpp>

#include "jamjet/messages/command.hpp"
#include "jamjet/messages/event.hpp"
#include "jamjet/messages/records.hpp"

namespace jamjet {

/// The item after `op`, or why `op` is refused. `current` is the stored item
/// (none for an unknown id); `now_ms` stamps enqueues.
caf::expected<work_item> apply_item_op(const std::optional<work_item>& current,
                                       const item_op& op, int64_t now_ms);

/// Applies every item operation of `cmd` in order, each to the item as the
/// earlier operations of `cmd` left it, else as `stored` finds it. Returns
/// the changed items, or the error of the first operation refused (then
/// nothing may be written).
caf::expected<std::vector<work_item>> apply_item_ops(
  const command& cmd,
  const std::function<std::optional<work_item>(const std::string&)>& stored);

/// Checks the events of a command against the execution's status:
/// `workflow_started` only first and only for a new execution; nothing after
/// a terminal event, except a `node_redriven` first (it reopens a failed
/// execution). `exists`/`terminal` describe the stored execution.
caf::error check_events(const command& cmd, bool exists, bool terminal);

/// The record of the execution a command starts (its first event is
/// `workflow_started`, as `check_events` made sure).
execution_record new_execution_record(const command& cmd);

/// Appends `kind` to `rec`: the next sequence, and the status and result a
/// lifecycle event leaves behind. Returns the event as committed.
event record_event(execution_record& rec, const event_kind& kind,
                   int64_t now_ms);

} // namespace jamjet
