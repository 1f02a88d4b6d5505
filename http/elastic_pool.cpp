#include "jamjet/http/elastic_pool.hpp"

#include <thread>

namespace jamjet::http {

elastic_pool::elastic_pool(size_t min, size_t max,
                           std::chrono::milliseconds linger)
  : min_(std::max<size_t>(1, min)),
    max_(std::max(max, std::max<size_t>(1, min))), linger_(linger) {
  std::lock_guard<std::mutex> guard{mtx_};
  for (size_t i = 0; i < min_; ++i)
    spawn();
}

elastic_pool::~elastic_pool() {
  shutdown();
}

void elastic_pool::spawn() {
  ++threads_;
  std::thread{[this] { run(); }}.detach();
}

void elastic_pool::enqueue(std::function<void()> fn) {
  {
    std::lock_guard<std::mutex> guard{mtx_};
    jobs_.push_back(std::move(fn));
    if (idle_ < jobs_.size() && threads_ < max_ && !stopping_)
      spawn();
  }
  work_.notify_one();
}

void elastic_pool::run() {
  std::unique_lock<std::mutex> lock{mtx_};
  for (;;) {
    ++idle_;
    bool got = work_.wait_for(lock, linger_,
                              [&] { return !jobs_.empty() || stopping_; });
    --idle_;
    if (jobs_.empty()) {
      if (stopping_ || (!got && threads_ > min_))
        break;
      continue;
    }
    auto fn = std::move(jobs_.front());
    jobs_.pop_front();
    lock.unlock();
    fn();
    lock.lock();
  }
  --threads_;
  // Notified under the lock: once `shutdown` sees no threads, none of them
  // touches the pool again.
  gone_.notify_all();
}

void elastic_pool::shutdown() {
  std::unique_lock<std::mutex> lock{mtx_};
  stopping_ = true;
  work_.notify_all();
  gone_.wait(lock, [&] { return threads_ == 0; });
}

size_t elastic_pool::threads() const {
  std::lock_guard<std::mutex> guard{mtx_};
  return threads_;
}

size_t elastic_pool::idle() const {
  std::lock_guard<std::mutex> guard{mtx_};
  return idle_;
}

} // namespace jamjet::http
