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

// The steps of `run_subprocess`.

/// Why `opts` cannot be run (an empty argv, a NUL byte, a bad variable
/// name), or nothing.
std::optional<std::string> check_options(const subprocess_options& opts) {
  if (opts.argv.empty())
    return "cannot start a process: empty argv";
  auto quoted_prog = "'" + opts.argv.front() + "'";
  for (const auto& arg : opts.argv)
    if (arg.find('\0') != std::string::npos)
      return "cannot execute " + quoted_prog +
             ": an argument contains a NUL byte";
  for (const auto& [name, value] : opts.env)
    if (name.empty() ||
        name.find_first_of(std::string_view{"=\0", 2}) != std::string::npos ||
        value.find('\0') != std::string::npos)
      return "cannot execute " + quoted_prog +
             ": invalid environment variable '" + name + "'";
  return std::nullopt;
}

/// The result of a child that could not be started, saying why.
subprocess_result spawn_failure(std::string msg) {
  subprocess_result res;
  res.spawn_failed = true;
  res.error = std::move(msg);
  return res;
}

/// Pipes for the child's standard streams: the child reads `in_rd` and
/// writes `out_wr` and `err_wr`; the other ends are the parent's.
struct stdio_pipes {
  unique_fd in_rd, in_wr, out_rd, out_wr, err_rd, err_wr;
};

/// Creates the three pipes. Returns 0 or an errno value.
int make_stdio_pipes(stdio_pipes& p) {
  for (auto [rd, wr] :
       {std::pair{&p.in_rd, &p.in_wr}, std::pair{&p.out_rd, &p.out_wr},
        std::pair{&p.err_rd, &p.err_wr}})
    if (auto err = make_pipe(*rd, *wr); err != 0)
      return err;
  return 0;
}

/// Standard streams, and no other descriptor, in the child. Returns 0 or
/// the first errno value.
int set_child_streams(file_actions& actions, const stdio_pipes& p) {
  int err = 0;
  auto step = [&err](int rc) {
    if (err == 0)
      err = rc;
  };
  step(::posix_spawn_file_actions_adddup2(&actions.value, p.in_rd.get(),
                                          STDIN_FILENO));
  step(::posix_spawn_file_actions_adddup2(&actions.value, p.out_wr.get(),
                                          STDOUT_FILENO));
  step(::posix_spawn_file_actions_adddup2(&actions.value, p.err_wr.get(),
                                          STDERR_FILENO));
#if defined(__GLIBC__) &&                                                      \
  (__GLIBC__ > 2 || (__GLIBC__ == 2 && __GLIBC_MINOR__ >= 34))
  // Also closes descriptors that other code opened without O_CLOEXEC.
  step(::posix_spawn_file_actions_addclosefrom_np(&actions.value,
                                                  STDERR_FILENO + 1));
#endif
  return err;
}

/// Own process group, empty signal mask, default SIGPIPE action. Returns 0
/// or the first errno value.
int set_child_attrs(spawn_attrs& attrs) {
  int err = 0;
  auto step = [&err](int rc) {
    if (err == 0)
      err = rc;
  };
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
  return err;
}

/// A started child: its PID and the parent's ends of its standard streams.
struct spawned_child {
  pid_t pid = -1;
  unique_fd in_wr, out_rd, err_rd;
};

/// Starts `prog` (looked up in PATH) with `argv` and `envp`, its standard
/// streams on new pipes, as `set_child_streams` and `set_child_attrs` say.
/// Returns why it could not, or nothing and fills `child`, whose PID the
/// caller must guard at once. The child's pipe ends are closed here.
std::optional<std::string> spawn_child(const std::string& prog,
                                       char* const* argv, char* const* envp,
                                       spawned_child& child) {
  auto quoted_prog = "'" + prog + "'";
  stdio_pipes pipes;
  if (auto err = make_stdio_pipes(pipes); err != 0)
    return "cannot execute " + quoted_prog +
           ": cannot create a pipe: " + describe_errno(err);
  file_actions actions;
  if (actions.init_error != 0)
    return "cannot execute " + quoted_prog + ": " +
           describe_errno(actions.init_error);
  auto err = set_child_streams(actions, pipes);
  spawn_attrs attrs;
  if (attrs.init_error != 0)
    return "cannot execute " + quoted_prog + ": " +
           describe_errno(attrs.init_error);
  if (auto attrs_err = set_child_attrs(attrs); err == 0)
    err = attrs_err;
  if (err != 0)
    return "cannot execute " + quoted_prog + ": " + describe_errno(err);
  // Start the child. glibc reports exec failures (e.g. ENOENT) here.
  pid_t pid = -1;
  err = ::posix_spawnp(&pid, prog.c_str(), &actions.value, &attrs.value, argv,
                       envp);
  if (err != 0)
    return "cannot execute " + quoted_prog + ": " + describe_errno(err);
  child.pid = pid;
  child.in_wr.reset(pipes.in_wr.release());
  child.out_rd.reset(pipes.out_rd.release());
  child.err_rd.reset(pipes.err_rd.release());
  return std::nullopt;
}

/// A running child and the parent's side of the I/O with it.
struct run_state {
  /// Takes over `spawned` (guarding its PID first) and prepares the pipes:
  /// stdin closed at once when there is nothing to write, the parent's ends
  /// non-blocking.
  run_state(const subprocess_options& options, subprocess_result& result,
            sigpipe_guard& guard, spawned_child& spawned)
    : opts(options), res(result), sigpipe(guard), pid(spawned.pid),
      child(spawned.pid), in_wr(std::move(spawned.in_wr)),
      sinks{{std::move(spawned.out_rd), &result.out, &result.out_truncated},
            {std::move(spawned.err_rd), &result.err, &result.err_truncated}},
      buf(io_chunk, '\0'), has_deadline(options.timeout.count() > 0) {
    res.pid = static_cast<int>(pid);
    if (opts.stdin_data.empty())
      in_wr.reset();
    else
      set_nonblocking(in_wr.get());
    for (auto& sink : sinks)
      set_nonblocking(sink.fd.get());
    deadline = clock_type::now() + opts.timeout;
  }

  const subprocess_options& opts;
  subprocess_result& res;
  sigpipe_guard& sigpipe;
  const pid_t pid;
  /// Kills and reaps the child when an exception unwinds.
  child_guard child;
  /// The child's stdin, open while data is left to write.
  unique_fd in_wr;
  /// How much of `opts.stdin_data` was written.
  std::size_t in_offset = 0;
  /// The child's stdout and stderr.
  output_sink sinks[2];
  /// Read buffer.
  std::string buf;
  const bool has_deadline;
  clock_type::time_point deadline;
  bool exited = false; // Reported by waitid, not reaped yet.
  bool killed = false; // We sent SIGKILL (timeout or cancel).
  bool lost = false;   // Reaped by someone else.
  /// Once the child is gone: when to stop reading its output.
  clock_type::time_point drain_until;
  /// Poll timeout while only the child's exit is left to wait for.
  std::chrono::milliseconds idle_wait{1};
};

/// Stops feeding the child and gives its output `drain_grace` to end.
void begin_drain(run_state& st, clock_type::time_point now) {
  st.in_wr.reset();
  st.drain_until = now + drain_grace;
}

/// Whether the child exited or was reaped by someone else. An exited child
/// is left as a zombie, so the group ID stays reserved for the kill of
/// what is left of its group.
bool notice_exit(run_state& st) {
  siginfo_t info{};
  auto rc = ::waitid(P_PID, static_cast<id_t>(st.pid), &info,
                     WEXITED | WNOHANG | WNOWAIT);
  if (rc == 0 && info.si_pid == st.pid) {
    st.exited = true;
    st.child.kill_group();
    return true;
  }
  if (rc < 0 && errno == ECHILD) {
    st.exited = true;
    st.lost = true;
    st.child.release();
    return true;
  }
  return false;
}

/// Kills the child's group when cancelled or past the deadline; returns
/// whether it did.
bool kill_if_due(run_state& st, clock_type::time_point now) {
  if (st.opts.cancelled && st.opts.cancelled->load())
    st.res.cancelled = true;
  else if (st.has_deadline && now >= st.deadline)
    st.res.timed_out = true;
  else
    return false;
  st.killed = true;
  st.child.kill_group();
  return true;
}

/// While the child runs: whether it ended, is cancelled or overran; each
/// starts the drain.
void watch_child(run_state& st, clock_type::time_point now) {
  if (st.exited || st.killed)
    return;
  if (notice_exit(st) || kill_if_due(st, now))
    begin_drain(st, now);
}

/// Whether the child is gone and its output closed or drained long enough.
bool finished(const run_state& st, clock_type::time_point now) {
  auto outputs_open = st.sinks[0].fd || st.sinks[1].fd;
  return (st.exited || st.killed) && (!outputs_open || now >= st.drain_until);
}

/// What to poll: the child's stdin while open, its open output pipes.
struct poll_set {
  pollfd fds[3]{};
  /// The sink of each entry; null for stdin.
  output_sink* sinks[3] = {nullptr, nullptr, nullptr};
  nfds_t size = 0;
};

poll_set make_poll_set(run_state& st) {
  poll_set set;
  if (st.in_wr)
    set.fds[set.size++] = pollfd{st.in_wr.get(), POLLOUT, 0};
  for (auto& sink : st.sinks) {
    if (sink.fd) {
      set.sinks[set.size] = &sink;
      set.fds[set.size++] = pollfd{sink.fd.get(), POLLIN, 0};
    }
  }
  return set;
}

/// How long to wait for I/O: at most until the next check of the child
/// (and of the deadline, or the drain's end).
clock_type::duration next_wait(run_state& st, clock_type::time_point now,
                               bool nothing_to_poll) {
  clock_type::duration wait = poll_granularity;
  if (st.exited || st.killed)
    wait = std::min(wait, st.drain_until - now);
  else if (st.has_deadline)
    wait = std::min(wait, st.deadline - now);
  if (nothing_to_poll) {
    // Only the child's exit to wait for: check often at first, so short
    // runs that closed their output early return promptly.
    wait = std::min<clock_type::duration>(wait, st.idle_wait);
    st.idle_wait = std::min(st.idle_wait * 2, poll_granularity);
  }
  return wait;
}

/// Writes the next chunk of stdin; closes it when all is written or the
/// child stopped reading.
void feed_stdin(run_state& st, short revents) {
  if (revents & POLLNVAL) {
    st.in_wr.release();
    return;
  }
  const auto& data = st.opts.stdin_data;
  auto left = data.size() - st.in_offset;
  auto n = ::write(st.in_wr.get(), data.data() + st.in_offset,
                   std::min(left, io_chunk));
  if (n > 0) {
    st.in_offset += static_cast<std::size_t>(n);
    if (st.in_offset == data.size())
      st.in_wr.reset();
  } else if (n < 0 && errno == EPIPE) {
    // The child closed its stdin: fine, it did not want the rest.
    st.sigpipe.note_epipe();
    st.in_wr.reset();
  } else if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK &&
             errno != EINTR) {
    st.in_wr.reset();
  }
}

/// Serves what `poll` reported ready.
void handle_events(run_state& st, const poll_set& set) {
  for (nfds_t i = 0; i < set.size; ++i) {
    auto revents = set.fds[i].revents;
    if (revents == 0)
      continue;
    if (set.sinks[i] == nullptr)
      feed_stdin(st, revents);
    else if (revents & POLLNVAL)
      set.sinks[i]->fd.release();
    else
      read_some(*set.sinks[i], st.opts.max_output, st.buf.data());
  }
}

/// Feeds stdin and drains stdout and stderr until the child is gone.
void pump_io(run_state& st) {
  for (;;) {
    auto now = clock_type::now();
    watch_child(st, now);
    if (finished(st, now))
      break;
    auto set = make_poll_set(st);
    auto wait = next_wait(st, now, set.size == 0);
    auto rc = ::poll(set.fds, set.size, to_poll_timeout(wait));
    if (rc < 0) {
      if (errno == EINTR || errno == EAGAIN)
        continue;
      // Cannot happen with valid arguments; do not spin or hang.
      st.res.error = "poll failed: " + describe_errno(errno);
      st.killed = true;
      st.child.kill_group();
      break;
    }
    handle_events(st, set);
  }
}

/// Closes our pipe ends, then reaps the child (unless someone else did) and
/// records how it ended.
void reap_child(run_state& st) {
  st.in_wr.reset();
  for (auto& sink : st.sinks)
    sink.fd.reset();
  if (st.lost)
    return;
  if (auto status = st.child.reap()) {
    if (WIFEXITED(*status)) {
      st.res.exit_code = WEXITSTATUS(*status);
    } else if (WIFSIGNALED(*status)) {
      st.res.term_signal = WTERMSIG(*status);
    }
  }
}

} // namespace

subprocess_result run_subprocess(const subprocess_options& opts) {
  if (auto problem = check_options(opts))
    return spawn_failure(std::move(*problem));
  // Prepare everything that allocates before starting the child.
  auto args = opts.argv;
  auto arg_ptrs = make_c_array(args);
  auto envs = make_environment(opts.env);
  auto env_ptrs = make_c_array(envs);
  sigpipe_guard sigpipe;
  spawned_child spawned;
  if (auto problem = spawn_child(opts.argv.front(), arg_ptrs.data(),
                                 env_ptrs.data(), spawned))
    return spawn_failure(std::move(*problem));
  subprocess_result res;
  run_state st{opts, res, sigpipe, spawned};
  pump_io(st);
  reap_child(st);
  return res;
}

} // namespace jamjet
