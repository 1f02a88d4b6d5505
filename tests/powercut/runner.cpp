// The workload of the power-cut test: a runtime on an SQLite store whose
// every write goes through the power-cut VFS, starting and finishing
// executions of a workflow until it is killed. It prints "started ID" once
// a start is acknowledged and "completed ID" once an execution's end is.
//
//   jamjet_powercut_runner DB WORKFLOW.json

#include <fstream>
#include <iostream>
#include <sstream>

#include <jamjet/jamjet.hpp>

#include "jamjet/store/sqlite_store.hpp"
#include "powercut_vfs.hpp"

int main(int argc, char** argv) {
  if (argc != 3) {
    std::cerr << "usage: jamjet_powercut_runner DB WORKFLOW.json\n";
    return 2;
  }
  jamjet::testing::install_powercut_vfs();
  std::ifstream in{argv[2]};
  std::stringstream ir;
  ir << in.rdbuf();
  jamjet::runtime_config cfg;
  cfg.worker_slots = 4;
  cfg.store = jamjet::sqlite_store::open(argv[1]);
  jamjet::runtime rt{cfg};
  rt.register_builtin_handlers();
  auto wf = rt.register_workflow(ir.str());
  auto at = wf.find('@');
  auto id = wf.substr(0, at);
  auto version = wf.substr(at + 1);
  for (;;) {
    // Three at a time, so commits group and overlap.
    std::vector<std::string> ids;
    for (int k = 0; k < 3; ++k) {
      ids.push_back(rt.start(id, nlohmann::json::object(), version));
      std::cout << "started " << ids.back() << std::endl;
    }
    for (auto& x : ids) {
      auto res = rt.wait(x);
      if (!res.completed()) {
        std::cerr << "execution " << x << " " << res.status << "\n";
        return 1;
      }
      std::cout << "completed " << x << std::endl;
    }
  }
}
