// `jamjet serve --http HOST:PORT`: JamJet's HTTP API beside the binary
// protocol, with the tokens serve resolved (http/jamjet/http/server.hpp).

#include <spdlog/spdlog.h>

#include "jamjet/messages/error.hpp"
#include "jamjet/remote.hpp"
#include "jamjet/support/net_address.hpp"
#include "net_commands.hpp"

namespace jamjet::cli {

std::unique_ptr<http::http_server> start_http_api(const serve_options& opts,
                                                  runtime& rt,
                                                  const access_list& access) {
  if (opts.http.empty())
    return nullptr;
  auto [host, port] = parse_endpoint(opts.http, "--http");
  if (access.empty() && !is_loopback_host(host))
    throw error(error_code::bad_input,
                "refusing --http on " + host +
                  " without a token: it is not a loopback address");
  http::http_config cfg;
  cfg.host = host;
  cfg.port = port;
  cfg.access = access;
  // The binary protocol's certificate serves HTTPS too; client
  // certificates are required on HTTP only with --tls-require-client-cert.
  cfg.tls_cert = opts.tls.cert_file;
  cfg.tls_key = opts.tls.key_file;
  if (opts.tls.require_peer_cert)
    cfg.tls_client_ca = opts.tls.ca_file;
  auto api = std::make_unique<http::http_server>(rt, std::move(cfg));
  spdlog::info("JamJet HTTP API on {}://{}:{}", api->tls() ? "https" : "http",
               host, api->port());
  return api;
}

} // namespace jamjet::cli
