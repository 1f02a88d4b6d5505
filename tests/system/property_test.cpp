// Property tests: hundreds of random DAGs run on a real runtime (real
// threads, random caps, random handler delays, slot and inline handlers,
// transient and terminal failures). After each execution the promises of the
// design (section 3) that a crash-free run can show are checked twice: from
// the committed event log (tests/system/invariants.hpp) and from the handlers'
// own record of what ran when. Crash recovery and fencing of stale results need
// faults injected and are tested elsewhere.
//
// Reproduce a failure with the seed it prints:
//   JAMJET_PROPERTY_SEED=<seed> jamjet_tests_system "[property]"
// Run more rounds (a soak) with JAMJET_PROPERTY_SCALE=<n> (default 1).

#include <catch2/catch.hpp>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <deque>
#include <filesystem>
#include <functional>
#include <future>
#include <memory>
#include <mutex>
#include <optional>
#include <random>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <unistd.h>

#include <nlohmann/json.hpp>

#include "invariants.hpp"
#include "jamjet/core/handler.hpp"
#include "jamjet/messages/error.hpp"
#include "jamjet/messages/event.hpp"
#include "jamjet/runtime.hpp"
#include "jamjet/store/sqlite_store.hpp"

using nlohmann::json;
namespace inv = jamjet::invariants;

namespace {

// -- seeds and randomness
// ------------------------------------------------------

uint64_t env_u64(const char* name, uint64_t fallback) {
  if (auto text = std::getenv(name); text && *text)
    return std::strtoull(text, nullptr, 0);
  return fallback;
}

/// The seed every random choice derives from.
uint64_t master_seed() {
  return env_u64("JAMJET_PROPERTY_SEED", 0x6a616d6a65740017ULL);
}

/// How many times the default amount of work to do.
uint64_t scale() {
  return std::max<uint64_t>(1, env_u64("JAMJET_PROPERTY_SCALE", 1));
}

/// Mixes two numbers into a well-spread seed (splitmix64 finaliser).
uint64_t mix(uint64_t a, uint64_t b) {
  uint64_t z = a + 0x9e3779b97f4a7c15ULL * (b + 1);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

std::string hex(uint64_t x) {
  std::ostringstream out;
  out << "0x" << std::hex << x;
  return out.str();
}

struct rng {
  std::mt19937_64 gen;

  explicit rng(uint64_t seed) : gen(seed) {}

  /// Uniform in [lo, hi].
  uint64_t between(uint64_t lo, uint64_t hi) {
    return std::uniform_int_distribution<uint64_t>{lo, hi}(gen);
  }

  bool chance(double p) { return std::bernoulli_distribution{p}(gen); }

  template <class T>
  const T& pick(const std::vector<T>& xs) {
    return xs[between(0, xs.size() - 1)];
  }
};

// -- the random DAGs
// -------------------------------------------------------------

/// Node kinds used: each lands on a different queue type; `prop_inline`
/// handlers always run inline, `prop_slot` ones always on slot threads, the
/// others as the runtime's configuration says.
const std::vector<std::string> kinds{
  "tool", "model", "python_fn", "memory_retrieval", "prop_slot", "prop_inline"};

/// Top-level state keys that are not node ids.
const std::set<std::string> reserved_keys{"end",    "shared",    "contested",
                                          "doomed", "input_obj", "input_key"};

/// What a node's handler does.
struct node_plan {
  /// Attempts 1..fail_first fail retryably, later ones succeed.
  uint32_t fail_first = 0;
  /// Every attempt fails with retryable=false.
  bool fail_terminal = false;
  /// Every attempt fails retryably (attempts run out).
  bool fail_always = false;
  /// Merged into the node's patch besides `{"<id>": attempt}`.
  json extra = json::object();
  uint32_t delay_us = 0;
  /// Busy-wait instead of sleeping.
  bool spin = false;
};

/// What the handlers of one execution did.
struct exec_record {
  explicit exec_record(size_t n) : runs(n), succeeded(n, 0), returned(n) {}

  /// Attempts each node's handler ran with, in order.
  std::vector<std::vector<uint32_t>> runs;
  /// The node's handler returned success.
  std::vector<char> succeeded;
  /// The patch of its successful run.
  std::vector<json> returned;
  std::vector<std::string> violations;
  std::atomic<int> running{0};
  std::atomic<int> peak_running{0};
  /// Events in the log when the execution was checked.
  size_t log_size = 0;

  void violation(std::string msg) {
    if (violations.size() < 40)
      violations.push_back(std::move(msg));
  }
};

/// One random workflow, its expectations and the handlers' record of its
/// executions.
struct dag_case {
  size_t index = 0;
  uint64_t seed = 0;
  std::string workflow_id;
  inv::dag g;
  std::vector<node_plan> plan;
  json input;
  std::string ir;
  std::string shape;
  /// Whether a node fails for good somewhere.
  bool expect_failure = false;
  bool deletes_doomed = false;
  bool patches_input_obj = false;
  /// `shared.<id>` values that only node `<id>` writes.
  json unique_shared = json::object();
  /// `shared.deep.l1.<key>` values that one node writes.
  json unique_deep = json::object();

  /// Concurrent executions of this workflow to start.
  size_t copies = 1;

  /// Guards `execs` and every record in it.
  std::mutex mtx;
  /// Records by execution id. A handler may run before `start()` has
  /// returned the id, so whoever comes first creates the record.
  std::map<std::string, std::shared_ptr<exec_record>> execs;

  /// The record of execution `id`; the caller holds `mtx`.
  exec_record& record(const std::string& id) {
    auto& x = execs[id];
    if (!x)
      x = std::make_shared<exec_record>(g.size());
    return *x;
  }
};

/// Options of the generator.
struct gen_options {
  size_t min_nodes = 1;
  size_t max_nodes = 300;
  /// Chance that one or two nodes fail for good.
  double p_terminal = 0;
  /// Transient failures: 1..max_transient nodes fail their first attempts.
  size_t max_transient = 0;
  /// Chance that one transient node fails twice (3 s of delays).
  double p_fail_twice = 0;
  /// Chance that one node fails every attempt (exhausting its retries).
  double p_exhaust = 0;
  /// Whether nodes get random retry policies (else none).
  bool random_policies = true;
  uint32_t max_delay_us = 200;
};

std::string random_id(rng& r, std::set<std::string>& used) {
  static const char letters[] = "abcdefghijklmnopqrstuvwxyz";
  static const char more[] = "abcdefghijklmnopqrstuvwxyz0123456789_";
  for (;;) {
    std::string id;
    id += letters[r.between(0, 25)];
    auto len = r.between(2, 9);
    for (uint64_t i = 0; i < len; ++i)
      id += more[r.between(0, sizeof(more) - 2)];
    if (reserved_keys.count(id) == 0 && used.insert(id).second)
      return id;
  }
}

size_t draw_size(rng& r, const gen_options& o) {
  auto span = o.max_nodes - o.min_nodes;
  auto roll = r.between(0, 99);
  size_t hi = o.max_nodes;
  if (roll < 45)
    hi = o.min_nodes + span / 10;
  else if (roll < 80)
    hi = o.min_nodes + span / 2;
  return static_cast<size_t>(r.between(o.min_nodes, std::max(hi, o.min_nodes)));
}

/// Chooses `k` distinct predecessors among `candidates`.
std::vector<size_t> choose(rng& r, std::vector<size_t> candidates, size_t k) {
  std::shuffle(candidates.begin(), candidates.end(), r.gen);
  candidates.resize(std::min(k, candidates.size()));
  return candidates;
}

/// The graph: node 0 (in topological numbering) is the start node and every
/// other node has at least one predecessor numbered before it, so the start
/// node reaches every node. Ids are random, so id order and topological
/// order differ.
void make_graph(rng& r, size_t n, dag_case& d, const gen_options& o) {
  std::set<std::string> used;
  auto shape = r.between(0, 3);
  static const char* shape_names[] = {"uniform", "chain-like", "hubs",
                                      "layered"};
  d.shape = shape_names[shape];
  static const std::vector<size_t> fans{1, 1, 2, 3, 4, 8, 32};
  size_t max_fan = r.pick(fans);
  size_t window = r.between(1, 6);
  size_t hubs = r.between(1, 4);
  for (size_t v = 0; v < n; ++v) {
    std::optional<std::string> policy;
    if (o.random_policies && r.chance(0.4)) {
      static const std::vector<std::string> policies{"io_default",
                                                     "llm_default", "no_retry"};
      policy = r.pick(policies);
    }
    d.g.add_node(random_id(r, used), r.pick(kinds), policy);
  }
  // Layers for the layered shape: [begin of layer k].
  std::vector<size_t> layer_begin{0, 1};
  while (layer_begin.back() < n)
    layer_begin.push_back(layer_begin.back() + r.between(1, 1 + window * 4));
  size_t layer = 1;
  for (size_t v = 1; v < n; ++v) {
    size_t k = r.chance(0.5) ? 1 : r.between(1, std::min(v, max_fan));
    std::vector<size_t> candidates;
    switch (shape) {
      case 0:
        for (size_t u = 0; u < v; ++u)
          candidates.push_back(u);
        break;
      case 1:
        for (size_t u = v > window ? v - window : 0; u < v; ++u)
          candidates.push_back(u);
        break;
      case 2:
        if (r.chance(0.7)) {
          for (size_t u = 0; u < std::min(v, hubs); ++u)
            candidates.push_back(u);
        } else {
          for (size_t u = 0; u < v; ++u)
            candidates.push_back(u);
        }
        break;
      default:
        while (layer_begin[layer + 1] <= v)
          ++layer;
        for (size_t u = layer_begin[layer - 1]; u < layer_begin[layer]; ++u)
          candidates.push_back(u);
        break;
    }
    for (auto p : choose(r, candidates, k))
      d.g.add_edge(p, v);
  }
}

/// A random JSON value for contested keys.
json contested_value(rng& r) {
  switch (r.between(0, 4)) {
    case 0:
      return nullptr;
    case 1:
      return r.between(0, 1000);
    case 2:
      return json{{"x", r.between(0, 9)}};
    case 3:
      return json{{"y", nullptr}, {"z", {{"w", r.between(0, 9)}}}};
    default:
      return "s" + std::to_string(r.between(0, 99));
  }
}

/// State patches: every node writes its own key; some write nested objects
/// under `shared`, some fight over contested keys (with nulls deleting them),
/// one may delete an input key, one may patch a nested input object.
void make_patches(rng& r, dag_case& d) {
  auto n = d.g.size();
  d.plan.resize(n);
  for (size_t v = 0; v < n; ++v) {
    auto& id = d.g.ids[v];
    auto& extra = d.plan[v].extra;
    if (r.chance(0.25)) {
      json value{{"by", id}, {"k", r.between(0, 1u << 20)}};
      extra["shared"][id] = value;
      d.unique_shared[id] = value;
    }
    if (r.chance(0.15))
      extra["shared"]["c" + std::to_string(r.between(0, 2))] =
        contested_value(r);
    if (r.chance(0.1))
      extra["contested"] = contested_value(r);
    if (r.chance(0.05)) {
      extra["shared"]["deep"]["l1"]["of_" + id] = v;
      d.unique_deep["of_" + id] = v;
    }
  }
  if (n > 0 && r.chance(0.5)) {
    d.plan[r.between(0, n - 1)].extra["doomed"] = nullptr;
    d.deletes_doomed = true;
  }
  if (n > 0 && r.chance(0.5)) {
    d.plan[r.between(0, n - 1)].extra["input_obj"] =
      json{{"a", nullptr}, {"b", 2}};
    d.patches_input_obj = true;
  }
}

void make_failures(rng& r, dag_case& d, const gen_options& o) {
  auto n = d.g.size();
  if (r.chance(o.p_terminal)) {
    d.expect_failure = true;
    auto count = r.chance(0.3) ? 2 : 1;
    for (int i = 0; i < count; ++i) {
      auto v = r.between(0, n - 1);
      if (r.chance(0.5)) {
        d.plan[v].fail_terminal = true;
      } else {
        // Fails retryably, but its policy allows one attempt only.
        d.plan[v].fail_always = true;
        d.g.policies[v] = "no_retry";
      }
    }
  }
  if (o.max_transient > 0) {
    auto count = r.between(1, std::min(o.max_transient, n));
    bool twice = r.chance(o.p_fail_twice);
    for (uint64_t i = 0; i < count; ++i) {
      auto v = r.between(0, n - 1);
      auto& p = d.plan[v];
      if (p.fail_terminal || p.fail_always)
        continue;
      d.g.policies[v] = std::nullopt; // 3 attempts, the default delays
      p.fail_first = twice ? 2 : 1;
      twice = false;
    }
  }
  if (r.chance(o.p_exhaust)) {
    auto v = r.between(0, n - 1);
    d.plan[v] = node_plan{0, false, true, d.plan[v].extra, 0, false};
    d.g.policies[v] = std::nullopt; // 3 attempts: 1 s + 2 s of delays
    d.expect_failure = true;
  }
}

std::string make_ir(rng& r, const dag_case& d) {
  json nodes = json::object();
  for (size_t v = 0; v < d.g.size(); ++v) {
    auto& id = d.g.ids[v];
    nodes[id] = {{"id", id},
                 {"kind", {{"type", d.g.kinds[v]}, {"dag", d.index}}},
                 {"retry_policy",
                  d.g.policies[v] ? json(*d.g.policies[v]) : json(nullptr)},
                 {"node_timeout_secs", nullptr}};
  }
  json edges = json::array();
  for (size_t v = 0; v < d.g.size(); ++v) {
    for (auto p : d.g.preds[v])
      edges.push_back(
        {{"from", d.g.ids[p]}, {"to", d.g.ids[v]}, {"condition", nullptr}});
    if (d.g.succs[v].empty())
      edges.push_back(
        {{"from", d.g.ids[v]}, {"to", "end"}, {"condition", nullptr}});
  }
  std::shuffle(edges.begin(), edges.end(), r.gen);
  json ir{{"workflow_id", d.workflow_id},
          {"version", "1.0.0"},
          {"start_node", d.g.ids[0]},
          {"nodes", nodes},
          {"edges", edges},
          {"retry_policies", json::object()},
          {"timeouts", json::object()}};
  return ir.dump();
}

std::unique_ptr<dag_case> make_case(size_t index, uint64_t seed,
                                    const gen_options& o,
                                    std::optional<size_t> size = std::nullopt) {
  auto d = std::make_unique<dag_case>();
  rng r{seed};
  d->index = index;
  d->seed = seed;
  d->workflow_id = "prop_" + std::to_string(index) + "_" + hex(seed);
  auto n = size ? *size : draw_size(r, o);
  make_graph(r, n, *d, o);
  make_patches(r, *d);
  make_failures(r, *d, o);
  for (size_t v = 0; v < n; ++v) {
    auto& p = d->plan[v];
    bool inline_kind = d->g.kinds[v] == "prop_inline";
    p.delay_us = static_cast<uint32_t>(
      r.between(0, inline_kind ? o.max_delay_us / 5 : o.max_delay_us));
    p.spin = inline_kind || r.chance(0.3);
  }
  d->input = {{"input_key", "seed-" + hex(seed)},
              {"doomed", "x"},
              {"input_obj", {{"a", 1}, {"keep", true}}},
              {"shared", {{"from_input", true}}}};
  d->ir = make_ir(r, *d);
  return d;
}

// -- the handler
// -------------------------------------------------------------------

void pause_for(uint32_t us, bool spin) {
  if (us == 0)
    return;
  auto until = std::chrono::steady_clock::now() + std::chrono::microseconds{us};
  if (spin) {
    while (std::chrono::steady_clock::now() < until) {
      // busy
    }
  } else {
    std::this_thread::sleep_until(until);
  }
}

/// The DAGs a runtime runs, indexed by `kind.dag`.
using case_table = std::vector<std::unique_ptr<dag_case>>;

jamjet::node_outcome run_node(const case_table& cases,
                              const jamjet::node_context& ctx) {
  size_t index = 0;
  try {
    index = ctx.node.at("kind").at("dag").get<size_t>();
  } catch (const std::exception&) {
    return jamjet::node_outcome::failure("no dag index in node", false);
  }
  if (index >= cases.size() || !cases[index])
    return jamjet::node_outcome::failure("unknown dag index", false);
  auto& d = *cases[index];
  exec_record* rec = nullptr;
  {
    std::lock_guard<std::mutex> guard{d.mtx};
    rec = &d.record(ctx.execution_id);
  }
  auto& x = *rec; // records are never removed while the runtime runs
  auto found = d.g.find(ctx.node_id);
  if (!found) {
    std::lock_guard<std::mutex> guard{d.mtx};
    x.violation("handler ran for unknown node '" + ctx.node_id + "'");
    return jamjet::node_outcome::failure("unknown node", false);
  }
  auto v = *found;
  auto& id = d.g.ids[v];
  auto& plan = d.plan[v];
  auto now_running = ++x.running;
  for (auto peak = x.peak_running.load();
       now_running > peak &&
       !x.peak_running.compare_exchange_weak(peak, now_running);) {
  }
  {
    std::lock_guard<std::mutex> guard{d.mtx};
    if (ctx.node.value("id", std::string{}) != id)
      x.violation("handler of '" + id + "' got node JSON " + ctx.node.dump());
    if (x.succeeded[v])
      x.violation("handler of '" + id + "' ran again (attempt " +
                  std::to_string(ctx.attempt) + ") after it had succeeded");
    auto expected = static_cast<uint32_t>(x.runs[v].size() + 1);
    if (ctx.attempt != expected)
      x.violation("handler of '" + id + "' ran with attempt " +
                  std::to_string(ctx.attempt) + "; expected " +
                  std::to_string(expected));
    x.runs[v].push_back(ctx.attempt);
    for (auto p : d.g.preds[v]) {
      auto& pid = d.g.ids[p];
      if (!x.succeeded[p]) {
        x.violation("handler of '" + id +
                    "' started before the handler of "
                    "its predecessor '" +
                    pid + "' had succeeded");
        continue;
      }
      // The state the node was scheduled with holds what its predecessors
      // wrote.
      auto it = ctx.state.find(pid);
      auto want = static_cast<uint32_t>(x.runs[p].size());
      if (it == ctx.state.end() || *it != want)
        x.violation(
          "handler of '" + id + "' got a state without '" + pid +
          "': " + std::to_string(want) + " (state has " +
          (it == ctx.state.end() ? std::string{"nothing"} : it->dump()) + ")");
    }
  }
  pause_for(plan.delay_us, plan.spin);
  jamjet::node_outcome out;
  if (plan.fail_terminal) {
    out =
      jamjet::node_outcome::failure("planned failure of '" + id + "'", false);
  } else if (plan.fail_always || ctx.attempt <= plan.fail_first) {
    out = jamjet::node_outcome::failure("planned transient failure of '" + id +
                                          "' at attempt " +
                                          std::to_string(ctx.attempt),
                                        true);
  } else {
    json patch = plan.extra;
    patch[id] = ctx.attempt;
    out = jamjet::node_outcome::success(json{{"node", id}}, patch);
    std::lock_guard<std::mutex> guard{d.mtx};
    x.returned[v] = std::move(patch);
    x.succeeded[v] = 1;
  }
  --x.running;
  return out;
}

// -- running and checking
// -------------------------------------------------------------

/// A runtime configuration, drawn at random.
struct run_config {
  uint32_t slots = 4;
  size_t max_in_flight = 16;
  size_t per_wake = 8;
  size_t scheduler_threads = 0;
  /// Executions started before waiting for the oldest.
  size_t window = 1;
  /// The SQLite store (WAL, synchronous=NORMAL) instead of the in-memory
  /// one: the backend then runs detached and commits in groups.
  bool sqlite = false;
  /// Per kind: whether its handler runs on a slot thread.
  std::vector<bool> blocking;

  std::string describe() const {
    std::ostringstream out;
    out << "worker_slots=" << slots << " max_in_flight=" << max_in_flight
        << " max_dispatch_per_wake=" << per_wake
        << " scheduler_threads=" << scheduler_threads << " window=" << window
        << " store=" << (sqlite ? "sqlite" : "memory") << " blocking=";
    for (size_t k = 0; k < kinds.size(); ++k)
      out << (k ? "," : "") << kinds[k] << ":"
          << (blocking[k] ? "slot" : "inline");
    return out.str();
  }
};

run_config draw_config(rng& r) {
  run_config c;
  c.slots = static_cast<uint32_t>(r.between(4, 8));
  static const std::vector<size_t> caps{1, 1, 2, 3, 4, 8, 16, 64, 1000};
  static const std::vector<size_t> wakes{1, 2, 3, 8, 64};
  static const std::vector<size_t> threads{0, 1, 2, 3};
  c.max_in_flight = r.pick(caps);
  c.per_wake = r.pick(wakes);
  c.scheduler_threads = r.pick(threads);
  c.window = r.between(1, 16);
  c.sqlite = r.chance(0.25);
  for (auto& k : kinds)
    c.blocking.push_back(k == "prop_slot"     ? true
                         : k == "prop_inline" ? false
                                              : r.chance(0.5));
  return c;
}

/// Checks one finished execution; returns every violation found.
std::vector<std::string> check_case(jamjet::runtime& rt, dag_case& d,
                                    const std::string& exec_id,
                                    const run_config& c,
                                    const jamjet::execution_result& res) {
  std::vector<std::string> out;
  auto log = rt.events(exec_id);
  inv::expectation x;
  x.execution_id = exec_id;
  x.workflow_id = d.workflow_id;
  x.version = "1.0.0";
  x.input = d.input;
  x.end = d.expect_failure ? inv::ending::failed : inv::ending::completed;
  x.max_in_flight = c.max_in_flight;
  auto rep = inv::check_log(d.g, log, x);
  out = rep.violations;
  // Every handler of the execution has returned: its record is final.
  std::shared_ptr<exec_record> rec;
  {
    std::lock_guard<std::mutex> guard{d.mtx};
    rec = d.execs[exec_id];
    if (!rec)
      rec = d.execs[exec_id] = std::make_shared<exec_record>(d.g.size());
    rec->log_size = log.size();
  }
  auto& h = *rec;
  for (auto& v : h.violations)
    out.push_back("[handler] " + v);
  auto n = d.g.size();
  // The per-execution cap on nodes in flight, as the handlers saw it.
  if (static_cast<size_t>(h.peak_running.load()) > c.max_in_flight)
    out.push_back("up to " + std::to_string(h.peak_running.load()) +
                  " handlers of the execution ran at once; the cap is " +
                  std::to_string(c.max_in_flight));
  if (h.running.load() != 0)
    out.push_back(std::to_string(h.running.load()) +
                  " handlers still running after the execution ended");
  // With one node in flight, dispatch order is Kahn's, ties by node id.
  if (c.max_in_flight == 1) {
    auto kahn = inv::kahn_order(d.g);
    bool prefix = rep.schedule_order.size() <= kahn.size() &&
                  std::equal(rep.schedule_order.begin(),
                             rep.schedule_order.end(), kahn.begin());
    if (!prefix)
      out.push_back("with max_in_flight=1 the nodes were not scheduled in "
                    "topological order with ties by node id");
  }
  // The handlers' record against the log.
  for (size_t v = 0; v < n; ++v) {
    auto& id = d.g.ids[v];
    auto& t = rep.nodes[v];
    auto& plan = d.plan[v];
    if (h.runs[v] != t.started)
      out.push_back("node '" + id + "': the handler ran " +
                    std::to_string(h.runs[v].size()) +
                    " times but the log shows " +
                    std::to_string(t.started.size()) + " node_started");
    if (t.completed != 0 && t.patch != h.returned[v])
      out.push_back("node '" + id + "': node_completed carries patch " +
                    t.patch.dump() + ", the handler returned " +
                    h.returned[v].dump());
    if (t.completed != 0 && (plan.fail_terminal || plan.fail_always))
      out.push_back("node '" + id + "' completed although it always fails");
    if (t.completed != 0 && t.started.size() != plan.fail_first + 1u)
      out.push_back("node '" + id + "' completed after " +
                    std::to_string(t.started.size()) +
                    " attempts; its handler fails the first " +
                    std::to_string(plan.fail_first));
    if (plan.fail_always && t.scheduled != 0 && t.cancelled == 0 &&
        t.started.size() != inv::expected_max_attempts(d.g.policies[v]))
      out.push_back("node '" + id + "' always fails but ran " +
                    std::to_string(t.started.size()) + " attempts");
    if (t.terminal_failure != 0 && !plan.fail_terminal && !plan.fail_always)
      out.push_back("node '" + id +
                    "' failed although its handler "
                    "never fails for good");
  }
  if (!d.expect_failure) {
    // The final state (RFC 7396 patches in sequence order, design section
    // 4), from the log and from wait().
    if (!res.completed())
      out.push_back("wait(): status '" + res.status + "', error '" + res.error +
                    "'");
    if (rep.final_state && res.state != *rep.final_state)
      out.push_back("wait(): state differs from workflow_completed");
    auto again = rt.wait(exec_id);
    if (again.status != res.status || again.state != res.state)
      out.push_back("a second wait() answers differently: " + again.status);
    auto& fin = res.state;
    if (!fin.is_object()) {
      out.push_back("wait(): the state is not an object: " + fin.dump());
    } else {
      // Independent expectations: keys only one writer touches.
      for (size_t v = 0; v < n; ++v) {
        auto& id = d.g.ids[v];
        auto it = fin.find(id);
        if (it == fin.end() || h.runs[v].empty() || *it != h.runs[v].back())
          out.push_back(
            "final state: '" + id + "' is " +
            (it == fin.end() ? std::string{"missing"} : it->dump()));
      }
      if (fin.value("input_key", json()) != d.input["input_key"])
        out.push_back("final state: input_key lost");
      if (fin.contains("doomed") == d.deletes_doomed)
        out.push_back("final state: 'doomed' is " +
                      std::string{d.deletes_doomed ? "still there" : "gone"});
      auto want_obj = d.patches_input_obj ? json{{"keep", true}, {"b", 2}}
                                          : d.input["input_obj"];
      if (fin.value("input_obj", json()) != want_obj)
        out.push_back("final state: input_obj is " +
                      fin.value("input_obj", json()).dump());
      auto shared = fin.value("shared", json());
      if (shared.value("from_input", false) != true)
        out.push_back("final state: shared.from_input lost");
      for (auto& [key, value] : d.unique_shared.items())
        if (shared.value(key, json()) != value)
          out.push_back("final state: shared." + key + " is " +
                        shared.value(key, json()).dump());
      for (auto& [key, value] : d.unique_deep.items()) {
        auto got = shared.value("deep", json::object())
                     .value("l1", json::object())
                     .value(key, json());
        if (got != value)
          out.push_back("final state: shared.deep.l1." + key + " is " +
                        got.dump());
      }
    }
  } else {
    // A terminal failure (promise 6): wait() reports it, naming the node.
    if (res.status != "failed")
      out.push_back("wait(): status '" + res.status + "'; expected failed");
    if (rep.first_failed && res.error.find("'" + d.g.ids[*rep.first_failed] +
                                           "'") == std::string::npos)
      out.push_back("wait(): error '" + res.error +
                    "' does not name the failed node");
    if (!res.state.is_null())
      out.push_back("wait(): a failed execution has state " + res.state.dump());
    for (size_t v = 0; v < n; ++v)
      if (rep.nodes[v].terminal_failure != 0)
        for (auto s : d.g.descendants(v))
          if (!h.runs[s].empty())
            out.push_back("handler of '" + d.g.ids[s] + "' ran although '" +
                          d.g.ids[v] + "', which it depends on, failed");
  }
  // The status query agrees with the log.
  try {
    auto st = rt.status(exec_id);
    auto want = d.expect_failure ? "failed" : "completed";
    if (st.status != want || st.last_sequence != log.size() ||
        st.workflow_id != d.workflow_id)
      out.push_back("status(): " + st.status + " at sequence " +
                    std::to_string(st.last_sequence) + "; the log has " +
                    std::to_string(log.size()) + " events");
  } catch (const std::exception& ex) {
    out.push_back(std::string{"status() threw: "} + ex.what());
  }
  return out;
}

std::string describe(const dag_case& d) {
  size_t edges = 0;
  for (auto& p : d.g.preds)
    edges += p.size();
  std::ostringstream out;
  out << "dag " << d.index << " seed " << hex(d.seed) << ": " << d.g.size()
      << " nodes, " << edges << " edges, shape " << d.shape
      << (d.expect_failure ? ", fails" : "") << ", workflow '" << d.workflow_id
      << "'";
  return out.str();
}

/// The last events of an execution, for a report on a hang.
std::string tail_of(jamjet::runtime& rt, const std::string& id) {
  std::ostringstream out;
  try {
    auto log = rt.events(id);
    out << log.size() << " events";
    for (size_t i = log.size() > 8 ? log.size() - 8 : 0; i < log.size(); ++i)
      out << "\n    " << log[i].sequence << " " << type_name_of(log[i].kind)
          << " " << node_id_of(log[i].kind);
  } catch (const std::exception& ex) {
    out << "events() threw: " << ex.what();
  }
  return out.str();
}

/// A database file for one runtime, removed afterwards.
struct temp_db {
  std::string path;

  temp_db() {
    static std::atomic<int> counter{0};
    path = (std::filesystem::temp_directory_path() /
            ("jamjet_property_" + std::to_string(::getpid()) + "_" +
             std::to_string(++counter) + ".db"))
             .string();
    remove_all();
  }

  ~temp_db() { remove_all(); }

  temp_db(const temp_db&) = delete;
  temp_db& operator=(const temp_db&) = delete;

  void remove_all() {
    std::error_code ec;
    for (auto suffix : {"", "-wal", "-shm", ".lock"})
      std::filesystem::remove(path + suffix, ec);
  }
};

/// Totals for a summary line.
struct totals {
  size_t dags = 0;
  size_t executions = 0;
  size_t nodes = 0;
  size_t failed = 0;
  size_t retried = 0;
};

/// Runs `cases` on one runtime configured by `c` and checks each.
/// `extra`, when set, runs more checks on each finished execution.
void run_group(const std::string& label, case_table& cases, const run_config& c,
               std::chrono::seconds budget, totals& sum,
               const std::function<void(jamjet::runtime&, dag_case&,
                                        const std::string&)>& extra = nullptr) {
  // Declared first: the files go after the runtime and its store.
  std::optional<temp_db> db;
  jamjet::runtime_config cfg;
  if (c.sqlite) {
    db.emplace();
    jamjet::sqlite_options opts;
    opts.synchronous_full = false;
    cfg.store = jamjet::sqlite_store::open(db->path, opts);
  }
  cfg.worker_slots = c.slots;
  cfg.max_in_flight = c.max_in_flight;
  cfg.max_dispatch_per_wake = c.per_wake;
  cfg.scheduler_threads = c.scheduler_threads;
  jamjet::runtime rt{cfg};
  for (size_t k = 0; k < kinds.size(); ++k)
    rt.register_handler(
      kinds[k],
      [&cases](const jamjet::node_context& ctx) {
        return run_node(cases, ctx);
      },
      c.blocking[k]);
  for (auto& d : cases)
    REQUIRE_NOTHROW(rt.register_workflow(d->ir));
  auto deadline = std::chrono::steady_clock::now() + budget;
  struct running {
    dag_case* d;
    std::string id;
    std::future<jamjet::execution_result> result;
  };
  std::deque<running> window;
  auto finish_oldest = [&] {
    auto job = std::move(window.front());
    window.pop_front();
    auto& d = *job.d;
    INFO(label << "; " << c.describe());
    INFO(describe(d) << ", execution '" << job.id << "'");
    if (job.result.wait_until(deadline) != std::future_status::ready) {
      FAIL("the execution did not end in time (hang?); "
           << tail_of(rt, job.id));
    }
    jamjet::execution_result res;
    try {
      res = job.result.get();
    } catch (const std::exception& ex) {
      FAIL("result() threw: " << ex.what());
    }
    auto problems = check_case(rt, d, job.id, c, res);
    INFO("violations:" << inv::join_lines(problems));
    CHECK(problems.empty());
    if (extra)
      extra(rt, d, job.id);
    ++sum.executions;
  };
  std::vector<std::pair<dag_case*, std::string>> started;
  for (auto& d : cases) {
    for (size_t copy = 0; copy < d->copies; ++copy) {
      auto id = rt.start(d->workflow_id, d->input);
      started.emplace_back(d.get(), id);
      window.push_back(running{d.get(), id, rt.result(id)});
      if (window.size() >= c.window)
        finish_oldest();
    }
  }
  while (!window.empty())
    finish_oldest();
  for (auto& d : cases) {
    INFO(label << "; " << describe(*d));
    std::lock_guard<std::mutex> guard{d->mtx};
    // Handlers ran for the executions started, and no other.
    std::set<std::string> ids;
    for (auto& [x, id] : started)
      if (x == d.get())
        ids.insert(id);
    for (auto& [id, rec] : d->execs)
      CHECK(ids.count(id) == 1);
    ++sum.dags;
    sum.nodes += d->g.size();
    sum.failed += d->expect_failure ? 1 : 0;
    for (auto& [id, rec] : d->execs)
      for (auto& runs : rec->runs)
        sum.retried += runs.size() > 1 ? runs.size() - 1 : 0;
  }
  // Nothing is appended after the terminal event, even later on.
  for (auto& [d, id] : started) {
    INFO(label << "; " << describe(*d) << ", execution '" << id << "'");
    size_t checked = 0;
    {
      std::lock_guard<std::mutex> guard{d->mtx};
      checked = d->execs.count(id) ? d->execs[id]->log_size : 0;
    }
    if (checked > 0)
      CHECK(rt.events(id).size() == checked);
  }
}

} // namespace

TEST_CASE("random DAGs keep every promise on real threads", "[property]") {
  auto seed = master_seed();
  auto groups = 16 * scale();
  const size_t per_group = 15;
  gen_options o;
  o.min_nodes = 1;
  o.max_nodes = 300;
  o.p_terminal = 0.1;
  totals sum;
  auto t0 = std::chrono::steady_clock::now();
  for (uint64_t grp = 0; grp < groups; ++grp) {
    auto group_seed = mix(seed, grp);
    rng r{group_seed};
    auto c = draw_config(r);
    case_table cases;
    for (size_t k = 0; k < per_group; ++k) {
      cases.push_back(make_case(k, mix(group_seed, k), o));
      // Some workflows run as several executions at once.
      cases.back()->copies = r.chance(0.15) ? r.between(2, 3) : 1;
    }
    std::string label =
      "JAMJET_PROPERTY_SEED=" + hex(seed) + " group " + std::to_string(grp);
    run_group(label, cases, c, std::chrono::seconds{120}, sum);
  }
  auto secs =
    std::chrono::duration<double>(std::chrono::steady_clock::now() - t0)
      .count();
  CHECK(sum.dags == groups * per_group);
  std::printf("[property] %zu DAGs (%zu failing), %zu nodes, %zu executions, "
              "%.2f s\n",
              sum.dags, sum.failed, sum.nodes, sum.executions, secs);
}

TEST_CASE("transient failures are retried with backoff; exhausted nodes fail",
          "[property]") {
  auto seed = mix(master_seed(), 0x7e7);
  gen_options o;
  o.min_nodes = 1;
  o.max_nodes = 60;
  o.max_transient = 2;
  o.p_fail_twice = 0.15;
  o.p_exhaust = 0.08;
  o.p_terminal = 0.05;
  o.random_policies = false;
  totals sum;
  auto t0 = std::chrono::steady_clock::now();
  // Every execution is started at once, so the retry delays overlap.
  for (uint64_t round = 0; round < scale(); ++round) {
    auto round_seed = mix(seed, round);
    rng r{round_seed};
    auto c = draw_config(r);
    c.window = 1000;
    case_table cases;
    for (size_t k = 0; k < 24; ++k) {
      cases.push_back(make_case(k, mix(round_seed, k), o));
      cases.back()->copies = r.chance(0.15) ? 2 : 1;
    }
    std::string label = "JAMJET_PROPERTY_SEED=" + hex(master_seed()) +
                        " retry round " + std::to_string(round);
    run_group(label, cases, c, std::chrono::seconds{120}, sum);
  }
  auto secs =
    std::chrono::duration<double>(std::chrono::steady_clock::now() - t0)
      .count();
  CHECK(sum.retried > 0);
  std::printf("[property] retries: %zu DAGs (%zu failing), %zu nodes, "
              "%zu executions, %zu retries, %.2f s\n",
              sum.dags, sum.failed, sum.nodes, sum.executions, sum.retried,
              secs);
}

TEST_CASE("a 1000-node DAG with one node in flight runs in Kahn order, ties "
          "by node id",
          "[property]") {
  auto seed = mix(master_seed(), 1000);
  gen_options o;
  o.random_policies = false;
  o.max_delay_us = 0;
  auto per_wake = GENERATE(as<size_t>{}, 1, 8);
  auto d = make_case(0, seed, o, size_t{1000});
  INFO("JAMJET_PROPERTY_SEED=" << hex(master_seed()) << "; " << describe(*d)
                               << "; max_dispatch_per_wake=" << per_wake);
  // The order to expect, computed here: Kahn's algorithm, min-heap on id.
  auto expected = inv::kahn_order(d->g);
  REQUIRE(expected.size() == 1000);
  // Ids are random: the id order is not a topological order.
  auto sorted = expected;
  std::sort(sorted.begin(), sorted.end());
  CHECK(sorted != expected);
  case_table cases;
  cases.push_back(std::move(d));
  run_config c;
  c.slots = 4;
  c.max_in_flight = 1;
  c.per_wake = per_wake;
  c.window = 1;
  for (auto& k : kinds)
    c.blocking.push_back(k != "prop_inline");
  totals sum;
  std::vector<std::string> order;
  run_group("kahn", cases, c, std::chrono::seconds{120}, sum,
            [&](jamjet::runtime& rt, dag_case&, const std::string& id) {
              for (auto& e : rt.events(id))
                if (auto s = caf::get_if<jamjet::node_scheduled>(&e.kind))
                  order.push_back(s->node_id);
            });
  CHECK(order == expected);
}
