#pragma once

// A scratch directory for one test, removed with everything in it when the
// test ends. Header-only.

#include <filesystem>
#include <fstream>
#include <string>
#include <sys/stat.h>
#include <unistd.h>

namespace jamjet::testing {

/// A fresh directory under /tmp, removed by the destructor.
struct temp_dir {
  std::string path;

  temp_dir() {
    char tmpl[] = "/tmp/jamjet-test-XXXXXX";
    path = ::mkdtemp(tmpl);
  }

  ~temp_dir() {
    std::error_code ec;
    std::filesystem::remove_all(path, ec);
  }

  temp_dir(const temp_dir&) = delete;
  temp_dir& operator=(const temp_dir&) = delete;

  /// Writes `text` to file `name` in the directory; returns its path.
  std::string write(const std::string& name, const std::string& text,
                    bool executable = false) const {
    auto file = path + "/" + name;
    std::ofstream{file} << text;
    if (executable)
      ::chmod(file.c_str(), 0755);
    return file;
  }
};

} // namespace jamjet::testing
