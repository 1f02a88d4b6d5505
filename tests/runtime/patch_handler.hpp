#pragma once

// A stand-in handler for the runtime tests: nodes carry their result in
// `kind.patch`.

#include <nlohmann/json.hpp>

#include "jamjet/core/handler.hpp"

namespace jamjet::testing {

/// A handler returning the node's `kind.patch` as output and state patch.
inline node_outcome patch_handler(const node_context& ctx) {
  auto patch = ctx.node["kind"].value("patch", nlohmann::json::object());
  return node_outcome::success(patch, patch);
}

} // namespace jamjet::testing
