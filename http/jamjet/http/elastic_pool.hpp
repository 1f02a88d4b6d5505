#pragma once

// The thread pool of the HTTP server. cpp-httplib serves each connection
// on one thread for its whole life (keep-alive included), and a claim
// waiting for work holds its thread too; its own pool has a fixed size, so
// a few hundred idle connections would starve every other client. This one
// starts `min` threads and adds one whenever a connection arrives with no
// thread free, up to `max`; threads beyond `min` end after a while idle.

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <deque>
#include <functional>
#include <mutex>

#include <httplib.h>

namespace jamjet::http {

class elastic_pool : public httplib::TaskQueue {
 public:
  elastic_pool(size_t min, size_t max,
               std::chrono::milliseconds linger = std::chrono::seconds{30});

  ~elastic_pool() override;

  void enqueue(std::function<void()> fn) override;

  /// Runs what is queued, then joins every thread.
  void shutdown() override;

  /// Threads now, and threads that wait for a job.
  size_t threads() const;
  size_t idle() const;

 private:
  void spawn();
  void run();

  size_t min_;
  size_t max_;
  std::chrono::milliseconds linger_;
  mutable std::mutex mtx_;
  std::condition_variable work_;
  std::condition_variable gone_;
  std::deque<std::function<void()>> jobs_;
  size_t threads_ = 0;
  size_t idle_ = 0;
  bool stopping_ = false;
};

} // namespace jamjet::http
