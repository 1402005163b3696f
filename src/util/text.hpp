// Text helpers that know nothing of DNS, SPF or configuration: ASCII classes, case folding, and
// "did you mean" suggestions.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace spfctl::util {

// ASCII only, whatever the locale.
inline bool is_alpha(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}
inline bool is_digit(char c) {
  return c >= '0' && c <= '9';
}
inline bool is_alnum(char c) {
  return is_alpha(c) || is_digit(c);
}
inline char to_lower(char c) {
  return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c;
}
std::string lowercase(std::string_view text);

// Levenshtein distance.
std::size_t edit_distance(std::string_view a, std::string_view b);

// The candidate `word` most likely misspells, compared without case: within about one typo per
// three characters (at least one, at most three), ties going to the candidate sharing the longer
// prefix; failing that, a candidate that `word` (3+ characters) is a prefix of. Empty when none.
std::string closest_match(std::string_view word, const std::vector<std::string>& candidates);

}  // namespace spfctl::util
