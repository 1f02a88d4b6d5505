#pragma once

// Talking to a scheduler node (`jamjet serve`, or a runtime with
// `runtime_config::listen`) from another process or host.
//
//   jamjet::remote_client c{"10.0.0.5", 7400, token};      // clients
//   auto id = c.start("wf", {{"q", "..."}});
//   auto out = c.await(id);
//
//   jamjet::remote_worker w{{"10.0.0.5", 7400, token}};    // workers
//   w.register_builtin_handlers();
//   w.run();                      // until stop(); reconnects with backoff
//
// Both speak messages/wire.hpp over TCP (caf::io brokers), in TLS when
// asked. A wrong token, a role that may not, or a certificate that does not
// verify is `jamjet::error(access_denied)`; an unreachable node is
// `unavailable`.

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "jamjet/core/handler.hpp"
#include "jamjet/messages/error.hpp"
#include "jamjet/support/export.hpp"
#include "jamjet/support/tls_config.hpp"

namespace jamjet {
JAMJET_API_BEGIN

/// "HOST:PORT" split; throws `bad_input` naming `what` when malformed.
std::pair<std::string, uint16_t> parse_endpoint(const std::string& text,
                                                const std::string& what);

/// A client of a scheduler node. Calls block; one call at a time per client
/// (use several clients for concurrency).
class remote_client {
 public:
  /// Connects and says hello; throws when refused or unreachable. With
  /// `tls.enabled`, inside TLS: the node's certificate must chain to
  /// `tls.ca_file` (or the system's trusted certificates) and carry `host`;
  /// `tls.cert_file`/`key_file` present a client certificate.
  remote_client(const std::string& host, uint16_t port,
                const std::string& token = {}, const tls_config& tls = {});
  ~remote_client();

  remote_client(const remote_client&) = delete;
  remote_client& operator=(const remote_client&) = delete;

  /// Registers a workflow (IR JSON text); returns "id@version".
  std::string register_workflow(const std::string& ir_json);

  /// Starts an execution; returns its id.
  std::string start(const std::string& workflow_id, const nlohmann::json& input,
                    const std::string& version = {});

  /// Blocks until the execution ends: `{"execution_id", "status",
  /// "final_state" | "error"}`.
  nlohmann::json await(const std::string& execution_id);

  /// One execution's record, or every execution's (`execution_id` empty).
  nlohmann::json status(const std::string& execution_id);

  /// The execution's log as JamJet JSON events.
  nlohmann::json events(const std::string& execution_id);

  void cancel(const std::string& execution_id, const std::string& reason);
  void signal(const std::string& execution_id, const std::string& key,
              const nlohmann::json& payload);
  /// `state_patch` null: no patch.
  void decide(const std::string& execution_id, const std::string& node_id,
              bool approve, const std::string& user_id,
              const std::optional<std::string>& comment,
              const nlohmann::json& state_patch);

 private:
  struct impl;
  std::unique_ptr<impl> impl_;
};

/// How a remote worker connects and works.
struct remote_worker_config {
  std::string host = "127.0.0.1";
  uint16_t port = 0;
  std::string token;
  /// Identity (empty: generated), queues ("*": all), slots, heartbeat.
  std::string id;
  std::vector<std::string> queues{"*"};
  uint32_t slots = 4;
  std::chrono::milliseconds heartbeat{10000};
  /// Reconnect backoff: doubles from `min` up to `max`.
  std::chrono::milliseconds reconnect_min{100};
  std::chrono::milliseconds reconnect_max{5000};
  /// On `stop()`: how long running handlers may take before they are
  /// abandoned (their leases are then reclaimed by the scheduler).
  std::chrono::milliseconds grace{30000};
  /// TLS to the node, as for `remote_client`.
  tls_config tls{};
};

/// A worker process's connection to a scheduler node.
class remote_worker {
 public:
  explicit remote_worker(remote_worker_config cfg);
  ~remote_worker();

  remote_worker(const remote_worker&) = delete;
  remote_worker& operator=(const remote_worker&) = delete;

  void register_handler(const std::string& kind, node_handler fn,
                        bool blocking = true);
  void register_builtin_handlers(
    std::chrono::seconds default_node_timeout = std::chrono::seconds{300});

  /// Serves until `stop()`: connects (retrying with backoff while the node
  /// is unreachable), takes work, and reconnects when the connection drops.
  /// Throws `access_denied` when the node refuses the token.
  void run();

  /// Asks `run()` to drain: no new work, running handlers finish (or are
  /// abandoned after the grace period), then `run()` returns. Thread-safe;
  /// async-signal-safe (it only sets a flag).
  void stop() noexcept;

  /// Times `run()` connected (for tests and logs).
  uint64_t connections() const noexcept;

 private:
  struct impl;
  std::unique_ptr<impl> impl_;
};

JAMJET_API_END
} // namespace jamjet
