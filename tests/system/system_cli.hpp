#pragma once

// The `jamjet` command and Python (which the tests use to reach into a
// SQLite file as another program would) for the system tests.

#include <arpa/inet.h>
#include <atomic>
#include <chrono>
#include <future>
#include <memory>
#include <netinet/in.h>
#include <string>
#include <sys/socket.h>
#include <thread>
#include <unistd.h>
#include <utility>
#include <vector>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "jamjet/support/subprocess.hpp"

namespace jamjet::testing {

/// Runs `jamjet args...` with `env` added to the environment, killed after
/// `timeout`.
inline subprocess_result
cli(std::vector<std::string> args,
    std::vector<std::pair<std::string, std::string>> env = {},
    std::chrono::seconds timeout = std::chrono::seconds{120}) {
  subprocess_options opts;
  opts.argv.push_back(JAMJET_CLI_PATH);
  for (auto& a : args)
    opts.argv.push_back(std::move(a));
  opts.env = std::move(env);
  opts.timeout = timeout;
  return run_subprocess(opts);
}

/// Runs `jamjet args...`; `kill`, when set to true, SIGKILLs it.
inline subprocess_result cli(std::vector<std::string> args,
                             std::shared_ptr<std::atomic<bool>> kill) {
  subprocess_options opts;
  opts.argv.push_back(JAMJET_CLI_PATH);
  for (auto& a : args)
    opts.argv.push_back(std::move(a));
  opts.timeout = std::chrono::seconds{120};
  opts.cancelled = std::move(kill);
  return run_subprocess(opts);
}

/// Runs a Python script with `args` (sys.argv[1:]).
inline subprocess_result python(const std::string& script,
                                std::vector<std::string> args = {}) {
  subprocess_options opts;
  opts.argv = {"python3", "-c", script};
  for (auto& a : args)
    opts.argv.push_back(std::move(a));
  opts.timeout = std::chrono::seconds{60};
  return run_subprocess(opts);
}

/// The id of the only execution in `db`, once it has `n` events or more.
inline std::string wait_for_events(const std::string& db, uint64_t n) {
  for (int i = 0; i < 2000; ++i) {
    auto res = cli({"status", "--db", db});
    if (res.exit_code == 0) {
      auto all = nlohmann::json::parse(res.out, nullptr, false);
      if (all.is_array() && all.size() == 1 && all[0]["last_sequence"] >= n)
        return all[0]["execution_id"];
    }
    std::this_thread::sleep_for(std::chrono::milliseconds{10});
  }
  FAIL("no execution with " << n << " events in " << db);
  return {};
}

/// A program running in the background until stopped (SIGKILL) or done:
/// `jamjet args...`, or with `program`, any command line.
struct background {
  std::shared_ptr<std::atomic<bool>> kill =
    std::make_shared<std::atomic<bool>>(false);
  std::future<subprocess_result> result;

  /// With `umask` set, under that umask (through sh).
  explicit background(std::vector<std::string> args,
                      const std::string& umask = {}) {
    args.insert(args.begin(), JAMJET_CLI_PATH);
    if (!umask.empty())
      args.insert(args.begin(),
                  {"sh", "-c", "umask " + umask + " && exec \"$0\" \"$@\""});
    launch(std::move(args));
  }

  static background program(std::vector<std::string> argv) {
    return background{std::move(argv), 0};
  }

  subprocess_result stop() {
    kill->store(true);
    return result.get();
  }

  background(background&&) = default;

  ~background() {
    if (result.valid())
      stop();
  }

 private:
  background(std::vector<std::string> argv, int) { launch(std::move(argv)); }

  void launch(std::vector<std::string> argv) {
    subprocess_options opts;
    opts.argv = std::move(argv);
    opts.timeout = std::chrono::seconds{300};
    opts.cancelled = kill;
    result =
      std::async(std::launch::async, [opts] { return run_subprocess(opts); });
  }
};

/// A loopback port that was free a moment ago.
inline uint16_t free_port() {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr));
  socklen_t len = sizeof(addr);
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  ::close(fd);
  return ntohs(addr.sin_port);
}

} // namespace jamjet::testing
