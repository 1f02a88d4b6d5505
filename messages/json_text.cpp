#include "jamjet/messages/json_text.hpp"

#include <algorithm>
#include <string>
#include <utility>

#include "jamjet/messages/error.hpp"

namespace jamjet {

namespace {

/// Line and column (both from 1) of the byte at `offset` in `text`. Columns
/// count UTF-8 characters, as editors do.
std::pair<size_t, size_t> line_column(std::string_view text, size_t offset) {
  offset = std::min(offset, text.size());
  size_t line = 1;
  size_t line_start = 0;
  for (size_t i = 0; i < offset; ++i) {
    if (text[i] == '\n') {
      ++line;
      line_start = i + 1;
    }
  }
  size_t column = 1;
  for (size_t i = line_start; i < offset; ++i) {
    // Continuation bytes (10xxxxxx) belong to the previous character.
    if ((static_cast<unsigned char>(text[i]) & 0xC0) != 0x80)
      ++column;
  }
  return {line, column};
}

/// " at line L, column C (byte B)" for the 1-based byte `byte`, which is at
/// offset `offset`.
std::string where(std::string_view text, size_t offset, size_t byte) {
  auto [line, column] = line_column(text, offset);
  return " at line " + std::to_string(line) + ", column " +
         std::to_string(column) + " (byte " + std::to_string(byte) + ")";
}

/// The part of a nlohmann parse error after its own position prefix.
std::string parse_error_reason(const std::string& what) {
  auto pos = what.find("parse error");
  if (pos != std::string::npos) {
    auto colon = what.find(": ", pos);
    if (colon != std::string::npos)
      return what.substr(colon + 2);
  }
  return what;
}

[[noreturn]] void refuse(std::string_view what, const std::string& detail) {
  std::string msg;
  if (!what.empty()) {
    msg += what;
    msg += ": ";
  }
  throw error(error_code::bad_input, msg + detail);
}

} // namespace

nlohmann::json parse_json_located(std::string_view text,
                                  std::string_view what) {
  try {
    return nlohmann::json::parse(text);
  } catch (const nlohmann::json::out_of_range& e) {
    // A number too large for a double (1e999): nlohmann reports no
    // position, but names the token.
    std::string msg = e.what();
    std::string at;
    auto open = msg.find('\'');
    auto close = msg.rfind('\'');
    if (open != std::string::npos && close > open + 1) {
      auto pos = text.find(msg.substr(open + 1, close - open - 1));
      if (pos != std::string_view::npos)
        at = where(text, pos, pos + 1);
    }
    auto reason = msg.find("] ");
    refuse(what,
           "number out of range" + at + ": " +
             (reason == std::string::npos ? msg : msg.substr(reason + 2)));
  } catch (const nlohmann::json::parse_error& e) {
    // nlohmann's `byte` counts from 1 and names the last character read:
    // the offending character, or the end of an offending token such as a
    // string.
    auto byte = e.byte;
    refuse(what, "malformed JSON" + where(text, byte > 0 ? byte - 1 : 0, byte) +
                   ": " + parse_error_reason(e.what()));
  }
}

} // namespace jamjet
