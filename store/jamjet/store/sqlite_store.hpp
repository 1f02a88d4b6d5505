#pragma once

// The embedded durable store: one SQLite file in WAL mode.
//
// Every `apply` batch is one transaction (the backend's group commit); each
// command inside it is all-or-nothing through a savepoint. Nothing is
// acknowledged before COMMIT returns, and with `synchronous=FULL` (the
// default) COMMIT returns only after the WAL is on disk.
//
// An owning store takes an exclusive advisory lock (`PATH.lock`) so that two
// runtimes never share a file; it is released by the OS when the process
// dies, even by SIGKILL. A read-only store takes no lock and serves
// inspection commands while a runtime runs.

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <unordered_map>

#include "jamjet/store/store.hpp"
#include "jamjet/support/export.hpp"

struct sqlite3;
struct sqlite3_stmt;

namespace jamjet {
JAMJET_API_BEGIN

/// How an SQLite store is opened.
struct sqlite_options {
  /// `FULL` (default): every commit is fsync'd. `NORMAL`: a power loss may
  /// lose the last commits (never corrupt the file); a process crash loses
  /// nothing.
  bool synchronous_full = true;
  /// Open for reading only: no lock, no writes.
  bool read_only = false;
  /// Most pages the file may grow to (0: no limit). For tests of a full
  /// disk.
  int64_t max_page_count = 0;
};

/// The SQLite store.
class sqlite_store : public store {
 public:
  /// Opens (creating when needed, unless read-only) the store at `path`.
  /// Throws `jamjet::error(store_failure)` with a clear message when the
  /// file is locked by another process, not a jamjet database, of a newer
  /// schema, or cannot be opened or written.
  static std::shared_ptr<sqlite_store> open(const std::string& path,
                                            sqlite_options opts = {});

  ~sqlite_store() override;

  bool blocking() const noexcept override { return true; }

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

  recovery_snapshot recovery() override;

  bool has_inbox() const noexcept override { return true; }

  std::vector<inbox_message> inbox() override;

  void drop_inbox(int64_t id) override;

  /// Leaves a request in the inbox of the store at `path`, from any process
  /// (no owner lock needed). Throws `jamjet::error(store_failure)` when the
  /// file is missing or not a jamjet store. `check`, when given, runs while
  /// this process holds the store's write lock, just before the insert: what
  /// it reads (through another connection) no writer can change until the
  /// request is in; it throws to refuse the request.
  static void post_inbox(const std::string& path, const inbox_message& msg,
                         const std::function<void()>& check = nullptr);

  /// What a full check of the store found (`jamjet check`).
  struct check_report {
    size_t executions = 0;
    size_t events = 0;
    size_t workflows = 0;
    /// One line per problem; empty: the store is sound.
    std::vector<std::string> problems;
  };

  /// Checks the whole store: SQLite's own integrity check, every workflow
  /// definition (it parses and compiles), every execution's log (whole,
  /// each event readable). Reads only; takes time in proportion to the
  /// store's size.
  check_report check();

  /// How long a statement waits for another process's transaction before
  /// it fails with "database is locked".
  static constexpr int busy_timeout_ms = 10000;

  /// The schema version this build writes.
  static constexpr int schema_version = 2;

  const std::string& path() const noexcept { return path_; }

 private:
  sqlite_store() = default;

  struct statements;

  void init_schema();
  void load_caches();
  caf::expected<commit_result> apply_one(const command& cmd);
  // The steps of `apply_one`, once the command is known to be valid.
  std::optional<work_item> find_item(const std::string& id);
  void write_events(const command& cmd, execution_record& rec,
                    const std::vector<std::string>& texts,
                    commit_result& result);
  void write_execution(const execution_record& rec, const command& cmd);
  void write_items(const command& cmd, const std::vector<work_item>& changed);
  void cache(const execution_record& rec, bool existed,
             const std::vector<work_item>& changed);
  void exec(const char* sql);
  [[noreturn]] void fail(const std::string& what, int rc);

  std::string path_;
  sqlite_options opts_;
  sqlite3* db_ = nullptr;
  int lock_fd_ = -1;
  /// Fault injection for crash tests: SIGKILL ourselves inside the N-th
  /// transaction, after its rows are written and before COMMIT
  /// (environment variable JAMJET_TEST_KILL_IN_COMMIT=N; 0 = off).
  int64_t kill_in_commit_ = 0;
  std::unique_ptr<statements> stmts_;
  /// Every execution's record (write-through).
  std::unordered_map<std::string, execution_record> executions_;
  /// Every ready or leased item (write-through).
  std::unordered_map<std::string, work_item> open_items_;
  /// Previous cache entries touched by the running batch, to undo them when
  /// its transaction fails.
  std::vector<std::pair<std::string, std::optional<execution_record>>>
    undo_executions_;
  std::vector<std::pair<std::string, std::optional<work_item>>> undo_items_;
};

JAMJET_API_END
} // namespace jamjet
