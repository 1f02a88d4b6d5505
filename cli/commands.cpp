#include "commands.hpp"

#include <cerrno>
#include <iostream>
#include <sstream>
#include <sys/stat.h>

#include <spdlog/spdlog.h>

#include "cli.hpp"
#include "jamjet/core/builtin_handlers.hpp"
#include "jamjet/core/graph.hpp"
#include "jamjet/core/progress.hpp"
#include "jamjet/core/validate.hpp"
#include "jamjet/messages/error.hpp"
#include "jamjet/messages/event_json.hpp"
#include "jamjet/messages/record_json.hpp"
#include "jamjet/runtime.hpp"
#include "jamjet/store/sqlite_store.hpp"
#include "jamjet/support/clock.hpp"
#include "preflight.hpp"

namespace jamjet::cli {

std::pair<std::string, std::vector<std::string>>
parse_handler_spec(const std::string& spec) {
  auto eq = spec.find('=');
  if (eq == std::string::npos || eq == 0 || eq + 1 == spec.size())
    throw error(error_code::bad_input,
                "--handler '" + spec + "' must look like KIND=PROGRAM");
  std::vector<std::string> argv;
  std::istringstream words{spec.substr(eq + 1)};
  for (std::string w; words >> w;)
    argv.push_back(w);
  if (argv.empty())
    throw error(error_code::bad_input,
                "--handler '" + spec + "' names no program");
  return {spec.substr(0, eq), std::move(argv)};
}

namespace {

/// Prints `warnings` on stderr.
void print_warnings(const std::vector<std::string>& warnings) {
  for (auto& w : warnings)
    std::cerr << "warning: " << w << "\n";
}

} // namespace

int validate_command(const std::string& path,
                     const std::vector<std::string>& handlers, bool strict) {
  auto ir = parse_ir(read_file(path));
  auto checked = check_workflow(ir, handlers, strict);
  print_warnings(checked.warnings);
  if (!checked.problems.empty()) {
    std::cerr << "error: " << invalid_message(ir, checked.problems) << "\n";
    return exit_bad_input;
  }
  std::cout << "workflow '" << ir.workflow_id << "' version '" << ir.version
            << "' is valid: " << ir.nodes.size() << " nodes"
            << (checked.warnings.empty()
                  ? ""
                  : " (" + std::to_string(checked.warnings.size()) +
                      " warnings)")
            << "\n";
  return exit_completed;
}

void require_store(const std::string& db) {
  struct stat info {};
  if (::stat(db.c_str(), &info) != 0 && errno == ENOENT)
    throw error(error_code::bad_input,
                "no store at '" + db +
                  "': the file does not exist (`jamjet run --db " + db +
                  "` creates one; the default is ./jamjet.db)");
}

std::string request_outcome(const std::string& kind,
                            const request_options& opts, bool queued) {
  nlohmann::json out{{"request", kind}, {"execution_id", opts.execution_id}};
  if (kind == "cancel")
    out["reason"] = opts.reason;
  else if (kind == "signal")
    out["key"] = opts.target;
  else
    out["node_id"] = opts.target;
  out["outcome"] = queued ? "queued" : "applied";
  return out.dump();
}

namespace {

/// Opens the store `opts` name, owning it.
std::shared_ptr<store> open_store(const store_options& opts) {
  if (opts.memory)
    return nullptr;
  sqlite_options so;
  so.synchronous_full = opts.synchronous != "normal";
  return sqlite_store::open(opts.db, so);
}

/// Opens an existing store for reading.
std::shared_ptr<sqlite_store> open_reader(const std::string& db) {
  require_store(db);
  sqlite_options so;
  so.read_only = true;
  return sqlite_store::open(db, so);
}

} // namespace

/// A runtime with the CLI's handlers over the store `opts` names.
std::unique_ptr<runtime>
make_runtime(const run_options& opts,
             const std::function<void(runtime_config&)>& network) {
  runtime_config cfg;
  if (network)
    network(cfg);
  cfg.worker_slots = opts.slots;
  cfg.store = open_store(opts.store);
  cfg.lease =
    std::chrono::milliseconds{static_cast<int64_t>(opts.lease_secs * 1000)};
  cfg.heartbeat = cfg.lease / 3;
  auto rt = std::make_unique<runtime>(cfg);
  auto timeout = std::chrono::seconds{opts.node_timeout_secs};
  rt->register_builtin_handlers(timeout);
  for (auto& spec : opts.handlers) {
    auto [kind, argv] = parse_handler_spec(spec);
    rt->register_handler(
      kind,
      [argv = argv, timeout](const node_context& ctx) {
        return program_handler(ctx, argv, timeout);
      },
      true);
  }
  return rt;
}

int run_command(const run_options& opts) {
  auto ir_text = read_file(opts.workflow);
  auto input = parse_input(opts.input);
  auto ir = parse_ir(ir_text);
  auto checked = check_workflow(ir, opts.handlers, opts.strict);
  print_warnings(checked.warnings);
  if (!checked.problems.empty())
    throw error(error_code::invalid_workflow,
                invalid_message(ir, checked.problems));
  auto graph = workflow_graph::compile(std::move(ir));
  auto rt = make_runtime(opts);
  rt->register_workflow(ir_text);
  auto id = rt->start(graph->workflow_id(), input, graph->version());
  spdlog::info("execution {} of '{}' started ({} nodes, store {})", id,
               graph->workflow_id(), graph->size(),
               opts.store.memory ? std::string{"in memory"} : opts.store.db);
  auto result = rt->wait(id);
  if (result.completed()) {
    spdlog::info("execution {} completed", id);
    std::cout << result.state.dump(2) << "\n";
    return exit_completed;
  }
  std::cerr << "error: execution " << id << " " << result.status << ": "
            << result.error << "\n";
  return exit_failed;
}

int resume_command(const run_options& opts) {
  if (opts.store.memory)
    throw error(error_code::bad_input,
                "resume needs a durable store (--db PATH), not --memory");
  require_store(opts.store.db);
  auto rt = make_runtime(opts);
  auto ids = rt->resume();
  spdlog::info("resuming {} execution(s)", ids.size());
  nlohmann::json summary = nlohmann::json::object();
  nlohmann::json errors = nlohmann::json::object();
  for (auto& id : ids) {
    auto result = rt->wait(id);
    summary[id] = result.status;
    spdlog::info("execution {} {}", id, result.status);
    if (!result.completed()) {
      errors[id] = result.error;
      std::cerr << "error: execution " << id << " " << result.status << ": "
                << result.error << "\n";
    }
  }
  nlohmann::json out{{"resumed", ids.size()}, {"executions", summary}};
  if (!errors.empty())
    out["errors"] = errors;
  std::cout << out.dump(2) << "\n";
  return errors.empty() ? exit_completed : exit_failed;
}

int status_command(const std::string& db, const std::string& execution_id) {
  auto st = open_reader(db);
  if (execution_id.empty()) {
    auto all = nlohmann::json::array();
    for (auto& rec : st->executions())
      all.push_back(to_json(rec));
    std::cout << all.dump(2) << "\n";
    return exit_completed;
  }
  auto rec = st->find_execution(execution_id);
  if (!rec)
    throw error(error_code::bad_input,
                "no execution '" + execution_id + "' in '" + db + "'");
  std::cout << to_json(*rec).dump(2) << "\n";
  return exit_completed;
}

int events_command(const std::string& db, const std::string& execution_id) {
  auto st = open_reader(db);
  if (!st->find_execution(execution_id))
    throw error(error_code::bad_input,
                "no execution '" + execution_id + "' in '" + db + "'");
  for (auto& e : st->read_events(execution_id, 1))
    std::cout << to_json(e).dump() << "\n";
  return exit_completed;
}

int check_command(const std::string& db) {
  auto st = open_reader(db);
  auto report = st->check();
  std::cout << nlohmann::json{{"ok", report.problems.empty()},
                              {"workflows", report.workflows},
                              {"executions", report.executions},
                              {"events", report.events},
                              {"problems", report.problems}}
                 .dump(2)
            << "\n";
  for (auto& p : report.problems)
    std::cerr << "problem: " << p << "\n";
  return report.problems.empty() ? exit_completed : exit_failed;
}

int dlq_list_command(const std::string& db) {
  auto st = open_reader(db);
  for (auto& dl : st->dead_letters()) {
    auto j = to_json(dl.item);
    j["error"] = dl.error;
    j["dead_at"] = format_rfc3339_ms(dl.dead_at_ms);
    std::cout << j.dump() << "\n";
  }
  return exit_completed;
}

int dlq_redrive_command(const std::string& db, const std::string& item_id) {
  // Owning the store: refused while a runtime runs on it.
  require_store(db);
  auto st = sqlite_store::open(db);
  std::optional<dead_letter> found;
  for (auto& dl : st->dead_letters())
    if (dl.item.id == item_id)
      found = dl;
  if (!found)
    throw error(error_code::bad_input, "no dead letter '" + item_id + "' in '" +
                                         db + "' (see `jamjet dlq list`)");
  auto& item = found->item;
  auto rec = st->find_execution(item.execution_id);
  auto ir = rec ? st->find_workflow(rec->workflow_id, rec->workflow_version)
                : std::nullopt;
  if (!ir)
    throw error(error_code::store_failure, "the workflow of execution '" +
                                             item.execution_id +
                                             "' is missing from the store");
  auto graph = workflow_graph::compile(parse_ir(*ir));
  auto rank = graph->rank_of(item.node_id);
  uint32_t budget = rank >= 0
                      ? graph->node(static_cast<uint32_t>(rank)).max_attempts
                      : item.max_attempts;
  command cmd;
  cmd.execution_id = item.execution_id;
  cmd.now_ms = wall_now_ms();
  cmd.events.emplace_back(node_redriven{item.node_id, item.attempt + 1});
  cmd.items.emplace_back(
    redrive_op{item.id, item.attempt + 1, item.attempt + budget});
  auto res = st->apply({cmd});
  if (!res[0])
    throw error(code_of(res[0].error()), error_message(res[0].error()));
  std::cout << nlohmann::json{{"redriven", item.id},
                              {"execution_id", item.execution_id},
                              {"node_id", item.node_id},
                              {"attempt", item.attempt + 1},
                              {"max_attempts", item.attempt + budget}}
                 .dump()
            << "\n";
  spdlog::info("run `jamjet resume --db {}` to continue execution {}", db,
               item.execution_id);
  return exit_completed;
}

namespace {

/// The progress of a stored execution, folded from its whole log.
progress stored_progress(sqlite_store& st, const execution_record& rec,
                         const std::string& db) {
  auto ir = st.find_workflow(rec.workflow_id, rec.workflow_version);
  if (!ir)
    throw error(error_code::store_failure,
                "workflow '" + rec.workflow_id + "' version '" +
                  rec.workflow_version + "' of execution '" + rec.id +
                  "' is missing from '" + db + "'");
  progress prog{workflow_graph::compile(parse_ir(*ir))};
  for (auto& e : st.read_events(rec.id, 1))
    prog.fold(e);
  return prog;
}

} // namespace

int request_command(const std::string& kind, const request_options& opts) {
  inbox_message msg;
  msg.execution_id = opts.execution_id;
  msg.kind = kind;
  msg.user_id = opts.user;
  msg.created_at_ms = wall_now_ms();
  if (opts.has_comment)
    msg.comment = opts.comment;
  msg.target = kind == "cancel" ? opts.reason : opts.target;
  if (kind != "cancel") {
    if (!opts.payload.empty()) {
      auto payload = parse_input_json(opts.payload, "--payload");
      if (kind != "signal" && !payload.is_object())
        throw error(error_code::bad_input,
                    "--patch must be a JSON object, not " +
                      std::string{payload.type_name()});
      msg.payload = payload.dump();
    } else if (kind == "signal") {
      msg.payload = "{}";
    }
  }
  open_reader(opts.db); // a missing or foreign file is named as such
  // Checked while the store's write lock is held, so that no decision or
  // end can be committed between the check and the request.
  auto check = [&] {
    auto st = open_reader(opts.db);
    auto rec = st->find_execution(opts.execution_id);
    if (!rec)
      throw error(error_code::bad_input, "no execution '" + opts.execution_id +
                                           "' in '" + opts.db + "'");
    if (rec->status != execution_status_code::running)
      throw error(error_code::bad_input,
                  "execution '" + opts.execution_id + "' is already " +
                    to_string(rec->status) + "; nothing to " + kind);
    if (kind == "cancel")
      return;
    auto prog = stored_progress(*st, *rec, opts.db);
    auto problem = kind == "signal"
                     ? prog.signal_problem(opts.execution_id, opts.target)
                     : prog.approval_problem(opts.execution_id, opts.target);
    if (problem)
      throw error(error_code::bad_input, *problem);
    if (kind == "signal")
      return;
    // One decision per approval node: the first one waiting counts.
    for (auto& waiting : st->inbox())
      if (waiting.execution_id == opts.execution_id &&
          waiting.target == opts.target &&
          (waiting.kind == "approve" || waiting.kind == "reject"))
        throw error(error_code::bad_input,
                    "human_approval node '" + opts.target + "' of execution '" +
                      opts.execution_id + "' is already decided (" +
                      (waiting.kind == "approve" ? "approved" : "rejected") +
                      " by '" + waiting.user_id + "', waiting to be applied)");
  };
  sqlite_store::post_inbox(opts.db, msg, check);
  std::cout << request_outcome(kind, opts, true) << "\n";
  spdlog::info("a runtime that owns '{}' applies it at once; otherwise the "
               "next `jamjet resume --db {}` does",
               opts.db, opts.db);
  return exit_completed;
}

} // namespace jamjet::cli
