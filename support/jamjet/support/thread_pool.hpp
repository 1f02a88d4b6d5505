#pragma once

// A fixed pool of threads for blocking node handlers.

#include <condition_variable>
#include <cstddef>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace jamjet {

/// Runs submitted jobs on `size` threads, in submission order per thread.
/// The destructor runs what is queued, then joins.
class thread_pool {
 public:
  explicit thread_pool(size_t size);
  ~thread_pool();

  thread_pool(const thread_pool&) = delete;
  thread_pool& operator=(const thread_pool&) = delete;

  /// Queues `job` for a free thread.
  void submit(std::function<void()> job);

 private:
  void run();

  std::mutex mtx_;
  std::condition_variable cv_;
  std::deque<std::function<void()>> jobs_;
  bool stopping_ = false;
  std::vector<std::thread> threads_;
};

} // namespace jamjet
