#pragma once

// The network protocol between a scheduler node (`jamjet serve`) and its
// workers and clients, over TCP with caf::io brokers.
//
// A frame is a 4-byte big-endian length N followed by N bytes: one
// `wire_msg`, serialised with CAF's binary serializer (the same `inspect`
// overloads that make the actor messages serialisable). A peer's first
// frame must be `wire_hello` with the right token; anything else first, a
// frame longer than the limit, a frame that does not decode (malformed or
// of an unknown type) closes that peer's connection with a log line, and
// the node serves everyone else on. A client's requests are typed
// (messages/client_protocol.hpp).

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <caf/expected.hpp>
#include <caf/meta/type_name.hpp>
#include <caf/variant.hpp>

#include "jamjet/messages/client_protocol.hpp"
#include "jamjet/messages/protocol.hpp"
#include "jamjet/messages/work_item.hpp"

namespace jamjet {

/// The protocol's version; a hello with another one is refused. Bumped
/// whenever the frame format changes (2: typed client requests).
inline constexpr uint32_t wire_version = 2;

/// Frames longer than this are refused (the connection is closed).
inline constexpr uint32_t default_max_frame = 16u << 20;

/// First frame of every peer.
struct wire_hello {
  uint32_t version = wire_version;
  std::string token;
  /// "worker" or "client".
  std::string role;
  /// For logs: who the peer says it is.
  std::string name;
};

/// The node accepted the hello.
struct wire_welcome {
  std::string node;
};

/// The node refused the peer; the connection closes after it.
struct wire_refused {
  std::string reason;
};

/// A worker offers slots for queues (again with 0 slots: it drains).
struct wire_join {
  std::string worker_id;
  std::vector<std::string> queues;
  uint32_t slots = 0;
};

/// Stop running attempts of an item (node cancelled or cut off).
struct wire_cancel {
  std::string item_id;
};

/// A lease is still in use.
struct wire_heartbeat {
  std::string item_id;
  uint64_t fence = 0;
};

/// A client request; the reply carries the same `id`.
struct wire_request {
  uint64_t id = 0;
  client_request request;
};

/// The answer to request `id`: a body (JSON text) or an error.
struct wire_reply {
  uint64_t id = 0;
  bool ok = false;
  std::string body;
  /// `error_code` of a failure, as its integer value.
  uint8_t code = 0;
};

/// Everything that travels in a frame.
using wire_msg = caf::variant<wire_hello, wire_welcome, wire_refused, wire_join,
                              work_item, wire_cancel, node_result,
                              wire_heartbeat, wire_request, wire_reply>;

/// A whole frame (length prefix included) holding `msg`.
std::vector<char> encode_frame(const wire_msg& msg);

/// Decodes the payload of one frame (without its length prefix). Fails on
/// malformed bytes, an unknown message or request type, or trailing
/// garbage.
caf::expected<wire_msg> decode_payload(const char* data, size_t size);

/// Reads a frame's 4-byte length prefix.
uint32_t frame_length(const char* prefix);

/// Cuts a byte stream, arriving in chunks of any size, into frames. Its
/// memory grows with the bytes that arrived, never with the length a frame
/// announces; what a large frame took is given back once it is cut.
class frame_splitter {
 public:
  /// Bytes of a frame's length prefix.
  static constexpr size_t prefix_size = 4;

  /// Takes bytes that arrived.
  void append(const char* data, size_t n);

  /// The next whole frame, none when more bytes are needed, or an error (a
  /// length of 0 or over `limit`, a payload that does not decode) after
  /// which the stream is unusable. `limit` may change between frames.
  caf::expected<std::optional<wire_msg>> next(uint32_t limit);

  /// Bytes taken and not yet cut into frames.
  size_t buffered() const noexcept { return buf_.size() - pos_; }

 private:
  /// Drops the bytes already cut.
  void compact();

  std::vector<char> buf_;
  size_t pos_ = 0;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, wire_hello& x) {
  return f(caf::meta::type_name("wire_hello"), x.version, x.token, x.role,
           x.name);
}
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, wire_welcome& x) {
  return f(caf::meta::type_name("wire_welcome"), x.node);
}
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, wire_refused& x) {
  return f(caf::meta::type_name("wire_refused"), x.reason);
}
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, wire_join& x) {
  return f(caf::meta::type_name("wire_join"), x.worker_id, x.queues, x.slots);
}
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, wire_cancel& x) {
  return f(caf::meta::type_name("wire_cancel"), x.item_id);
}
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, wire_heartbeat& x) {
  return f(caf::meta::type_name("wire_heartbeat"), x.item_id, x.fence);
}
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, wire_request& x) {
  return f(caf::meta::type_name("wire_request"), x.id, x.request);
}
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, wire_reply& x) {
  return f(caf::meta::type_name("wire_reply"), x.id, x.ok, x.body, x.code);
}

} // namespace jamjet
