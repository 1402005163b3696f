#include "util/text.hpp"

#include <algorithm>

namespace spfctl::util {

std::string lowercase(std::string_view text) {
  std::string out(text);
  for (char& c : out) c = to_lower(c);
  return out;
}

std::string without_controls(std::string_view text) {
  constexpr char k_hex[] = "0123456789abcdef";
  std::string out;
  for (const char c : text) {
    const auto byte = static_cast<unsigned char>(c);
    if (byte < 0x20 || byte == 0x7f)
      out += {'\\', 'x', k_hex[byte >> 4], k_hex[byte & 0xf]};
    else
      out += c;
  }
  return out;
}

std::string quoted(std::string_view text, char mark) {
  return mark + printable(text) + mark;
}

std::string joined(const std::vector<std::string>& words, std::string_view separator) {
  std::string out;
  for (const std::string& word : words) {
    if (!out.empty()) out += separator;
    out += word;
  }
  return out;
}

namespace {

// The length of the valid UTF-8 sequence starting at `i`, or 0.
std::size_t utf8_length(std::string_view text, std::size_t i) {
  const auto lead = static_cast<unsigned char>(text[i]);
  const std::size_t length = lead >= 0xf0 && lead <= 0xf4 ? 4 : lead >= 0xe0 ? 3 : lead >= 0xc2 ? 2 : 0;
  if (length == 0 || i + length > text.size()) return 0;
  for (std::size_t k = 1; k < length; ++k)
    if ((static_cast<unsigned char>(text[i + k]) & 0xc0) != 0x80) return 0;
  return length;
}

void append_hex(std::string& out, unsigned char byte) {
  constexpr char k_hex[] = "0123456789abcdef";
  out += {'\\', 'x', k_hex[byte >> 4], k_hex[byte & 0xf]};
}

}  // namespace

std::string printable(std::string_view text, bool keep_newlines) {
  std::string out;
  out.reserve(text.size());
  for (std::size_t i = 0; i < text.size(); ++i) {
    const auto byte = static_cast<unsigned char>(text[i]);
    if (byte == '\n' && keep_newlines) {
      out += '\n';
    } else if (byte >= 0x20 && byte < 0x7f) {
      out += text[i];
    } else if (const std::size_t length = byte >= 0x80 ? utf8_length(text, i) : 0;
               length > 0 && !(byte == 0xc2 && static_cast<unsigned char>(text[i + 1]) < 0xa0)) {
      out.append(text.substr(i, length));
      i += length - 1;
    } else {
      append_hex(out, byte);
    }
  }
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

std::string suggestion(std::string_view word, const std::vector<std::string>& candidates,
                       std::string_view noun) {
  const std::string match = closest_match(word, candidates);
  if (!match.empty()) return "; did you mean " + util::quoted(match) + "?";
  if (candidates.empty()) return {};
  return " (" + std::string(noun) + ": " + joined(candidates) + ")";
}

}  // namespace spfctl::util
