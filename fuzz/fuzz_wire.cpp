// libFuzzer target: bytes from a network peer, cut into frames and decoded
// as the gateway and the uplink do (`frame_splitter`, fed in chunks of
// varying sizes, as sockets hand bytes over).
//
// Decoding reports malformed bytes as an error value; it must not throw.
// A decoded message is encoded again, and that must decode and encode to
// the same bytes. Encoding may throw `jamjet::error` (`bad_input`) as
// wire.hpp documents. Anything else is a finding.

#include <algorithm>
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

/// Frames back to back, fed in chunks whose sizes the input's first byte
/// picks; the first bad frame ends the connection. Every frame decoded
/// must round-trip.
void as_peer(const char* data, size_t size) {
  if (size == 0)
    return;
  size_t chunk = 1 + static_cast<unsigned char>(data[0]) % 64;
  ++data;
  --size;
  jamjet::frame_splitter splitter;
  for (size_t pos = 0; pos < size; pos += chunk) {
    splitter.append(data + pos, std::min(chunk, size - pos));
    for (;;) {
      auto msg = splitter.next(limit);
      if (!msg)
        return;
      if (!*msg)
        break;
      check_round_trip(**msg);
    }
  }
  if (splitter.buffered() > size)
    finding("the splitter holds more bytes than it was given");
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  auto bytes = reinterpret_cast<const char*>(data);
  as_peer(bytes, size);
  // The whole input as one payload too, so the corpus need not carry
  // length prefixes to reach the decoder.
  if (auto msg = jamjet::decode_payload(bytes, size))
    check_round_trip(*msg);
  return 0;
}
