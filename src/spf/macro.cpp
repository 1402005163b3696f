#include "spf/macro.hpp"

#include <algorithm>
#include <cctype>
#include <vector>

#include "spf/record.hpp"
#include "util/text.hpp"

namespace spfctl::spf {

namespace {

constexpr std::string_view k_letters = "slodiphcrtv";
constexpr std::string_view k_explanation_only = "crt";
constexpr std::string_view k_delimiters = ".-+,/_=";
constexpr std::size_t k_max_domain_length = 253;

// One piece of a macro-string: literal text (including what "%%", "%_" and "%-" stand for) or a
// "%{...}" macro.
struct Piece {
  bool is_macro = false;
  bool is_escape = false;  // "%%", "%_" or "%-": literal, but a macro-expand in the grammar
  std::string literal;
  char letter = 0;          // lower case
  bool url_escape = false;  // the letter was written in upper case
  std::size_t keep = 0;     // rightmost parts to keep; 0 keeps all
  bool reverse = false;
  std::string delimiters;
  std::size_t offset = 0;
  std::size_t length = 0;
};

using util::is_alnum;
using util::is_alpha;
using util::is_digit;

MacroSyntaxError error_at(std::string message, std::size_t offset, std::size_t length) {
  return {std::move(message), offset, length};
}

// Parses "%{...}" starting at `start` (the '%').
std::optional<MacroSyntaxError> parse_macro(std::string_view text, std::size_t start, MacroScope scope,
                                            Piece& piece) {
  const std::size_t close = text.find('}', start + 2);
  const std::size_t end = close == std::string_view::npos ? text.size() : close + 1;
  const std::string quoted = "'" + printable(text.substr(start, end - start)) + "'";
  if (close == std::string_view::npos)
    return error_at("unterminated macro " + quoted + ": missing '}'", start, end - start);
  piece.is_macro = true;
  piece.offset = start;
  piece.length = end - start;
  std::size_t i = start + 2;
  if (i == close)
    return error_at("empty macro " + quoted + ": a macro letter is missing", start, end - start);
  const char letter = util::to_lower(text[i]);
  if (k_letters.find(letter) == std::string_view::npos)
    return error_at("unknown macro letter '" + printable(text.substr(i, 1)) + "' in " + quoted +
                        " (use one of s l o d i p h v, or c r t in explanations)",
                    start, end - start);
  if (scope == MacroScope::domain && k_explanation_only.find(letter) != std::string_view::npos)
    return error_at("macro letter '" + std::string(1, text[i]) + "' in " + quoted +
                        " is allowed only in explanation text",
                    start, end - start);
  piece.letter = letter;
  piece.url_escape = text[i] != letter;
  ++i;
  const std::size_t digits_start = i;
  while (i < close && is_digit(text[i])) {
    // Any count past the number of parts keeps them all, so saturate rather than overflow.
    piece.keep = std::min<std::size_t>(piece.keep * 10 + static_cast<std::size_t>(text[i] - '0'), 1000);
    ++i;
  }
  if (i > digits_start && piece.keep == 0)
    return error_at("macro " + quoted + " keeps zero parts; the number must be 1 or more", start,
                    end - start);
  if (i < close && util::to_lower(text[i]) == 'r') {
    piece.reverse = true;
    ++i;
  }
  for (; i < close; ++i) {
    if (k_delimiters.find(text[i]) == std::string_view::npos)
      return error_at("invalid character '" + printable(text.substr(i, 1)) + "' in macro " + quoted +
                          " (after the letter: digits, 'r', then delimiters . - + , / _ =)",
                      start, end - start);
    piece.delimiters += text[i];
  }
  return std::nullopt;
}

std::optional<MacroSyntaxError> parse_pieces(std::string_view text, MacroScope scope,
                                             std::vector<Piece>& pieces) {
  for (std::size_t i = 0; i < text.size();) {
    const char c = text[i];
    if (c == '%') {
      const char next = i + 1 < text.size() ? text[i + 1] : '\0';
      Piece piece;
      piece.offset = i;
      if (next == '{') {
        if (auto error = parse_macro(text, i, scope, piece)) return error;
      } else if (next == '%' || next == '_' || next == '-') {
        piece.is_escape = true;
        piece.literal = next == '%' ? "%" : next == '_' ? " " : "%20";
        piece.length = 2;
      } else {
        const std::size_t length = i + 1 < text.size() ? 2 : 1;
        return error_at("'" + printable(text.substr(i, length)) +
                            "': '%' must be followed by '{', '%', '_' or '-' (write '%%' for a percent sign)",
                        i, length);
      }
      i += piece.length;
      pieces.push_back(std::move(piece));
      continue;
    }
    const auto byte = static_cast<unsigned char>(c);
    const bool visible = byte >= 0x21 && byte <= 0x7e;
    if (!visible && !(c == ' ' && scope == MacroScope::explanation)) {
      const std::string what = byte >= 0x80 ? "non-ASCII byte" : c == ' ' ? "space" : "control character";
      return error_at(
          what + " '" + printable(text.substr(i, 1)) + "' (only visible ASCII characters are allowed)", i, 1);
    }
    if (pieces.empty() || pieces.back().is_macro || pieces.back().is_escape) {
      Piece piece;
      piece.offset = i;
      pieces.push_back(std::move(piece));
    }
    pieces.back().literal += c;
    pieces.back().length += 1;
    ++i;
  }
  return std::nullopt;
}

// toplabel = ( *alphanum ALPHA *alphanum ) / ( 1*alphanum "-" *( alphanum / "-" ) alphanum )
std::optional<std::string> toplabel_problem(std::string_view label) {
  if (label.empty()) return "the top-level label is empty";
  const std::string quoted = "'" + printable(label) + "'";
  for (char c : label)
    if (!is_alnum(c) && c != '-')
      return "top-level label " + quoted + " may hold only letters, digits and '-'";
  if (label.front() == '-' || label.back() == '-')
    return "top-level label " + quoted + " may not begin or end with '-'";
  const bool has_alpha = std::any_of(label.begin(), label.end(), is_alpha);
  if (!has_alpha && label.find('-') == std::string_view::npos)
    return "top-level label " + quoted + " is all digits (for an address, use ip4: or ip6:)";
  return std::nullopt;
}

std::string ip_value(const net::IpAddress& ip) {
  if (ip.is_v4()) return ip.to_string();
  std::string nibbles = ip.spf_macro_form();
  for (char& c : nibbles) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return nibbles;
}

std::string letter_value(char letter, const MacroContext& context) {
  switch (letter) {
    case 's':
      return context.sender;
    case 'l':
      return context.local_part;
    case 'o':
      return context.sender_domain;
    case 'd':
      return context.domain;
    case 'i':
      return ip_value(context.ip);
    case 'p':
      return context.validated_domain ? context.validated_domain() : "unknown";
    case 'v':
      return context.ip.is_v4() ? "in-addr" : "ip6";
    case 'h':
      return context.helo;
    case 'c':
      return context.ip.to_string();
    case 'r':
      return context.receiver;
    case 't':
      return std::to_string(context.timestamp);
    default:
      return {};
  }
}

std::string transform(const std::string& value, const Piece& piece) {
  const std::string_view delimiters = piece.delimiters.empty() ? std::string_view(".") : piece.delimiters;
  std::vector<std::string> parts(1);
  for (char c : value) {
    if (delimiters.find(c) != std::string_view::npos)
      parts.emplace_back();
    else
      parts.back() += c;
  }
  if (piece.reverse) std::reverse(parts.begin(), parts.end());
  const std::size_t first = piece.keep != 0 && piece.keep < parts.size() ? parts.size() - piece.keep : 0;
  std::string out;
  for (std::size_t i = first; i < parts.size(); ++i) {
    if (i != first) out += '.';
    out += parts[i];
  }
  return out;
}

std::string url_escape(std::string_view value) {
  static constexpr char k_hex[] = "0123456789ABCDEF";
  std::string out;
  for (char c : value) {
    if (is_alnum(c) || c == '-' || c == '.' || c == '_' || c == '~') {
      out += c;
    } else {
      const auto byte = static_cast<unsigned char>(c);
      out += '%';
      out += k_hex[byte >> 4];
      out += k_hex[byte & 0xf];
    }
  }
  return out;
}

}  // namespace

std::optional<MacroSyntaxError> check_macro_string(std::string_view text, MacroScope scope) {
  std::vector<Piece> pieces;
  return parse_pieces(text, scope, pieces);
}

std::optional<MacroSyntaxError> check_domain_spec(std::string_view text) {
  if (text.empty()) return error_at("the domain is empty", 0, 0);
  std::vector<Piece> pieces;
  if (auto error = parse_pieces(text, MacroScope::domain, pieces)) return error;
  if (pieces.back().is_macro || pieces.back().is_escape) return std::nullopt;
  // domain-end = ( "." toplabel [ "." ] ) / macro-expand: the dot must be literal text after the
  // last macro.
  std::string_view tail = text.substr(pieces.back().offset);
  if (tail.back() == '.') tail.remove_suffix(1);
  const std::size_t dot = tail.rfind('.');
  const std::string quoted = "'" + printable(text) + "'";
  if (dot == std::string_view::npos)
    return error_at(
        "domain " + quoted + " must end in a dot and a top-level label (like '.com') or in a macro", 0,
        text.size());
  if (auto problem = toplabel_problem(tail.substr(dot + 1)))
    return error_at("invalid domain " + quoted + ": " + *problem, 0, text.size());
  return std::nullopt;
}

MacroContext make_macro_context(const net::IpAddress& ip, std::string_view sender, std::string_view helo) {
  MacroContext context;
  context.ip = ip.unmapped();
  context.helo = std::string(helo);
  std::string_view local = "postmaster";
  std::string_view domain = helo;
  if (!sender.empty()) {
    const std::size_t at = sender.rfind('@');
    if (at == std::string_view::npos) {
      domain = sender;
    } else {
      if (at != 0) local = sender.substr(0, at);
      domain = sender.substr(at + 1);
    }
  }
  context.local_part = std::string(local);
  context.sender_domain = std::string(domain);
  context.sender = context.local_part + "@" + context.sender_domain;
  context.domain = context.sender_domain;
  return context;
}

Expansion expand_macros(std::string_view text, const MacroContext& context, MacroScope scope) {
  Expansion expansion;
  std::vector<Piece> pieces;
  if (auto error = parse_pieces(text, scope, pieces)) {
    expansion.error = std::move(*error);
    return expansion;
  }
  for (const Piece& piece : pieces) {
    if (!piece.is_macro) {
      expansion.text += piece.literal;
      continue;
    }
    std::string value = transform(letter_value(piece.letter, context), piece);
    expansion.text += piece.url_escape ? url_escape(value) : value;
  }
  expansion.ok = true;
  return expansion;
}

Expansion expand_domain_spec(std::string_view text, const MacroContext& context) {
  Expansion expansion = expand_macros(text, context, MacroScope::domain);
  if (!expansion.ok) return expansion;
  std::string& name = expansion.text;
  if (!name.empty() && name.back() == '.') name.pop_back();
  while (name.size() > k_max_domain_length) {
    const std::size_t dot = name.find('.');
    if (dot == std::string::npos) break;
    name.erase(0, dot + 1);
  }
  return expansion;
}

}  // namespace spfctl::spf
