#pragma once

// Reading a test's input files (fixtures, example workflows).

#include <catch2/catch.hpp>

#include <fstream>
#include <sstream>
#include <string>

namespace jamjet::testing {

/// The whole content of file `path`; the test fails if it cannot be read.
inline std::string read_file(const std::string& path) {
  std::ifstream in{path, std::ios::binary};
  INFO("reading " << path);
  REQUIRE(in.good());
  std::ostringstream buf;
  buf << in.rdbuf();
  return buf.str();
}

} // namespace jamjet::testing
