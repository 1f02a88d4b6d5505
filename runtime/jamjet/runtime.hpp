#pragma once

// The embedding API: run JamJet workflows inside a C++ application.
//
//   jamjet::runtime_config cfg;              // in-memory store, 4 slots
//   jamjet::runtime rt{cfg};
//   rt.register_handler("tool", [](const jamjet::node_context& ctx) {
//     return jamjet::node_outcome::success({{"ok", true}}, {{"done", true}});
//   });
//   rt.register_workflow(ir_json_text);
//   auto id = rt.start("my_workflow", {{"query", "..."}});
//   auto result = rt.wait(id);               // or rt.result(id).get()
//
// Every call is thread-safe. Errors are thrown as `jamjet::error`.

#include <chrono>
#include <cstdint>
#include <functional>
#include <future>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "jamjet/core/handler.hpp"
#include "jamjet/messages/error.hpp"
#include "jamjet/messages/event.hpp"
#include "jamjet/messages/net_limits.hpp"
#include "jamjet/store/store.hpp"
#include "jamjet/support/export.hpp"
#include "jamjet/support/tls_config.hpp"

namespace jamjet {
JAMJET_API_BEGIN

/// Settings of a runtime. The defaults suit tests and small tools.
struct runtime_config {
  /// Where state lives; null: a fresh in-memory store. For a durable one:
  /// `jamjet::sqlite_store::open("jamjet.db")` (runtime/sqlite_store.hpp).
  std::shared_ptr<jamjet::store> store;
  /// Handler slots of the runtime's local worker; 0: no local worker (only
  /// remote workers run nodes).
  uint32_t worker_slots = 4;
  /// Nodes in flight per execution at most.
  size_t max_in_flight = 16;
  /// Nodes an execution schedules per wake at most.
  size_t max_dispatch_per_wake = 8;
  /// Lease period; a worker must heartbeat within it.
  std::chrono::milliseconds lease{30000};
  /// Heartbeat interval of the local worker (a fraction of the lease).
  std::chrono::milliseconds heartbeat{10000};
  /// How often to look for requests other processes leave in a durable
  /// store (`jamjet signal|approve|reject|cancel --db`); 0: never.
  std::chrono::milliseconds inbox_poll{200};
  /// Serve remote workers and clients on "HOST:PORT" (port 0: any free
  /// one; see `port()`); empty: no network. With `worker_slots = 0` the
  /// runtime is a scheduler only.
  std::string listen;
  /// Tokens remote peers present, by role (messages/access.hpp): `token`
  /// may do everything (operator); `worker_token` only take and settle
  /// work; `viewer_token` only read. All empty: no token at all.
  std::string token;
  std::string worker_token;
  std::string viewer_token;
  /// TLS for remote peers (`tls.enabled`, a certificate and its key; with
  /// `tls.ca_file`, client certificates whose subject OU names a role
  /// authenticate as that role).
  tls_config tls{};
  /// What remote peers may ask of the node: connections in total and per
  /// address, frame deadlines, buffered bytes, failed authentications
  /// (messages/net_limits.hpp; README.md, "Limits").
  net_limits net;
  /// CAF scheduler threads; 0: one per core (at least 2). CAF's own default
  /// (at least 4) oversubscribes small machines: measured on 2 cores, 4
  /// threads cost about 2x the CPU per node of 2 threads.
  size_t scheduler_threads = 0;
};

/// How an execution ended.
struct execution_result {
  std::string execution_id;
  /// "completed", "failed" or "cancelled".
  std::string status;
  /// The final state (completed), else null.
  nlohmann::json state;
  /// Why it failed or was cancelled, else empty.
  std::string error;

  bool completed() const noexcept { return status == "completed"; }
};

/// What is known of an execution now.
struct execution_status {
  std::string execution_id;
  std::string workflow_id;
  std::string workflow_version;
  /// "running", "completed", "failed" or "cancelled".
  std::string status;
  uint64_t last_sequence = 0;
};

/// A workflow runtime: an actor system running the scheduler and a worker.
///
/// On construction it recovers what its store holds: every stored workflow
/// is registered again and every running execution resumes from its log.
/// The local worker starts taking work at the first `start()` or
/// `resume()`, so register handlers before either.
class runtime {
 public:
  explicit runtime(runtime_config cfg = {});

  /// Shuts down (see `shutdown`).
  ~runtime();

  runtime(const runtime&) = delete;
  runtime& operator=(const runtime&) = delete;

  /// Registers a handler for node kind `kind`. `blocking` handlers run on a
  /// slot thread; others inline on the worker actor and must be quick.
  void register_handler(const std::string& kind, node_handler fn,
                        bool blocking = true);

  /// Registers a fallback handler for every node of queue type `queue`.
  void register_queue_handler(const std::string& queue, node_handler fn,
                              bool blocking = true);

  /// Registers the built-in `noop` and `command` handlers.
  void register_builtin_handlers(
    std::chrono::seconds default_node_timeout = std::chrono::seconds{300});

  /// Validates and registers a workflow (JamJet IR JSON text); returns
  /// "workflow_id@version". Throws `jamjet::error` naming every problem.
  std::string register_workflow(const std::string& ir_json);

  /// Node kinds of a registered workflow without a handler, as
  /// "node 'x' has kind 'y'" lines; empty when every node can run.
  std::vector<std::string>
  missing_handlers(const std::string& workflow_id,
                   const std::string& version = {}) const;

  /// Starts the local worker on what recovery found, and returns the ids of
  /// the executions that were running in the store when the runtime was
  /// created. Throws `missing_handler` (starting nothing) when one of them
  /// has a node kind without a handler.
  std::vector<std::string> resume();

  /// Starts an execution of a registered workflow with `input` (an object)
  /// and returns its id. Throws when the workflow is unknown, the input is
  /// not an object, or a node kind has no handler (naming them).
  std::string start(const std::string& workflow_id,
                    const nlohmann::json& input = nlohmann::json::object(),
                    const std::string& version = {});

  /// Like `start`, without waiting: the future holds the execution id once
  /// `WorkflowStarted` is committed (or the error). Checks of the workflow,
  /// input and handlers still throw at once. Many starts can be in flight.
  std::future<std::string>
  start_async(const std::string& workflow_id,
              const nlohmann::json& input = nlohmann::json::object(),
              const std::string& version = {});

  /// The result of an execution, once it ends.
  std::future<execution_result> result(const std::string& execution_id);

  /// Calls `fn` once the execution ends (on a runtime thread).
  void on_result(const std::string& execution_id,
                 std::function<void(const execution_result&)> fn);

  /// Blocks until the execution ends.
  execution_result wait(const std::string& execution_id);

  /// What is known of an execution now.
  execution_status status(const std::string& execution_id);

  /// The execution's event log, in sequence order.
  std::vector<event> events(const std::string& execution_id);

  /// Cancels a running execution: no more dispatch, running handlers are
  /// told to stop (`node_context::cancelled`), `NodeCancelled` for each
  /// node in flight, then `WorkflowCancelled`.
  void cancel(const std::string& execution_id,
              const std::string& reason = "cancelled by request");

  /// Delivers an external event with correlation key `key` to a running
  /// execution; a `wait` node waiting for `key` completes with `payload` as
  /// its output (and, if an object, its state patch). Throws when the
  /// execution is not running or none of its wait nodes waits for `key`.
  void signal(const std::string& execution_id, const std::string& key,
              const nlohmann::json& payload = nlohmann::json::object());

  /// Approves `human_approval` node `node_id` of a running execution; the
  /// optional `state_patch` (an object) is merged into the state.
  void approve(const std::string& execution_id, const std::string& node_id,
               const std::string& user_id = "api",
               const std::optional<std::string>& comment = std::nullopt,
               const nlohmann::json& state_patch = nullptr);

  /// Rejects `human_approval` node `node_id`: the node fails, or routes to
  /// its `fallback_node` when it has one.
  void reject(const std::string& execution_id, const std::string& node_id,
              const std::string& user_id = "api",
              const std::optional<std::string>& comment = std::nullopt);

  /// The TCP port remote peers connect to (`runtime_config::listen`), or
  /// 0 when the runtime does not listen.
  uint16_t port() const noexcept;

  /// Stops every actor and waits for them; idempotent.
  void shutdown();

  /// The actor system and scheduler actors, for the layers built on the
  /// runtime (the HTTP server of http/). Defined in
  /// "jamjet/runtime_parts.hpp", which is not installed: not a stable API.
  struct parts;
  const parts& internal_parts() const;

 private:
  /// A decision on an approval node; `state_patch` is JSON text or empty.
  void decide(const std::string& execution_id, const std::string& node_id,
              bool approved, const std::string& user_id,
              const std::optional<std::string>& comment,
              const std::string& state_patch);

  struct impl;
  std::unique_ptr<impl> impl_;
};

JAMJET_API_END
} // namespace jamjet
