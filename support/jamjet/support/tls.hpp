#pragma once

// TLS over memory buffers (OpenSSL memory BIOs): the socket stays the
// caller's (a caf::io broker's connection), TLS only turns the bytes that
// arrive into plain text and plain text into the bytes to write, so it
// runs on any transport, CAF's test multiplexer included.
//
//   auto ctx = tls_context::server(cfg);           // once, shared
//   tls_session s{ctx, tls_session::server_side};  // per connection
//   s.receive(data, n, plain);   // bytes in -> plain text out
//   s.send(text, n);             // queued until the handshake is done
//   s.take_output(out);          // what to write to the socket now
//
// A failure (a handshake that fails, a certificate that does not verify,
// garbage) makes `receive` return false, with `error()` saying why; the
// connection is then unusable.

#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "jamjet/support/tls_config.hpp"

namespace jamjet {

/// A certificate, key or CA file that cannot be used.
class tls_error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

/// Certificates, key and verification settings, shared by connections.
class tls_context {
 public:
  /// For a node; throws `tls_error` (naming the file) when the certificate
  /// or key cannot be loaded or do not match.
  static std::shared_ptr<tls_context> server(const tls_config& cfg);

  /// For a peer connecting to a node; throws `tls_error`.
  static std::shared_ptr<tls_context> client(const tls_config& cfg);

  ~tls_context();
  tls_context(const tls_context&) = delete;
  tls_context& operator=(const tls_context&) = delete;

  struct impl;
  const impl& get() const noexcept { return *impl_; }

 private:
  explicit tls_context(std::unique_ptr<impl> p);
  std::unique_ptr<impl> impl_;
};

class tls_session {
 public:
  enum side { server_side, client_side };

  /// A client side verifies the node's name: `host` (an IP address is
  /// checked as an address), unless the context names another.
  tls_session(std::shared_ptr<tls_context> ctx, side s,
              const std::string& host = {});
  ~tls_session();
  tls_session(const tls_session&) = delete;
  tls_session& operator=(const tls_session&) = delete;

  /// Takes `n` bytes from the network; appends the plain text they
  /// complete to `plain`. False on a failure (see `error()`) or when the
  /// other end closed the session.
  bool receive(const char* data, size_t n, std::vector<char>& plain);

  /// Plain text to send; held until the handshake is done.
  void send(const char* data, size_t n);

  /// Appends the bytes to write to the socket (handshake records
  /// included); false when there are none.
  bool take_output(std::vector<char>& out);

  /// The handshake is done.
  bool established() const noexcept;

  /// Why the session failed.
  const std::string& error() const noexcept;

  /// The other end presented a certificate and it verified.
  bool peer_verified() const;

  /// The verified peer certificate's subject field `field` ("OU", "CN"),
  /// if any.
  std::optional<std::string> peer_subject(const char* field) const;

 private:
  struct impl;
  std::unique_ptr<impl> impl_;
};

/// Whether `first` is the first byte of a TLS handshake record (to tell a
/// plain-text peer of a TLS node what it got wrong).
constexpr bool looks_like_tls(unsigned char first) noexcept {
  return first == 0x16;
}

} // namespace jamjet
