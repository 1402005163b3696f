#include "dns/zone_file.hpp"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <fstream>
#include <optional>
#include <sstream>

#include "error.hpp"
#include "util/file.hpp"
#include "util/text.hpp"

namespace spfctl::dns {
namespace {

struct Token {
  std::string text;  // escapes decoded: the bytes of a character-string
  std::string raw;   // as written (without quotes): names keep their escapes
  int line = 0;
  bool quoted = false;
  bool unterminated = false;  // a quoted string the line ended inside of
};

// One logical entry: the tokens from the start of a line to the newline that ends it outside
// parentheses.
struct Entry {
  std::vector<Token> tokens;
  bool blank_owner = false;  // the first line starts with white space
  int first_line = 0;
  int last_line = 0;
};

std::string upper(std::string_view text) {
  std::string out(text);
  for (char& c : out) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return out;
}

[[noreturn]] void fail(const std::string& file, int line, const std::string& what) {
  throw Error(file + ":" + std::to_string(line) + ": " + what);
}

class Lexer {
 public:
  Lexer(std::string_view text, const std::string& file) : m_text(text), m_file(file) {}

  // The next entry with at least one token; nullopt at the end of the text.
  std::optional<Entry> next() {
    while (m_pos < m_text.size()) {
      Entry entry = read_entry();
      if (!entry.tokens.empty()) return entry;
    }
    return std::nullopt;
  }

 private:
  Entry read_entry() {
    Entry entry;
    entry.first_line = m_line;
    entry.blank_owner = m_text[m_pos] == ' ' || m_text[m_pos] == '\t';
    int open_paren_line = 0;
    while (true) {
      if (m_pos >= m_text.size()) {
        if (open_paren_line != 0)
          fail(m_file, open_paren_line, "'(' is never closed (add ')' after the last value of the record)");
        entry.last_line = m_line;
        return entry;
      }
      const char c = m_text[m_pos];
      if (c == '\n') {
        entry.last_line = m_line;
        ++m_line;
        ++m_pos;
        if (open_paren_line == 0) return entry;
      } else if (c == ' ' || c == '\t' || c == '\r') {
        ++m_pos;
      } else if (c == ';') {
        while (m_pos < m_text.size() && m_text[m_pos] != '\n') ++m_pos;
      } else if (c == '(') {
        if (open_paren_line != 0)
          fail(m_file, m_line,
               "nested '(' (close the '(' of line " + std::to_string(open_paren_line) +
                   " before opening another)");
        open_paren_line = m_line;
        ++m_pos;
      } else if (c == ')') {
        if (open_paren_line == 0) fail(m_file, m_line, "')' without a matching '(' (remove it or add '(')");
        open_paren_line = 0;
        ++m_pos;
      } else if (c == '"') {
        entry.tokens.push_back(read_quoted());
        if (entry.tokens.back().unterminated) {
          // The rest of the entry cannot be trusted; the parser reports the string.
          entry.last_line = m_line;
          return entry;
        }
      } else {
        entry.tokens.push_back(read_unquoted());
      }
    }
  }

  // Decodes the escape at m_pos (a backslash) into `out`, keeping the written form in `raw`.
  void read_escape(std::string& out, std::string& raw) {
    const std::size_t start = m_pos;
    ++m_pos;
    if (m_pos >= m_text.size() || m_text[m_pos] == '\n')
      fail(m_file, m_line, "'\\' at the end of a line (escape a character after it, or write \\\\)");
    if (std::isdigit(static_cast<unsigned char>(m_text[m_pos]))) {
      const std::string_view digits = m_text.substr(m_pos, 3);
      const bool three_digits = digits.size() == 3 && std::all_of(digits.begin(), digits.end(), [](char d) {
                                  return std::isdigit(static_cast<unsigned char>(d)) != 0;
                                });
      const int value = three_digits ? std::stoi(std::string(digits)) : 256;
      if (value > 255) {
        std::size_t end = m_pos;
        while (end < m_text.size() && end < m_pos + 3 &&
               std::isdigit(static_cast<unsigned char>(m_text[end])))
          ++end;
        fail(m_file, m_line,
             "invalid escape " + util::quoted(m_text.substr(start, end - start)) +
                 " (write \\DDD with three decimal digits from 000 to 255)");
      }
      out += static_cast<char>(value);
      m_pos += 3;
    } else {
      out += m_text[m_pos];
      ++m_pos;
    }
    raw.append(m_text.substr(start, m_pos - start));
  }

  Token read_quoted() {
    Token token;
    token.line = m_line;
    token.quoted = true;
    ++m_pos;
    while (true) {
      if (m_pos >= m_text.size() || m_text[m_pos] == '\n') {
        token.unterminated = true;
        return token;
      }
      const char c = m_text[m_pos];
      if (c == '"') {
        ++m_pos;
        return token;
      }
      if (c == '\\') {
        read_escape(token.text, token.raw);
      } else {
        token.text += c;
        token.raw += c;
        ++m_pos;
      }
    }
  }

  Token read_unquoted() {
    Token token;
    token.line = m_line;
    while (m_pos < m_text.size()) {
      const char c = m_text[m_pos];
      if (c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == ';' || c == '(' || c == ')' || c == '"')
        break;
      if (c == '\\') {
        read_escape(token.text, token.raw);
      } else {
        token.text += c;
        token.raw += c;
        ++m_pos;
      }
    }
    return token;
  }

  std::string_view m_text;
  const std::string& m_file;
  std::size_t m_pos = 0;
  int m_line = 1;
};

// Types spfctl skips without error; anything else that is neither parsed nor TYPEnnn is
// reported as a likely typo.
bool is_known_other_type(std::string_view type) {
  static const char* const k_types[] = {
      "MD",       "MF",      "MB",     "MG",     "MR",    "NULL",    "WKS",        "HINFO", "MINFO",
      "RP",       "AFSDB",   "X25",    "ISDN",   "RT",    "NSAP",    "NSAP-PTR",   "SIG",   "KEY",
      "PX",       "GPOS",    "LOC",    "NXT",    "EID",   "NIMLOC",  "SRV",        "ATMA",  "NAPTR",
      "KX",       "CERT",    "A6",     "DNAME",  "SINK",  "OPT",     "APL",        "DS",    "SSHFP",
      "IPSECKEY", "RRSIG",   "NSEC",   "DNSKEY", "DHCID", "NSEC3",   "NSEC3PARAM", "TLSA",  "SMIMEA",
      "HIP",      "NINFO",   "RKEY",   "TALINK", "CDS",   "CDNSKEY", "OPENPGPKEY", "CSYNC", "ZONEMD",
      "SVCB",     "HTTPS",   "UINFO",  "UID",    "GID",   "UNSPEC",  "NID",        "L32",   "L64",
      "LP",       "EUI48",   "EUI64",  "TKEY",   "TSIG",  "URI",     "CAA",        "AVC",   "DOA",
      "AMTRELAY", "RESINFO", "WALLET", "TA",     "DLV",
  };
  return std::any_of(std::begin(k_types), std::end(k_types), [&](const char* t) { return type == t; });
}

bool is_generic_type(std::string_view type) {
  if (type.size() <= 4 || type.substr(0, 4) != "TYPE") return false;
  return std::all_of(type.begin() + 4, type.end(),
                     [](char c) { return std::isdigit(static_cast<unsigned char>(c)) != 0; });
}

std::optional<RrType> parsed_type(std::string_view type) {
  if (type == "TXT") return RrType::TXT;
  if (type == "SPF") return RrType::SPF;
  if (type == "A") return RrType::A;
  if (type == "AAAA") return RrType::AAAA;
  if (type == "MX") return RrType::MX;
  if (type == "PTR") return RrType::PTR;
  if (type == "CNAME") return RrType::CNAME;
  if (type == "NS") return RrType::NS;
  if (type == "SOA") return RrType::SOA;
  return std::nullopt;
}

bool is_class(std::string_view text) {
  const std::string u = upper(text);
  return u == "IN" || u == "CH" || u == "CS" || u == "HS";
}

// Seconds, or BIND-style units ("1h30m"). nullopt for anything else or above 2^31-1 (RFC 2181).
std::optional<std::uint32_t> parse_duration(std::string_view text) {
  if (text.empty()) return std::nullopt;
  std::uint64_t total = 0;
  std::size_t i = 0;
  while (i < text.size()) {
    std::uint64_t value = 0;
    const std::size_t start = i;
    while (i < text.size() && std::isdigit(static_cast<unsigned char>(text[i]))) {
      value = value * 10 + static_cast<std::uint64_t>(text[i] - '0');
      if (value > 0x7fffffffu) return std::nullopt;
      ++i;
    }
    if (i == start) return std::nullopt;
    std::uint64_t unit = 1;
    if (i < text.size()) {
      switch (std::tolower(static_cast<unsigned char>(text[i]))) {
        case 's':
          unit = 1;
          break;
        case 'm':
          unit = 60;
          break;
        case 'h':
          unit = 3600;
          break;
        case 'd':
          unit = 86400;
          break;
        case 'w':
          unit = 604800;
          break;
        default:
          return std::nullopt;
      }
      ++i;
    } else if (start != 0) {
      return std::nullopt;  // "1h30" : a bare number may only stand alone
    }
    total += value * unit;
    if (total > 0x7fffffffu) return std::nullopt;
  }
  return static_cast<std::uint32_t>(total);
}

struct ParserState {
  std::string origin;  // absolute, with trailing dot; empty when none is set
  std::optional<std::uint32_t> dollar_ttl;
  std::optional<std::uint32_t> last_ttl;
  std::string last_owner;  // absolute, with trailing dot; empty before the first record
};

class EntryParser {
 public:
  EntryParser(const Entry& entry, ParserState& state, const std::string& file)
      : m_entry(entry), m_state(state), m_file(file) {}

  // Applies a directive, or adds the record the entry holds to `zone`.
  void parse(ZoneFile& zone) {
    const Token& first = m_entry.tokens.front();
    if (!m_entry.blank_owner && !first.quoted && first.text.starts_with("$")) {
      directive();
    } else {
      record(zone);
    }
  }

 private:
  [[noreturn]] void fail_at(int line, const std::string& what) const { fail(m_file, line, what); }

  bool at_end() const { return m_next >= m_entry.tokens.size(); }

  // The next token; reports an unterminated quoted string when it reaches one.
  const Token& take() {
    const Token& token = m_entry.tokens[m_next++];
    if (token.unterminated)
      fail_at(token.line, "unterminated quoted string" + m_context + " (close it with \")");
    return token;
  }

  const Token* peek() const { return at_end() ? nullptr : &m_entry.tokens[m_next]; }

  int last_line() const { return m_entry.tokens.back().line; }

  void expect_end(const std::string& what) {
    if (at_end()) return;
    const Token& extra = take();
    fail_at(extra.line, "unexpected " + util::quoted(extra.raw) + " after " + what +
                            " (remove it, or comment it out with ';')");
  }

  const Token& take_value(const std::string& usage) {
    if (at_end()) fail_at(last_line(), "incomplete " + m_type_name + " record (write: " + usage + ")");
    return take();
  }

  // An absolute name with trailing dot, from `token` read relative to the origin, with its \DDD and
  // \X escapes decoded (as a server loading the file decodes them: `foo\058bar` is "foo:bar").
  std::string absolute_name(const Token& token, const std::string& what) const {
    if (token.quoted)
      fail_at(token.line, what + " " + util::quoted(token.raw) + " cannot be a quoted string");
    const std::string& text = token.raw;
    std::string name;
    if (text == "@") {
      if (m_state.origin.empty())
        fail_at(token.line, "'@' used before any $ORIGIN (add a $ORIGIN line above it)");
      name = m_state.origin;
    } else if (text.ends_with(".")) {
      name = decoded_name(token);
    } else {
      if (m_state.origin.empty())
        fail_at(token.line, "relative name " + util::quoted(text) +
                                " with no $ORIGIN (add a $ORIGIN line above it, or end the name with '.')");
      name = decoded_name(token) + "." + (m_state.origin == "." ? "" : m_state.origin);
    }
    if (name == ".") return name;
    std::size_t start = 0;
    while (start < name.size()) {
      const std::size_t dot = name.find('.', start);
      const std::size_t length = dot - start;
      if (length == 0)
        fail_at(token.line, "empty label in name " + util::quoted(text) + " (remove the doubled '.')");
      if (length > 63)
        fail_at(token.line, "label of " + std::to_string(length) + " bytes in name " + util::quoted(text) +
                                " (a label holds at most 63)");
      start = dot + 1;
    }
    if (name.size() > 254)
      fail_at(token.line, "name " + util::quoted(text) + " is longer than 253 characters (shorten it)");
    return name;
  }

  // The token's name text with escapes decoded. The lexer has checked every escape already.
  std::string decoded_name(const Token& token) const {
    const std::string& raw = token.raw;
    std::string out;
    for (std::size_t i = 0; i < raw.size(); ++i) {
      if (raw[i] != '\\' || i + 1 >= raw.size()) {
        out += raw[i];
        continue;
      }
      char byte = raw[i + 1];
      if (std::isdigit(static_cast<unsigned char>(byte))) {
        byte = static_cast<char>(std::stoi(raw.substr(i + 1, 3)));
        i += 3;
      } else {
        ++i;
      }
      if (byte == '.')
        fail_at(token.line, "name " + util::quoted(raw) +
                                " has a '.' inside a label, which spfctl does not support (rename it)");
      out += byte;
    }
    return out;
  }

  std::uint32_t duration(const Token& token, const std::string& what) const {
    auto value = token.quoted ? std::nullopt : parse_duration(token.text);
    if (!value)
      fail_at(token.line, "invalid " + what + " " + util::quoted(token.raw) +
                              " (write seconds up to 2147483647, e.g. 3600, or units such as 1h30m)");
    return *value;
  }

  void directive() {
    const Token& name = take();
    const std::string directive = upper(name.text);
    if (directive == "$INCLUDE")
      fail_at(name.line,
              "$INCLUDE is not supported (merge the included file into this one, or pass it as another "
              "zone file)");
    if (directive != "$ORIGIN" && directive != "$TTL")
      fail_at(name.line, "unknown directive " + util::quoted(name.raw) + " (spfctl reads $ORIGIN and $TTL)");
    if (at_end())
      fail_at(name.line, directive + " needs a value (e.g. " +
                             (directive == "$TTL" ? "$TTL 3600" : "$ORIGIN example.com.") + ")");
    const Token& value = take();
    if (directive == "$TTL") {
      m_state.dollar_ttl = duration(value, "$TTL");
    } else {
      m_state.origin = absolute_name(value, "$ORIGIN");
    }
    expect_end(directive + " " + value.raw);
  }

  void record(ZoneFile& zone) {
    ZoneRecord record;
    record.source = {m_file, m_entry.first_line, m_entry.last_line};
    std::string owner;
    if (m_entry.blank_owner) {
      if (m_state.last_owner.empty())
        fail_at(m_entry.first_line,
                "record without an owner name and no record before it (start the line with a name or @)");
      owner = m_state.last_owner;
    } else {
      owner = absolute_name(take(), "owner name");
    }
    m_state.last_owner = owner;
    record.owner = normalize_name(owner);
    record.origin = normalize_name(m_state.origin);

    std::optional<std::uint32_t> ttl;
    bool have_class = false;
    const Token* type_token = nullptr;
    while (!at_end()) {
      const Token& token = take();
      if (token.quoted)
        fail_at(token.line, "expected a record type, found the quoted string \"" + token.raw +
                                "\" (write a type such as TXT before the value)");
      if (!ttl && std::isdigit(static_cast<unsigned char>(token.text.front()))) {
        ttl = duration(token, "TTL");
      } else if (!have_class && is_class(token.text)) {
        if (upper(token.text) != "IN")
          fail_at(token.line,
                  "class " + util::quoted(token.raw) + " is not supported (spfctl reads class IN only)");
        have_class = true;
      } else {
        type_token = &token;
        break;
      }
    }
    if (type_token == nullptr)
      fail_at(last_line(),
              "missing record type after " + util::quoted(owner) + " (write a type such as TXT)");

    m_type_name = upper(type_token->text);
    m_context = " in " + m_type_name + " record";
    if (ttl) {
      m_state.last_ttl = ttl;
      record.ttl = *ttl;
    } else {
      record.ttl = m_state.dollar_ttl.value_or(m_state.last_ttl.value_or(k_default_zone_ttl));
    }

    const auto type = parsed_type(m_type_name);
    if (!type) {
      if (!is_known_other_type(m_type_name) && !is_generic_type(m_type_name))
        fail_at(type_token->line, "unknown record type " + util::quoted(type_token->raw) +
                                      " (write a standard type such as TXT, or TYPEnnn)");
      while (!at_end()) take();  // skipped, but an unterminated string is still an error
      zone.skipped.push_back({record.owner, m_type_name, record.source});
      return;
    }
    record.type = *type;
    record.rdata = rdata(*type);
    zone.records.push_back(std::move(record));
  }

  Rdata rdata(RrType type) {
    switch (type) {
      case RrType::TXT:
      case RrType::SPF:
        return txt();
      case RrType::A:
      case RrType::AAAA:
        return address(type == RrType::A);
      case RrType::MX: {
        const Token& preference = take_value("MX PREFERENCE EXCHANGE");
        const Token& exchange = take_value("MX PREFERENCE EXCHANGE");
        MxRecord mx{number16(preference), normalize_name(absolute_name(exchange, "MX exchange"))};
        expect_end("the MX record's exchange");
        return mx;
      }
      case RrType::PTR:
      case RrType::CNAME:
      case RrType::NS: {
        const Token& target = take_value(m_type_name + " TARGET-NAME");
        NameRdata name{normalize_name(absolute_name(target, m_type_name + " target"))};
        expect_end("the " + m_type_name + " record's target");
        return name;
      }
      case RrType::SOA:
        return soa();
    }
    return TxtRdata{};
  }

  TxtRdata txt() {
    TxtRdata data;
    if (at_end())
      fail_at(last_line(), m_type_name + " record without text (write the value in double quotes)");
    while (!at_end()) {
      const Token& token = take();
      if (token.text.size() > 255)
        fail_at(token.line, "character-string of " + std::to_string(token.text.size()) +
                                " bytes is longer than 255 (split it into several quoted strings)");
      data.strings.push_back(token.text);
    }
    return data;
  }

  net::IpAddress address(bool v4) {
    const Token& token = take_value(v4 ? "A IPV4-ADDRESS" : "AAAA IPV6-ADDRESS");
    auto ip = token.quoted ? std::nullopt : net::IpAddress::parse(token.text);
    if (!ip || ip->is_v4() != v4)
      fail_at(token.line,
              "invalid " + std::string(v4 ? "IPv4" : "IPv6") + " address " + util::quoted(token.raw) +
                  " in " + m_type_name + " record (write " +
                  (v4 ? "a dotted quad such as 192.0.2.1" : "an IPv6 address such as 2001:db8::1") + ")");
    expect_end("the " + m_type_name + " record's address");
    return *ip;
  }

  std::uint16_t number16(const Token& token) const {
    unsigned value = 0;
    const auto [end, ec] = std::from_chars(token.text.data(), token.text.data() + token.text.size(), value);
    if (token.quoted || ec != std::errc{} || end != token.text.data() + token.text.size() || value > 65535)
      fail_at(token.line,
              "invalid MX preference " + util::quoted(token.raw) + " (write a number from 0 to 65535)");
    return static_cast<std::uint16_t>(value);
  }

  SoaRdata soa() {
    const std::string usage = "SOA MNAME RNAME SERIAL REFRESH RETRY EXPIRE MINIMUM";
    SoaRdata data;
    data.mname = normalize_name(absolute_name(take_value(usage), "SOA mname"));
    data.rname = normalize_name(absolute_name(take_value(usage), "SOA rname"));
    const Token& serial = take_value(usage);
    std::uint32_t value = 0;
    const auto [end, ec] =
        std::from_chars(serial.text.data(), serial.text.data() + serial.text.size(), value);
    if (serial.quoted || ec != std::errc{} || end != serial.text.data() + serial.text.size())
      fail_at(serial.line,
              "invalid SOA serial " + util::quoted(serial.raw) + " (write a number up to 4294967295)");
    data.serial = value;
    data.refresh = duration(take_value(usage), "SOA refresh");
    data.retry = duration(take_value(usage), "SOA retry");
    data.expire = duration(take_value(usage), "SOA expire");
    data.minimum = duration(take_value(usage), "SOA minimum");
    expect_end("the SOA record's minimum");
    return data;
  }

  const Entry& m_entry;
  ParserState& m_state;
  const std::string& m_file;
  std::size_t m_next = 0;
  std::string m_type_name;
  std::string m_context;  // " in TXT record" once the type is known
};

}  // namespace

ZoneFile parse_zone(std::string_view text, const std::string& file, std::string_view origin) {
  ParserState state;
  if (!origin.empty()) state.origin = normalize_name(origin) + ".";
  ZoneFile zone;
  Lexer lexer(text, file);
  while (auto entry = lexer.next()) EntryParser(*entry, state, file).parse(zone);
  return zone;
}

ZoneFile load_zone_file(const std::filesystem::path& path, std::string_view origin) {
  std::string error;
  const std::optional<std::string> text = util::read_file(path, error);
  if (!text) throw Error("cannot read zone file " + util::quoted(path.string()) + " (" + error + ")");
  return parse_zone(*text, path.string(), origin);
}

std::string render_character_string(std::string_view bytes) {
  std::string out = "\"";
  for (const char c : bytes) {
    const auto byte = static_cast<unsigned char>(c);
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (byte < 0x20 || byte >= 0x7f) {
      const char digits[] = {'\\', static_cast<char>('0' + byte / 100),
                             static_cast<char>('0' + byte / 10 % 10), static_cast<char>('0' + byte % 10)};
      out.append(digits, sizeof digits);
    } else {
      out += c;
    }
  }
  out += '"';
  return out;
}

std::string render_txt_rdata(const std::vector<std::string>& strings) {
  std::string out;
  for (const std::string& s : strings) {
    if (!out.empty()) out += ' ';
    out += render_character_string(s);
  }
  return out;
}

}  // namespace spfctl::dns
