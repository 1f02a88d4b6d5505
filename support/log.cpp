#include "jamjet/support/log.hpp"

#include <mutex>

#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

namespace jamjet {

std::shared_ptr<spdlog::logger> log() {
  static std::mutex mtx;
  std::lock_guard<std::mutex> guard{mtx};
  if (auto existing = spdlog::get("jamjet"))
    return existing;
  auto logger = spdlog::stderr_color_mt("jamjet");
  logger->set_pattern("%H:%M:%S.%e %^%l%$ %v");
  return logger;
}

} // namespace jamjet
