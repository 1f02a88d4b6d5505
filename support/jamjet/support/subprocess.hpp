#pragma once

// A small POSIX process runner: no shell, pipes for the standard streams, a
// timeout and a cancel flag.
//
// The child runs in its own process group. On timeout or cancellation, the
// whole group gets SIGKILL, so grandchildren (e.g. of `sh -c`) die too. When
// the child exits on its own, whatever is left of its group is killed as well:
// a background process that inherited the output pipes would otherwise keep
// them open forever. The child is always reaped and every descriptor is
// closed before `run_subprocess` returns.
//
// SIGPIPE: writing the child's standard input after it exited would raise
// SIGPIPE, whose default action kills the whole process. `run_subprocess`
// does not touch process-wide signal dispositions. Instead, it blocks SIGPIPE
// in the calling thread for the duration of the call (the signal raised by a
// failed pipe write goes to the writing thread) and discards a SIGPIPE it
// caused before restoring the thread's signal mask. The child starts with an
// empty signal mask and with SIGPIPE at its default action, even when this
// process ignores it.

#include <atomic>
#include <chrono>
#include <cstddef>
#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace jamjet {

/// What to run and how.
struct subprocess_options {
  /// The program and its arguments. `argv[0]` is looked up in `PATH` when it
  /// contains no slash. No shell is involved.
  std::vector<std::string> argv;
  /// Written to the child's standard input, which is closed afterwards (or
  /// right away when empty).
  std::string stdin_data;
  /// Variables added to the inherited environment; they replace inherited
  /// variables of the same name.
  std::vector<std::pair<std::string, std::string>> env;
  /// Kills the child after this long; zero means no limit.
  std::chrono::milliseconds timeout{0};
  /// May be null. When it becomes true, the child is killed.
  std::shared_ptr<const std::atomic<bool>> cancelled;
  /// How many bytes of standard output and of standard error (each) to keep.
  /// The rest is read and discarded, so the child never blocks on a full
  /// pipe.
  std::size_t max_output = 16 * 1024 * 1024;
};

/// How a child process ended and what it wrote.
struct subprocess_result {
  /// The exit status; -1 when killed by a signal or not started.
  int exit_code = -1;
  /// The signal that killed the child, or 0.
  int term_signal = 0;
  /// Whether the child was killed because `timeout` expired.
  bool timed_out = false;
  /// Whether the child was killed because `cancelled` was set.
  bool cancelled = false;
  /// Whether the child could not be started; `error` says why.
  bool spawn_failed = false;
  /// Captured standard output (at most `max_output` bytes).
  std::string out;
  /// Captured standard error (at most `max_output` bytes).
  std::string err;
  /// Describes a spawn failure, naming `argv[0]`; empty otherwise.
  std::string error;
  /// Whether standard output exceeded `max_output` and was cut.
  bool out_truncated = false;
  /// Whether standard error exceeded `max_output` and was cut.
  bool err_truncated = false;
  /// The child's process ID (already reaped), or -1 when not started.
  int pid = -1;
};

/// Runs a program to completion (or until timeout or cancellation) and
/// returns its exit status and output. Thread-safe: several threads may run
/// processes at once. Does not throw except for `std::bad_alloc`; OS errors
/// while starting the child are reported through `spawn_failed`.
///
/// Reads `environ` to build the child's environment, so it must not race
/// with `setenv`/`putenv` in other threads. It reaps only its own child; a
/// process-wide `waitpid(-1, ...)` elsewhere, or SIGCHLD set to SIG_IGN,
/// makes the exit status unknown (reported as `exit_code == -1`).
subprocess_result run_subprocess(const subprocess_options& opts);

} // namespace jamjet
