#pragma once

// The `jamjet` command and Python (which the tests use to reach into a
// SQLite file as another program would) for the system tests.

#include <atomic>
#include <chrono>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "jamjet/support/subprocess.hpp"

namespace jamjet::testing {

/// Runs `jamjet args...`; `kill`, when set to true, SIGKILLs it.
inline subprocess_result
cli(std::vector<std::string> args,
    std::shared_ptr<std::atomic<bool>> kill = nullptr) {
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

} // namespace jamjet::testing
