#pragma once

// The HTTP API of a scheduler node: JamJet's routes and JSON
// (docs/http-api.md), so JamJet's Python client and workers reach this
// runtime unchanged. `jamjet serve --http HOST:PORT` starts one; an
// application embedding a runtime can too:
//
//   jamjet::runtime rt{cfg};
//   jamjet::http::http_config hc;
//   hc.port = 7700;
//   hc.access.add(token, jamjet::access_role::operator_);
//   jamjet::http::http_server api{rt, hc};   // serves until destroyed
//
// Stop (or destroy) the server before the runtime shuts down.

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

#include "jamjet/messages/access.hpp"
#include "jamjet/messages/net_limits.hpp"
#include "jamjet/runtime.hpp"

namespace jamjet::http {

/// What clients may ask of the HTTP server.
struct http_limits {
  /// Largest request body; a larger one is answered 413 unread.
  size_t max_body = size_t{8} << 20;
  /// A request must arrive within this of the connection's last activity;
  /// a response must be taken within this (slow clients are cut off).
  std::chrono::seconds read_timeout{10};
  std::chrono::seconds write_timeout{10};
  /// An idle keep-alive connection is closed after this, and after this
  /// many requests.
  std::chrono::seconds keep_alive{5};
  size_t keep_alive_requests = 1000;
  /// Threads serving connections: started at once, and at most (one per
  /// connection being served; more connections wait for a thread).
  size_t min_threads = 8;
  size_t max_threads = 512;
  /// How long a claim with nothing ready waits for an item (below the 30 s
  /// timeout of JamJet's client).
  std::chrono::milliseconds claim_wait{20000};
  /// Failed authentications per address (the binary protocol's numbers).
  net_limits auth;
  /// An HTTP worker that holds nothing and is not heard from for this long
  /// is dropped from GET /workers.
  std::chrono::milliseconds worker_idle{60000};
};

/// Where and how the HTTP server listens.
struct http_config {
  std::string host = "127.0.0.1";
  /// 0: any free port (see `port()`); JamJet's default is 7700.
  uint16_t port = 7700;
  /// Tokens and their roles; empty: every peer is an operator (allowed by
  /// the command line only on loopback with --insecure).
  access_list access;
  /// TLS: a certificate chain and its key (PEM files); with
  /// `tls_client_ca`, clients must present a certificate it signed.
  std::string tls_cert;
  std::string tls_key;
  std::string tls_client_ca;
  http_limits limits;
};

/// An HTTP server for a runtime; serves from construction until `stop()`.
class http_server {
 public:
  /// Binds and starts serving. Throws `jamjet::error(unavailable)` when it
  /// cannot bind, `bad_input` when the TLS files do not load.
  http_server(runtime& rt, http_config cfg);

  /// Stops (see `stop`).
  ~http_server();

  http_server(const http_server&) = delete;
  http_server& operator=(const http_server&) = delete;

  /// The bound port.
  uint16_t port() const noexcept;

  /// Whether it serves HTTPS.
  bool tls() const noexcept;

  /// Stops serving and waits for the requests under way; HTTP workers'
  /// leases are reclaimed. Idempotent.
  void stop();

  struct impl;

 private:
  std::unique_ptr<impl> impl_;
};

} // namespace jamjet::http
