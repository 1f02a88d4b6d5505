#pragma once

// A store in memory: fast, and gone when the process ends.

#include <map>
#include <string>
#include <unordered_map>
#include <vector>

#include "jamjet/store/store.hpp"
#include "jamjet/support/export.hpp"

namespace jamjet {
JAMJET_API_BEGIN

/// The in-memory store. Not durable; the reference for store behaviour.
class memory_store : public store {
 public:
  bool blocking() const noexcept override { return false; }

  std::vector<caf::expected<commit_result>>
  apply(const std::vector<command>& batch) override;

  std::vector<event> read_events(const std::string& execution_id,
                                 uint64_t from) override;

  std::optional<execution_record>
  find_execution(const std::string& id) override;

  std::vector<execution_record> executions() override;

  std::vector<work_item> open_items() override;

  std::vector<dead_letter> dead_letters() override;

  caf::error put_workflow(const std::string& workflow_id,
                          const std::string& version,
                          const std::string& ir_json) override;

  std::optional<std::string> find_workflow(const std::string& workflow_id,
                                           const std::string& version) override;

  std::vector<workflow_definition> workflows() override;

  std::pair<uint64_t, std::string>
  snapshot_of(const std::string& execution_id) override;

 private:
  caf::expected<commit_result> apply_one(const command& cmd);

  struct execution_data {
    execution_record record;
    /// A vector: appending is cheap on average, though a doubling moves
    /// the whole log on one hop (see docs/performance.md). A deque was
    /// tried; its many small blocks looked slower in ungated runs.
    std::vector<event> log;
    std::string snapshot;
    uint64_t snapshot_sequence = 0;
  };

  std::unordered_map<std::string, execution_data> executions_;
  std::vector<std::string> execution_order_;
  std::unordered_map<std::string, work_item> items_;
  std::map<std::string, dead_letter> dead_letters_;
  std::map<std::pair<std::string, std::string>, std::string> workflows_;
  std::vector<std::pair<std::string, std::string>> workflow_order_;
};

JAMJET_API_END
} // namespace jamjet
