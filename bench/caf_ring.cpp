// caf_ring: the cost of a CAF message on this machine, as a yardstick for
// jamjet_bench.
//
// A token goes round a ring of A event-based actors L times:
//
//   driver -> a1 -> a2 -> ... -> a(A-1) -> driver -> ...
//
// With A = 7 one lap is as many sequential messages as the critical path of
// one JamJet hop (worker -> dispatcher -> backend -> supervisor -> execution
// -> backend -> dispatcher -> worker), with none of the work. Prints a JSON
// object on stdout: per-lap and per-message times (median of the repeats).
//
//   caf_ring [--actors A] [--laps L] [--repeats R] [--threads T]

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <future>
#include <iostream>
#include <memory>
#include <vector>

#include <CLI/CLI.hpp>
#include <caf/all.hpp>
#include <nlohmann/json.hpp>

namespace {

caf::behavior relay(caf::event_based_actor* self, caf::actor next) {
  return {
    [=](uint64_t token) { self->send(next, token); },
  };
}

caf::behavior driver(caf::event_based_actor* self, uint64_t laps,
                     std::shared_ptr<std::promise<void>> done) {
  return {
    [=](caf::actor& first) {
      self->become([=](uint64_t token) {
        if (token + 1 >= laps)
          done->set_value();
        else
          self->send(first, token + 1);
      });
      self->send(first, uint64_t{0});
    },
  };
}

/// Seconds for `laps` laps of a ring of `actors` actors.
double run_ring(caf::actor_system& sys, size_t actors, uint64_t laps) {
  auto done = std::make_shared<std::promise<void>>();
  auto fut = done->get_future();
  auto head = sys.spawn(driver, laps, done);
  caf::actor next = head;
  for (size_t k = 1; k < actors; ++k)
    next = sys.spawn(relay, next);
  auto t0 = std::chrono::steady_clock::now();
  caf::anon_send(head, next);
  fut.wait();
  auto t1 = std::chrono::steady_clock::now();
  caf::anon_send_exit(head, caf::exit_reason::user_shutdown);
  return std::chrono::duration<double>(t1 - t0).count();
}

} // namespace

int main(int argc, char** argv) {
  size_t actors = 7;
  uint64_t laps = 20000;
  size_t repeats = 5;
  size_t threads = 0;
  CLI::App app{"Token ring of CAF actors: the cost of a message.", "caf_ring"};
  app.add_option("--actors", actors, "actors in the ring")
    ->check(CLI::Range(size_t{2}, size_t{10000}))
    ->capture_default_str();
  app.add_option("--laps", laps, "laps of the token")
    ->check(CLI::Range(uint64_t{1}, uint64_t{1} << 40))
    ->capture_default_str();
  app.add_option("--repeats", repeats, "timed repeats (after one warm-up)")
    ->check(CLI::Range(size_t{1}, size_t{1000}))
    ->capture_default_str();
  app.add_option("--threads", threads, "CAF scheduler threads; 0: default")
    ->capture_default_str();
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp&) {
    std::cout << app.help();
    return 0;
  } catch (const CLI::ParseError& e) {
    std::cerr << "caf_ring: error: " << e.what()
              << "\nRun 'caf_ring --help' for the options.\n";
    return 2;
  }
  caf::actor_system_config cfg;
  if (threads > 0)
    cfg.set("scheduler.max-threads", threads);
  caf::actor_system sys{cfg};
  run_ring(sys, actors, std::max<uint64_t>(1, laps / 10)); // warm-up
  std::vector<double> secs;
  for (size_t r = 0; r < repeats; ++r)
    secs.push_back(run_ring(sys, actors, laps));
  std::sort(secs.begin(), secs.end());
  auto med = secs[secs.size() / 2];
  auto lap_us = med / static_cast<double>(laps) * 1e6;
  nlohmann::json out{
    {"actors", actors},
    {"laps", laps},
    {"repeats", repeats},
    {"threads", threads},
    {"scheduler_threads_effective",
     caf::get_or(sys.config(), "scheduler.max-threads",
                 caf::defaults::scheduler::max_threads)},
    {"lap_us_median", lap_us},
    {"message_us_median", lap_us / static_cast<double>(actors)},
    {"lap_us_min", secs.front() / static_cast<double>(laps) * 1e6},
    {"lap_us_max", secs.back() / static_cast<double>(laps) * 1e6},
  };
  std::cout << out.dump(2) << std::endl;
  return 0;
}
