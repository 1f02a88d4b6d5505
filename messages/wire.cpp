#include "jamjet/messages/wire.hpp"

#include <caf/binary_deserializer.hpp>
#include <caf/binary_serializer.hpp>

#include "jamjet/messages/error.hpp"

namespace jamjet {

std::vector<char> encode_frame(const wire_msg& msg) {
  std::vector<char> buf(4, 0);
  caf::binary_serializer sink{nullptr, buf};
  auto err = sink(const_cast<wire_msg&>(msg));
  if (err)
    throw error(error_code::bad_input, "cannot encode a network message");
  auto n = static_cast<uint32_t>(buf.size() - 4);
  buf[0] = static_cast<char>((n >> 24) & 0xFF);
  buf[1] = static_cast<char>((n >> 16) & 0xFF);
  buf[2] = static_cast<char>((n >> 8) & 0xFF);
  buf[3] = static_cast<char>(n & 0xFF);
  return buf;
}

namespace {

/// Whether the variant tags in `data` name types that exist. CAF decodes a
/// tag it does not know (up to 29) as the variant's first type, so an
/// unknown message or request would pass for a hello or a register. A tag
/// is one byte ahead of its value; a request's follows the 8-byte id.
bool known_tags(const char* data, size_t size) {
  auto tag = [&](size_t pos) { return static_cast<uint8_t>(data[pos]); };
  if (size == 0 || tag(0) > wire_msg::max_type_id)
    return false;
  constexpr auto request_tag =
    caf::detail::tl_index_of<wire_msg::types, wire_request>::value;
  constexpr size_t request_pos = 1 + sizeof(uint64_t);
  if (tag(0) == request_tag)
    return size > request_pos &&
           tag(request_pos) <= client_request::max_type_id;
  return true;
}

} // namespace

caf::expected<wire_msg> decode_payload(const char* data, size_t size) {
  if (!known_tags(data, size))
    return make_error(
      error_code::bad_input,
      "malformed network message: unknown message or request type");
  wire_msg msg;
  caf::binary_deserializer source{nullptr, data, size};
  try {
    // CAF reports some malformed input (an unknown variant index) by
    // throwing rather than by an error.
    if (auto err = source(msg))
      return make_error(error_code::bad_input,
                        "malformed network message: " + caf::to_string(err));
  } catch (const std::exception& ex) {
    return make_error(error_code::bad_input,
                      std::string{"malformed network message: "} + ex.what());
  }
  if (source.remaining() != 0)
    return make_error(error_code::bad_input,
                      "malformed network message: " +
                        std::to_string(source.remaining()) + " trailing bytes");
  return msg;
}

uint32_t frame_length(const char* prefix) {
  auto b = [prefix](int i) {
    return static_cast<uint32_t>(static_cast<unsigned char>(prefix[i]));
  };
  return (b(0) << 24) | (b(1) << 16) | (b(2) << 8) | b(3);
}

void frame_splitter::append(const char* data, size_t n) {
  buf_.insert(buf_.end(), data, data + n);
}

caf::expected<std::optional<wire_msg>> frame_splitter::next(uint32_t limit) {
  auto have = buf_.size() - pos_;
  if (have < prefix_size) {
    compact();
    return std::optional<wire_msg>{};
  }
  auto n = frame_length(buf_.data() + pos_);
  if (n == 0 || n > limit)
    return make_error(error_code::bad_input, "frame of " + std::to_string(n) +
                                               " bytes refused (limit " +
                                               std::to_string(limit) + ")");
  if (have - prefix_size < n) {
    compact();
    return std::optional<wire_msg>{};
  }
  auto decoded = decode_payload(buf_.data() + pos_ + prefix_size, n);
  pos_ += prefix_size + n;
  if (!decoded)
    return std::move(decoded.error());
  return std::optional<wire_msg>{std::move(*decoded)};
}

void frame_splitter::compact() {
  if (pos_ == 0)
    return;
  buf_.erase(buf_.begin(), buf_.begin() + static_cast<ptrdiff_t>(pos_));
  pos_ = 0;
  if (buf_.empty() && buf_.capacity() > 64 * 1024)
    std::vector<char>{}.swap(buf_); // a large frame's memory goes back
}

} // namespace jamjet
