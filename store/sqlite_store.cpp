#include "jamjet/store/sqlite_store.hpp"

#include <algorithm>
#include <cerrno>
#include <csignal>
#include <cstdlib>
#include <cstring>
#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <sqlite3.h>

#include "jamjet/core/item_rules.hpp"
#include "jamjet/core/workflow_registry.hpp"
#include "jamjet/messages/error.hpp"
#include "jamjet/messages/event_json.hpp"
#include "jamjet/messages/json_limits.hpp"

namespace jamjet {

namespace {

const char* schema_sql = R"sql(
CREATE TABLE IF NOT EXISTS jamjet_meta (
  key TEXT PRIMARY KEY,
  value TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS workflows (
  workflow_id TEXT NOT NULL,
  version TEXT NOT NULL,
  ir_json TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  PRIMARY KEY (workflow_id, version)
);
CREATE TABLE IF NOT EXISTS executions (
  id TEXT PRIMARY KEY,
  workflow_id TEXT NOT NULL,
  workflow_version TEXT NOT NULL,
  status TEXT NOT NULL,
  input TEXT NOT NULL,
  result TEXT NOT NULL,
  last_sequence INTEGER NOT NULL,
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL,
  snapshot TEXT NOT NULL DEFAULT '',
  snapshot_seq INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX IF NOT EXISTS executions_by_status ON executions (status);
CREATE TABLE IF NOT EXISTS events (
  execution_id TEXT NOT NULL,
  sequence INTEGER NOT NULL,
  id TEXT NOT NULL,
  type TEXT NOT NULL,
  kind TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  UNIQUE (execution_id, sequence)
);
CREATE TABLE IF NOT EXISTS work_items (
  id TEXT PRIMARY KEY,
  execution_id TEXT NOT NULL,
  node_id TEXT NOT NULL,
  queue_type TEXT NOT NULL,
  payload TEXT NOT NULL,
  attempt INTEGER NOT NULL,
  max_attempts INTEGER NOT NULL,
  created_at INTEGER NOT NULL,
  lease_expires_at INTEGER NOT NULL,
  worker_id TEXT NOT NULL,
  tenant_id TEXT NOT NULL,
  not_before INTEGER NOT NULL,
  fence INTEGER NOT NULL,
  status TEXT NOT NULL,
  retry TEXT NOT NULL DEFAULT '',
  timeout_ms INTEGER NOT NULL DEFAULT 0,
  lease_ms INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX IF NOT EXISTS work_items_by_status ON work_items (status);
CREATE TABLE IF NOT EXISTS dead_letters (
  item_id TEXT PRIMARY KEY,
  error TEXT NOT NULL,
  dead_at INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS inbox (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  execution_id TEXT NOT NULL,
  kind TEXT NOT NULL,
  target TEXT NOT NULL,
  payload TEXT NOT NULL,
  comment TEXT,
  user_id TEXT NOT NULL,
  created_at INTEGER NOT NULL
);
)sql";

/// Schema version 1 lacked these columns of work_items.
const char* migrate_v1_sql = R"sql(
ALTER TABLE work_items ADD COLUMN retry TEXT NOT NULL DEFAULT '';
ALTER TABLE work_items ADD COLUMN timeout_ms INTEGER NOT NULL DEFAULT 0;
ALTER TABLE work_items ADD COLUMN lease_ms INTEGER NOT NULL DEFAULT 0;
)sql";

item_status status_from(const std::string& s) {
  for (auto x : {item_status::ready, item_status::leased, item_status::done,
                 item_status::dead, item_status::cancelled})
    if (to_string(x) == s)
      return x;
  throw error(error_code::store_failure,
              "unknown work item status '" + s + "' in the store");
}

execution_status_code execution_status_from(const std::string& s) {
  if (auto x = parse_execution_status(s))
    return *x;
  throw error(error_code::store_failure,
              "unknown execution status '" + s + "' in the store");
}

/// A prepared statement that resets itself.
class stmt {
 public:
  stmt() = default;
  stmt(sqlite3* db, const char* sql) {
    if (sqlite3_prepare_v3(db, sql, -1, SQLITE_PREPARE_PERSISTENT, &ptr_,
                           nullptr) != SQLITE_OK)
      throw error(error_code::store_failure,
                  std::string{"cannot prepare statement: "} +
                    sqlite3_errmsg(db));
  }
  ~stmt() { sqlite3_finalize(ptr_); }
  stmt(const stmt&) = delete;
  stmt& operator=(const stmt&) = delete;

  sqlite3_stmt* get() { return ptr_; }

  stmt& bind(int i, const std::string& x) {
    sqlite3_bind_text(ptr_, i, x.data(), static_cast<int>(x.size()),
                      SQLITE_TRANSIENT);
    return *this;
  }
  stmt& bind(int i, int64_t x) {
    sqlite3_bind_int64(ptr_, i, x);
    return *this;
  }

  /// Runs a statement without rows; returns the SQLite result code.
  int run() {
    auto rc = sqlite3_step(ptr_);
    sqlite3_reset(ptr_);
    sqlite3_clear_bindings(ptr_);
    return rc;
  }

  /// Steps once; true while a row is available.
  bool row(int& rc) {
    rc = sqlite3_step(ptr_);
    return rc == SQLITE_ROW;
  }

  void reset() {
    sqlite3_reset(ptr_);
    sqlite3_clear_bindings(ptr_);
  }

  std::string text(int col) {
    auto p = sqlite3_column_text(ptr_, col);
    auto n = sqlite3_column_bytes(ptr_, col);
    return p ? std::string{reinterpret_cast<const char*>(p),
                           static_cast<size_t>(n)}
             : std::string{};
  }
  int64_t i64(int col) { return sqlite3_column_int64(ptr_, col); }

 private:
  sqlite3_stmt* ptr_ = nullptr;
};

const char* item_columns =
  "id, execution_id, node_id, queue_type, payload, attempt, max_attempts, "
  "created_at, lease_expires_at, worker_id, tenant_id, not_before, fence, "
  "status, retry, timeout_ms, lease_ms";

work_item read_item(stmt& s, int first = 0) {
  work_item x;
  x.id = s.text(first + 0);
  x.execution_id = s.text(first + 1);
  x.node_id = s.text(first + 2);
  x.queue_type = s.text(first + 3);
  x.payload = s.text(first + 4);
  x.attempt = static_cast<uint32_t>(s.i64(first + 5));
  x.max_attempts = static_cast<uint32_t>(s.i64(first + 6));
  x.created_at_ms = s.i64(first + 7);
  x.lease_expires_at_ms = s.i64(first + 8);
  x.worker_id = s.text(first + 9);
  x.tenant_id = s.text(first + 10);
  x.not_before_ms = s.i64(first + 11);
  x.fence = static_cast<uint64_t>(s.i64(first + 12));
  x.status = status_from(s.text(first + 13));
  x.retry = s.text(first + 14);
  x.timeout_ms = static_cast<uint64_t>(s.i64(first + 15));
  x.lease_ms = static_cast<uint64_t>(s.i64(first + 16));
  return x;
}

/// The kind of stored event `sequence` of `execution_id`. A row this
/// version could not have written (too deep, not JSON, not an event)
/// throws `bad_input` naming it; it never reaches anything recursive.
event_kind read_kind(const std::string& text, const std::string& execution_id,
                     uint64_t sequence) {
  try {
    return event_kind_from_json(
      parse_bounded(text, json_limits::stored(), "the stored JSON"));
  } catch (const std::exception& ex) {
    throw error(error_code::bad_input,
                "execution '" + execution_id + "': event " +
                  std::to_string(sequence) +
                  " in the store is unreadable: " + ex.what());
  }
}

execution_record read_execution(stmt& s) {
  execution_record r;
  r.id = s.text(0);
  r.workflow_id = s.text(1);
  r.workflow_version = s.text(2);
  r.status = execution_status_from(s.text(3));
  r.input = s.text(4);
  r.result = s.text(5);
  r.last_sequence = static_cast<uint64_t>(s.i64(6));
  r.created_at_ms = s.i64(7);
  r.updated_at_ms = s.i64(8);
  return r;
}

} // namespace

struct sqlite_store::statements {
  stmt insert_event;
  stmt upsert_execution;
  stmt upsert_item;
  stmt insert_dead_letter;
  stmt delete_dead_letter;
  stmt select_item;

  explicit statements(sqlite3* db)
    : insert_event(db, "INSERT INTO events (execution_id, sequence, id, type, "
                       "kind, created_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6)"),
      upsert_execution(
        db, "INSERT INTO executions (id, workflow_id, workflow_version, "
            "status, input, result, last_sequence, created_at, updated_at, "
            "snapshot, snapshot_seq) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, "
            "?9, ?10, ?11) ON CONFLICT (id) DO UPDATE SET status = "
            "excluded.status, result = excluded.result, last_sequence = "
            "excluded.last_sequence, updated_at = excluded.updated_at, "
            "snapshot = CASE WHEN excluded.snapshot_seq > 0 THEN "
            "excluded.snapshot ELSE snapshot END, snapshot_seq = CASE WHEN "
            "excluded.snapshot_seq > 0 THEN excluded.snapshot_seq ELSE "
            "snapshot_seq END"),
      upsert_item(db, "INSERT INTO work_items (id, execution_id, node_id, "
                      "queue_type, payload, attempt, max_attempts, "
                      "created_at, lease_expires_at, worker_id, tenant_id, "
                      "not_before, fence, status, retry, timeout_ms, "
                      "lease_ms) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, "
                      "?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17) ON "
                      "CONFLICT (id) DO UPDATE SET attempt = "
                      "excluded.attempt, max_attempts = "
                      "excluded.max_attempts, lease_expires_at = "
                      "excluded.lease_expires_at, worker_id = "
                      "excluded.worker_id, not_before = excluded.not_before, "
                      "fence = excluded.fence, status = excluded.status"),
      insert_dead_letter(db, "INSERT OR REPLACE INTO dead_letters (item_id, "
                             "error, dead_at) VALUES (?1, ?2, ?3)"),
      delete_dead_letter(db, "DELETE FROM dead_letters WHERE item_id = ?1"),
      select_item(db, (std::string{"SELECT "} + item_columns +
                       " FROM work_items WHERE id = ?1")
                        .c_str()) {
    // nop
  }
};

void sqlite_store::fail(const std::string& what, int rc) {
  std::string msg = what + " (" + path_ + "): ";
  msg += db_ ? sqlite3_errmsg(db_) : sqlite3_errstr(rc);
  if (rc == SQLITE_NOTADB)
    msg = "'" + path_ + "' is not a jamjet database (not an SQLite file)";
  else if (rc == SQLITE_READONLY || rc == SQLITE_CANTOPEN || rc == SQLITE_PERM)
    msg += ": check that the file and its directory are writable";
  else if (rc == SQLITE_FULL)
    msg += ": the disk (or the store's size limit) is full";
  throw error(error_code::store_failure, msg);
}

void sqlite_store::exec(const char* sql) {
  char* err = nullptr;
  auto rc = sqlite3_exec(db_, sql, nullptr, nullptr, &err);
  if (rc != SQLITE_OK) {
    std::string what = err ? err : sqlite3_errstr(rc);
    sqlite3_free(err);
    fail(std::string{"statement failed: "} + what, rc);
  }
}

std::shared_ptr<sqlite_store> sqlite_store::open(const std::string& path,
                                                 sqlite_options opts) {
  std::shared_ptr<sqlite_store> st{new sqlite_store};
  st->path_ = path;
  st->opts_ = opts;
  if (!opts.read_only) {
    // One owner per store: an advisory lock the OS drops when we die.
    auto lock_path = path + ".lock";
    st->lock_fd_ =
      ::open(lock_path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (st->lock_fd_ < 0)
      throw error(error_code::store_failure, "cannot open lock file '" +
                                               lock_path +
                                               "': " + std::strerror(errno));
    if (::flock(st->lock_fd_, LOCK_EX | LOCK_NB) != 0) {
      char buf[32] = {};
      auto n = ::pread(st->lock_fd_, buf, sizeof(buf) - 1, 0);
      std::string holder = n > 0 ? std::string{buf, static_cast<size_t>(n)}
                                 : std::string{"another process"};
      while (!holder.empty() && (holder.back() == '\n'))
        holder.pop_back();
      throw error(error_code::store_failure,
                  "store '" + path + "' is in use by process " + holder +
                    "; stop it first or use another --db");
    }
    auto pid = std::to_string(::getpid()) + "\n";
    if (::ftruncate(st->lock_fd_, 0) == 0) [[maybe_unused]]
      auto w = ::pwrite(st->lock_fd_, pid.data(), pid.size(), 0);
  }
  if (opts.read_only && ::access(path.c_str(), F_OK) != 0)
    throw error(error_code::bad_input,
                "no store at '" + path + "' (" + std::strerror(errno) +
                  "); give the --db of an existing store");
  int flags = opts.read_only ? SQLITE_OPEN_READONLY
                             : SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE;
  flags |= SQLITE_OPEN_NOMUTEX;
  auto rc = sqlite3_open_v2(path.c_str(), &st->db_, flags, nullptr);
  if (rc != SQLITE_OK)
    st->fail("cannot open store", rc);
  sqlite3_extended_result_codes(st->db_, 0);
  // Other processes write to the inbox, an owner may be creating the schema
  // or switching the journal to WAL, and readers may checkpoint: from the
  // first statement on, wait for their short transactions (bounded) instead
  // of failing with SQLITE_BUSY.
  sqlite3_busy_timeout(st->db_, busy_timeout_ms);
  // Is this a jamjet store, something else, or not SQLite at all?
  {
    sqlite3_stmt* check = nullptr;
    rc = sqlite3_prepare_v2(st->db_, "SELECT count(*) FROM sqlite_master", -1,
                            &check, nullptr);
    if (rc == SQLITE_OK)
      rc = sqlite3_step(check);
    sqlite3_finalize(check);
    if (rc != SQLITE_ROW)
      st->fail("cannot read store", rc);
  }
  {
    stmt probe{st->db_, "SELECT name FROM sqlite_master WHERE type = 'table'"};
    bool any = false;
    bool ours = false;
    int step_rc = SQLITE_OK;
    while (probe.row(step_rc)) {
      any = true;
      if (probe.text(0) == "jamjet_meta")
        ours = true;
    }
    probe.reset();
    if (step_rc != SQLITE_DONE)
      st->fail("cannot read store", step_rc);
    if (any && !ours)
      throw error(error_code::store_failure,
                  "'" + path +
                    "' is an SQLite database but not a jamjet "
                    "store; refusing to touch it");
    if (!any && opts.read_only)
      throw error(error_code::store_failure,
                  "'" + path + "' is not a jamjet store (it is empty)");
  }
  if (!opts.read_only) {
    st->exec("PRAGMA journal_mode = WAL");
    st->exec(opts.synchronous_full ? "PRAGMA synchronous = FULL"
                                   : "PRAGMA synchronous = NORMAL");
    if (opts.max_page_count > 0)
      st->exec(
        ("PRAGMA max_page_count = " + std::to_string(opts.max_page_count))
          .c_str());
    st->init_schema();
  }
  {
    stmt version{st->db_,
                 "SELECT value FROM jamjet_meta WHERE key = 'schema_version'"};
    int step_rc = SQLITE_OK;
    int found = 0;
    if (version.row(step_rc))
      found = std::stoi(version.text(0));
    version.reset();
    if (found > schema_version)
      throw error(error_code::store_failure,
                  "store '" + path + "' has schema version " +
                    std::to_string(found) + "; this build knows up to " +
                    std::to_string(schema_version) + ": upgrade jamjet");
  }
  if (!opts.read_only) {
    st->stmts_ = std::make_unique<statements>(st->db_);
    if (auto env = std::getenv("JAMJET_TEST_KILL_IN_COMMIT"))
      st->kill_in_commit_ = std::atoll(env);
  }
  st->load_caches();
  return st;
}

void sqlite_store::init_schema() {
  exec("BEGIN IMMEDIATE");
  // The version found decides the migrations; a newer one is refused later.
  int found = 0;
  {
    stmt has_meta{db_, "SELECT count(*) FROM sqlite_master WHERE name = "
                       "'jamjet_meta'"};
    int rc = SQLITE_OK;
    if (has_meta.row(rc) && has_meta.i64(0) > 0) {
      stmt version{db_, "SELECT value FROM jamjet_meta WHERE key = "
                        "'schema_version'"};
      if (version.row(rc))
        found = std::stoi(version.text(0));
    }
  }
  if (found == 1)
    exec(migrate_v1_sql);
  exec(schema_sql);
  if (found <= schema_version)
    exec(("INSERT OR REPLACE INTO jamjet_meta (key, value) VALUES "
          "('schema_version', '" +
          std::to_string(schema_version) + "')")
           .c_str());
  exec("COMMIT");
}

void sqlite_store::load_caches() {
  int rc = SQLITE_OK;
  {
    stmt s{db_, "SELECT id, workflow_id, workflow_version, status, input, "
                "result, last_sequence, created_at, updated_at FROM "
                "executions"};
    while (s.row(rc)) {
      auto r = read_execution(s);
      executions_.emplace(r.id, std::move(r));
    }
    if (rc != SQLITE_DONE)
      fail("cannot read executions", rc);
  }
  {
    stmt s{db_, (std::string{"SELECT "} + item_columns +
                 " FROM work_items WHERE status IN ('ready', 'leased')")
                  .c_str()};
    while (s.row(rc)) {
      auto item = read_item(s);
      open_items_.emplace(item.id, std::move(item));
    }
    if (rc != SQLITE_DONE)
      fail("cannot read work items", rc);
  }
}

sqlite_store::~sqlite_store() {
  stmts_.reset();
  if (db_)
    sqlite3_close_v2(db_);
  if (lock_fd_ >= 0)
    ::close(lock_fd_);
}

std::vector<caf::expected<commit_result>>
sqlite_store::apply(const std::vector<command>& batch) {
  if (opts_.read_only)
    throw error(error_code::store_failure,
                "store '" + path_ + "' is open read-only");
  std::vector<caf::expected<commit_result>> results;
  results.reserve(batch.size());
  undo_executions_.clear();
  undo_items_.clear();
  try {
    exec("BEGIN IMMEDIATE");
    for (auto& cmd : batch)
      results.emplace_back(apply_one(cmd));
    if (kill_in_commit_ > 0 && --kill_in_commit_ == 0)
      ::kill(::getpid(), SIGKILL);
    exec("COMMIT");
  } catch (...) {
    sqlite3_exec(db_, "ROLLBACK", nullptr, nullptr, nullptr);
    // Put the caches back as they were before the batch.
    for (auto i = undo_items_.rbegin(); i != undo_items_.rend(); ++i) {
      if (i->second)
        open_items_[i->first] = std::move(*i->second);
      else
        open_items_.erase(i->first);
    }
    for (auto i = undo_executions_.rbegin(); i != undo_executions_.rend();
         ++i) {
      if (i->second)
        executions_[i->first] = std::move(*i->second);
      else
        executions_.erase(i->first);
    }
    throw;
  }
  return results;
}

namespace {

/// The events as stored text, before anything is written: an event that
/// cannot be written (JSON fields that are not JSON, text that is not
/// UTF-8) refuses its command only, never the store.
caf::expected<std::vector<std::string>> event_texts(const command& cmd) {
  std::vector<std::string> texts;
  texts.reserve(cmd.events.size());
  try {
    for (auto& kind : cmd.events)
      texts.push_back(to_json(kind).dump());
  } catch (const std::exception& bad) {
    return make_error(error_code::bad_input,
                      std::string{"event cannot be stored: "} + bad.what());
  }
  return texts;
}

} // namespace

caf::expected<commit_result> sqlite_store::apply_one(const command& cmd) {
  auto ex = executions_.find(cmd.execution_id);
  bool exists = ex != executions_.end();
  bool terminal = exists && ex->second.status != execution_status_code::running;
  if (auto err = check_events(cmd, exists, terminal))
    return err;
  auto ops = apply_item_ops(
    cmd, [this](const std::string& id) { return find_item(id); });
  if (!ops)
    return std::move(ops.error());
  auto texts = event_texts(cmd);
  if (!texts)
    return std::move(texts.error());
  // Valid: write events, execution and items, then update the caches.
  auto changed = std::move(*ops);
  auto rec = exists ? ex->second : new_execution_record(cmd);
  commit_result result;
  write_events(cmd, rec, *texts, result);
  rec.updated_at_ms = cmd.now_ms;
  write_execution(rec, cmd);
  write_items(cmd, changed);
  cache(rec, exists, changed);
  result.items = std::move(changed);
  return result;
}

std::optional<work_item> sqlite_store::find_item(const std::string& id) {
  if (auto i = open_items_.find(id); i != open_items_.end())
    return i->second;
  // Not open: settled, dead or cancelled items live only in the table.
  auto& s = stmts_->select_item;
  s.bind(1, id);
  int rc = SQLITE_OK;
  std::optional<work_item> found;
  if (s.row(rc))
    found = read_item(s);
  s.reset();
  if (rc != SQLITE_ROW && rc != SQLITE_DONE)
    fail("cannot read work item", rc);
  return found;
}

void sqlite_store::write_events(const command& cmd, execution_record& rec,
                                const std::vector<std::string>& texts,
                                commit_result& result) {
  result.events.reserve(cmd.events.size());
  auto& st = *stmts_;
  for (size_t k = 0; k < cmd.events.size(); ++k) {
    auto& kind = cmd.events[k];
    auto e = record_event(rec, kind, cmd.now_ms);
    auto rc = st.insert_event.bind(1, e.execution_id)
                .bind(2, static_cast<int64_t>(e.sequence))
                .bind(3, e.id)
                .bind(4, type_name_of(kind))
                .bind(5, texts[k])
                .bind(6, e.created_at_ms)
                .run();
    if (rc != SQLITE_DONE)
      fail("cannot append event", rc);
    result.events.emplace_back(std::move(e));
  }
}

void sqlite_store::write_execution(const execution_record& rec,
                                   const command& cmd) {
  auto rc = stmts_->upsert_execution.bind(1, rec.id)
              .bind(2, rec.workflow_id)
              .bind(3, rec.workflow_version)
              .bind(4, to_string(rec.status))
              .bind(5, rec.input)
              .bind(6, rec.result)
              .bind(7, static_cast<int64_t>(rec.last_sequence))
              .bind(8, rec.created_at_ms)
              .bind(9, rec.updated_at_ms)
              .bind(10, cmd.snapshot)
              .bind(11, cmd.snapshot.empty()
                          ? int64_t{0}
                          : static_cast<int64_t>(cmd.snapshot_sequence))
              .run();
  if (rc != SQLITE_DONE)
    fail("cannot write execution", rc);
}

void sqlite_store::write_items(const command& cmd,
                               const std::vector<work_item>& changed) {
  auto& st = *stmts_;
  for (size_t i = 0; i < changed.size(); ++i) {
    auto& x = changed[i];
    auto rc = st.upsert_item.bind(1, x.id)
                .bind(2, x.execution_id)
                .bind(3, x.node_id)
                .bind(4, x.queue_type)
                .bind(5, x.payload)
                .bind(6, static_cast<int64_t>(x.attempt))
                .bind(7, static_cast<int64_t>(x.max_attempts))
                .bind(8, x.created_at_ms)
                .bind(9, x.lease_expires_at_ms)
                .bind(10, x.worker_id)
                .bind(11, x.tenant_id)
                .bind(12, x.not_before_ms)
                .bind(13, static_cast<int64_t>(x.fence))
                .bind(14, to_string(x.status))
                .bind(15, x.retry)
                .bind(16, static_cast<int64_t>(x.timeout_ms))
                .bind(17, static_cast<int64_t>(x.lease_ms))
                .run();
    if (rc != SQLITE_DONE)
      fail("cannot write work item", rc);
    if (x.status == item_status::dead) {
      auto& op = caf::get<dead_letter_op>(cmd.items[i]);
      rc = st.insert_dead_letter.bind(1, x.id)
             .bind(2, op.error)
             .bind(3, cmd.now_ms)
             .run();
      if (rc != SQLITE_DONE)
        fail("cannot write dead letter", rc);
    } else if (caf::holds_alternative<redrive_op>(cmd.items[i])) {
      rc = st.delete_dead_letter.bind(1, x.id).run();
      if (rc != SQLITE_DONE)
        fail("cannot remove dead letter", rc);
    }
  }
}

void sqlite_store::cache(const execution_record& rec, bool existed,
                         const std::vector<work_item>& changed) {
  // `apply` restores the previous entries if the transaction fails.
  auto ex = executions_.find(rec.id);
  undo_executions_.emplace_back(rec.id, existed ? std::optional{ex->second}
                                                : std::nullopt);
  executions_[rec.id] = rec;
  for (auto& x : changed) {
    auto old = open_items_.find(x.id);
    undo_items_.emplace_back(x.id, old != open_items_.end()
                                     ? std::optional{old->second}
                                     : std::nullopt);
    if (x.status == item_status::ready || x.status == item_status::leased)
      open_items_[x.id] = x;
    else
      open_items_.erase(x.id);
  }
}

namespace {

/// Why `events` are not the whole log of `execution_id` from sequence
/// `first` to `last` (its last_sequence): a row missing in the middle or at
/// the end (a truncated or damaged file). Nothing when they are.
std::optional<std::string> log_gap(const std::string& execution_id,
                                   uint64_t first, uint64_t last,
                                   const std::vector<event>& events) {
  auto expected = first;
  for (auto& e : events) {
    if (e.sequence != expected)
      return "the log of execution '" + execution_id + "' is damaged: event " +
             std::to_string(expected) + " is missing (found " +
             std::to_string(e.sequence) + " next)";
    ++expected;
  }
  if (last + 1 > expected)
    return "the log of execution '" + execution_id +
           "' is truncated: it ends at event " + std::to_string(expected - 1) +
           " of " + std::to_string(last);
  return std::nullopt;
}

} // namespace

std::vector<event> sqlite_store::read_events(const std::string& execution_id,
                                             uint64_t from) {
  stmt s{db_, "SELECT sequence, id, kind, created_at FROM events WHERE "
              "execution_id = ?1 AND sequence >= ?2 ORDER BY sequence"};
  s.bind(1, execution_id).bind(2, static_cast<int64_t>(from));
  std::vector<event> result;
  int rc = SQLITE_OK;
  while (s.row(rc)) {
    event e;
    e.execution_id = execution_id;
    e.sequence = static_cast<uint64_t>(s.i64(0));
    e.id = s.text(1);
    e.kind = read_kind(s.text(2), execution_id, e.sequence);
    e.created_at_ms = s.i64(3);
    result.emplace_back(std::move(e));
  }
  if (rc != SQLITE_DONE)
    fail("cannot read events", rc);
  s.reset();
  // A shorter history is an error, never an answer.
  if (auto rec = find_execution(execution_id))
    if (auto gap = log_gap(execution_id, std::max<uint64_t>(from, 1),
                           rec->last_sequence, result))
      throw error(error_code::store_failure, *gap);
  return result;
}

std::pair<uint64_t, std::string>
sqlite_store::snapshot_of(const std::string& execution_id) {
  stmt s{db_, "SELECT snapshot_seq, snapshot FROM executions WHERE id = ?1"};
  s.bind(1, execution_id);
  int rc = SQLITE_OK;
  if (s.row(rc))
    return {static_cast<uint64_t>(s.i64(0)), s.text(1)};
  if (rc != SQLITE_DONE)
    fail("cannot read snapshot", rc);
  return {0, {}};
}

sqlite_store::check_report sqlite_store::check() {
  check_report report;
  {
    stmt s{db_, "PRAGMA integrity_check"};
    int rc = SQLITE_OK;
    while (s.row(rc)) {
      auto line = s.text(0);
      if (line != "ok")
        report.problems.push_back("sqlite: " + line);
    }
    if (rc != SQLITE_DONE)
      fail("cannot check store", rc);
  }
  for (auto& def : workflows()) {
    ++report.workflows;
    try {
      workflow_registry::compile(def.ir_json);
    } catch (const std::exception& ex) {
      report.problems.push_back("workflow '" + def.workflow_id + "' version '" +
                                def.version + "' does not load: " + ex.what());
    }
  }
  for (auto& rec : executions()) {
    ++report.executions;
    try {
      report.events += read_events(rec.id, 1).size();
    } catch (const std::exception& ex) {
      report.problems.push_back(ex.what());
    }
  }
  return report;
}

recovery_snapshot sqlite_store::recovery() {
  // Two passes over the running executions instead of one query each.
  recovery_snapshot snap;
  snap.workflows = workflows();
  std::unordered_map<std::string, size_t> index;
  int rc = SQLITE_OK;
  {
    stmt s{db_, "SELECT id, workflow_id, workflow_version, status, input, "
                "result, last_sequence, created_at, updated_at, snapshot, "
                "snapshot_seq FROM executions WHERE status = 'running' ORDER "
                "BY created_at, rowid"};
    while (s.row(rc)) {
      recovered_execution ex;
      ex.record = read_execution(s);
      ex.snapshot = s.text(9);
      ex.snapshot_sequence = static_cast<uint64_t>(s.i64(10));
      // A snapshot this deep holds a state no event this version wrote
      // could have made: its log is unreadable too.
      if (auto problem = json_limit_problem(ex.snapshot, json_limits::stored()))
        ex.unreadable = "execution '" + ex.record.id +
                        "': the progress snapshot in the store is "
                        "unreadable: " +
                        *problem;
      index.emplace(ex.record.id, snap.executions.size());
      snap.executions.push_back(std::move(ex));
    }
    if (rc != SQLITE_DONE)
      fail("cannot read executions", rc);
  }
  {
    stmt s{db_, "SELECT e.execution_id, e.sequence, e.id, e.kind, "
                "e.created_at FROM executions x JOIN events e ON "
                "e.execution_id = x.id AND e.sequence > x.snapshot_seq WHERE "
                "x.status = 'running' ORDER BY e.execution_id, e.sequence"};
    while (s.row(rc)) {
      auto i = index.find(s.text(0));
      if (i == index.end())
        continue;
      auto& ex = snap.executions[i->second];
      if (!ex.unreadable.empty())
        continue;
      event e;
      e.execution_id = i->first;
      e.sequence = static_cast<uint64_t>(s.i64(1));
      e.id = s.text(2);
      try {
        e.kind = read_kind(s.text(3), e.execution_id, e.sequence);
      } catch (const std::exception& bad) {
        // One unreadable row fails its execution, not the recovery.
        ex.unreadable = bad.what();
        ex.events.clear();
        continue;
      }
      e.created_at_ms = s.i64(4);
      ex.events.emplace_back(std::move(e));
    }
    if (rc != SQLITE_DONE)
      fail("cannot read events", rc);
  }
  // A log with a row missing cannot be resumed: it fails, not the others.
  for (auto& ex : snap.executions)
    if (ex.unreadable.empty())
      if (auto gap = log_gap(ex.record.id, ex.snapshot_sequence + 1,
                             ex.record.last_sequence, ex.events)) {
        ex.unreadable = *gap;
        ex.events.clear();
      }
  snap.items = open_items();
  return snap;
}

std::optional<execution_record>
sqlite_store::find_execution(const std::string& id) {
  if (!opts_.read_only) {
    auto i = executions_.find(id);
    if (i == executions_.end())
      return std::nullopt;
    return i->second;
  }
  stmt s{db_, "SELECT id, workflow_id, workflow_version, status, input, "
              "result, last_sequence, created_at, updated_at FROM "
              "executions WHERE id = ?1"};
  s.bind(1, id);
  int rc = SQLITE_OK;
  if (s.row(rc))
    return read_execution(s);
  if (rc != SQLITE_DONE)
    fail("cannot read execution", rc);
  return std::nullopt;
}

std::vector<execution_record> sqlite_store::executions() {
  stmt s{db_, "SELECT id, workflow_id, workflow_version, status, input, "
              "result, last_sequence, created_at, updated_at FROM "
              "executions ORDER BY created_at, rowid"};
  std::vector<execution_record> result;
  int rc = SQLITE_OK;
  while (s.row(rc))
    result.push_back(read_execution(s));
  if (rc != SQLITE_DONE)
    fail("cannot read executions", rc);
  return result;
}

std::vector<work_item> sqlite_store::open_items() {
  std::vector<work_item> result;
  if (!opts_.read_only) {
    for (auto& [id, item] : open_items_)
      result.push_back(item);
  } else {
    stmt s{db_, (std::string{"SELECT "} + item_columns +
                 " FROM work_items WHERE status IN ('ready', 'leased')")
                  .c_str()};
    int rc = SQLITE_OK;
    while (s.row(rc))
      result.push_back(read_item(s));
    if (rc != SQLITE_DONE)
      fail("cannot read work items", rc);
  }
  std::sort(result.begin(), result.end(),
            [](auto& x, auto& y) { return x.id < y.id; });
  return result;
}

std::vector<dead_letter> sqlite_store::dead_letters() {
  stmt s{db_, (std::string{"SELECT d.error, d.dead_at, "} + item_columns +
               " FROM dead_letters d JOIN work_items w ON w.id = "
               "d.item_id ORDER BY d.item_id")
                .c_str()};
  std::vector<dead_letter> result;
  int rc = SQLITE_OK;
  while (s.row(rc)) {
    dead_letter dl;
    dl.error = s.text(0);
    dl.dead_at_ms = s.i64(1);
    dl.item = read_item(s, 2);
    result.push_back(std::move(dl));
  }
  if (rc != SQLITE_DONE)
    fail("cannot read dead letters", rc);
  return result;
}

caf::error sqlite_store::put_workflow(const std::string& workflow_id,
                                      const std::string& version,
                                      const std::string& ir_json) {
  if (auto existing = find_workflow(workflow_id, version)) {
    if (*existing == ir_json)
      return caf::none;
    return make_error(error_code::invalid_workflow,
                      "workflow '" + workflow_id + "' version '" + version +
                        "' is already registered with a different "
                        "definition; bump its version");
  }
  stmt s{db_, "INSERT INTO workflows (workflow_id, version, ir_json, "
              "created_at) VALUES (?1, ?2, ?3, strftime('%s','now') * 1000)"};
  auto rc = s.bind(1, workflow_id).bind(2, version).bind(3, ir_json).run();
  if (rc != SQLITE_DONE)
    fail("cannot store workflow", rc);
  return caf::none;
}

std::optional<std::string>
sqlite_store::find_workflow(const std::string& workflow_id,
                            const std::string& version) {
  stmt s{db_, "SELECT ir_json FROM workflows WHERE workflow_id = ?1 AND "
              "version = ?2"};
  s.bind(1, workflow_id).bind(2, version);
  int rc = SQLITE_OK;
  if (s.row(rc))
    return s.text(0);
  if (rc != SQLITE_DONE)
    fail("cannot read workflow", rc);
  return std::nullopt;
}

std::vector<workflow_definition> sqlite_store::workflows() {
  stmt s{db_, "SELECT workflow_id, version, ir_json FROM workflows ORDER BY "
              "rowid"};
  std::vector<workflow_definition> result;
  int rc = SQLITE_OK;
  while (s.row(rc))
    result.push_back({s.text(0), s.text(1), s.text(2)});
  if (rc != SQLITE_DONE)
    fail("cannot read workflows", rc);
  return result;
}

std::vector<inbox_message> sqlite_store::inbox() {
  std::vector<inbox_message> result;
  stmt s{db_, "SELECT id, execution_id, kind, target, payload, comment, "
              "user_id, created_at FROM inbox ORDER BY id"};
  int rc = SQLITE_OK;
  while (s.row(rc)) {
    inbox_message m;
    m.id = s.i64(0);
    m.execution_id = s.text(1);
    m.kind = s.text(2);
    m.target = s.text(3);
    m.payload = s.text(4);
    if (sqlite3_column_type(s.get(), 5) != SQLITE_NULL)
      m.comment = s.text(5);
    m.user_id = s.text(6);
    m.created_at_ms = s.i64(7);
    result.push_back(std::move(m));
  }
  if (rc != SQLITE_DONE)
    fail("cannot read the inbox", rc);
  return result;
}

void sqlite_store::drop_inbox(int64_t id) {
  stmt s{db_, "DELETE FROM inbox WHERE id = ?1"};
  auto rc = s.bind(1, id).run();
  if (rc != SQLITE_DONE)
    fail("cannot drop an inbox request", rc);
}

void sqlite_store::post_inbox(const std::string& path, const inbox_message& msg,
                              const std::function<void()>& check) {
  sqlite3* db = nullptr;
  auto rc = sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READWRITE, nullptr);
  auto close = [&] { sqlite3_close_v2(db); };
  if (rc != SQLITE_OK) {
    close();
    throw error(error_code::store_failure,
                "cannot open store '" + path + "': " + sqlite3_errstr(rc));
  }
  sqlite3_busy_timeout(db, busy_timeout_ms);
  bool in_transaction = false;
  auto exec = [&](const char* sql) {
    char* msg_text = nullptr;
    auto exec_rc = sqlite3_exec(db, sql, nullptr, nullptr, &msg_text);
    std::string what = msg_text ? msg_text : sqlite3_errstr(exec_rc);
    sqlite3_free(msg_text);
    if (exec_rc != SQLITE_OK)
      throw error(error_code::store_failure,
                  "cannot write to the inbox of '" + path + "': " + what);
  };
  try {
    if (check) {
      exec("BEGIN IMMEDIATE");
      in_transaction = true;
      check();
    }
    stmt s{db, "INSERT INTO inbox (execution_id, kind, target, payload, "
               "comment, user_id, created_at) VALUES (?1, ?2, ?3, ?4, ?5, "
               "?6, ?7)"};
    s.bind(1, msg.execution_id)
      .bind(2, msg.kind)
      .bind(3, msg.target)
      .bind(4, msg.payload);
    if (msg.comment)
      s.bind(5, *msg.comment);
    s.bind(6, msg.user_id).bind(7, msg.created_at_ms);
    rc = s.run();
    if (rc != SQLITE_DONE)
      throw error(error_code::store_failure, "cannot write to the inbox of '" +
                                               path +
                                               "': " + sqlite3_errmsg(db));
    if (in_transaction) {
      in_transaction = false;
      exec("COMMIT");
    }
  } catch (...) {
    if (in_transaction)
      sqlite3_exec(db, "ROLLBACK", nullptr, nullptr, nullptr);
    close();
    throw;
  }
  close();
}

} // namespace jamjet
