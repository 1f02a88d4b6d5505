#include "jamjet/support/subprocess.hpp"

#include <algorithm>
#include <cerrno>
#include <optional>
#include <string_view>
#include <system_error>

#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <spawn.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char** environ;

namespace jamjet {

namespace {

using clock_type = std::chrono::steady_clock;

/// Longest wait between two checks of the cancel flag and the deadline.
constexpr auto poll_granularity = std::chrono::milliseconds{50};

/// Once the child exited or was killed, how long to keep reading its output
/// pipes. They normally reach EOF at once; only a descendant that left the
/// process group (and so escaped the kill) can hold them open longer.
constexpr auto drain_grace = std::chrono::milliseconds{500};

/// Bytes per read or write call.
constexpr std::size_t io_chunk = 64 * 1024;

std::string describe_errno(int err) {
  return std::generic_category().message(err);
}

/// Owns a file descriptor.
class unique_fd {
 public:
  unique_fd() = default;

  explicit unique_fd(int fd) : fd_(fd) {
    // nop
  }

  unique_fd(unique_fd&& other) noexcept : fd_(other.release()) {
    // nop
  }

  unique_fd(const unique_fd&) = delete;
  unique_fd& operator=(const unique_fd&) = delete;

  ~unique_fd() { reset(); }

  int get() const noexcept { return fd_; }

  explicit operator bool() const noexcept { return fd_ >= 0; }

  /// Gives up ownership without closing.
  int release() noexcept { return std::exchange(fd_, -1); }

  /// Closes the current descriptor (if any) and takes `fd`.
  void reset(int fd = -1) noexcept {
    // Linux releases the descriptor even when close fails with EINTR, so
    // retrying could close a descriptor another thread just opened.
    if (fd_ >= 0)
      ::close(fd_);
    fd_ = fd;
  }

 private:
  int fd_ = -1;
};

/// Creates a close-on-exec pipe whose ends are not 0, 1 or 2, so that the
/// `dup2` calls in the child cannot clobber one another. Returns 0 or an
/// errno value.
int make_pipe(unique_fd& rd, unique_fd& wr) {
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0)
    return errno;
  rd.reset(fds[0]);
  wr.reset(fds[1]);
  for (auto* end : {&rd, &wr}) {
    if (end->get() <= STDERR_FILENO) {
      auto moved = ::fcntl(end->get(), F_DUPFD_CLOEXEC, STDERR_FILENO + 1);
      if (moved < 0)
        return errno;
      end->reset(moved);
    }
  }
  return 0;
}

/// Sets O_NONBLOCK on `fd` (the parent's end of a pipe only: the two ends
/// are separate open file descriptions, so the child's end stays blocking).
void set_nonblocking(int fd) {
  auto flags = ::fcntl(fd, F_GETFL);
  if (flags >= 0)
    ::fcntl(fd, F_SETFL, flags | O_NONBLOCK);
}

/// Blocks SIGPIPE in the calling thread. On destruction, discards a SIGPIPE
/// that a failed write of ours raised and restores the signal mask.
class sigpipe_guard {
 public:
  sigpipe_guard() {
    sigemptyset(&pipe_set_);
    sigaddset(&pipe_set_, SIGPIPE);
    active_ = ::pthread_sigmask(SIG_BLOCK, &pipe_set_, &old_mask_) == 0;
    if (active_) {
      sigset_t pending;
      sigemptyset(&pending);
      was_pending_ =
        ::sigpending(&pending) == 0 && sigismember(&pending, SIGPIPE) == 1;
    }
  }

  sigpipe_guard(const sigpipe_guard&) = delete;
  sigpipe_guard& operator=(const sigpipe_guard&) = delete;

  ~sigpipe_guard() {
    if (!active_)
      return;
    if (raised_ && !was_pending_) {
      // A write to a pipe without readers raises SIGPIPE for the writing
      // thread, where it stays pending while blocked. Consume it.
      timespec zero{0, 0};
      while (::sigtimedwait(&pipe_set_, nullptr, &zero) < 0 && errno == EINTR)
        ; // retry
    }
    ::pthread_sigmask(SIG_SETMASK, &old_mask_, nullptr);
  }

  /// Records that a write failed with EPIPE.
  void note_epipe() noexcept { raised_ = true; }

 private:
  sigset_t pipe_set_;
  sigset_t old_mask_;
  bool active_ = false;
  bool was_pending_ = false;
  bool raised_ = false;
};

/// Owns a started child: unless released or reaped, kills its process group
/// and reaps it on destruction (e.g. when an exception unwinds).
class child_guard {
 public:
  explicit child_guard(pid_t pid) : pid_(pid) {
    // nop
  }

  child_guard(const child_guard&) = delete;
  child_guard& operator=(const child_guard&) = delete;

  ~child_guard() {
    if (pid_ > 0) {
      kill_group();
      reap();
    }
  }

  /// Sends SIGKILL to the child's process group and to the child itself (in
  /// case it moved to another group). Safe while the child is not reaped:
  /// until then its PID, which is also the group's ID, cannot be reused.
  void kill_group() noexcept {
    if (pid_ > 0) {
      ::kill(-pid_, SIGKILL);
      ::kill(pid_, SIGKILL);
    }
  }

  /// Forgets the child without reaping it (someone else did).
  void release() noexcept { pid_ = -1; }

  /// Waits for the child; returns its wait status, or nothing if it was
  /// reaped elsewhere.
  std::optional<int> reap() noexcept {
    if (pid_ <= 0)
      return std::nullopt;
    int status = 0;
    pid_t res;
    do {
      res = ::waitpid(pid_, &status, 0);
    } while (res < 0 && errno == EINTR);
    auto ok = res == pid_;
    pid_ = -1;
    if (!ok)
      return std::nullopt;
    return status;
  }

 private:
  pid_t pid_;
};

/// Destroys a `posix_spawn_file_actions_t` on scope exit.
struct file_actions {
  posix_spawn_file_actions_t value;
  int init_error;

  file_actions() : init_error(::posix_spawn_file_actions_init(&value)) {
    // nop
  }

  file_actions(const file_actions&) = delete;
  file_actions& operator=(const file_actions&) = delete;

  ~file_actions() {
    if (init_error == 0)
      ::posix_spawn_file_actions_destroy(&value);
  }
};

/// Destroys a `posix_spawnattr_t` on scope exit.
struct spawn_attrs {
  posix_spawnattr_t value;
  int init_error;

  spawn_attrs() : init_error(::posix_spawnattr_init(&value)) {
    // nop
  }

  spawn_attrs(const spawn_attrs&) = delete;
  spawn_attrs& operator=(const spawn_attrs&) = delete;

  ~spawn_attrs() {
    if (init_error == 0)
      ::posix_spawnattr_destroy(&value);
  }
};

/// The parent's end of an output pipe and where its bytes go.
struct output_sink {
  unique_fd fd;
  std::string* dst;
  bool* truncated;
};

/// Reads once from `sink`, keeping at most `max` bytes in total; closes the
/// pipe at EOF or on error.
void read_some(output_sink& sink, std::size_t max, char* buf) {
  auto n = ::read(sink.fd.get(), buf, io_chunk);
  if (n > 0) {
    auto got = static_cast<std::size_t>(n);
    auto size = sink.dst->size();
    auto keep = size < max ? std::min(max - size, got) : std::size_t{0};
    sink.dst->append(buf, keep);
    if (keep < got)
      *sink.truncated = true;
  } else if (n == 0 ||
             (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)) {
    sink.fd.reset();
  }
}

/// The child's environment: ours, with `overrides` replacing or adding.
std::vector<std::string> make_environment(
  const std::vector<std::pair<std::string, std::string>>& overrides) {
  std::vector<std::string> result;
  for (auto entry = environ; entry != nullptr && *entry != nullptr; ++entry) {
    std::string_view kv{*entry};
    auto name = kv.substr(0, kv.find('='));
    auto replaced =
      std::any_of(overrides.begin(), overrides.end(),
                  [name](const auto& kvp) { return kvp.first == name; });
    if (!replaced)
      result.emplace_back(kv);
  }
  for (const auto& [name, value] : overrides)
    result.emplace_back(name + '=' + value);
  return result;
}

/// Pointers into `strs`, null-terminated, as exec wants them.
std::vector<char*> make_c_array(std::vector<std::string>& strs) {
  std::vector<char*> result;
  result.reserve(strs.size() + 1);
  for (auto& str : strs)
    result.push_back(str.data());
  result.push_back(nullptr);
  return result;
}

int to_poll_timeout(clock_type::duration dur) {
  auto ms = std::chrono::ceil<std::chrono::milliseconds>(dur).count();
  return static_cast<int>(std::clamp<decltype(ms)>(ms, 0, 1000 * 60));
}

} // namespace

subprocess_result run_subprocess(const subprocess_options& opts) {
  subprocess_result res;
  auto fail = [&res](std::string msg) {
    res.spawn_failed = true;
    res.error = std::move(msg);
    return res;
  };
  if (opts.argv.empty())
    return fail("cannot start a process: empty argv");
  const auto& prog = opts.argv.front();
  auto quoted_prog = "'" + prog + "'";
  for (const auto& arg : opts.argv)
    if (arg.find('\0') != std::string::npos)
      return fail("cannot execute " + quoted_prog +
                  ": an argument contains a NUL byte");
  for (const auto& [name, value] : opts.env)
    if (name.empty() ||
        name.find_first_of(std::string_view{"=\0", 2}) != std::string::npos ||
        value.find('\0') != std::string::npos)
      return fail("cannot execute " + quoted_prog +
                  ": invalid environment variable '" + name + "'");
  // Prepare everything that allocates before starting the child.
  auto args = opts.argv;
  auto arg_ptrs = make_c_array(args);
  auto envs = make_environment(opts.env);
  auto env_ptrs = make_c_array(envs);
  sigpipe_guard sigpipe;
  // Pipes: the child reads `in_rd` and writes `out_wr` and `err_wr`.
  unique_fd in_rd, in_wr, out_rd, out_wr, err_rd, err_wr;
  for (auto [rd, wr] : {std::pair{&in_rd, &in_wr}, std::pair{&out_rd, &out_wr},
                        std::pair{&err_rd, &err_wr}})
    if (auto err = make_pipe(*rd, *wr); err != 0)
      return fail("cannot execute " + quoted_prog +
                  ": cannot create a pipe: " + describe_errno(err));
  // Standard streams, and no other descriptor, in the child.
  file_actions actions;
  if (actions.init_error != 0)
    return fail("cannot execute " + quoted_prog + ": " +
                describe_errno(actions.init_error));
  int err = 0;
  auto step = [&err](int rc) {
    if (err == 0)
      err = rc;
  };
  step(::posix_spawn_file_actions_adddup2(&actions.value, in_rd.get(),
                                          STDIN_FILENO));
  step(::posix_spawn_file_actions_adddup2(&actions.value, out_wr.get(),
                                          STDOUT_FILENO));
  step(::posix_spawn_file_actions_adddup2(&actions.value, err_wr.get(),
                                          STDERR_FILENO));
#if defined(__GLIBC__) &&                                                      \
  (__GLIBC__ > 2 || (__GLIBC__ == 2 && __GLIBC_MINOR__ >= 34))
  // Also closes descriptors that other code opened without O_CLOEXEC.
  step(::posix_spawn_file_actions_addclosefrom_np(&actions.value,
                                                  STDERR_FILENO + 1));
#endif
  // Own process group, empty signal mask, default SIGPIPE action.
  spawn_attrs attrs;
  if (attrs.init_error != 0)
    return fail("cannot execute " + quoted_prog + ": " +
                describe_errno(attrs.init_error));
  sigset_t no_signals;
  sigemptyset(&no_signals);
  sigset_t default_signals;
  sigemptyset(&default_signals);
  sigaddset(&default_signals, SIGPIPE);
  step(::posix_spawnattr_setflags(&attrs.value, POSIX_SPAWN_SETPGROUP |
                                                  POSIX_SPAWN_SETSIGMASK |
                                                  POSIX_SPAWN_SETSIGDEF));
  step(::posix_spawnattr_setpgroup(&attrs.value, 0));
  step(::posix_spawnattr_setsigmask(&attrs.value, &no_signals));
  step(::posix_spawnattr_setsigdefault(&attrs.value, &default_signals));
  if (err != 0)
    return fail("cannot execute " + quoted_prog + ": " + describe_errno(err));
  // Start the child. glibc reports exec failures (e.g. ENOENT) here.
  pid_t pid = -1;
  err = ::posix_spawnp(&pid, prog.c_str(), &actions.value, &attrs.value,
                       arg_ptrs.data(), env_ptrs.data());
  if (err != 0)
    return fail("cannot execute " + quoted_prog + ": " + describe_errno(err));
  child_guard child{pid};
  res.pid = static_cast<int>(pid);
  in_rd.reset();
  out_wr.reset();
  err_wr.reset();
  // Feed stdin and drain stdout and stderr until the child is gone.
  if (opts.stdin_data.empty())
    in_wr.reset();
  else
    set_nonblocking(in_wr.get());
  set_nonblocking(out_rd.get());
  set_nonblocking(err_rd.get());
  output_sink sinks[] = {{std::move(out_rd), &res.out, &res.out_truncated},
                         {std::move(err_rd), &res.err, &res.err_truncated}};
  std::string buf(io_chunk, '\0');
  std::size_t in_offset = 0;
  const auto has_deadline = opts.timeout.count() > 0;
  const auto deadline = clock_type::now() + opts.timeout;
  bool exited = false; // Reported by waitid, not reaped yet.
  bool killed = false; // We sent SIGKILL (timeout or cancel).
  bool lost = false;   // Reaped by someone else.
  clock_type::time_point drain_until;
  auto idle_wait = std::chrono::milliseconds{1};
  auto stop = [&](clock_type::time_point now) {
    in_wr.reset();
    drain_until = now + drain_grace;
  };
  for (;;) {
    auto now = clock_type::now();
    if (!exited && !killed) {
      siginfo_t info{};
      auto rc = ::waitid(P_PID, static_cast<id_t>(pid), &info,
                         WEXITED | WNOHANG | WNOWAIT);
      if (rc == 0 && info.si_pid == pid) {
        // Left as a zombie, so the group ID stays reserved for the kill.
        exited = true;
        child.kill_group();
        stop(now);
      } else if (rc < 0 && errno == ECHILD) {
        exited = true;
        lost = true;
        child.release();
        stop(now);
      } else if (opts.cancelled && opts.cancelled->load()) {
        res.cancelled = true;
        killed = true;
        child.kill_group();
        stop(now);
      } else if (has_deadline && now >= deadline) {
        res.timed_out = true;
        killed = true;
        child.kill_group();
        stop(now);
      }
    }
    auto outputs_open = sinks[0].fd || sinks[1].fd;
    if ((exited || killed) && (!outputs_open || now >= drain_until))
      break;
    // Wait for I/O, at most until the next check.
    pollfd fds[3];
    output_sink* fd_sinks[3] = {nullptr, nullptr, nullptr};
    nfds_t nfds = 0;
    if (in_wr)
      fds[nfds++] = pollfd{in_wr.get(), POLLOUT, 0};
    for (auto& sink : sinks) {
      if (sink.fd) {
        fd_sinks[nfds] = &sink;
        fds[nfds++] = pollfd{sink.fd.get(), POLLIN, 0};
      }
    }
    clock_type::duration wait = poll_granularity;
    if (exited || killed)
      wait = std::min(wait, drain_until - now);
    else if (has_deadline)
      wait = std::min(wait, deadline - now);
    if (nfds == 0) {
      // Only the child's exit to wait for: check often at first, so short
      // runs that closed their output early return promptly.
      wait = std::min<clock_type::duration>(wait, idle_wait);
      idle_wait = std::min(idle_wait * 2, poll_granularity);
    }
    auto rc = ::poll(fds, nfds, to_poll_timeout(wait));
    if (rc < 0) {
      if (errno == EINTR || errno == EAGAIN)
        continue;
      // Cannot happen with valid arguments; do not spin or hang.
      res.error = "poll failed: " + describe_errno(errno);
      killed = true;
      child.kill_group();
      break;
    }
    for (nfds_t i = 0; i < nfds; ++i) {
      auto revents = fds[i].revents;
      if (revents == 0)
        continue;
      if (fd_sinks[i] == nullptr) {
        // The child's stdin.
        if (revents & POLLNVAL) {
          in_wr.release();
          continue;
        }
        auto left = opts.stdin_data.size() - in_offset;
        auto n = ::write(in_wr.get(), opts.stdin_data.data() + in_offset,
                         std::min(left, io_chunk));
        if (n > 0) {
          in_offset += static_cast<std::size_t>(n);
          if (in_offset == opts.stdin_data.size())
            in_wr.reset();
        } else if (n < 0 && errno == EPIPE) {
          // The child closed its stdin: fine, it did not want the rest.
          sigpipe.note_epipe();
          in_wr.reset();
        } else if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK &&
                   errno != EINTR) {
          in_wr.reset();
        }
      } else if (revents & POLLNVAL) {
        fd_sinks[i]->fd.release();
      } else {
        read_some(*fd_sinks[i], opts.max_output, buf.data());
      }
    }
  }
  // Close our pipe ends, then reap.
  in_wr.reset();
  for (auto& sink : sinks)
    sink.fd.reset();
  if (!lost) {
    if (auto status = child.reap()) {
      if (WIFEXITED(*status)) {
        res.exit_code = WEXITSTATUS(*status);
      } else if (WIFSIGNALED(*status)) {
        res.term_signal = WTERMSIG(*status);
      }
    }
  }
  return res;
}

} // namespace jamjet
