// UTF-8: the validity check the gateway applies to what clients and workers
// send, and the repair the builtin handlers apply to what commands print.

#include <catch2/catch.hpp>

#include <random>
#include <string>

#include <nlohmann/json.hpp>

#include "jamjet/support/utf8.hpp"

using jamjet::is_valid_utf8;
using jamjet::sanitize_utf8;

namespace {

/// U+FFFD, the replacement character.
const std::string fffd = "\xEF\xBF\xBD";

/// What nlohmann::json makes of `text` when it replaces invalid UTF-8 (what
/// the builtin handlers did before `sanitize_utf8`).
std::string nlohmann_replace(const std::string& text) {
  auto dumped = nlohmann::json(text).dump(
    -1, ' ', false, nlohmann::json::error_handler_t::replace);
  return nlohmann::json::parse(dumped).get<std::string>();
}

/// `text` as hex bytes, for failure messages.
std::string hex(const std::string& text) {
  static constexpr char digits[] = "0123456789abcdef";
  std::string out;
  for (unsigned char c : text) {
    out += digits[c >> 4];
    out += digits[c & 0xF];
    out += ' ';
  }
  return out;
}

} // namespace

TEST_CASE("well-formed UTF-8 is valid and unchanged", "[utf8]") {
  for (std::string text : {
         std::string{}, std::string{"plain ascii"},
         std::string{"nul \0 inside", 12},
         std::string{"\xC3\xA9t\xC3\xA9"}, // été: 2 bytes
         std::string{"\xE2\x82\xAC"},      // €: 3 bytes
         std::string{"\xED\x9F\xBF"},      // U+D7FF, just below surrogates
         std::string{"\xEE\x80\x80"},      // U+E000, just above them
         std::string{"\xF0\x9F\x98\x80"},  // 😀: 4 bytes
         std::string{"\xF4\x8F\xBF\xBF"},  // U+10FFFF, the last one
         std::string{"\xC2\x80\xDF\xBF"},  // the 2-byte range's ends
         std::string{"\xE0\xA0\x80\xF0\x90\x80\x80"}, // shortest 3 and 4
       }) {
    INFO(text);
    CHECK(is_valid_utf8(text));
    CHECK(sanitize_utf8(text) == text);
  }
}

TEST_CASE("overlong forms are refused", "[utf8]") {
  // '/' as 2, 3 and 4 bytes; C0 and C1 can only start overlong forms.
  CHECK_FALSE(is_valid_utf8("\xC0\xAF"));
  CHECK_FALSE(is_valid_utf8("\xC1\xBF"));
  CHECK_FALSE(is_valid_utf8("\xE0\x80\xAF"));
  CHECK_FALSE(is_valid_utf8("\xE0\x9F\xBF"));
  CHECK_FALSE(is_valid_utf8("\xF0\x80\x80\xAF"));
  CHECK_FALSE(is_valid_utf8("\xF0\x8F\xBF\xBF"));
  // Each byte of a maximal ill-formed part becomes one U+FFFD.
  CHECK(sanitize_utf8("a\xC0\xAF"
                      "b") == "a" + fffd + fffd + "b");
  CHECK(sanitize_utf8("\xE0\x80\xAF") == fffd + fffd + fffd);
}

TEST_CASE("surrogates and code points above U+10FFFF are refused", "[utf8]") {
  CHECK_FALSE(is_valid_utf8("\xED\xA0\x80"));             // U+D800
  CHECK_FALSE(is_valid_utf8("\xED\xBF\xBF"));             // U+DFFF
  CHECK_FALSE(is_valid_utf8("\xED\xA0\xBD\xED\xB8\x80")); // a CESU-8 pair
  CHECK_FALSE(is_valid_utf8("\xF4\x90\x80\x80"));         // U+110000
  CHECK_FALSE(is_valid_utf8("\xF5\x80\x80\x80"));
  CHECK_FALSE(is_valid_utf8("\xFF"));
  CHECK_FALSE(is_valid_utf8("\xFE"));
  CHECK(sanitize_utf8("\xED\xA0\x80") == fffd + fffd + fffd);
  CHECK(sanitize_utf8("x\xFFy") == "x" + fffd + "y");
}

TEST_CASE("truncated sequences are refused", "[utf8]") {
  CHECK_FALSE(is_valid_utf8("\xC3"));
  CHECK_FALSE(is_valid_utf8("\xE2\x82"));
  CHECK_FALSE(is_valid_utf8("\xF0\x9F\x98"));
  CHECK_FALSE(is_valid_utf8("ok \xF0\x9F\x98"));
  // Cut in the middle: the start becomes one U+FFFD and what broke it is
  // read again.
  CHECK_FALSE(is_valid_utf8("\xE2\x82"
                            "a"));
  CHECK(sanitize_utf8("\xE2\x82"
                      "a") == fffd + "a");
  CHECK(sanitize_utf8("\xF0\x9F\x98\xC3\xA9") == fffd + "\xC3\xA9");
  // Cut at the end: one U+FFFD for the whole start.
  CHECK(sanitize_utf8("ok \xF0\x9F\x98") == "ok " + fffd);
}

TEST_CASE("stray continuation bytes are refused, at the end too", "[utf8]") {
  CHECK_FALSE(is_valid_utf8("\x80"));
  CHECK_FALSE(is_valid_utf8("abc\xBF"));
  CHECK_FALSE(is_valid_utf8("\xC3\xA9\xA9"));         // one too many
  CHECK_FALSE(is_valid_utf8("\xF0\x9F\x98\x80\x80")); // after a whole 4
  CHECK(sanitize_utf8("abc\xBF") == "abc" + fffd);
  CHECK(sanitize_utf8("\xC3\xA9\xA9\xA9") == "\xC3\xA9" + fffd + fffd);
}

TEST_CASE("sanitize_utf8 repairs like nlohmann::json, and its output is "
          "valid",
          "[utf8]") {
  std::mt19937 gen{20240611};
  // Mostly bytes around the interesting boundaries, some ASCII.
  const unsigned char pool[] = {'a',  0x00, 0x7F, 0x80, 0x8F, 0x90, 0x9F,
                                0xA0, 0xBF, 0xC0, 0xC1, 0xC2, 0xDF, 0xE0,
                                0xE1, 0xEC, 0xED, 0xEE, 0xEF, 0xF0, 0xF1,
                                0xF3, 0xF4, 0xF5, 0xFF};
  std::uniform_int_distribution<size_t> pick{0, sizeof(pool) - 1};
  std::uniform_int_distribution<size_t> length{0, 12};
  for (int round = 0; round < 20000; ++round) {
    std::string text;
    for (auto n = length(gen); n > 0; --n)
      text.push_back(static_cast<char>(pool[pick(gen)]));
    auto fixed = sanitize_utf8(text);
    INFO(hex(text));
    REQUIRE(fixed == nlohmann_replace(text));
    REQUIRE(is_valid_utf8(fixed));
    // Valid exactly when nlohmann::json's strict serialiser takes it.
    bool strict_ok = true;
    try {
      (void)nlohmann::json(text).dump();
    } catch (const nlohmann::json::type_error&) {
      strict_ok = false;
    }
    REQUIRE(is_valid_utf8(text) == strict_ok);
  }
}
