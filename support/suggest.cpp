#include "jamjet/support/suggest.hpp"

#include <algorithm>

namespace jamjet {

size_t edit_distance(std::string_view a, std::string_view b) {
  // Three rows of the dynamic programme: the one before the previous (for
  // transpositions), the previous and the current.
  std::vector<size_t> before(b.size() + 1), prev(b.size() + 1),
    cur(b.size() + 1);
  for (size_t j = 0; j <= b.size(); ++j)
    prev[j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    cur[0] = i;
    for (size_t j = 1; j <= b.size(); ++j) {
      size_t cost = a[i - 1] == b[j - 1] ? 0 : 1;
      cur[j] = std::min({prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + cost});
      if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1])
        cur[j] = std::min(cur[j], before[j - 2] + 1);
    }
    before.swap(prev);
    prev.swap(cur);
  }
  return prev[b.size()];
}

std::optional<std::string>
nearest_name(std::string_view word,
             const std::vector<std::string>& candidates) {
  std::optional<std::string> best;
  size_t best_distance = 0;
  for (const auto& c : candidates) {
    if (c == word)
      continue;
    auto limit = std::clamp<size_t>(std::max(word.size(), c.size()) / 3, 1, 3);
    auto d = edit_distance(word, c);
    if (d <= limit && (!best || d < best_distance)) {
      best = c;
      best_distance = d;
    }
  }
  if (best || word.size() < 4)
    return best;
  // A part of a longer name ('attempts' for 'max_attempts'), or a longer
  // word around a name, is a likely slip too.
  for (const auto& c : candidates)
    if (c.size() >= 4 && c != word &&
        (c.find(word) != std::string::npos ||
         word.find(c) != std::string_view::npos))
      return c;
  return best;
}

} // namespace jamjet
