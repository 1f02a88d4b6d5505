#include "jamjet/core/item_rules.hpp"

#include "jamjet/messages/error.hpp"
#include "jamjet/support/ids.hpp"

namespace jamjet {

namespace {

caf::error stale(const std::string& id, const char* what, uint64_t fence,
                 const work_item& cur) {
  return make_error(error_code::stale_fence,
                    std::string{what} + " of item '" + id + "' with fence " +
                      std::to_string(fence) + " refused: item is " +
                      to_string(cur.status) + " with fence " +
                      std::to_string(cur.fence));
}

} // namespace

caf::expected<work_item> apply_item_op(const std::optional<work_item>& current,
                                       const item_op& op, int64_t now_ms) {
  auto unknown = [](const std::string& id) {
    return make_error(error_code::bad_input, "unknown work item '" + id + "'");
  };
  if (auto x = caf::get_if<enqueue_op>(&op)) {
    if (current)
      return make_error(error_code::bad_input,
                        "work item '" + x->item.id + "' already exists");
    work_item item = x->item;
    item.status = item_status::ready;
    item.fence = 0;
    item.worker_id.clear();
    item.lease_expires_at_ms = 0;
    if (item.created_at_ms == 0)
      item.created_at_ms = now_ms;
    return item;
  }
  if (!current)
    return unknown(item_id_of(op));
  work_item item = *current;
  if (auto x = caf::get_if<lease_op>(&op)) {
    if (item.status != item_status::ready)
      return stale(x->item_id, "lease", x->fence, item);
    item.status = item_status::leased;
    item.fence = x->fence;
    item.worker_id = x->worker_id;
    item.lease_expires_at_ms = x->deadline_ms;
    return item;
  }
  if (auto x = caf::get_if<cancel_op>(&op)) {
    if (item.status != item_status::ready && item.status != item_status::leased)
      return make_error(error_code::stale_fence,
                        "cancel of item '" + x->item_id +
                          "' refused: item is " + to_string(item.status));
    item.status = item_status::cancelled;
    item.lease_expires_at_ms = 0;
    return item;
  }
  if (auto x = caf::get_if<fire_op>(&op)) {
    if (item.status != item_status::ready)
      return make_error(error_code::stale_fence, "timer '" + x->item_id +
                                                   "' refused to fire: it is " +
                                                   to_string(item.status));
    item.status = item_status::done;
    return item;
  }
  if (caf::get_if<disarm_op>(&op)) {
    if (item.status == item_status::ready)
      item.status = item_status::cancelled;
    return item;
  }
  if (auto x = caf::get_if<redrive_op>(&op)) {
    if (item.status != item_status::dead)
      return make_error(error_code::bad_input,
                        "work item '" + x->item_id + "' is " +
                          to_string(item.status) +
                          ", not a dead letter; nothing to redrive");
    item.status = item_status::ready;
    item.attempt = x->attempt;
    item.max_attempts = x->max_attempts;
    item.not_before_ms = 0;
    item.fence = 0;
    item.worker_id.clear();
    item.lease_expires_at_ms = 0;
    return item;
  }
  // The remaining operations end a lease: the fence must be current.
  auto check_lease = [&](const char* what, uint64_t fence) -> caf::error {
    if (item.status != item_status::leased || item.fence != fence)
      return stale(item.id, what, fence, item);
    return caf::none;
  };
  if (auto x = caf::get_if<settle_op>(&op)) {
    if (auto err = check_lease("settle", x->fence))
      return err;
    item.status = item_status::done;
    item.lease_expires_at_ms = 0;
    return item;
  }
  if (auto x = caf::get_if<requeue_op>(&op)) {
    if (auto err = check_lease("requeue", x->fence))
      return err;
    item.status = item_status::ready;
    item.attempt = x->attempt;
    item.not_before_ms = x->not_before_ms;
    item.worker_id.clear();
    item.lease_expires_at_ms = 0;
    return item;
  }
  if (auto x = caf::get_if<dead_letter_op>(&op)) {
    if (auto err = check_lease("dead-letter", x->fence))
      return err;
    item.status = item_status::dead;
    item.lease_expires_at_ms = 0;
    return item;
  }
  return make_error(error_code::bad_input, "unknown work-item operation");
}

caf::expected<std::vector<work_item>> apply_item_ops(
  const command& cmd,
  const std::function<std::optional<work_item>(const std::string&)>& stored) {
  std::vector<work_item> changed;
  changed.reserve(cmd.items.size());
  for (auto& op : cmd.items) {
    auto& id = item_id_of(op);
    std::optional<work_item> current;
    for (auto i = changed.rbegin(); i != changed.rend() && !current; ++i)
      if (i->id == id)
        current = *i;
    if (!current)
      current = stored(id);
    auto next = apply_item_op(current, op, cmd.now_ms);
    if (!next)
      return std::move(next.error());
    changed.emplace_back(std::move(*next));
  }
  return changed;
}

caf::error check_events(const command& cmd, bool exists, bool terminal) {
  if (cmd.events.empty() && cmd.items.empty())
    return make_error(error_code::bad_input, "empty command");
  bool starts = !cmd.events.empty() &&
                caf::holds_alternative<workflow_started>(cmd.events[0]);
  if (starts && exists)
    return make_error(error_code::bad_input,
                      "execution '" + cmd.execution_id + "' already exists");
  if (!starts && !exists)
    return make_error(error_code::unknown_execution,
                      "unknown execution '" + cmd.execution_id + "'");
  // A redrive may reopen an execution that failed.
  bool redrive =
    !cmd.events.empty() && caf::holds_alternative<node_redriven>(cmd.events[0]);
  if (terminal && !redrive)
    return make_error(error_code::stale_fence,
                      "execution '" + cmd.execution_id +
                        "' has ended; command refused");
  for (size_t i = 0; i < cmd.events.size(); ++i) {
    if (i > 0 && caf::holds_alternative<workflow_started>(cmd.events[i]))
      return make_error(error_code::bad_input,
                        "workflow_started must be an execution's first event");
    if (is_terminal(cmd.events[i]) && i + 1 != cmd.events.size())
      return make_error(error_code::bad_input,
                        "a terminal event must be a command's last event");
  }
  return caf::none;
}

namespace {

/// The status an event leaves an execution in, if it changes it.
std::optional<execution_status_code> status_after(const event_kind& kind) {
  if (caf::holds_alternative<workflow_started>(kind) ||
      caf::holds_alternative<node_redriven>(kind))
    return execution_status_code::running;
  if (caf::holds_alternative<workflow_completed>(kind))
    return execution_status_code::completed;
  if (caf::holds_alternative<workflow_failed>(kind))
    return execution_status_code::failed;
  if (caf::holds_alternative<workflow_cancelled>(kind))
    return execution_status_code::cancelled;
  return std::nullopt;
}

} // namespace

execution_record new_execution_record(const command& cmd) {
  auto& start = caf::get<workflow_started>(cmd.events[0]);
  execution_record rec;
  rec.id = cmd.execution_id;
  rec.workflow_id = start.workflow_id;
  rec.workflow_version = start.workflow_version;
  rec.status = execution_status_code::running;
  rec.input = start.initial_input;
  rec.created_at_ms = cmd.now_ms;
  return rec;
}

event record_event(execution_record& rec, const event_kind& kind,
                   int64_t now_ms) {
  if (auto status = status_after(kind)) {
    rec.status = *status;
    if (auto x = caf::get_if<workflow_completed>(&kind))
      rec.result = x->final_state;
    else if (auto y = caf::get_if<workflow_failed>(&kind))
      rec.result = y->error;
    else if (auto z = caf::get_if<workflow_cancelled>(&kind))
      rec.result = z->reason ? *z->reason : std::string{};
  }
  rec.updated_at_ms = now_ms;
  return event{make_uuid(), rec.id, ++rec.last_sequence, kind, now_ms};
}

} // namespace jamjet
