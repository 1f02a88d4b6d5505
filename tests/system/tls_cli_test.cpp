// TLS and roles through the real `jamjet` processes: `serve --tls-cert`,
// workers and clients with `--tls-ca`, tokens with fewer rights, and
// client certificates instead of tokens.

#include <catch2/catch.hpp>

#include <sys/stat.h>
#include <thread>

#include <nlohmann/json.hpp>

#include "system_cli.hpp"
#include "testing/certs.hpp"
#include "testing/contains.hpp"
#include "testing/temp_dir.hpp"

using jamjet::testing::background;
using jamjet::testing::cli;
using jamjet::testing::contains;
using jamjet::testing::free_port;
using jamjet::testing::temp_dir;
using json = nlohmann::json;
using args = std::vector<std::string>;
using namespace std::chrono_literals;

namespace {

jamjet::testing::test_certs& certs() {
  static jamjet::testing::test_certs c;
  return c;
}

args operator+(args a, const args& b) {
  a.insert(a.end(), b.begin(), b.end());
  return a;
}

const char* two_step = R"({"workflow_id":"two","version":"1","start_node":"a",
  "nodes":{"a":{"id":"a","kind":{"type":"command",
                 "argv":["sh","-c","cat >/dev/null; echo '{\"a\":1}'"]}},
           "b":{"id":"b","kind":{"type":"noop","state_patch":{"b":2}}}},
  "edges":[{"from":"a","to":"b"},{"from":"b","to":"end"}]})";

void wait_for_node(const args& connect) {
  for (int i = 0; i < 500; ++i) {
    if (cli(args{"status"} + connect).exit_code == 0)
      return;
    std::this_thread::sleep_for(20ms);
  }
  FAIL("the node never answered");
}

} // namespace

TEST_CASE("serve with TLS and role tokens, through the CLI",
          "[tls][distributed]") {
  temp_dir dir;
  auto endpoint = "127.0.0.1:" + std::to_string(free_port());
  auto db = dir.path + "/s.db";
  auto worker_tokens = dir.path + "/worker.token";
  auto viewer_tokens = dir.path + "/viewer.token";
  auto http_port = std::to_string(free_port());
  background serve{{"serve", "--db", db, "--listen", endpoint, "--tls-cert",
                    certs().node_cert, "--tls-key", certs().node_key,
                    "--worker-token-file", worker_tokens, "--viewer-token-file",
                    viewer_tokens, "--http", "127.0.0.1:" + http_port}};
  args tls{"--tls-ca", certs().ca};
  args op = args{"--connect", endpoint, "--token-file", db + ".token"} + tls;
  wait_for_node(op);
  // The role token files were made, mode 0600.
  struct stat st {};
  REQUIRE(::stat(worker_tokens.c_str(), &st) == 0);
  CHECK((st.st_mode & 0777) == 0600);
  REQUIRE(::stat(viewer_tokens.c_str(), &st) == 0);
  CHECK((st.st_mode & 0777) == 0600);

  background worker{args{"worker", "--connect", endpoint, "--token-file",
                         worker_tokens, "--name", "tls-worker"} +
                    tls};
  auto wf = dir.write("two.json", two_step);
  auto res = cli(args{"submit", wf, "--wait"} + op);
  INFO(res.err);
  REQUIRE(res.exit_code == 0);
  CHECK(json::parse(res.out) == json{{"a", 1}, {"b", 2}});

  args viewer =
    args{"--connect", endpoint, "--token-file", viewer_tokens} + tls;
  auto status = cli(args{"status"} + viewer);
  CHECK(status.exit_code == 0);
  CHECK(contains(status.out, "completed"));
  auto refused = cli(args{"submit", wf} + viewer);
  CHECK(refused.exit_code != 0);
  CHECK(contains(refused.err, "a viewer token may only read"));
  auto as_client = cli(
    args{"status", "--connect", endpoint, "--token-file", worker_tokens} + tls);
  CHECK(as_client.exit_code != 0);
  CHECK(contains(as_client.err, "a worker token may only take and settle"));

  // The HTTP API speaks HTTPS with the same certificate and tokens.
  const char* https_call = R"(
import ssl, sys, urllib.request, urllib.error
ctx = ssl.create_default_context(cafile=sys.argv[1])
req = urllib.request.Request("https://localhost:" + sys.argv[2] + sys.argv[3],
    headers={"Authorization": "Bearer " + open(sys.argv[4]).read().strip()},
    method=sys.argv[5])
try:
    r = urllib.request.urlopen(req, context=ctx, timeout=10)
    print(r.status, r.read().decode())
except urllib.error.HTTPError as e:
    print(e.code, e.read().decode())
)";
  auto listed = jamjet::testing::python(
    https_call, {certs().ca, http_port, "/executions", viewer_tokens, "GET"});
  INFO(listed.err);
  CHECK(contains(listed.out, "200 "));
  CHECK(contains(listed.out, "completed"));
  auto cancel = jamjet::testing::python(
    https_call,
    {certs().ca, http_port, "/executions/x/cancel", viewer_tokens, "POST"});
  CHECK(contains(cancel.out, "403 "));

  // Without --tls-ca: a plain peer is told what to do.
  auto plain =
    cli({"status", "--connect", endpoint, "--token-file", db + ".token"});
  CHECK(plain.exit_code != 0);
  CHECK(contains(plain.err, "this node speaks TLS"));
  // A CA that did not sign the node's certificate.
  auto unknown = cli({"status", "--connect", endpoint, "--token-file",
                      db + ".token", "--tls-ca", certs().other_ca});
  CHECK(unknown.exit_code != 0);
  CHECK(contains(unknown.err, "certificate was not accepted"));
}

TEST_CASE("a worker and a client with certificates need no token",
          "[tls][distributed]") {
  temp_dir dir;
  auto endpoint = "127.0.0.1:" + std::to_string(free_port());
  auto db = dir.path + "/s.db";
  background serve{{"serve", "--db", db, "--listen", endpoint, "--tls-cert",
                    certs().node_cert, "--tls-key", certs().node_key,
                    "--tls-ca", certs().ca}};
  auto [wcert, wkey] = certs().client("cli-worker", "worker");
  auto [ocert, okey] = certs().client("cli-ops", "operator");
  args op{"--connect",  endpoint, "--tls-ca",  certs().ca,
          "--tls-cert", ocert,    "--tls-key", okey};
  wait_for_node(op);
  background worker{{"worker", "--connect", endpoint, "--tls-ca", certs().ca,
                     "--tls-cert", wcert, "--tls-key", wkey}};
  auto wf = dir.write("two.json", two_step);
  auto res = cli(args{"submit", wf, "--wait"} + op);
  INFO(res.err);
  REQUIRE(res.exit_code == 0);
  CHECK(json::parse(res.out) == json{{"a", 1}, {"b", 2}});
}

TEST_CASE("bad TLS options are usage errors", "[tls]") {
  temp_dir dir;
  auto db = dir.path + "/s.db";
  auto res = cli({"serve", "--db", db, "--listen", "127.0.0.1:0", "--tls-cert",
                  certs().node_cert});
  CHECK(res.exit_code == 2);
  CHECK(contains(res.err, "--tls-key"));
  res = cli({"serve", "--db", db, "--listen", "127.0.0.1:0", "--tls-cert",
             certs().node_cert, "--tls-key", certs().wrong_name_key});
  CHECK(res.exit_code == 2);
  CHECK(contains(res.err, "does not match the certificate"));
  res = cli({"status", "--connect", "127.0.0.1:1", "--tls-ca",
             dir.path + "/missing.pem"});
  CHECK(res.exit_code == 2);
  CHECK(contains(res.err, "missing.pem"));
  res = cli({"serve", "--db", db, "--listen", "127.0.0.1:0",
             "--tls-require-client-cert"});
  CHECK(res.exit_code == 2);
}
