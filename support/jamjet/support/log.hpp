#pragma once

// The runtime's logger: "jamjet", writing to stderr, so that an embedding
// application's stdout stays its own.

#include <memory>

#include <spdlog/logger.h>

namespace jamjet {

/// The "jamjet" logger, created on first use (stderr, colour when a
/// terminal) unless the application registered one by that name first.
/// Its level follows `spdlog::set_level` like every spdlog logger.
std::shared_ptr<spdlog::logger> log();

} // namespace jamjet
