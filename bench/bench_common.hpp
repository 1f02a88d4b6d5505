#pragma once

// Pieces the benchmark programs share: statistics, machine description and
// the naming of `--raw` files. Header-only: each program is one .cpp.

#include <algorithm>
#include <cmath>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

namespace jamjet::bench {

using ojson = nlohmann::ordered_json;

/// Nearest-rank percentile of sorted values (p in [0, 100]).
inline double percentile(const std::vector<double>& sorted, double p) {
  if (sorted.empty())
    return 0;
  auto rank = static_cast<size_t>(
    std::ceil(p / 100.0 * static_cast<double>(sorted.size())));
  return sorted[std::min(sorted.size() - 1, rank == 0 ? 0 : rank - 1)];
}

/// count, min, mean, p50, p90, p99 and max of `xs`.
inline ojson summarize(std::vector<double> xs) {
  std::sort(xs.begin(), xs.end());
  double sum = 0;
  for (auto x : xs)
    sum += x;
  return ojson{{"count", xs.size()},
               {"min", xs.empty() ? 0 : xs.front()},
               {"mean", xs.empty() ? 0 : sum / static_cast<double>(xs.size())},
               {"p50", percentile(xs, 50)},
               {"p90", percentile(xs, 90)},
               {"p99", percentile(xs, 99)},
               {"max", xs.empty() ? 0 : xs.back()}};
}

/// The value of `key` in a /proc file of "key: value" lines.
inline std::string proc_field(const char* path, const std::string& key) {
  std::ifstream in{path};
  std::string line;
  while (std::getline(in, line))
    if (line.compare(0, key.size(), key) == 0) {
      auto colon = line.find(':');
      if (colon == std::string::npos)
        continue;
      auto v = line.substr(colon + 1);
      v.erase(0, v.find_first_not_of(" \t"));
      return v;
    }
  return "unknown";
}

/// Cores, CPU model, memory and build type, for every summary.
inline ojson machine_info() {
  return ojson{
    {"cores", std::thread::hardware_concurrency()},
    {"cpu_model", proc_field("/proc/cpuinfo", "model name")},
    {"mem_total", proc_field("/proc/meminfo", "MemTotal")},
#ifdef NDEBUG
    {"build", "NDEBUG (optimized)"},
#else
    {"build", "assertions on (not a release build)"},
#endif
  };
}

/// `file`, or with both workloads `file` with the workload id inserted
/// before its extension (out.json -> out.w1.json).
inline std::string raw_path(const std::string& file,
                            const std::string& workload, bool both) {
  if (!both)
    return file;
  auto slash = file.find_last_of('/');
  auto dot = file.find_last_of('.');
  auto base = slash == std::string::npos ? 0 : slash + 1;
  if (dot == std::string::npos || dot <= base)
    return file + "." + workload;
  return file.substr(0, dot) + "." + workload + file.substr(dot);
}

} // namespace jamjet::bench
