#include "jamjet/support/token_file.hpp"

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

namespace jamjet {

namespace {

std::string os_error(const std::string& what, const std::string& path) {
  return what + " '" + path + "': " + std::strerror(errno);
}

/// Closes a descriptor at scope exit.
struct fd_guard {
  int fd;
  ~fd_guard() {
    if (fd >= 0)
      ::close(fd);
  }
};

bool write_all(int fd, const std::string& data) {
  size_t done = 0;
  while (done < data.size()) {
    auto n = ::write(fd, data.data() + done, data.size() - done);
    if (n < 0 && errno == EINTR)
      continue;
    if (n <= 0)
      return false;
    done += static_cast<size_t>(n);
  }
  return true;
}

} // namespace

std::string read_token_file(const std::string& path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    throw token_file_error{os_error("cannot open token file", path)};
  fd_guard guard{fd};
  struct stat st {};
  if (::fstat(fd, &st) != 0)
    throw token_file_error{os_error("cannot stat token file", path)};
  if (!S_ISREG(st.st_mode))
    throw token_file_error{"token file '" + path + "' is not a regular file"};
  if ((st.st_mode & 077) != 0) {
    char mode[8];
    std::snprintf(mode, sizeof(mode), "%04o",
                  static_cast<unsigned>(st.st_mode & 07777));
    throw token_file_error{"token file '" + path + "' has mode " + mode +
                           ": it is readable by group or others; make it "
                           "readable by its owner only (chmod 600 '" +
                           path + "')"};
  }
  if (st.st_uid != ::geteuid())
    throw token_file_error{
      "token file '" + path + "' is owned by uid " + std::to_string(st.st_uid) +
      ", not by this user (uid " + std::to_string(::geteuid()) +
      "): its owner could change it; use a token file of your own"};
  std::string text;
  char buf[4096];
  for (;;) {
    auto n = ::read(fd, buf, sizeof(buf));
    if (n < 0 && errno == EINTR)
      continue;
    if (n < 0)
      throw token_file_error{os_error("cannot read token file", path)};
    if (n == 0)
      break;
    text.append(buf, static_cast<size_t>(n));
    if (text.size() > 65536)
      throw token_file_error{"token file '" + path + "' is too large"};
  }
  const char* space = " \t\r\n";
  auto first = text.find_first_not_of(space);
  if (first == std::string::npos)
    throw token_file_error{"token file '" + path + "' is empty"};
  auto last = text.find_last_not_of(space);
  return text.substr(first, last - first + 1);
}

std::string random_hex(size_t n) {
  int fd = ::open("/dev/urandom", O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    throw token_file_error{os_error("cannot open", "/dev/urandom")};
  fd_guard guard{fd};
  std::string bytes(n, '\0');
  size_t done = 0;
  while (done < n) {
    auto got = ::read(fd, &bytes[done], n - done);
    if (got < 0 && errno == EINTR)
      continue;
    if (got <= 0)
      throw token_file_error{os_error("cannot read", "/dev/urandom")};
    done += static_cast<size_t>(got);
  }
  static const char* digits = "0123456789abcdef";
  std::string out;
  out.reserve(2 * n);
  for (unsigned char c : bytes) {
    out.push_back(digits[c >> 4]);
    out.push_back(digits[c & 0xf]);
  }
  return out;
}

token_file_result ensure_token_file(const std::string& path) {
  if (::access(path.c_str(), F_OK) == 0 || errno != ENOENT)
    return {read_token_file(path), false};
  auto token = random_hex(32);
  auto tmp = path + ".new." + std::to_string(::getpid());
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0)
    throw token_file_error{os_error("cannot create token file", tmp)};
  {
    fd_guard guard{fd};
    // The umask can only take bits away from 0600; set it exactly anyway.
    if (::fchmod(fd, 0600) != 0 || !write_all(fd, token + "\n") ||
        ::fsync(fd) != 0) {
      auto msg = os_error("cannot write token file", tmp);
      ::unlink(tmp.c_str());
      throw token_file_error{msg};
    }
  }
  bool linked = ::link(tmp.c_str(), path.c_str()) == 0;
  auto link_errno = errno;
  ::unlink(tmp.c_str());
  if (linked)
    return {token, true};
  if (link_errno == EEXIST) // another process created it first
    return {read_token_file(path), false};
  errno = link_errno;
  throw token_file_error{os_error("cannot create token file", path)};
}

} // namespace jamjet
