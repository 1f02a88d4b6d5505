#pragma once

// Error codes of the runtime, as CAF error codes and as exceptions.

#include <cstdint>
#include <stdexcept>
#include <string>

#include <caf/atom.hpp>
#include <caf/error.hpp>
#include <caf/make_message.hpp>

#include "jamjet/support/export.hpp"

namespace jamjet {
JAMJET_API_BEGIN

/// What went wrong. Every error also carries a message naming the input.
enum class error_code : uint8_t {
  /// Malformed JSON, wrong field types, bad command-line arguments.
  bad_input = 1,
  /// A workflow graph that could never complete (cycles, unknown nodes...).
  invalid_workflow,
  /// No workflow registered under that id and version.
  unknown_workflow,
  /// No execution with that id.
  unknown_execution,
  /// A node kind without a handler.
  missing_handler,
  /// The store failed; the runtime stops accepting work.
  store_failure,
  /// A result or lease change whose fence is no longer current.
  stale_fence,
  /// The runtime is shutting down or the store is broken.
  unavailable,
  /// A network peer presented no token or a wrong one.
  access_denied,
};

/// The CAF error category of this project.
inline constexpr caf::atom_value error_category = caf::atom("jamjet");

/// Human-readable name of a code, e.g. "invalid_workflow".
std::string to_string(error_code code);

/// Makes a CAF error carrying `what` as its context.
caf::error make_error(error_code code, std::string what);

/// The message part of an error made by `make_error` (or CAF's rendering).
std::string error_message(const caf::error& err);

/// The code of an error made by `make_error`; `unavailable` for CAF's own.
error_code code_of(const caf::error& err);

/// Exception thrown at the API boundary (embedding API, parsers).
class error : public std::runtime_error {
 public:
  error(error_code code, const std::string& what)
    : std::runtime_error(what), code_(code) {
    // nop
  }

  error_code code() const noexcept { return code_; }

 private:
  error_code code_;
};

/// Throws a `jamjet::error` built from a CAF error.
[[noreturn]] void throw_error(const caf::error& err);

JAMJET_API_END
} // namespace jamjet
