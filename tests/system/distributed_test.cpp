// A scheduler node and worker processes on 127.0.0.1, as users run them:
// `jamjet serve`, `jamjet worker`, `jamjet submit`. Real processes, killed
// with SIGKILL where the test says so.

#include <catch2/catch.hpp>

#include <arpa/inet.h>
#include <fstream>
#include <future>
#include <netinet/in.h>
#include <set>
#include <sstream>
#include <sys/socket.h>
#include <sys/stat.h>
#include <thread>
#include <unistd.h>

#include <nlohmann/json.hpp>

#include "jamjet/messages/event_json.hpp"
#include "jamjet/support/subprocess.hpp"
#include "system_cli.hpp"
#include "testing/temp_dir.hpp"

using namespace jamjet;
using json = nlohmann::json;
using jamjet::testing::background;
using jamjet::testing::cli;
using jamjet::testing::free_port;
using jamjet::testing::temp_dir;
using namespace std::chrono_literals;

namespace {

/// Waits until a client can talk to the node at `endpoint`.
/// Options that give a peer its token: {"--token-file", F} or {"--token", T}.
using auth = std::vector<std::string>;

std::vector<std::string> with(std::vector<std::string> args, const auth& a) {
  args.insert(args.end(), a.begin(), a.end());
  return args;
}

void wait_for_node(const std::string& endpoint, const auth& a) {
  for (int i = 0; i < 500; ++i) {
    if (cli(with({"status", "--connect", endpoint}, a)).exit_code == 0)
      return;
    std::this_thread::sleep_for(20ms);
  }
  FAIL("the node at " << endpoint << " never answered");
}

/// start -> w0..w{n-1} (command nodes sleeping `secs`) -> join.
std::string fan_workflow(int n, double secs) {
  json nodes = json::object();
  json edges = json::array();
  auto cmd = [&](const std::string& id) {
    std::string script = "cat >/dev/null; sleep " + std::to_string(secs) +
                         "; printf '{\"" + id + "\":\"%s\"}' \"$$\"";
    return json{{"id", id},
                {"kind", {{"type", "command"}, {"argv", {"sh", "-c", script}}}},
                {"retry_policy", nullptr},
                {"node_timeout_secs", 60}};
  };
  nodes["start"] = cmd("start");
  nodes["join"] = cmd("join");
  edges.push_back({{"from", "join"}, {"to", "end"}, {"condition", nullptr}});
  for (int i = 0; i < n; ++i) {
    auto id = "w" + std::to_string(i);
    nodes[id] = cmd(id);
    edges.push_back({{"from", "start"}, {"to", id}, {"condition", nullptr}});
    edges.push_back({{"from", id}, {"to", "join"}, {"condition", nullptr}});
  }
  return json{{"workflow_id", "fan"},
              {"version", "1"},
              {"start_node", "start"},
              {"nodes", nodes},
              {"edges", edges},
              {"retry_policies", json::object()},
              {"timeouts", json::object()}}
    .dump();
}

std::vector<json> events_of(const std::string& endpoint, const auth& a,
                            const std::string& id) {
  auto res = cli(with({"events", id, "--connect", endpoint}, a));
  REQUIRE(res.exit_code == 0);
  std::vector<json> out;
  std::istringstream lines{res.out};
  for (std::string line; std::getline(lines, line);)
    out.push_back(json::parse(line));
  return out;
}

} // namespace

TEST_CASE("a scheduler node and two worker processes run a fan-out",
          "[distributed]") {
  temp_dir dir;
  auto port = std::to_string(free_port());
  auto endpoint = "127.0.0.1:" + port;
  background serve{{"serve", "--db", dir.path + "/s.db", "--listen", endpoint,
                    "--token", "t0k"}};
  wait_for_node(endpoint, {"--token", "t0k"});
  background w1{{"worker", "--connect", endpoint, "--token", "t0k", "--slots",
                 "2", "--name", "one"}};
  background w2{{"worker", "--connect", endpoint, "--token", "t0k", "--slots",
                 "2", "--name", "two"}};
  auto wf = dir.write("fan.json", fan_workflow(6, 0.3));
  auto res =
    cli({"submit", wf, "--connect", endpoint, "--token", "t0k", "--wait"});
  INFO(res.err);
  REQUIRE(res.exit_code == 0);
  auto state = json::parse(res.out);
  CHECK(state.size() == 8);
  // Both workers took part.
  auto all =
    json::parse(cli({"status", "--connect", endpoint, "--token", "t0k"}).out);
  REQUIRE(all.size() == 1);
  std::set<std::string> workers;
  for (auto& e :
       events_of(endpoint, {"--token", "t0k"}, all[0]["execution_id"]))
    if (e["kind"]["type"] == "node_started")
      workers.insert(e["kind"]["worker_id"].get<std::string>());
  CHECK(workers == std::set<std::string>{"one", "two"});
  // A wrong token is refused with a clear error, exit 2.
  auto denied = cli({"submit", wf, "--connect", endpoint, "--token", "bad"});
  CHECK(denied.exit_code == 2);
  CHECK(denied.err.find("wrong token") != std::string::npos);
  // A token on the command line works, with a warning: `ps` shows it.
  CHECK(denied.err.find("visible to other users") != std::string::npos);
  CHECK(denied.err.find("--token-file") != std::string::npos);
}

TEST_CASE("a worker killed mid-task has its leases reclaimed at once",
          "[distributed]") {
  temp_dir dir;
  auto endpoint = "127.0.0.1:" + std::to_string(free_port());
  // A 60 s lease: a reclaim within a few seconds can only come from the
  // worker being seen down.
  background serve{{"serve", "--db", dir.path + "/s.db", "--listen", endpoint,
                    "--token", "k", "--lease", "60"}};
  wait_for_node(endpoint, {"--token", "k"});
  background victim{{"worker", "--connect", endpoint, "--token", "k", "--slots",
                     "4", "--name", "victim"}};
  auto wf = dir.write("fan.json", fan_workflow(3, 2.0));
  auto sub =
    cli({"submit", wf, "--connect", endpoint, "--token", "k", "--json"});
  REQUIRE(sub.exit_code == 0);
  std::string id = json::parse(sub.out)["execution_id"];
  // Wait until the victim runs the fan-out nodes, then kill it.
  for (int i = 0; i < 500; ++i) {
    int started = 0;
    for (auto& e : events_of(endpoint, {"--token", "k"}, id))
      if (e["kind"]["type"] == "node_started" &&
          e["kind"]["node_id"] != "start")
        ++started;
    if (started == 3)
      break;
    std::this_thread::sleep_for(20ms);
  }
  victim.stop(); // SIGKILL
  auto killed_at = std::chrono::duration_cast<std::chrono::milliseconds>(
                     std::chrono::system_clock::now().time_since_epoch())
                     .count();
  background rescuer{{"worker", "--connect", endpoint, "--token", "k",
                      "--slots", "4", "--name", "rescuer"}};
  auto out =
    json::parse(cli({"status", id, "--connect", endpoint, "--token", "k"}).out);
  for (int i = 0; i < 1500 && out["status"] == "running"; ++i) {
    std::this_thread::sleep_for(20ms);
    out = json::parse(
      cli({"status", id, "--connect", endpoint, "--token", "k"}).out);
  }
  CHECK(out["status"] == "completed");
  int reclaimed = 0;
  for (auto& e : events_of(endpoint, {"--token", "k"}, id)) {
    auto& k = e["kind"];
    if (k["type"] == "node_failed" &&
        k["error"].get<std::string>().find("went down") != std::string::npos) {
      ++reclaimed;
      // Well inside the 60 s lease period.
      CHECK(parse_rfc3339(e["created_at"]) - killed_at < 10000);
    }
  }
  CHECK(reclaimed == 3);
}

TEST_CASE("a scheduler killed and restarted on the same store finishes the "
          "run",
          "[distributed]") {
  temp_dir dir;
  auto endpoint = "127.0.0.1:" + std::to_string(free_port());
  auto db = dir.path + "/s.db";
  std::vector<std::string> serve_args{
    "serve", "--db", db, "--listen", endpoint, "--token", "k", "--lease", "2"};
  auto serve = std::make_unique<background>(serve_args);
  wait_for_node(endpoint, {"--token", "k"});
  background w1{{"worker", "--connect", endpoint, "--token", "k", "--slots",
                 "2", "--name", "one"}};
  background w2{{"worker", "--connect", endpoint, "--token", "k", "--slots",
                 "2", "--name", "two"}};
  auto wf = dir.write("fan.json", fan_workflow(4, 1.0));
  auto sub = cli({"submit", wf, "--connect", endpoint, "--token", "k"});
  REQUIRE(sub.exit_code == 0);
  // The bare id, ready for `ID=$(jamjet submit ...)`.
  REQUIRE(sub.out.size() > 1);
  REQUIRE(sub.out.back() == '\n');
  std::string id = sub.out.substr(0, sub.out.size() - 1);
  CHECK(id.find_first_of(" {\"\n") == std::string::npos);
  for (int i = 0; i < 500; ++i) {
    bool fanned = false;
    for (auto& e : events_of(endpoint, {"--token", "k"}, id))
      fanned |=
        e["kind"]["type"] == "node_started" && e["kind"]["node_id"] == "w0";
    if (fanned)
      break;
    std::this_thread::sleep_for(20ms);
  }
  serve->stop(); // SIGKILL in the middle of the fan-out
  serve = std::make_unique<background>(serve_args);
  wait_for_node(endpoint, {"--token", "k"});
  json out;
  for (int i = 0; i < 3000; ++i) {
    out = json::parse(
      cli({"status", id, "--connect", endpoint, "--token", "k"}).out);
    if (out["status"] != "running")
      break;
    std::this_thread::sleep_for(20ms);
  }
  INFO(out.dump());
  REQUIRE(out["status"] == "completed");
  CHECK(out["final_state"].size() == 6);
}

TEST_CASE("a peer sending garbage does not take the node down",
          "[distributed][security]") {
  temp_dir dir;
  auto port = free_port();
  auto endpoint = "127.0.0.1:" + std::to_string(port);
  background serve{{"serve", "--db", dir.path + "/s.db", "--listen", endpoint}};
  // Its token: the file serve creates next to the store.
  auth a{"--token-file", dir.path + "/s.db.token"};
  wait_for_node(endpoint, a);
  for (std::string garbage : {std::string{"GET / HTTP/1.1\r\nHost: x\r\n\r\n"},
                              std::string{"\xff\xff\xff\xff", 4},
                              std::string{"\0\0\0\2\xc8\x01", 6}}) {
    int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(port);
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    REQUIRE(::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) ==
            0);
    CHECK(::write(fd, garbage.data(), garbage.size()) ==
          static_cast<ssize_t>(garbage.size()));
    char buf[64];
    timeval tv{10, 0};
    ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    while (::read(fd, buf, sizeof(buf)) > 0) {
    }
    ::close(fd);
  }
  background worker{with({"worker", "--connect", endpoint}, a)};
  auto wf = dir.write("fan.json", fan_workflow(2, 0.0));
  auto res = cli(with({"submit", wf, "--connect", endpoint, "--wait"}, a));
  INFO(res.err);
  CHECK(res.exit_code == 0);
}

TEST_CASE("serve --insecure is refused on an address that is not loopback",
          "[distributed][token]") {
  temp_dir dir;
  auto port = std::to_string(free_port());
  // 127.example is spelled like a loopback address but does not resolve to
  // one: the check is on resolved addresses.
  for (std::string host : {"0.0.0.0", "127.example"}) {
    auto res = cli({"serve", "--db", dir.path + "/s.db", "--listen",
                    host + ":" + port, "--insecure"});
    INFO(host << ": " << res.err);
    CHECK(res.exit_code == 2);
    CHECK(res.err.find("refusing --insecure on " + host) != std::string::npos);
  }
  CHECK(cli({"worker", "--connect", "nohost"}).exit_code == 2);
}

TEST_CASE("the distributed example script runs a workflow on two workers",
          "[distributed][examples]") {
  subprocess_options opts;
  // From the project's root, as the README runs it.
  opts.argv = {"sh", "-c",
               "cd '" + std::string{JAMJET_EXAMPLES_DIR} +
                 "/..' && exec sh examples/distributed/run_local.sh"};
  opts.env = {{"JAMJET", JAMJET_CLI_PATH},
              {"PORT", std::to_string(free_port())}};
  opts.timeout = std::chrono::seconds{120};
  auto res = run_subprocess(opts);
  INFO(res.err);
  REQUIRE(res.exit_code == 0);
  CHECK(json::parse(res.out)["report"] == "9 words on 2 lines");
  CHECK(res.err.find("ran on worker-") != std::string::npos);
}

TEST_CASE("a worker told to stop finishes its work, then exits",
          "[distributed]") {
  temp_dir dir;
  auto endpoint = "127.0.0.1:" + std::to_string(free_port());
  background serve{{"serve", "--db", dir.path + "/s.db", "--listen", endpoint}};
  auth a{"--token-file", dir.path + "/s.db.token"};
  wait_for_node(endpoint, a);
  auto name = "drainer-" + std::to_string(::getpid());
  background worker{with(
    {"worker", "--connect", endpoint, "--name", name, "--grace", "60"}, a)};
  auto wf = dir.write("one.json", fan_workflow(1, 1.5));
  auto sub = cli(with({"submit", wf, "--connect", endpoint, "--json"}, a));
  REQUIRE(sub.exit_code == 0);
  std::string id = json::parse(sub.out)["execution_id"];
  bool running = false;
  for (int i = 0; i < 500 && !running; ++i) {
    for (auto& e : events_of(endpoint, a, id))
      running |=
        e["kind"]["type"] == "node_started" && e["kind"]["node_id"] == "w0";
    std::this_thread::sleep_for(20ms);
  }
  REQUIRE(running);
  // SIGTERM while w0 runs: no new work, w0 finishes, the worker exits 0.
  // "[d]rainer" matches the worker's command line but not pkill's own.
  REQUIRE(std::system(
            ("pkill -TERM -f -- '--name [d]" + name.substr(1) + "'").c_str()) ==
          0);
  auto res = worker.result.get();
  CHECK(res.exit_code == 0);
  bool completed = false;
  bool failed = false;
  for (auto& e : events_of(endpoint, a, id)) {
    completed |=
      e["kind"]["type"] == "node_completed" && e["kind"]["node_id"] == "w0";
    failed |= e["kind"]["type"] == "node_failed";
  }
  CHECK(completed);
  CHECK_FALSE(failed);
  // The rest of the run waits for another worker, which finishes it.
  background other{with({"worker", "--connect", endpoint}, a)};
  json out;
  for (int i = 0; i < 1500; ++i) {
    out = json::parse(cli(with({"status", id, "--connect", endpoint}, a)).out);
    if (out["status"] != "running")
      break;
    std::this_thread::sleep_for(20ms);
  }
  CHECK(out["status"] == "completed");
}

TEST_CASE("serve without a token option creates DB.token, 0600, and "
          "requires it, also on loopback",
          "[distributed][token]") {
  temp_dir dir;
  auto endpoint = "127.0.0.1:" + std::to_string(free_port());
  auto db = dir.path + "/s.db";
  auto token_file = db + ".token";
  std::string node_token;
  {
    // umask 0: the file is 0600 whatever the umask says.
    background serve{{"serve", "--db", db, "--listen", endpoint}, "0"};
    auth a{"--token-file", token_file};
    wait_for_node(endpoint, a);
    struct stat st {};
    REQUIRE(::stat(token_file.c_str(), &st) == 0);
    CHECK((st.st_mode & 07777) == 0600);
    CHECK(st.st_uid == ::geteuid());
    std::ifstream in{token_file};
    std::getline(in, node_token);
    CHECK(node_token.size() == 64);
    CHECK(node_token.find_first_not_of("0123456789abcdef") ==
          std::string::npos);
    // No token: refused, as a wrong token is (exit 2).
    auto denied = cli({"status", "--connect", endpoint});
    CHECK(denied.exit_code == 2);
    CHECK(denied.err.find("requires a token") != std::string::npos);
    auto wf = dir.write("fan.json", fan_workflow(1, 0.0));
    CHECK(cli({"submit", wf, "--connect", endpoint}).exit_code == 2);
    // With the file: a worker and a client run a workflow.
    background worker{with({"worker", "--connect", endpoint}, a)};
    auto res = cli(with({"submit", wf, "--connect", endpoint, "--wait"}, a));
    INFO(res.err);
    CHECK(res.exit_code == 0);
    // JAMJET_TOKEN instead of a file, no warning.
    auto by_env =
      cli({"status", "--connect", endpoint}, {{"JAMJET_TOKEN", node_token}});
    CHECK(by_env.exit_code == 0);
    CHECK(by_env.err.find("visible to other users") == std::string::npos);
    CHECK(json::parse(by_env.out).size() == 1);
  }
  // The next start uses the same file.
  background again{{"serve", "--db", db, "--listen", endpoint}};
  wait_for_node(endpoint, {"--token-file", token_file});
  std::ifstream in{token_file};
  std::string now;
  std::getline(in, now);
  CHECK(now == node_token);
}

TEST_CASE("a token file that group or others can read is refused",
          "[distributed][token]") {
  temp_dir dir;
  auto endpoint = "127.0.0.1:" + std::to_string(free_port());
  auto db = dir.path + "/s.db";
  // The default file next to the store, and one given with --token-file.
  auto next_to = dir.write("s.db.token", "secret\n");
  auto given = dir.write("given.token", "secret\n");
  ::chmod(next_to.c_str(), 0644);
  ::chmod(given.c_str(), 0640);
  auto timeout = std::chrono::seconds{20};
  for (const auto& args :
       {std::vector<std::string>{"serve", "--db", db, "--listen", endpoint},
        std::vector<std::string>{"serve", "--db", db, "--listen", endpoint,
                                 "--token-file", given},
        std::vector<std::string>{"status", "--connect", endpoint,
                                 "--token-file", given},
        std::vector<std::string>{"worker", "--connect", endpoint,
                                 "--token-file", given}}) {
    auto res = cli(args, {}, timeout);
    INFO(args[0] << ": " << res.err);
    CHECK(res.exit_code == 2);
    CHECK(res.err.find("readable by group or others") != std::string::npos);
  }
  CHECK_FALSE(std::ifstream{db}.good()); // refused before opening the store
}

TEST_CASE("a token given with --token works, with a warning",
          "[distributed][token]") {
  temp_dir dir;
  auto endpoint = "127.0.0.1:" + std::to_string(free_port());
  background serve{{"serve", "--db", dir.path + "/s.db", "--listen", endpoint,
                    "--token", "k"}};
  wait_for_node(endpoint, {"--token", "k"});
  auto res = serve.stop();
  CHECK(res.err.find("--token on the command line is visible to other "
                     "users") != std::string::npos);
  CHECK(res.err.find("--token-file") != std::string::npos);
  CHECK(res.err.find("JAMJET_TOKEN") != std::string::npos);
  // No token file when a token is given.
  CHECK_FALSE(std::ifstream{dir.path + "/s.db.token"}.good());
}

TEST_CASE("serve --insecure on loopback runs without a token, and says so",
          "[distributed][token]") {
  temp_dir dir;
  auto endpoint = "127.0.0.1:" + std::to_string(free_port());
  background serve{
    {"serve", "--db", dir.path + "/s.db", "--listen", endpoint, "--insecure"}};
  wait_for_node(endpoint, {});
  auto res = serve.stop();
  CHECK(res.err.find("--insecure: no token") != std::string::npos);
  CHECK_FALSE(std::ifstream{dir.path + "/s.db.token"}.good());
  // --insecure with a token is a contradiction.
  auto both = cli(
    {"serve", "--db", dir.path + "/s.db", "--listen", endpoint, "--insecure"},
    {{"JAMJET_TOKEN", "k"}}, std::chrono::seconds{20});
  CHECK(both.exit_code == 2);
}
