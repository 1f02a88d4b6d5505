#include "jamjet/support/utf8.hpp"

#include <cstdint>

namespace jamjet {

namespace {

/// The sequence starting at `text[pos]`: how many bytes it takes and whether
/// it is well-formed. An ill-formed one is its maximal subpart: the longest
/// start of a well-formed sequence (at least one byte), so that the byte
/// that broke it is read again as the start of the next one.
struct sequence {
  size_t size;
  bool ok;
};

sequence next_sequence(std::string_view text, size_t pos) noexcept {
  auto byte = [&](size_t i) { return static_cast<uint8_t>(text[i]); };
  auto lead = byte(pos);
  if (lead < 0x80)
    return {1, true};
  // Length and the range of the second byte (Unicode table 3-7); later
  // bytes are always 0x80..0xBF.
  size_t len = 0;
  uint8_t lo = 0x80;
  uint8_t hi = 0xBF;
  if (lead >= 0xC2 && lead <= 0xDF) {
    len = 2;
  } else if (lead >= 0xE0 && lead <= 0xEF) {
    len = 3;
    if (lead == 0xE0)
      lo = 0xA0; // overlong below
    else if (lead == 0xED)
      hi = 0x9F; // surrogates above
  } else if (lead >= 0xF0 && lead <= 0xF4) {
    len = 4;
    if (lead == 0xF0)
      lo = 0x90; // overlong below
    else if (lead == 0xF4)
      hi = 0x8F; // beyond U+10FFFF above
  } else {
    // A continuation byte, C0/C1 (always overlong) or F5..FF.
    return {1, false};
  }
  for (size_t k = 1; k < len; ++k) {
    if (pos + k >= text.size())
      return {k, false}; // truncated at the end
    auto b = byte(pos + k);
    if (b < (k == 1 ? lo : 0x80) || b > (k == 1 ? hi : 0xBF))
      return {k, false};
  }
  return {len, true};
}

} // namespace

bool is_valid_utf8(std::string_view text) noexcept {
  for (size_t pos = 0; pos < text.size();) {
    auto seq = next_sequence(text, pos);
    if (!seq.ok)
      return false;
    pos += seq.size;
  }
  return true;
}

std::string sanitize_utf8(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (size_t pos = 0; pos < text.size();) {
    auto seq = next_sequence(text, pos);
    if (seq.ok)
      out.append(text.substr(pos, seq.size));
    else
      out.append("\xEF\xBF\xBD");
    pos += seq.size;
  }
  return out;
}

} // namespace jamjet
