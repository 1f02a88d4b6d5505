// Embedding the runtime in a C++ application.
//
// What it shows: registering C++ handlers per node kind, a diamond DAG whose
// branches run in parallel and join, state merged from each node's patch,
// and a transient failure that the runtime retries (after a 1 s back-off).
//
//            +--> enrich_a --+
//   fetch ---+               +--> summarize --> end
//            +--> enrich_b --+
//
// Build it as part of this project (./build/examples/embedding), or in your
// own project with `find_package(jamjet)` (README, "Use it from CMake").
// It prints the event log and the final state.

#include <atomic>
#include <iostream>

#include <jamjet/jamjet.hpp>

using json = nlohmann::json;

static const char* workflow = R"({
  "workflow_id": "diamond_demo",
  "version": "1.0.0",
  "start_node": "fetch",
  "nodes": {
    "fetch":     {"id": "fetch",     "kind": {"type": "tool", "tool_ref": "fetch"}},
    "enrich_a":  {"id": "enrich_a",  "kind": {"type": "tool", "tool_ref": "upper"}},
    "enrich_b":  {"id": "enrich_b",  "kind": {"type": "tool", "tool_ref": "length"}},
    "summarize": {"id": "summarize", "kind": {"type": "model", "model_ref": "none"},
                  "retry_policy": "llm_default"}
  },
  "edges": [
    {"from": "fetch", "to": "enrich_a", "condition": null},
    {"from": "fetch", "to": "enrich_b", "condition": null},
    {"from": "enrich_a", "to": "summarize", "condition": null},
    {"from": "enrich_b", "to": "summarize", "condition": null},
    {"from": "summarize", "to": "end", "condition": null}
  ],
  "retry_policies": {},
  "timeouts": {}
})";

int main() {
  jamjet::runtime_config cfg;
  cfg.worker_slots = 4;
  jamjet::runtime rt{cfg};

  // Kind "tool": what it does depends on the node's tool_ref.
  rt.register_handler("tool", [](const jamjet::node_context& ctx) {
    auto tool = ctx.node["kind"].value("tool_ref", "");
    if (tool == "fetch")
      return jamjet::node_outcome::success(nullptr,
                                           {{"text", "hello, actors"}});
    auto text = ctx.state.value("text", "");
    if (tool == "upper") {
      for (auto& c : text)
        c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
      return jamjet::node_outcome::success(nullptr, {{"upper", text}});
    }
    if (tool == "length")
      return jamjet::node_outcome::success(nullptr, {{"length", text.size()}});
    return jamjet::node_outcome::failure("unknown tool " + tool, false);
  });

  // Kind "model": fails once with a rate limit. The error class matters:
  // the node's `llm_default` policy retries only the classes rate_limit,
  // timeout and server_error.
  std::atomic<int> calls{0};
  rt.register_handler("model", [&calls](const jamjet::node_context& ctx) {
    if (++calls == 1)
      return jamjet::node_outcome::failure("rate limited (try again)", true,
                                           "rate_limit");
    auto summary = ctx.state.value("upper", "") + " (" +
                   std::to_string(ctx.state.value("length", 0)) +
                   " chars, attempt " + std::to_string(ctx.attempt) + ")";
    return jamjet::node_outcome::success(summary, {{"summary", summary}});
  });

  try {
    rt.register_workflow(workflow);
    auto id = rt.start("diamond_demo", {{"requested_by", "example"}});
    auto result = rt.wait(id);
    for (auto& e : rt.events(id))
      std::cout << e.sequence << "  " << jamjet::type_name_of(e.kind) << " "
                << jamjet::node_id_of(e.kind) << "\n";
    if (result.completed())
      std::cout << "completed: " << result.state.dump(2) << "\n";
    else
      std::cout << result.status << ": " << result.error << "\n";
    return result.completed() ? 0 : 1;
  } catch (const jamjet::error& e) {
    std::cerr << "error: " << e.what() << "\n";
    return 2;
  }
}
