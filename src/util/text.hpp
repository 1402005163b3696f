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
// `text` with control bytes (below 0x20, and 0x7f) written as \xHH, for messages that quote input.
std::string without_controls(std::string_view text);

// `text` between `mark`s, made printable as by printable() below: 'api_url', "production". For messages.
std::string quoted(std::string_view text, char mark = '\'');

// The words separated by `separator`: "a, b, c".
std::string joined(const std::vector<std::string>& words, std::string_view separator = ", ");

// `text` safe to write to a terminal, whatever it holds (a TXT record from hostile DNS, an API's
// message): control bytes, C1 controls (U+0080 to U+009F) and bytes that are not UTF-8 written as
// \xHH; line breaks kept only with `keep_newlines`. Valid UTF-8 otherwise passes unchanged.
std::string printable(std::string_view text, bool keep_newlines = false);

// Levenshtein distance.
std::size_t edit_distance(std::string_view a, std::string_view b);

// The candidate `word` most likely misspells, compared without case: within about one typo per
// three characters (at least one, at most three), ties going to the candidate sharing the longer
// prefix; failing that, a candidate that `word` (3+ characters) is a prefix of. Empty when none.
std::string closest_match(std::string_view word, const std::vector<std::string>& candidates);

// For a message about an unknown `word`: "; did you mean 'x'?" when a candidate is close (as
// closest_match), else " (noun: a, b, c)" listing them, else "".
std::string suggestion(std::string_view word, const std::vector<std::string>& candidates,
                       std::string_view noun);

}  // namespace spfctl::util
