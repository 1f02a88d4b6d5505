// Writes the seed corpus of fuzz_wire: one payload (no length prefix) per
// file, one file per kind of message, into the folder given as argument.
// Built with JAMJET_FUZZ=ON; run by hand when the frame format changes:
//   build/fuzz/fuzz/make_wire_seeds fuzz/corpus/fuzz_wire

#include <cstdio>
#include <fstream>
#include <string>
#include <vector>

#include "jamjet/messages/wire.hpp"

int main(int argc, char** argv) {
  using namespace jamjet;
  if (argc != 2) {
    std::fprintf(stderr, "usage: %s DIR\n", argv[0]);
    return 2;
  }
  work_item item;
  item.id = "item-1";
  item.execution_id = "exec-1";
  item.node_id = "fetch";
  item.queue_type = "tool";
  item.payload = R"({"url":"x"})";
  item.fence = 3;
  node_result result;
  result.item_id = "item-1";
  result.execution_id = "exec-1";
  client_decide decide;
  decide.execution_id = "exec-1";
  decide.node_id = "approve";
  decide.approve = true;
  decide.user_id = "u";
  decide.state_patch = std::string{R"({"ok":true})"};
  client_start start;
  start.workflow_id = "order";
  start.version = std::string{"1.0.0"};
  start.input = R"({"n":1})";
  std::vector<std::pair<std::string, wire_msg>> seeds = {
    {"hello_worker", wire_hello{wire_version, "secret", "worker", "w1"}},
    {"hello_client", wire_hello{wire_version, "secret", "client", "cli"}},
    {"welcome", wire_welcome{"node-1"}},
    {"refused", wire_refused{"wrong token"}},
    {"join", wire_join{"w1", {"tool", "model"}, 4}},
    {"work_item", item},
    {"cancel", wire_cancel{"item-1"}},
    {"node_result", result},
    {"heartbeat", wire_heartbeat{"item-1", 3}},
    {"request_register", wire_request{1, client_register{R"({"nodes":{}})"}}},
    {"request_start", wire_request{2, start}},
    {"request_list", wire_request{3, client_list{}}},
    {"request_signal",
     wire_request{4, client_signal{"exec-1", "k", R"([1,2])"}}},
    {"request_decide", wire_request{5, decide}},
    {"reply", wire_reply{5, true, R"({"ok":1})", 0}},
  };
  for (auto& [name, msg] : seeds) {
    auto frame = encode_frame(msg);
    std::ofstream out{std::string{argv[1]} + "/" + name + ".bin",
                      std::ios::binary};
    out.write(frame.data() + 4, static_cast<std::streamsize>(frame.size() - 4));
  }
  return 0;
}
