// Token files: created 0600 whatever the umask, refused when group or
// others may read them.

#include <catch2/catch.hpp>

#include <sys/stat.h>
#include <unistd.h>

#include "jamjet/support/token_file.hpp"
#include "testing/temp_dir.hpp"

using namespace jamjet;
using jamjet::testing::temp_dir;

namespace {

unsigned mode_of(const std::string& path) {
  struct stat st {};
  REQUIRE(::stat(path.c_str(), &st) == 0);
  return st.st_mode & 07777;
}

} // namespace

TEST_CASE("a missing token file is created 0600 with 64 hex digits",
          "[token_file]") {
  temp_dir dir;
  auto path = dir.path + "/j.db.token";
  auto old = ::umask(0);
  auto made = ensure_token_file(path);
  ::umask(old);
  CHECK(made.created);
  CHECK(made.token.size() == 64);
  CHECK(made.token.find_first_not_of("0123456789abcdef") == std::string::npos);
  CHECK(mode_of(path) == 0600);
  auto again = ensure_token_file(path);
  CHECK_FALSE(again.created);
  CHECK(again.token == made.token);
  CHECK(read_token_file(path) == made.token);
  CHECK(ensure_token_file(dir.path + "/other.token").token != made.token);
}

TEST_CASE("a token file group or others can read is refused", "[token_file]") {
  temp_dir dir;
  auto path = dir.write("t", "secret\n");
  for (unsigned mode : {0644u, 0640u, 0604u, 0660u}) {
    ::chmod(path.c_str(), mode);
    CHECK_THROWS_WITH(read_token_file(path),
                      Catch::Contains("readable by group or others"));
    CHECK_THROWS_AS(ensure_token_file(path), token_file_error);
  }
  ::chmod(path.c_str(), 0600);
  CHECK(read_token_file(path) == "secret");
  ::chmod(path.c_str(), 0400);
  CHECK(read_token_file(path) == "secret");
}

TEST_CASE("an empty or missing token file is refused", "[token_file]") {
  temp_dir dir;
  auto empty = dir.write("empty", " \n");
  ::chmod(empty.c_str(), 0600);
  CHECK_THROWS_WITH(read_token_file(empty), Catch::Contains("is empty"));
  CHECK_THROWS_AS(read_token_file(dir.path + "/none"), token_file_error);
}

TEST_CASE("a token file owned by another user is refused", "[token_file]") {
  temp_dir dir;
  auto path = dir.write("t", "secret\n");
  ::chmod(path.c_str(), 0600);
  auto other = ::geteuid() == 65534 ? 65533 : 65534;
  if (::chown(path.c_str(), static_cast<uid_t>(other),
              static_cast<gid_t>(-1)) != 0) {
    WARN("cannot give a file away without root: not checked here");
    return;
  }
  CHECK_THROWS_WITH(
    read_token_file(path),
    Catch::Contains("is owned by uid " + std::to_string(other)));
  CHECK_THROWS_AS(ensure_token_file(path), token_file_error);
}
