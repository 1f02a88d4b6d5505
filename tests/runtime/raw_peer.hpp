#pragma once

// Raw sockets speaking (or not) the frame format by hand, for the network
// tests: what `remote_client` never sends.

#include <catch2/catch.hpp>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <optional>
#include <string>
#include <sys/socket.h>
#include <unistd.h>
#include <vector>

#include "jamjet/messages/wire.hpp"

namespace jamjet::testing {

/// A socket connected to the port on loopback (from `source`, any
/// 127.x.y.z, when given); reads time out after 10 s.
inline int connect_loopback(uint16_t port, const char* source = nullptr) {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  REQUIRE(fd >= 0);
  if (source != nullptr) {
    sockaddr_in from{};
    from.sin_family = AF_INET;
    REQUIRE(::inet_pton(AF_INET, source, &from.sin_addr) == 1);
    REQUIRE(::bind(fd, reinterpret_cast<sockaddr*>(&from), sizeof(from)) == 0);
  }
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  REQUIRE(::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0);
  timeval tv{10, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
  return fd;
}

/// Sends raw bytes to the port and waits until the node closes the
/// connection; returns how many bytes the node answered.
inline size_t send_raw(uint16_t port, const std::string& bytes) {
  int fd = connect_loopback(port);
  REQUIRE(::write(fd, bytes.data(), bytes.size()) ==
          static_cast<ssize_t>(bytes.size()));
  size_t total = 0;
  char buf[256];
  for (ssize_t n; (n = ::read(fd, buf, sizeof(buf))) > 0;)
    total += static_cast<size_t>(n);
  ::close(fd);
  return total;
}

/// A peer speaking the frame format by hand, to send what `remote_client`
/// never would.
struct raw_peer {
  int fd;

  explicit raw_peer(uint16_t port, const char* source = nullptr)
    : fd(connect_loopback(port, source)) {
    // nop
  }

  ~raw_peer() { ::close(fd); }

  void send_bytes(const std::vector<char>& frame) {
    size_t done = 0;
    while (done < frame.size()) {
      auto n = ::write(fd, frame.data() + done, frame.size() - done);
      REQUIRE(n > 0);
      done += static_cast<size_t>(n);
    }
  }

  void send(const wire_msg& msg) { send_bytes(encode_frame(msg)); }

  /// Reads exactly `n` bytes; false when the node closed the connection.
  bool read_exactly(char* buf, size_t n) {
    while (n > 0) {
      auto got = ::read(fd, buf, n);
      if (got <= 0)
        return false;
      buf += got;
      n -= static_cast<size_t>(got);
    }
    return true;
  }

  /// The next frame; none when the connection closed first.
  std::optional<wire_msg> receive() {
    char prefix[4];
    if (!read_exactly(prefix, 4))
      return std::nullopt;
    std::vector<char> payload(frame_length(prefix));
    if (!read_exactly(payload.data(), payload.size()))
      return std::nullopt;
    auto msg = decode_payload(payload.data(), payload.size());
    REQUIRE(msg);
    return std::move(*msg);
  }

  /// Says hello (as a client unless `role` says "worker") and expects the
  /// welcome.
  void hello(const std::string& token = {},
             const std::string& role = "client") {
    send(wire_hello{wire_version, token, role, "raw"});
    auto welcome = receive();
    REQUIRE(welcome);
    REQUIRE(caf::holds_alternative<wire_welcome>(*welcome));
  }

  /// Sends `req` and returns the node's reply.
  wire_reply call(client_request req) {
    send(wire_request{7, std::move(req)});
    auto msg = receive();
    REQUIRE(msg);
    REQUIRE(caf::holds_alternative<wire_reply>(*msg));
    auto reply = caf::get<wire_reply>(*msg);
    CHECK(reply.id == 7);
    return reply;
  }
};

} // namespace jamjet::testing
