#pragma once

// Test certificates, made with the `openssl` command in a scratch
// directory: two CAs, a node certificate for localhost and 127.0.0.1
// signed by the first, and client certificates (by subject OU: a role)
// signed by the first, one signed by the second. Header-only.

#include <cstdlib>
#include <stdexcept>
#include <string>

#include "testing/temp_dir.hpp"

namespace jamjet::testing {

struct test_certs {
  temp_dir dir;
  std::string ca, ca_key, other_ca, other_ca_key;
  /// CN=localhost, SAN DNS:localhost, IP:127.0.0.1.
  std::string node_cert, node_key;
  /// CN=elsewhere.test: a name nobody connects to.
  std::string wrong_name_cert, wrong_name_key;

  test_certs() {
    ca = dir.path + "/ca.pem";
    ca_key = dir.path + "/ca.key";
    other_ca = dir.path + "/other-ca.pem";
    other_ca_key = dir.path + "/other-ca.key";
    make_ca(ca, ca_key, "jamjet test CA");
    make_ca(other_ca, other_ca_key, "another CA");
    node_cert = dir.path + "/node.pem";
    node_key = dir.path + "/node.key";
    sign("/CN=localhost", "subjectAltName=DNS:localhost,IP:127.0.0.1",
         node_cert, node_key, ca, ca_key);
    wrong_name_cert = dir.path + "/wrong.pem";
    wrong_name_key = dir.path + "/wrong.key";
    sign("/CN=elsewhere.test", "subjectAltName=DNS:elsewhere.test",
         wrong_name_cert, wrong_name_key, ca, ca_key);
  }

  /// A client certificate whose subject is `/CN=NAME[/OU=ou]`, signed by
  /// the first CA (or the other one); returns {cert, key}.
  std::pair<std::string, std::string>
  client(const std::string& name, const std::string& ou, bool other = false) {
    auto cert = dir.path + "/client-" + name + ".pem";
    auto key = dir.path + "/client-" + name + ".key";
    std::string subject = "/CN=" + name + (ou.empty() ? "" : "/OU=" + ou);
    sign(subject, "extendedKeyUsage=clientAuth", cert, key,
         other ? other_ca : ca, other ? other_ca_key : ca_key);
    return {cert, key};
  }

 private:
  static void run(const std::string& cmd) {
    if (std::system((cmd + " >/dev/null 2>&1").c_str()) != 0)
      throw std::runtime_error("openssl failed: " + cmd);
  }

  static void make_ca(const std::string& cert, const std::string& key,
                      const std::string& cn) {
    run("openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 "
        "-nodes -days 2 -subj '/CN=" +
        cn + "' -keyout " + key + " -out " + cert);
  }

  void sign(const std::string& subject, const std::string& ext,
            const std::string& cert, const std::string& key,
            const std::string& ca_cert, const std::string& ca_key_file) {
    auto csr = cert + ".csr";
    auto extfile = cert + ".ext";
    dir.write(extfile.substr(dir.path.size() + 1), ext + "\n");
    run("openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes "
        "-subj '" +
        subject + "' -keyout " + key + " -out " + csr);
    run("openssl x509 -req -in " + csr + " -CA " + ca_cert + " -CAkey " +
        ca_key_file + " -CAcreateserial -days 2 -extfile " + extfile +
        " -out " + cert);
  }
};

} // namespace jamjet::testing
