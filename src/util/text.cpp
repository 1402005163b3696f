#include "util/text.hpp"

#include <algorithm>

namespace spfctl::util {

std::string lowercase(std::string_view text) {
  std::string out(text);
  for (char& c : out) c = to_lower(c);
  return out;
}

std::size_t edit_distance(std::string_view a, std::string_view b) {
  std::vector<std::size_t> row(b.size() + 1);
  for (std::size_t j = 0; j <= b.size(); ++j) row[j] = j;
  for (std::size_t i = 1; i <= a.size(); ++i) {
    std::size_t diagonal = row[0];
    row[0] = i;
    for (std::size_t j = 1; j <= b.size(); ++j) {
      const std::size_t above = row[j];
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, diagonal + (a[i - 1] == b[j - 1] ? 0 : 1)});
      diagonal = above;
    }
  }
  return row[b.size()];
}

std::string closest_match(std::string_view word, const std::vector<std::string>& candidates) {
  const std::string lower = lowercase(word);
  std::string best;
  std::size_t best_distance = std::clamp<std::size_t>(lower.size() / 3, 1, 3) + 1;
  std::size_t best_shared = 0;
  for (const std::string& candidate : candidates) {
    const std::string other = lowercase(candidate);
    const std::size_t distance = edit_distance(lower, other);
    // On a tie, the candidate that starts like the word is the likelier typo.
    const std::size_t shared = static_cast<std::size_t>(
        std::mismatch(lower.begin(), lower.end(), other.begin(), other.end()).first - lower.begin());
    if (distance < best_distance || (!best.empty() && distance == best_distance && shared > best_shared)) {
      best_distance = distance;
      best_shared = shared;
      best = candidate;
    }
  }
  if (!best.empty() || lower.size() < 3) return best;
  for (const std::string& candidate : candidates)
    if (lowercase(candidate).starts_with(lower)) return candidate;
  return best;
}

}  // namespace spfctl::util
