#include "jamjet/support/program_path.hpp"

#include <cstdlib>
#include <sstream>
#include <sys/stat.h>
#include <unistd.h>

namespace jamjet {

namespace {

/// Why the file at `file` cannot be executed, or nothing.
std::optional<std::string> file_problem(const std::string& file,
                                        const std::string& shown) {
  struct stat info {};
  if (::stat(file.c_str(), &info) != 0)
    return "'" + shown + "' does not exist";
  if (S_ISDIR(info.st_mode))
    return "'" + shown + "' is a directory";
  if (::access(file.c_str(), X_OK) != 0)
    return "'" + shown + "' is not executable";
  return std::nullopt;
}

} // namespace

std::optional<std::string> program_problem(const std::string& program,
                                           const std::string& path) {
  if (program.empty())
    return std::string{"the program name is empty"};
  if (program.find('/') != std::string::npos)
    return file_problem(program, program);
  std::optional<std::string> found_problem;
  std::string dir;
  std::istringstream dirs{path};
  // getline drops a trailing empty entry; check it by hand below.
  while (std::getline(dirs, dir, ':')) {
    auto file = (dir.empty() ? std::string{"."} : dir) + "/" + program;
    auto problem = file_problem(file, file);
    if (!problem)
      return std::nullopt;
    // A file that exists but cannot run is worth naming.
    if (!found_problem && problem->find("does not exist") == std::string::npos)
      found_problem = problem;
  }
  if (!path.empty() && path.back() == ':' && !file_problem(program, program))
    return std::nullopt;
  if (found_problem)
    return found_problem;
  return "'" + program + "' is not found in PATH";
}

std::optional<std::string> program_problem(const std::string& program) {
  const char* path = std::getenv("PATH");
  return program_problem(program, path ? path : "/bin:/usr/bin");
}

} // namespace jamjet
