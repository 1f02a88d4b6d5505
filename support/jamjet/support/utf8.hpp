#pragma once

// UTF-8 checks for text that must go into JSON (nlohmann::json throws when
// it serialises a string that is not UTF-8).

#include <string>
#include <string_view>

namespace jamjet {

/// Whether `text` is well-formed UTF-8 (RFC 3629): no stray continuation
/// bytes, no truncated sequences, no overlong forms, no UTF-16 surrogates
/// (U+D800..U+DFFF), nothing above U+10FFFF.
bool is_valid_utf8(std::string_view text) noexcept;

/// `text` with each ill-formed part replaced by U+FFFD, one per maximal
/// ill-formed subpart (Unicode's recommended practice, which is also what
/// nlohmann::json's `error_handler_t::replace` does). Well-formed text
/// comes back unchanged.
std::string sanitize_utf8(std::string_view text);

} // namespace jamjet
