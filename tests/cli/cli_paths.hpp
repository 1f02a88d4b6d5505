#pragma once

// The input files of the CLI tests, by name. The directories are compile
// definitions of the jamjet_tests_cli executable (tests/CMakeLists.txt).

#include <string>

namespace jamjet::testing {

/// A JamJet IR file of tests/fixtures/jamjet/.
inline std::string fixture(const std::string& name) {
  return std::string{JAMJET_FIXTURE_DIR} + "/" + name;
}

/// A malformed or invalid IR file of tests/fixtures/bad/.
inline std::string bad(const std::string& name) {
  return std::string{JAMJET_BAD_FIXTURE_DIR} + "/" + name;
}

/// A workflow of examples/workflows/.
inline std::string example(const std::string& name) {
  return std::string{JAMJET_EXAMPLES_DIR} + "/workflows/" + name;
}

} // namespace jamjet::testing
