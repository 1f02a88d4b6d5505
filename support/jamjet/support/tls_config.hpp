#pragma once

// How a connection of the binary protocol uses TLS (support/tls.hpp).
//
// A node (`jamjet serve --tls-cert F --tls-key F [--tls-ca F]`): presents
// `cert_file` (a PEM chain) and `key_file`; with `ca_file` it asks each
// peer for a client certificate and verifies the ones presented against
// it (mutual TLS); with `require_peer_cert` a peer without one is refused.
//
// A peer (`jamjet worker|submit ... --tls-ca F [--tls-cert F --tls-key F]`):
// verifies the node's certificate against `ca_file` (or the system's
// trusted certificates when empty) and its name against the host it
// connects to (`server_name` overrides it); may present a certificate of
// its own.

#include <string>

namespace jamjet {

struct tls_config {
  /// Off: plain TCP (the other fields are ignored).
  bool enabled = false;
  /// PEM certificate chain and private key presented to the other end.
  std::string cert_file;
  std::string key_file;
  /// PEM certificates the other end's certificate must chain to.
  std::string ca_file;
  /// A node: refuse peers without a valid certificate.
  bool require_peer_cert = false;
  /// A peer: the name the node's certificate must carry (default: the
  /// host connected to; an IP address is checked as one).
  std::string server_name;
};

} // namespace jamjet
