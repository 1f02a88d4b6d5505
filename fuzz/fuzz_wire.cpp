// libFuzzer target: bytes from a network peer, cut into frames and decoded
// as the gateway does (actors/gateway.cpp `on_data`: `frame_length` then
// `decode_payload`), and as a worker or client does (`frame_reader`).
//
// Decoding reports malformed bytes as an error value; it must not throw.
// A decoded message is encoded again, and that must decode and encode to
// the same bytes. Encoding may throw `jamjet::error` (`bad_input`) as
// wire.hpp documents. Anything else is a finding.

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <optional>
#include <string>
#include <vector>

#include "jamjet/messages/error.hpp"
#include "jamjet/messages/wire.hpp"

namespace {

using jamjet::wire_msg;

/// Frames above this are refused, as the gateway refuses frames above its
/// limit; small so that the fuzzer does not wait for 16 MB.
constexpr uint32_t limit = 1u << 16;

[[noreturn]] void finding(const char* what) {
  std::fprintf(stderr, "fuzz_wire: %s\n", what);
  std::abort();
}

void check_round_trip(const wire_msg& msg) {
  std::vector<char> frame;
  try {
    frame = jamjet::encode_frame(msg);
  } catch (const jamjet::error& ex) {
    if (ex.code() != jamjet::error_code::bad_input)
      finding("encode_frame threw a code other than bad_input");
    return;
  }
  if (frame.size() < 4 ||
      jamjet::frame_length(frame.data()) != frame.size() - 4)
    finding("encode_frame wrote a wrong length prefix");
  auto again = jamjet::decode_payload(frame.data() + 4, frame.size() - 4);
  if (!again)
    finding("an encoded message does not decode");
  if (jamjet::encode_frame(*again) != frame)
    finding("decode + encode of an encoded message changed its bytes");
}

/// The gateway's loop: frames back to back, each a 4-byte length and a
/// payload; the first bad frame ends the connection.
void as_gateway(const char* data, size_t size) {
  size_t pos = 0;
  while (size - pos >= jamjet::frame_reader::prefix_size) {
    auto n = jamjet::frame_length(data + pos);
    if (n == 0 || n > limit)
      return;
    if (size - pos - jamjet::frame_reader::prefix_size < n)
      return;
    auto msg =
      jamjet::decode_payload(data + pos + jamjet::frame_reader::prefix_size, n);
    pos += jamjet::frame_reader::prefix_size + n;
    if (!msg)
      return;
    check_round_trip(*msg);
  }
}

/// A worker's or client's uplink: exactly the bytes last asked for.
void as_uplink(const char* data, size_t size) {
  jamjet::frame_reader reader;
  size_t want = jamjet::frame_reader::prefix_size;
  size_t pos = 0;
  while (size - pos >= want) {
    std::vector<char> bytes(data + pos, data + pos + want);
    pos += want;
    std::optional<wire_msg> msg;
    auto next = reader.feed(bytes, limit, msg);
    if (!next)
      return;
    want = *next;
  }
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  auto bytes = reinterpret_cast<const char*>(data);
  as_gateway(bytes, size);
  as_uplink(bytes, size);
  // The whole input as one payload too, so the corpus need not carry
  // length prefixes to reach the decoder.
  if (auto msg = jamjet::decode_payload(bytes, size))
    check_round_trip(*msg);
  return 0;
}
