#include "jamjet/support/tls.hpp"

#include <arpa/inet.h>

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

namespace jamjet {

namespace {

/// The newest error on this thread's OpenSSL queue, as text; clears it.
std::string last_ssl_error(const char* fallback) {
  unsigned long code = 0;
  unsigned long last = 0;
  while ((code = ERR_get_error()) != 0)
    last = code;
  if (last == 0)
    return fallback;
  char buf[256];
  ERR_error_string_n(last, buf, sizeof(buf));
  return buf;
}

bool is_ip_address(const std::string& host) {
  unsigned char buf[sizeof(in6_addr)];
  return ::inet_pton(AF_INET, host.c_str(), buf) == 1 ||
         ::inet_pton(AF_INET6, host.c_str(), buf) == 1;
}

} // namespace

struct tls_context::impl {
  SSL_CTX* ctx = nullptr;
  bool server = false;
  std::string server_name;

  ~impl() {
    if (ctx != nullptr)
      SSL_CTX_free(ctx);
  }

  [[noreturn]] void fail(const std::string& what, const std::string& file) {
    throw tls_error(what + " '" + file + "': " + last_ssl_error("unknown"));
  }

  void load_identity(const tls_config& cfg) {
    if (cfg.cert_file.empty() != cfg.key_file.empty())
      throw tls_error("a TLS certificate needs its key and a key its "
                      "certificate (--tls-cert and --tls-key)");
    if (cfg.cert_file.empty())
      return;
    if (SSL_CTX_use_certificate_chain_file(ctx, cfg.cert_file.c_str()) != 1)
      fail("cannot load the TLS certificate", cfg.cert_file);
    if (SSL_CTX_use_PrivateKey_file(ctx, cfg.key_file.c_str(),
                                    SSL_FILETYPE_PEM) != 1) {
      if (ERR_GET_REASON(ERR_peek_last_error()) == X509_R_KEY_VALUES_MISMATCH)
        fail("the TLS key does not match the certificate", cfg.key_file);
      fail("cannot load the TLS key", cfg.key_file);
    }
    if (SSL_CTX_check_private_key(ctx) != 1)
      fail("the TLS key does not match the certificate", cfg.cert_file);
  }

  void load_ca(const std::string& file) {
    if (SSL_CTX_load_verify_locations(ctx, file.c_str(), nullptr) != 1)
      fail("cannot load the TLS CA certificates", file);
  }
};

tls_context::tls_context(std::unique_ptr<impl> p) : impl_(std::move(p)) {
  // nop
}

tls_context::~tls_context() = default;

std::shared_ptr<tls_context> tls_context::server(const tls_config& cfg) {
  if (cfg.cert_file.empty() || cfg.key_file.empty())
    throw tls_error("TLS on a node needs a certificate and its key "
                    "(--tls-cert and --tls-key)");
  auto p = std::make_unique<impl>();
  p->server = true;
  p->ctx = SSL_CTX_new(TLS_server_method());
  if (p->ctx == nullptr)
    throw tls_error("cannot set up TLS: " + last_ssl_error("no memory"));
  SSL_CTX_set_min_proto_version(p->ctx, TLS1_2_VERSION);
  p->load_identity(cfg);
  if (!cfg.ca_file.empty()) {
    p->load_ca(cfg.ca_file);
    if (auto names = SSL_load_client_CA_file(cfg.ca_file.c_str()))
      SSL_CTX_set_client_CA_list(p->ctx, names);
    int mode = SSL_VERIFY_PEER;
    if (cfg.require_peer_cert)
      mode |= SSL_VERIFY_FAIL_IF_NO_PEER_CERT;
    SSL_CTX_set_verify(p->ctx, mode, nullptr);
  } else if (cfg.require_peer_cert) {
    throw tls_error("requiring client certificates needs the CA that signs "
                    "them (--tls-ca)");
  }
  return std::shared_ptr<tls_context>(new tls_context(std::move(p)));
}

std::shared_ptr<tls_context> tls_context::client(const tls_config& cfg) {
  auto p = std::make_unique<impl>();
  p->ctx = SSL_CTX_new(TLS_client_method());
  if (p->ctx == nullptr)
    throw tls_error("cannot set up TLS: " + last_ssl_error("no memory"));
  SSL_CTX_set_min_proto_version(p->ctx, TLS1_2_VERSION);
  p->load_identity(cfg);
  if (!cfg.ca_file.empty())
    p->load_ca(cfg.ca_file);
  else if (SSL_CTX_set_default_verify_paths(p->ctx) != 1)
    throw tls_error("cannot load the system's trusted certificates: " +
                    last_ssl_error("unknown"));
  SSL_CTX_set_verify(p->ctx, SSL_VERIFY_PEER, nullptr);
  p->server_name = cfg.server_name;
  return std::shared_ptr<tls_context>(new tls_context(std::move(p)));
}

struct tls_session::impl {
  std::shared_ptr<tls_context> ctx;
  SSL* ssl = nullptr;
  BIO* in = nullptr;  // network -> SSL; owned by ssl
  BIO* out = nullptr; // SSL -> network; owned by ssl
  std::vector<char> pending;
  std::string error;
  bool failed = false;

  ~impl() {
    if (ssl != nullptr)
      SSL_free(ssl);
  }

  bool fail(std::string why) {
    failed = true;
    error = std::move(why);
    return false;
  }

  /// A failed handshake or read, said as precisely as OpenSSL lets.
  bool fail_op(int rc) {
    auto code = SSL_get_error(ssl, rc);
    if (code == SSL_ERROR_ZERO_RETURN)
      return fail("the other end closed the TLS session");
    auto verify = SSL_get_verify_result(ssl);
    auto what = last_ssl_error("TLS failure");
    if (verify != X509_V_OK)
      return fail("TLS: the certificate was not accepted (" +
                  std::string{X509_verify_cert_error_string(verify)} + ")");
    return fail("TLS: " + what);
  }

  /// Writes what waited for the handshake.
  void flush_pending() {
    if (pending.empty() || !SSL_is_init_finished(ssl))
      return;
    auto data = std::move(pending);
    pending.clear();
    write(data.data(), data.size());
  }

  void write(const char* data, size_t n) {
    while (n > 0 && !failed) {
      ERR_clear_error();
      auto chunk = static_cast<int>(std::min<size_t>(n, 1 << 30));
      int rc = SSL_write(ssl, data, chunk);
      if (rc <= 0) {
        fail_op(rc);
        return;
      }
      data += rc;
      n -= static_cast<size_t>(rc);
    }
  }
};

tls_session::tls_session(std::shared_ptr<tls_context> ctx, side s,
                         const std::string& host)
  : impl_(std::make_unique<impl>()) {
  auto& p = *impl_;
  p.ctx = std::move(ctx);
  p.ssl = SSL_new(p.ctx->get().ctx);
  p.in = BIO_new(BIO_s_mem());
  p.out = BIO_new(BIO_s_mem());
  if (p.ssl == nullptr || p.in == nullptr || p.out == nullptr) {
    if (p.in != nullptr)
      BIO_free(p.in);
    if (p.out != nullptr)
      BIO_free(p.out);
    p.in = p.out = nullptr;
    p.fail("cannot set up a TLS session: " + last_ssl_error("no memory"));
    return;
  }
  SSL_set_bio(p.ssl, p.in, p.out);
  if (s == server_side) {
    SSL_set_accept_state(p.ssl);
    return;
  }
  SSL_set_connect_state(p.ssl);
  auto name =
    p.ctx->get().server_name.empty() ? host : p.ctx->get().server_name;
  if (!name.empty()) {
    if (is_ip_address(name)) {
      X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(p.ssl), name.c_str());
    } else {
      SSL_set_tlsext_host_name(p.ssl, name.c_str());
      SSL_set1_host(p.ssl, name.c_str());
    }
  }
  ERR_clear_error();
  int rc = SSL_do_handshake(p.ssl); // the ClientHello, into `out`
  if (rc <= 0 && SSL_get_error(p.ssl, rc) != SSL_ERROR_WANT_READ)
    p.fail_op(rc);
}

tls_session::~tls_session() = default;

bool tls_session::receive(const char* data, size_t n,
                          std::vector<char>& plain) {
  auto& p = *impl_;
  if (p.failed)
    return false;
  while (n > 0) {
    auto chunk = static_cast<int>(std::min<size_t>(n, 1 << 30));
    int put = BIO_write(p.in, data, chunk);
    if (put <= 0)
      return p.fail("cannot buffer TLS input");
    data += put;
    n -= static_cast<size_t>(put);
  }
  if (!SSL_is_init_finished(p.ssl)) {
    ERR_clear_error();
    int rc = SSL_do_handshake(p.ssl);
    if (rc <= 0) {
      if (SSL_get_error(p.ssl, rc) == SSL_ERROR_WANT_READ)
        return true;
      return p.fail_op(rc);
    }
    p.flush_pending();
  }
  char buf[16384];
  for (;;) {
    ERR_clear_error();
    int rc = SSL_read(p.ssl, buf, sizeof(buf));
    if (rc > 0) {
      plain.insert(plain.end(), buf, buf + rc);
      continue;
    }
    auto code = SSL_get_error(p.ssl, rc);
    if (code == SSL_ERROR_WANT_READ)
      return !p.failed;
    return p.fail_op(rc);
  }
}

void tls_session::send(const char* data, size_t n) {
  auto& p = *impl_;
  if (p.failed)
    return;
  if (!SSL_is_init_finished(p.ssl)) {
    p.pending.insert(p.pending.end(), data, data + n);
    return;
  }
  p.write(data, n);
}

bool tls_session::take_output(std::vector<char>& out) {
  auto& p = *impl_;
  if (p.out == nullptr)
    return false;
  auto n = BIO_ctrl_pending(p.out);
  if (n == 0)
    return false;
  auto at = out.size();
  out.resize(at + n);
  int got = BIO_read(p.out, out.data() + at, static_cast<int>(n));
  out.resize(at + static_cast<size_t>(std::max(got, 0)));
  return got > 0;
}

bool tls_session::established() const noexcept {
  return impl_->ssl != nullptr && !impl_->failed &&
         SSL_is_init_finished(impl_->ssl);
}

const std::string& tls_session::error() const noexcept {
  return impl_->error;
}

bool tls_session::peer_verified() const {
  if (!established())
    return false;
  auto cert = SSL_get0_peer_certificate(impl_->ssl);
  return cert != nullptr && SSL_get_verify_result(impl_->ssl) == X509_V_OK;
}

std::optional<std::string> tls_session::peer_subject(const char* field) const {
  if (!peer_verified())
    return std::nullopt;
  auto cert = SSL_get0_peer_certificate(impl_->ssl);
  auto name = X509_get_subject_name(cert);
  int nid = OBJ_txt2nid(field);
  if (name == nullptr || nid == NID_undef)
    return std::nullopt;
  int at = X509_NAME_get_index_by_NID(name, nid, -1);
  if (at < 0)
    return std::nullopt;
  auto entry = X509_NAME_get_entry(name, at);
  unsigned char* utf8 = nullptr;
  int len = ASN1_STRING_to_UTF8(&utf8, X509_NAME_ENTRY_get_data(entry));
  if (len < 0)
    return std::nullopt;
  std::string text(reinterpret_cast<char*>(utf8), static_cast<size_t>(len));
  OPENSSL_free(utf8);
  return text;
}

} // namespace jamjet
