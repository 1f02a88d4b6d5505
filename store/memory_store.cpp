#include "jamjet/store/memory_store.hpp"

#include <tuple>

#include "jamjet/core/item_rules.hpp"
#include "jamjet/messages/error.hpp"

namespace jamjet {

store::~store() {
  // nop
}

recovery_snapshot store::recovery() {
  recovery_snapshot snap;
  snap.workflows = workflows();
  for (auto& rec : executions())
    if (rec.status == execution_status_code::running) {
      recovered_execution ex;
      ex.record = rec;
      std::tie(ex.snapshot_sequence, ex.snapshot) = snapshot_of(rec.id);
      try {
        ex.events = read_events(rec.id, ex.snapshot_sequence + 1);
      } catch (const error& bad) {
        // An unreadable event fails its execution, not the recovery.
        ex.unreadable = bad.what();
      }
      snap.executions.push_back(std::move(ex));
    }
  snap.items = open_items();
  return snap;
}

std::vector<caf::expected<commit_result>>
memory_store::apply(const std::vector<command>& batch) {
  std::vector<caf::expected<commit_result>> results;
  results.reserve(batch.size());
  for (auto& cmd : batch)
    results.emplace_back(apply_one(cmd));
  return results;
}

caf::expected<commit_result> memory_store::apply_one(const command& cmd) {
  auto ex = executions_.find(cmd.execution_id);
  bool exists = ex != executions_.end();
  bool terminal =
    exists && ex->second.record.status != execution_status_code::running;
  if (auto err = check_events(cmd, exists, terminal))
    return err;
  // Work out every item change first, so a refused one changes nothing.
  auto ops = apply_item_ops(cmd, [this](const std::string& id) {
    auto i = items_.find(id);
    return i != items_.end() ? std::optional<work_item>{i->second}
                             : std::nullopt;
  });
  if (!ops)
    return std::move(ops.error());
  auto changed = std::move(*ops);
  // Commit.
  if (!exists) {
    execution_data data;
    data.record = new_execution_record(cmd);
    ex = executions_.emplace(cmd.execution_id, std::move(data)).first;
    execution_order_.push_back(cmd.execution_id);
  }
  auto& rec = ex->second.record;
  commit_result result;
  result.events.reserve(cmd.events.size());
  for (auto& kind : cmd.events) {
    auto e = record_event(rec, kind, cmd.now_ms);
    ex->second.log.push_back(e);
    result.events.emplace_back(std::move(e));
  }
  rec.updated_at_ms = cmd.now_ms;
  if (!cmd.snapshot.empty()) {
    ex->second.snapshot = cmd.snapshot;
    ex->second.snapshot_sequence = cmd.snapshot_sequence;
  }
  for (size_t i = 0; i < changed.size(); ++i) {
    auto& item = changed[i];
    if (item.status == item_status::dead) {
      auto& op = caf::get<dead_letter_op>(cmd.items[i]);
      dead_letters_[item.id] = dead_letter{item, op.error, cmd.now_ms};
    } else if (caf::holds_alternative<redrive_op>(cmd.items[i])) {
      dead_letters_.erase(item.id);
    }
    items_[item.id] = item;
  }
  result.items = std::move(changed);
  return result;
}

std::vector<event> memory_store::read_events(const std::string& execution_id,
                                             uint64_t from) {
  auto ex = executions_.find(execution_id);
  if (ex == executions_.end() || from == 0 || from > ex->second.log.size())
    return {};
  auto& log = ex->second.log;
  return {log.begin() + static_cast<ptrdiff_t>(from - 1), log.end()};
}

std::pair<uint64_t, std::string>
memory_store::snapshot_of(const std::string& execution_id) {
  auto ex = executions_.find(execution_id);
  if (ex == executions_.end())
    return {0, {}};
  return {ex->second.snapshot_sequence, ex->second.snapshot};
}

std::optional<execution_record>
memory_store::find_execution(const std::string& id) {
  auto ex = executions_.find(id);
  if (ex == executions_.end())
    return std::nullopt;
  return ex->second.record;
}

std::vector<execution_record> memory_store::executions() {
  std::vector<execution_record> result;
  result.reserve(execution_order_.size());
  for (auto& id : execution_order_)
    result.push_back(executions_.at(id).record);
  return result;
}

std::vector<work_item> memory_store::open_items() {
  std::vector<work_item> result;
  for (auto& [id, item] : items_)
    if (item.status == item_status::ready || item.status == item_status::leased)
      result.push_back(item);
  return result;
}

std::vector<dead_letter> memory_store::dead_letters() {
  std::vector<dead_letter> result;
  for (auto& [id, dl] : dead_letters_)
    result.push_back(dl);
  return result;
}

caf::error memory_store::put_workflow(const std::string& workflow_id,
                                      const std::string& version,
                                      const std::string& ir_json) {
  auto key = std::make_pair(workflow_id, version);
  auto i = workflows_.find(key);
  if (i == workflows_.end()) {
    workflows_.emplace(key, ir_json);
    workflow_order_.push_back(key);
    return caf::none;
  }
  if (i->second != ir_json)
    return make_error(error_code::invalid_workflow,
                      "workflow '" + workflow_id + "' version '" + version +
                        "' is already registered with a different "
                        "definition; bump its version");
  return caf::none;
}

std::optional<std::string>
memory_store::find_workflow(const std::string& workflow_id,
                            const std::string& version) {
  auto i = workflows_.find(std::make_pair(workflow_id, version));
  if (i == workflows_.end())
    return std::nullopt;
  return i->second;
}

std::vector<workflow_definition> memory_store::workflows() {
  std::vector<workflow_definition> result;
  for (auto& key : workflow_order_)
    result.push_back({key.first, key.second, workflows_.at(key)});
  return result;
}

} // namespace jamjet
