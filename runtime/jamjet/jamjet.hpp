#pragma once

// Everything an application needs to run JamJet workflows:
//
//   #include <jamjet/jamjet.hpp>
//
//   jamjet::runtime_config cfg;
//   cfg.store = jamjet::sqlite_store::open("jamjet.db");   // durable
//   jamjet::runtime rt{cfg};
//   rt.register_handler("tool", [](const jamjet::node_context& ctx) {
//     return jamjet::node_outcome::success({{"ok", true}});
//   });
//   rt.register_workflow(ir_json_text);
//   auto result = rt.wait(rt.start("my_workflow", {{"query", "..."}}));
//
// In CMake: `find_package(jamjet REQUIRED)` and
// `target_link_libraries(app PRIVATE jamjet::jamjet)`.

#include "jamjet/core/handler.hpp"
#include "jamjet/messages/error.hpp"
#include "jamjet/messages/event.hpp"
#include "jamjet/messages/event_json.hpp"
#include "jamjet/remote.hpp"
#include "jamjet/runtime.hpp"
#include "jamjet/store/memory_store.hpp"
#include "jamjet/store/sqlite_store.hpp"
#include "jamjet/store/store.hpp"
#include "jamjet/version.hpp"
