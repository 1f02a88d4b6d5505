#include "jamjet/support/subprocess.hpp"

#include <catch2/catch.hpp>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>

#include <dirent.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

using namespace jamjet;
using namespace std::chrono_literals;

namespace {

/// Far above any expected run time; only checks that a call returned.
constexpr auto generous = std::chrono::seconds{20};

subprocess_options make_opts(std::vector<std::string> argv) {
  subprocess_options opts;
  opts.argv = std::move(argv);
  return opts;
}

subprocess_options shell(const std::string& script) {
  return make_opts({"sh", "-c", script});
}

/// Runs `opts` and returns the result and how long it took.
std::pair<subprocess_result, std::chrono::steady_clock::duration>
timed_run(const subprocess_options& opts) {
  auto start = std::chrono::steady_clock::now();
  auto res = run_subprocess(opts);
  return {std::move(res), std::chrono::steady_clock::now() - start};
}

std::size_t count_open_fds() {
  std::size_t result = 0;
  auto dir = ::opendir("/proc/self/fd");
  REQUIRE(dir != nullptr);
  while (auto entry = ::readdir(dir))
    if (entry->d_name[0] != '.')
      ++result;
  ::closedir(dir);
  return result;
}

/// Whether `pid` no longer runs: absent, or a zombie its parent did not reap
/// yet (a container's init may never reap it).
bool process_gone(pid_t pid) {
  std::ifstream in{"/proc/" + std::to_string(pid) + "/stat"};
  std::string line;
  if (!in || !std::getline(in, line))
    return true;
  auto paren = line.rfind(')');
  if (paren == std::string::npos || paren + 2 >= line.size())
    return true;
  auto state = line[paren + 2];
  return state == 'Z' || state == 'X';
}

bool wait_until_gone(pid_t pid) {
  auto until = std::chrono::steady_clock::now() + 10s;
  while (std::chrono::steady_clock::now() < until) {
    if (process_gone(pid))
      return true;
    std::this_thread::sleep_for(20ms);
  }
  return false;
}

/// A unique path for a scratch file, removed on destruction.
struct temp_file {
  std::string path;

  explicit temp_file(const std::string& name)
    : path("/tmp/jamjet_subprocess_test_" + std::to_string(::getpid()) + "_" +
           name) {
    std::remove(path.c_str());
  }

  ~temp_file() { std::remove(path.c_str()); }

  std::string read() const {
    std::ifstream in{path};
    std::stringstream buf;
    buf << in.rdbuf();
    return buf.str();
  }
};

/// Whether `pid` is an unreaped child of ours.
bool is_unreaped_child(pid_t pid) {
  int status = 0;
  auto rc = ::waitpid(pid, &status, WNOHANG);
  return !(rc < 0 && errno == ECHILD);
}

std::string pattern(std::size_t n) {
  std::string result;
  result.reserve(n);
  for (std::size_t i = 0; i < n; ++i)
    result.push_back(static_cast<char>('a' + (i * 7 + i / 13) % 26));
  return result;
}

} // namespace

TEST_CASE("stdout and stderr are captured", "[subprocess]") {
  auto res = run_subprocess(shell("echo out; echo err >&2"));
  CHECK_FALSE(res.spawn_failed);
  CHECK(res.error.empty());
  CHECK(res.exit_code == 0);
  CHECK(res.term_signal == 0);
  CHECK_FALSE(res.timed_out);
  CHECK_FALSE(res.cancelled);
  CHECK(res.out == "out\n");
  CHECK(res.err == "err\n");
  CHECK(res.pid > 0);
}

TEST_CASE("no shell is involved", "[subprocess]") {
  auto res = run_subprocess(make_opts({"echo", "$HOME", "a  b", "*"}));
  CHECK(res.exit_code == 0);
  CHECK(res.out == "$HOME a  b *\n");
}

TEST_CASE("stdin is fed to the child", "[subprocess]") {
  SECTION("small") {
    auto opts = make_opts({"cat"});
    opts.stdin_data = "hello\nworld";
    auto res = run_subprocess(opts);
    CHECK(res.exit_code == 0);
    CHECK(res.out == "hello\nworld");
  }
  SECTION("several megabytes through cat") {
    auto opts = make_opts({"cat"});
    opts.stdin_data = pattern(3 * 1024 * 1024 + 17);
    auto res = run_subprocess(opts);
    CHECK(res.exit_code == 0);
    CHECK(res.out.size() == opts.stdin_data.size());
    CHECK(res.out == opts.stdin_data);
  }
  SECTION("empty stdin reads as EOF") {
    auto res = run_subprocess(shell("cat; echo done"));
    CHECK(res.exit_code == 0);
    CHECK(res.out == "done\n");
  }
}

TEST_CASE("big output does not deadlock", "[subprocess]") {
  SECTION("several megabytes on stdout and stderr") {
    auto res = run_subprocess(
      shell("head -c 5000000 /dev/zero; head -c 3000000 /dev/zero >&2"));
    CHECK(res.exit_code == 0);
    CHECK(res.out.size() == 5000000);
    CHECK(res.err.size() == 3000000);
    CHECK_FALSE(res.out_truncated);
  }
  SECTION("child writes 1 MB before reading its 1 MB of stdin") {
    auto opts = shell("head -c 1048576 /dev/zero; wc -c");
    opts.stdin_data = pattern(1024 * 1024);
    auto res = run_subprocess(opts);
    CHECK(res.exit_code == 0);
    REQUIRE(res.out.size() > 1048576);
    CHECK(res.out.substr(0, 1048576) == std::string(1048576, '\0'));
    // `wc -c` saw all of stdin.
    CHECK(std::stoul(res.out.substr(1048576)) == 1048576);
  }
}

TEST_CASE("output beyond max_output is dropped", "[subprocess]") {
  auto opts = shell("head -c 100000 /dev/zero; echo tail >&2");
  opts.max_output = 1000;
  auto res = run_subprocess(opts);
  CHECK(res.exit_code == 0);
  CHECK(res.out.size() == 1000);
  CHECK(res.out_truncated);
  CHECK(res.err == "tail\n");
  CHECK_FALSE(res.err_truncated);
}

TEST_CASE("env vars are added to the inherited environment", "[subprocess]") {
  auto opts = shell(R"(printf '%s|%s|%s' "$JJ_TEST_A" "$HOME" "$PATH")");
  opts.env = {{"JJ_TEST_A", "value with spaces"}, {"HOME", "/jj-home"}};
  auto res = run_subprocess(opts);
  CHECK(res.exit_code == 0);
  auto path = ::getenv("PATH");
  REQUIRE(path != nullptr);
  CHECK(res.out == "value with spaces|/jj-home|" + std::string{path});
}

TEST_CASE("invalid env names are rejected", "[subprocess]") {
  auto opts = make_opts({"true"});
  opts.env = {{"A=B", "x"}};
  auto res = run_subprocess(opts);
  CHECK(res.spawn_failed);
  CHECK(res.error.find("A=B") != std::string::npos);
}

TEST_CASE("exit status and signals are reported", "[subprocess]") {
  SECTION("non-zero exit") {
    auto res = run_subprocess(shell("exit 3"));
    CHECK_FALSE(res.spawn_failed);
    CHECK(res.exit_code == 3);
    CHECK(res.term_signal == 0);
  }
  SECTION("killed by a signal") {
    auto res = run_subprocess(shell("kill -TERM $$"));
    CHECK(res.exit_code == -1);
    CHECK(res.term_signal == SIGTERM);
    CHECK_FALSE(res.timed_out);
    CHECK_FALSE(res.cancelled);
  }
}

TEST_CASE("a timeout kills the child", "[subprocess]") {
  auto opts = make_opts({"sleep", "30"});
  opts.timeout = 200ms;
  auto [res, took] = timed_run(opts);
  CHECK(took < generous);
  CHECK(res.timed_out);
  CHECK_FALSE(res.cancelled);
  CHECK(res.exit_code == -1);
  CHECK(res.term_signal == SIGKILL);
  CHECK_FALSE(is_unreaped_child(res.pid));
}

TEST_CASE("a timeout kills grandchildren too", "[subprocess]") {
  temp_file pid_file{"grandchild.pid"};
  auto opts = shell("sleep 30 & echo $! > " + pid_file.path + "; wait");
  opts.timeout = 300ms;
  auto [res, took] = timed_run(opts);
  CHECK(took < generous);
  CHECK(res.timed_out);
  auto text = pid_file.read();
  REQUIRE_FALSE(text.empty());
  auto grandchild = static_cast<pid_t>(std::stol(text));
  REQUIRE(grandchild > 0);
  CHECK(wait_until_gone(grandchild));
}

TEST_CASE("leftover background processes do not hold up the result",
          "[subprocess]") {
  // The background `sleep` inherits stdout; it is killed with the group once
  // the shell exits.
  temp_file pid_file{"background.pid"};
  auto [res, took] =
    timed_run(shell("echo hi; sleep 30 & echo $! > " + pid_file.path));
  CHECK(took < generous);
  CHECK(res.exit_code == 0);
  CHECK(res.out == "hi\n");
  auto text = pid_file.read();
  REQUIRE_FALSE(text.empty());
  CHECK(wait_until_gone(static_cast<pid_t>(std::stol(text))));
}

TEST_CASE("setting the cancel flag kills the child", "[subprocess]") {
  auto flag = std::make_shared<std::atomic<bool>>(false);
  SECTION("from another thread") {
    auto opts = make_opts({"sleep", "30"});
    opts.cancelled = flag;
    std::thread canceller{[flag] {
      std::this_thread::sleep_for(200ms);
      flag->store(true);
    }};
    auto [res, took] = timed_run(opts);
    canceller.join();
    CHECK(took < generous);
    CHECK(res.cancelled);
    CHECK_FALSE(res.timed_out);
    CHECK(res.exit_code == -1);
    CHECK(res.term_signal == SIGKILL);
    CHECK_FALSE(is_unreaped_child(res.pid));
  }
  SECTION("before the start") {
    flag->store(true);
    auto opts = make_opts({"sleep", "30"});
    opts.cancelled = flag;
    auto [res, took] = timed_run(opts);
    CHECK(took < generous);
    CHECK(res.cancelled);
  }
}

TEST_CASE("a missing program fails to spawn", "[subprocess]") {
  SECTION("not in PATH") {
    auto res = run_subprocess(make_opts({"jamjet-no-such-program-4711"}));
    CHECK(res.spawn_failed);
    CHECK(res.exit_code == -1);
    CHECK(res.pid == -1);
    CHECK(res.error.find("jamjet-no-such-program-4711") != std::string::npos);
  }
  SECTION("absolute path") {
    auto res = run_subprocess(make_opts({"/nonexistent/dir/prog"}));
    CHECK(res.spawn_failed);
    CHECK(res.error.find("/nonexistent/dir/prog") != std::string::npos);
  }
  SECTION("empty argv") {
    auto res = run_subprocess(subprocess_options{});
    CHECK(res.spawn_failed);
    CHECK_FALSE(res.error.empty());
  }
}

TEST_CASE("a child that ignores its stdin does not raise SIGPIPE",
          "[subprocess]") {
  // Without the SIGPIPE handling, this test process would die here.
  auto opts = make_opts({"true"});
  opts.stdin_data = pattern(8 * 1024 * 1024);
  for (int i = 0; i < 3; ++i) {
    auto res = run_subprocess(opts);
    CHECK(res.exit_code == 0);
  }
  // No SIGPIPE left pending, and our signal mask is as before.
  sigset_t pending;
  sigemptyset(&pending);
  REQUIRE(::sigpending(&pending) == 0);
  CHECK(sigismember(&pending, SIGPIPE) == 0);
  sigset_t mask;
  REQUIRE(::pthread_sigmask(SIG_BLOCK, nullptr, &mask) == 0);
  CHECK(sigismember(&mask, SIGPIPE) == 0);
}

TEST_CASE("the child starts with a clean signal state", "[subprocess]") {
  // Even when this process ignores SIGPIPE, the child gets the default
  // action: `yes` then dies quietly instead of complaining about EPIPE.
  auto old = std::signal(SIGPIPE, SIG_IGN);
  auto res = run_subprocess(
    shell("yes | head -c 10 >/dev/null; grep SigBlk /proc/self/status"));
  std::signal(SIGPIPE, old);
  CHECK(res.exit_code == 0);
  CHECK(res.err.empty());
  CHECK(res.out == "SigBlk:\t0000000000000000\n");
}

TEST_CASE("the child inherits no stray descriptors", "[subprocess]") {
  // Deliberately without O_CLOEXEC.
  auto fd = ::open("/dev/null", O_RDONLY);
  REQUIRE(fd > 2);
  auto fd_path = "/proc/self/fd/" + std::to_string(fd);
  // `[` is a shell builtin: /proc/self is the spawned shell itself.
  auto res = run_subprocess(shell("[ -e /proc/self/fd/0 ] && [ -e " + fd_path +
                                  " ] && echo leaked || echo ok"));
  ::close(fd);
  CHECK(res.exit_code == 0);
  CHECK(res.out == "ok\n");
}

TEST_CASE("no descriptor leaks over many runs", "[subprocess]") {
  // Warm up whatever the library opens once.
  run_subprocess(shell("true"));
  auto before = count_open_fds();
  for (int i = 0; i < 50; ++i) {
    if (i % 10 == 3) {
      auto res = run_subprocess(make_opts({"jamjet-no-such-program-4711"}));
      CHECK(res.spawn_failed);
    } else if (i % 10 == 7) {
      auto opts = make_opts({"true"});
      opts.stdin_data = pattern(256 * 1024);
      CHECK(run_subprocess(opts).exit_code == 0);
    } else {
      auto opts = shell("cat; echo err >&2");
      opts.stdin_data = "x";
      auto res = run_subprocess(opts);
      CHECK(res.out == "x");
      CHECK(res.err == "err\n");
    }
  }
  CHECK(count_open_fds() == before);
}

TEST_CASE("children are always reaped", "[subprocess]") {
  std::vector<int> pids;
  for (int i = 0; i < 5; ++i)
    pids.push_back(run_subprocess(shell("exit 1")).pid);
  auto opts = make_opts({"sleep", "30"});
  opts.timeout = 100ms;
  pids.push_back(run_subprocess(opts).pid);
  for (auto pid : pids) {
    REQUIRE(pid > 0);
    CHECK_FALSE(is_unreaped_child(pid));
  }
}

TEST_CASE("several threads may run processes at once", "[subprocess]") {
  std::atomic<int> good{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&good, t] {
      for (int i = 0; i < 10; ++i) {
        auto opts = make_opts({"cat"});
        opts.stdin_data = std::to_string(t) + ":" + std::to_string(i);
        auto res = run_subprocess(opts);
        if (res.exit_code == 0 && res.out == opts.stdin_data)
          ++good;
      }
    });
  }
  for (auto& thread : threads)
    thread.join();
  CHECK(good.load() == 40);
}
