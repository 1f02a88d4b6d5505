#pragma once

// Files holding a shared secret (the token of a scheduler node): created
// with mode 0600, refused when group or others may read them.

#include <stdexcept>
#include <string>

namespace jamjet {

/// Why a token file cannot be used (missing, unreadable, readable by group
/// or others, empty).
class token_file_error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

/// The token in the file at `path`, without surrounding whitespace.
/// Throws `token_file_error` when the file cannot be read, is not a regular
/// file, is owned by another user, may be read by group or others (any of
/// mode 077), or is empty.
std::string read_token_file(const std::string& path);

/// `n` random bytes from /dev/urandom as lower-case hex.
std::string random_hex(size_t n);

/// What `ensure_token_file` found.
struct token_file_result {
  std::string token;
  bool created = false;
};

/// The token in `path` (as `read_token_file`); when there is no such file,
/// first creates it with 32 random bytes as hex, mode 0600 whatever the
/// umask. Creation is atomic: the token is written to a new file (O_EXCL)
/// and linked to `path`, so a concurrent reader never sees a partial token
/// and of two concurrent creators one wins and both use its token.
token_file_result ensure_token_file(const std::string& path);

} // namespace jamjet
