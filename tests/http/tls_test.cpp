// HTTPS: the server with a certificate and key, and with a client CA that
// every client must present a certificate of.

#include <catch2/catch.hpp>

#include <httplib.h>

#include "jamjet/http/server.hpp"
#include "jamjet/support/subprocess.hpp"
#include "testing/temp_dir.hpp"

using namespace jamjet;
using jamjet::testing::temp_dir;

namespace {

/// A self-signed certificate and key for CN=`name` in `dir`.
void make_cert(const std::string& dir, const std::string& name) {
  subprocess_options opts;
  opts.argv = {"openssl",  "req",
               "-x509",    "-newkey",
               "rsa:2048", "-nodes",
               "-keyout",  dir + "/" + name + ".key",
               "-out",     dir + "/" + name + ".pem",
               "-days",    "1",
               "-subj",    "/CN=" + name};
  opts.timeout = std::chrono::seconds{60};
  auto res = run_subprocess(opts);
  REQUIRE(res.exit_code == 0);
}

} // namespace

TEST_CASE("http tls: the API over HTTPS, and client certificates when a "
          "client CA is given") {
  temp_dir dir;
  make_cert(dir.path, "localhost");
  make_cert(dir.path, "client");
  runtime_config rc;
  rc.worker_slots = 0;
  runtime rt{rc};
  SECTION("server certificate") {
    http::http_config hc;
    hc.port = 0;
    hc.access.add("t", access_role::viewer);
    hc.tls_cert = dir.path + "/localhost.pem";
    hc.tls_key = dir.path + "/localhost.key";
    http::http_server srv{rt, hc};
    CHECK(srv.tls());
    httplib::SSLClient c{"127.0.0.1", srv.port()};
    c.enable_server_certificate_verification(false);
    auto r = c.Get("/executions", {{"Authorization", "Bearer t"}});
    REQUIRE(r);
    CHECK(r->status == 200);
    httplib::Client plain{"127.0.0.1", srv.port()};
    auto p = plain.Get("/health");
    CHECK((!p || p->status != 200));
  }
  SECTION("client certificates required") {
    http::http_config hc;
    hc.port = 0;
    hc.access.add("t", access_role::viewer);
    hc.tls_cert = dir.path + "/localhost.pem";
    hc.tls_key = dir.path + "/localhost.key";
    hc.tls_client_ca = dir.path + "/client.pem";
    http::http_server srv{rt, hc};
    httplib::SSLClient without{"127.0.0.1", srv.port()};
    without.enable_server_certificate_verification(false);
    CHECK_FALSE(without.Get("/health"));
    httplib::SSLClient with{"127.0.0.1", srv.port(), dir.path + "/client.pem",
                            dir.path + "/client.key"};
    with.enable_server_certificate_verification(false);
    auto r = with.Get("/health");
    REQUIRE(r);
    CHECK(r->status == 200);
  }
  SECTION("files that do not load are an error") {
    http::http_config hc;
    hc.port = 0;
    hc.tls_cert = dir.path + "/missing.pem";
    hc.tls_key = dir.path + "/localhost.key";
    CHECK_THROWS_AS((http::http_server{rt, hc}), error);
  }
}
