#include "spf/parser.hpp"

#include <algorithm>
#include <array>
#include <cctype>
#include <functional>
#include <mutex>
#include <optional>
#include <unordered_map>
#include <utility>

#include "spf/macro.hpp"
#include "spf/select.hpp"
#include "util/text.hpp"

namespace spfctl::spf {

namespace {

using util::is_alnum;
using util::is_alpha;
using util::is_digit;
bool is_name_char(char c) {
  return is_alnum(c) || c == '-' || c == '_' || c == '.';
}
bool is_qualifier(char c) {
  return c == '+' || c == '-' || c == '~' || c == '?';
}

using util::lowercase;

// `text` in quotes with every byte outside printable ASCII as \xHH, as the record line under a parse
// error shows it (SPF records are ASCII).
std::string quoted_ascii(std::string_view text) {
  return "'" + printable(text) + "'";
}

constexpr std::array<std::pair<std::string_view, MechanismKind>, 8> k_mechanisms{{
    {"all", MechanismKind::all},
    {"include", MechanismKind::include},
    {"a", MechanismKind::a},
    {"mx", MechanismKind::mx},
    {"ptr", MechanismKind::ptr},
    {"ip4", MechanismKind::ip4},
    {"ip6", MechanismKind::ip6},
    {"exists", MechanismKind::exists},
}};

std::optional<MechanismKind> mechanism_kind(std::string_view name) {
  for (const auto& [known, kind] : k_mechanisms)
    if (known == name) return kind;
  return std::nullopt;
}

// A term's problem; parse_record() adds the term's position.
using Problem = std::optional<std::string>;

// 1*DIGIT without leading zeros (RFC 7208 allows none in ip4-network; the same is required of CIDR
// lengths, as the conformance suite does), at most `max`.
Problem parse_length(std::string_view digits, int max, std::string_view what, int& out) {
  if (digits.empty()) return std::string(what) + " CIDR length is missing after '/'";
  for (char c : digits)
    if (!is_digit(c)) return std::string(what) + " CIDR length " + quoted_ascii(digits) + " is not a number";
  if (digits.size() > 1 && digits.front() == '0')
    return std::string(what) + " CIDR length " + quoted_ascii(digits) + " has a leading zero";
  if (digits.size() > 3 || std::stoi(std::string(digits)) > max)
    return std::string(what) + " CIDR length " + std::string(digits) + " out of range (0-" +
           std::to_string(max) + ")";
  out = std::stoi(std::string(digits));
  return std::nullopt;
}

// dual-cidr-length = [ "/" ip4-cidr-length ] [ "//" ip6-cidr-length ], `text` non-empty.
Problem parse_dual_cidr(std::string_view text, std::string_view kind, Mechanism& mechanism) {
  const std::string v4 = std::string(kind) + " IPv4";
  const std::string v6 = std::string(kind) + " IPv6";
  if (!text.starts_with("//")) {
    if (!text.starts_with("/")) return "expected '/' before the CIDR length";
    text.remove_prefix(1);
    const std::size_t next = text.find('/');
    int length = 0;
    if (auto problem = parse_length(text.substr(0, next), 32, v4, length)) return problem;
    mechanism.cidr4 = length;
    if (next == std::string_view::npos) return std::nullopt;
    text.remove_prefix(next);
    if (!text.starts_with("//")) return "the IPv6 CIDR length must follow '//' (as in '/24//64')";
  }
  text.remove_prefix(2);
  int length = 0;
  if (auto problem = parse_length(text, 128, v6, length)) return problem;
  mechanism.cidr6 = length;
  return std::nullopt;
}

// Where a trailing dual-cidr-length ("/n", "//m" or "/n//m") starts in "domain-spec + lengths";
// text.size() when there is none.
std::size_t cidr_suffix_start(std::string_view text) {
  auto digits_before = [&](std::size_t end) {
    std::size_t i = end;
    while (i > 0 && is_digit(text[i - 1])) --i;
    return i;
  };
  std::size_t start = digits_before(text.size());
  if (start == text.size() || start == 0 || text[start - 1] != '/') return text.size();
  --start;
  if (start > 0 && text[start - 1] == '/') {
    --start;
    const std::size_t digits = digits_before(start);
    if (digits < start && digits > 0 && text[digits - 1] == '/') start = digits - 1;
  }
  return start;
}

// qnum "." qnum "." qnum "." qnum, qnum = 0-255 without leading zeros.
bool is_ip4_network(std::string_view text) {
  int parts = 0;
  std::size_t i = 0;
  while (true) {
    const std::size_t start = i;
    while (i < text.size() && is_digit(text[i])) ++i;
    const std::string_view part = text.substr(start, i - start);
    if (part.empty() || part.size() > 3 || (part.size() > 1 && part.front() == '0')) return false;
    if (std::stoi(std::string(part)) > 255) return false;
    if (++parts == 4) return i == text.size();
    if (i == text.size() || text[i] != '.') return false;
    ++i;
  }
}

Problem parse_domain(std::string_view spec, std::string_view kind, Mechanism& mechanism) {
  if (spec.empty()) return std::string(kind) + " needs a domain after ':'";
  if (auto error = check_domain_spec(spec)) return error->message;
  mechanism.domain = std::string(spec);
  return std::nullopt;
}

Problem parse_ip(std::string_view rest, Mechanism& mechanism) {
  const bool v4 = mechanism.kind == MechanismKind::ip4;
  const std::string kind(to_string(mechanism.kind));
  if (!rest.starts_with(":"))
    return kind + " needs an address: '" + kind + (v4 ? ":192.0.2.0/24'" : ":2001:db8::/32'");
  rest.remove_prefix(1);
  const std::size_t slash = rest.find('/');
  const std::string_view address = rest.substr(0, slash);
  std::optional<net::IpAddress> network;
  if (v4 ? is_ip4_network(address) : address.find(':') != std::string_view::npos)
    network = net::IpAddress::parse(address);
  if (!network || network->is_v4() != v4)
    return "invalid " + std::string(v4 ? "IPv4" : "IPv6") + " address " + quoted_ascii(address);
  mechanism.network = *network;
  if (slash == std::string_view::npos) return std::nullopt;
  const std::string_view cidr = rest.substr(slash + 1);
  if (cidr.starts_with("/")) return kind + " takes one CIDR length ('/n'), not '//'";
  int length = 0;
  if (auto problem = parse_length(cidr, v4 ? 32 : 128, kind, length)) return problem;
  (v4 ? mechanism.cidr4 : mechanism.cidr6) = length;
  return std::nullopt;
}

Problem parse_mechanism(std::string_view term, Record& record) {
  Mechanism mechanism;
  std::string_view rest = term;
  if (is_qualifier(rest.front())) {
    mechanism.qualifier = static_cast<Qualifier>(rest.front());
    mechanism.explicit_qualifier = rest.front() == '+';
    rest.remove_prefix(1);
  }
  std::size_t name_end = 0;
  while (name_end < rest.size() && is_alnum(rest[name_end])) ++name_end;
  const std::string name = lowercase(rest.substr(0, name_end));
  rest.remove_prefix(name_end);
  const std::optional<MechanismKind> kind = mechanism_kind(name);
  if (!kind || (!rest.empty() && rest.front() != ':' && rest.front() != '/')) {
    if ((name == "redirect" || name == "exp") && rest.starts_with(":"))
      return "unknown mechanism " + quoted_ascii(term) + " (did you mean '" + name + "='?)";
    return "unknown mechanism " + quoted_ascii(term);
  }
  mechanism.kind = *kind;
  const std::string in_term = " in " + quoted_ascii(term);
  Problem problem;
  switch (*kind) {
    case MechanismKind::all:
      if (!rest.empty()) return "'all' takes no domain or CIDR length" + in_term;
      break;
    case MechanismKind::include:
    case MechanismKind::exists:
    case MechanismKind::ptr: {
      if (rest.empty() && *kind == MechanismKind::ptr) break;
      if (rest.empty()) return name + " needs a domain: '" + name + ":example.com'";
      if (rest.front() == '/' || cidr_suffix_start(rest) != rest.size())
        return name + " takes no CIDR length" + in_term;
      problem = parse_domain(rest.substr(1), name, mechanism);
      break;
    }
    case MechanismKind::a:
    case MechanismKind::mx: {
      if (rest.empty()) break;
      const std::size_t cidr = rest.front() == '/' ? 0 : cidr_suffix_start(rest);
      if (cidr > 0) problem = parse_domain(rest.substr(1, cidr - 1), name, mechanism);
      if (!problem && cidr < rest.size()) problem = parse_dual_cidr(rest.substr(cidr), name, mechanism);
      break;
    }
    case MechanismKind::ip4:
    case MechanismKind::ip6:
      problem = parse_ip(rest, mechanism);
      break;
  }
  if (problem) return *problem + in_term;
  record.terms.push_back(Term{std::move(mechanism), 0});
  return std::nullopt;
}

Problem parse_modifier(std::string_view term, std::size_t equals, Record& record) {
  Modifier modifier{lowercase(term.substr(0, equals)), std::string(term.substr(equals + 1))};
  if (modifier.name == "redirect" || modifier.name == "exp") {
    for (const Term& earlier : record.terms)
      if (const Modifier* other = earlier.modifier(); other && other->name == modifier.name)
        return modifier.name + "= appears more than once (allowed at most once)";
    if (modifier.value.empty())
      return modifier.name + "= needs a domain: '" + modifier.name + "=example.com'";
    if (auto error = check_domain_spec(modifier.value)) return error->message + " in " + quoted_ascii(term);
  } else if (auto error = check_macro_string(modifier.value, MacroScope::domain)) {
    return error->message + " in the value of modifier " + quoted_ascii(term);
  }
  record.terms.push_back(Term{std::move(modifier), 0});
  return std::nullopt;
}

Problem parse_term(std::string_view term, Record& record) {
  for (char c : term) {
    const auto byte = static_cast<unsigned char>(c);
    if (byte >= 0x80)
      return "non-ASCII byte '" + printable(std::string_view(&c, 1)) + "' in " + quoted_ascii(term) +
             " (SPF records are ASCII only)";
    if (byte < 0x20 || byte == 0x7f)
      return "control character '" + printable(std::string_view(&c, 1)) + "' in " + quoted_ascii(term) +
             " (terms are separated by spaces only)";
  }
  // A modifier is name "=" ...; a mechanism has ':' or '/' before any '='.
  const std::size_t equals = term.find('=');
  if (equals == std::string_view::npos || term.find_first_of(":/") < equals)
    return parse_mechanism(term, record);
  const std::string_view name = term.substr(0, equals);
  bool valid_name = !name.empty() && is_alpha(name.front());
  for (char c : name) valid_name = valid_name && is_name_char(c);
  if (valid_name) return parse_modifier(term, equals, record);
  if (name.empty()) return "modifier name missing before '=' in " + quoted_ascii(term);
  if (is_qualifier(name.front()) && name.size() > 1 && is_alpha(name[1]))
    return "a modifier takes no qualifier: " + quoted_ascii(term);
  if (name.find_first_not_of("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.") ==
      std::string_view::npos)
    return "invalid modifier name " + quoted_ascii(name) + " in " + quoted_ascii(term) +
           " (a name starts with a letter, then letters, digits, '-', '_' or '.')";
  return "unknown mechanism " + quoted_ascii(term);
}

}  // namespace

ParseResult parse_record(std::string_view text) {
  const std::size_t first_space = text.find(' ');
  const std::string_view version = text.substr(0, first_space);
  if (!is_spf_record(text)) {
    ParseError error{"not an SPF record: it must begin with 'v=spf1' followed by a space or the end, not " +
                         quoted_ascii(version),
                     0, version.size(), std::string(version)};
    return {std::move(error)};
  }
  Record record;
  std::size_t position = version.size();
  while (position < text.size()) {
    if (text[position] == ' ') {
      ++position;
      continue;
    }
    const std::size_t end = std::min(text.find(' ', position), text.size());
    const std::string_view term = text.substr(position, end - position);
    if (Problem problem = parse_term(term, record))
      return {ParseError{std::move(*problem), position, term.size(), std::string(term)}};
    record.terms.back().offset = position;
    position = end;
  }
  return {std::move(record)};
}

std::string format_parse_error(std::string_view text, const ParseError& error) {
  const std::size_t offset = std::min(error.offset, text.size());
  const std::size_t length = std::min(error.length, text.size() - offset);
  const std::size_t column = printable(text.substr(0, offset)).size();
  const std::size_t width = printable(text.substr(offset, length)).size();
  std::string out = error.message + "\n" + printable(text) + "\n" + std::string(column, ' ') + "^";
  if (width > 1) out += std::string(width - 1, '~');
  return out;
}

namespace {

// The cache of parse_record_shared(), in shards so that many planner threads rarely wait on one
// another.
class ParseCache {
 public:
  std::shared_ptr<const ParseResult> get(std::string_view text) {
    if (text.size() > k_parse_cache_text_bytes)
      return std::make_shared<const ParseResult>(parse_record(text));
    Shard& shard = m_shards[std::hash<std::string_view>{}(text) % k_shards];
    {
      const std::lock_guard lock(shard.mutex);
      if (const auto found = shard.parsed.find(std::string(text)); found != shard.parsed.end())
        return found->second;
    }
    auto parsed = std::make_shared<const ParseResult>(parse_record(text));
    const std::lock_guard lock(shard.mutex);
    if (shard.parsed.size() < k_parse_cache_entries / k_shards)
      shard.parsed.emplace(std::string(text), parsed);
    return parsed;
  }

 private:
  static constexpr std::size_t k_shards = 16;
  struct Shard {
    std::mutex mutex;
    std::unordered_map<std::string, std::shared_ptr<const ParseResult>> parsed;
  };
  Shard m_shards[k_shards];
};

}  // namespace

std::shared_ptr<const ParseResult> parse_record_shared(std::string_view text) {
  static ParseCache cache;
  return cache.get(text);
}

}  // namespace spfctl::spf
