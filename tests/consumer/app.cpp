// A user's program: a diamond whose join fails once with a transient error
// and is retried, on a SQLite file given on the command line.
//
//          +--> left --+
//   start -+           +--> join
//          +--> right -+

#include <atomic>
#include <iostream>

#include <jamjet/jamjet.hpp>

static const char* diamond = R"({
  "workflow_id": "consumer_diamond", "version": "1", "start_node": "start",
  "nodes": {
    "start": {"id": "start", "kind": {"type": "step"}},
    "left":  {"id": "left",  "kind": {"type": "step"}},
    "right": {"id": "right", "kind": {"type": "step"}},
    "join":  {"id": "join",  "kind": {"type": "step"}, "retry_policy": "fast"}
  },
  "edges": [
    {"from": "start", "to": "left"}, {"from": "start", "to": "right"},
    {"from": "left", "to": "join"}, {"from": "right", "to": "join"},
    {"from": "join", "to": "end"}
  ],
  "retry_policies": {"fast": {"max_attempts": 3, "backoff": "fixed",
                              "initial_delay": 0, "max_delay": 1,
                              "retryable_on": ["server_error"]}}
})";

int main(int argc, char** argv) {
  if (argc != 2) {
    std::cerr << "usage: app STORE.db\n";
    return 2;
  }
  std::cout << "jamjet " << JAMJET_VERSION_STRING << "\n";
  jamjet::runtime_config cfg;
  cfg.store = jamjet::sqlite_store::open(argv[1]);
  jamjet::runtime rt{cfg};
  std::atomic<int> join_calls{0};
  rt.register_handler("step", [&](const jamjet::node_context& ctx) {
    if (ctx.node_id == "join" && ++join_calls == 1)
      return jamjet::node_outcome::failure("backend busy", true,
                                           "server_error");
    return jamjet::node_outcome::success(ctx.node_id,
                                         {{ctx.node_id, ctx.attempt}});
  });
  try {
    rt.register_workflow(diamond);
    auto id = rt.start("consumer_diamond");
    auto result = rt.wait(id);
    for (auto& e : rt.events(id))
      std::cout << jamjet::type_name_of(e.kind) << " "
                << jamjet::node_id_of(e.kind) << "\n";
    std::cout << result.status << " " << result.state.dump() << "\n";
    return result.completed() ? 0 : 1;
  } catch (const jamjet::error& e) {
    std::cerr << "error: " << e.what() << "\n";
    return 2;
  }
}
