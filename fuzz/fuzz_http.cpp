// libFuzzer target: bytes an HTTP client sends to a scheduler node's HTTP
// API (`jamjet serve --http`), through cpp-httplib's request parser, the
// authentication, the routes and their JSON bodies, into a real runtime
// (in memory, one local worker). Each input is one connection: written
// whole; the answer is read and dropped.
//
// A crash, a sanitizer report or an exception out of the server is a
// finding, and so is a server that stops answering: every 256 inputs a
// `GET /health` must get its 200. Inputs with the test tokens below reach
// the authenticated routes (the seed corpus has them).
//
// cpp-httplib comes prebuilt from Debian, so coverage guides the fuzzer
// through this project's code (auth, routes, bodies), not inside the
// library's parser, which the inputs still exercise.

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>

#include "jamjet/http/server.hpp"
#include "jamjet/runtime.hpp"

namespace {

[[noreturn]] void finding(const char* what) {
  std::fprintf(stderr, "fuzz_http: %s\n", what);
  std::abort();
}

struct node {
  std::unique_ptr<jamjet::runtime> rt;
  std::unique_ptr<jamjet::http::http_server> api;

  node() {
    jamjet::runtime_config cfg;
    cfg.worker_slots = 1;
    rt = std::make_unique<jamjet::runtime>(cfg);
    rt->register_builtin_handlers();
    jamjet::http::http_config hc;
    hc.port = 0;
    hc.access.add("op-token", jamjet::access_role::operator_);
    hc.access.add("wk-token", jamjet::access_role::worker);
    hc.access.add("vw-token", jamjet::access_role::viewer);
    // Short waits: a claim or a slow request must not stall the fuzzer.
    hc.limits.claim_wait = std::chrono::milliseconds{50};
    hc.limits.read_timeout = std::chrono::seconds{1};
    hc.limits.write_timeout = std::chrono::seconds{1};
    hc.limits.keep_alive = std::chrono::seconds{1};
    // No address is ever blocked: the fuzzer fails authentication often.
    hc.limits.auth.max_auth_failures = 0;
    api = std::make_unique<jamjet::http::http_server>(*rt, hc);
  }
};

/// Made once and never destroyed: at exit, CAF's own statics may be gone
/// before a static runtime's destructor would run.
node& the_node() {
  static node* n = new node;
  return *n;
}

/// Sends `data` on a fresh connection and reads the answer (1 s at most);
/// returns what came back.
std::string exchange(uint16_t port, const char* data, size_t size) {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0)
    finding("no socket");
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  int rc = ::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr));
  if (rc != 0 && errno == EINTR) {
    // The connection goes on: wait until it is made.
    pollfd p{fd, POLLOUT, 0};
    while (::poll(&p, 1, 1000) < 0 && errno == EINTR) {
    }
    int err = 0;
    socklen_t len = sizeof(err);
    ::getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len);
    rc = err == 0 ? 0 : -1;
  }
  if (rc != 0) {
    ::close(fd);
    finding("the HTTP server refused a connection");
  }
  for (size_t at = 0; at < size;) {
    auto n = ::send(fd, data + at, size - at, MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR)
      continue;
    if (n <= 0)
      break; // the server may close early (413, a bad request line)
    at += static_cast<size_t>(n);
  }
  // Not half-closed: cpp-httplib drops a request whose client has shut
  // down its side. The answer is read until the server closes, or stays
  // quiet for a moment (an incomplete request gets no answer).
  std::string answer;
  char buf[4096];
  auto start = std::chrono::steady_clock::now();
  auto last = start;
  for (;;) {
    auto now = std::chrono::steady_clock::now();
    auto quiet = answer.empty() ? std::chrono::milliseconds{150}
                                : std::chrono::milliseconds{30};
    auto left = std::min(
      std::chrono::duration_cast<std::chrono::milliseconds>(last + quiet - now),
      std::chrono::duration_cast<std::chrono::milliseconds>(
        start + std::chrono::seconds{1} - now));
    if (left.count() <= 0)
      break;
    pollfd p{fd, POLLIN, 0};
    int ready = ::poll(&p, 1, static_cast<int>(left.count()));
    if (ready < 0 && errno == EINTR) // libFuzzer's timers interrupt calls
      continue;
    if (ready <= 0)
      break;
    auto n = ::read(fd, buf, sizeof(buf));
    if (n < 0 && errno == EINTR)
      continue;
    if (n <= 0)
      break;
    if (answer.size() < 65536)
      answer.append(buf, static_cast<size_t>(n));
    last = std::chrono::steady_clock::now();
  }
  ::close(fd);
  return answer;
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static uint64_t inputs = 0;
  auto& n = the_node();
  auto port = n.api->port();
  exchange(port, reinterpret_cast<const char*>(data), size);
  if (++inputs % 256 == 0) {
    std::string health = "GET /health HTTP/1.1\r\nHost: x\r\nConnection: "
                         "close\r\n\r\n";
    // Connections of earlier inputs may still hold threads for a moment
    // (a read timeout): a few tries over about 10 s.
    std::string answer;
    for (int attempt = 0; attempt < 10; ++attempt) {
      answer = exchange(port, health.data(), health.size());
      if (answer.compare(0, 12, "HTTP/1.1 200") == 0)
        return 0;
    }
    std::fprintf(stderr, "fuzz_http: last answer to GET /health: '%s'\n",
                 answer.substr(0, 200).c_str());
    finding("the HTTP server stopped answering GET /health");
  }
  return 0;
}
