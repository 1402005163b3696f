// RFC 1035 master files ("zone files"): parsing into structured records that remember the lines
// they came from, and rendering TXT values back as master-file text.
//
// Supported: $ORIGIN, $TTL (RFC 2308), `@`, relative and absolute owners, blank owners (the
// previous owner), optional TTL and class in either order, parentheses across lines, `;` comments,
// quoted and unquoted character-strings with `\"`, `\\`, `\X` and `\DDD` escapes. Types TXT, SPF,
// A, AAAA, MX, PTR, CNAME, NS and SOA are parsed; records of other types are skipped. $INCLUDE is
// rejected. Every error is a spfctl::Error reading "FILE:LINE: what is wrong (what to do)".
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "dns/resolver.hpp"
#include "net/ip.hpp"

namespace spfctl::dns {

// Where a record is written: the lines from its owner to the end of its rdata (closing
// parenthesis included), 1-based and inclusive. Comments on those lines belong to the span.
struct SourceSpan {
  std::string file;
  int first_line = 0;
  int last_line = 0;
  bool operator==(const SourceSpan&) const = default;
};

// TXT and SPF: the character-strings of one resource record, raw bytes, escapes decoded.
struct TxtRdata {
  std::vector<std::string> strings;
  bool operator==(const TxtRdata&) const = default;
};

// PTR, CNAME and NS: the target name, normalized (lowercase, no trailing dot).
struct NameRdata {
  std::string name;
  bool operator==(const NameRdata&) const = default;
};

struct SoaRdata {
  std::string mname;  // normalized
  std::string rname;  // normalized
  std::uint32_t serial = 0;
  std::uint32_t refresh = 0;
  std::uint32_t retry = 0;
  std::uint32_t expire = 0;
  std::uint32_t minimum = 0;
  bool operator==(const SoaRdata&) const = default;
};

// A and AAAA hold net::IpAddress; MX holds MxRecord (exchange normalized).
using Rdata = std::variant<TxtRdata, net::IpAddress, MxRecord, NameRdata, SoaRdata>;

struct ZoneRecord {
  std::string owner;  // normalized: lowercase, no trailing dot ("" is the root)
  RrType type = RrType::TXT;
  std::uint32_t ttl = 0;
  Rdata rdata;
  // The $ORIGIN in effect where the record is written, normalized; lets a rewriter write names
  // relative to it again.
  std::string origin;
  SourceSpan source;
};

// A record of a type spfctl does not parse (SRV, CAA, DS, TYPE65534, ...): its owner still exists.
struct SkippedRecord {
  std::string owner;  // normalized
  std::string type;   // uppercase, as written
  SourceSpan source;
};

struct ZoneFile {
  std::vector<ZoneRecord> records;  // in file order
  std::vector<SkippedRecord> skipped;
};

// TTL used when a file has neither $TTL nor an explicit TTL before a record (knotd's default).
inline constexpr std::uint32_t k_default_zone_ttl = 3600;

// Parses master-file text. `file` names the text in errors and source spans; `origin` is the
// origin before any $ORIGIN (empty: relative names are an error until $ORIGIN sets one). Throws
// spfctl::Error on the first syntax error.
ZoneFile parse_zone(std::string_view text, const std::string& file, std::string_view origin = "");

// Reads and parses a master file; `path` as given names it in errors and spans. Throws
// spfctl::Error when the file cannot be read or does not parse.
ZoneFile load_zone_file(const std::filesystem::path& path, std::string_view origin = "");

// One character-string as master-file text: in double quotes, with `"` and `\` escaped and every
// byte outside printable ASCII (below 0x20, 0x7f and above) written as \DDD. Any length: keeping
// strings within 255 bytes is the caller's job.
std::string render_character_string(std::string_view bytes);

// A TXT value (the strings of one record) as master-file rdata: each string rendered as above,
// separated by single spaces.
std::string render_txt_rdata(const std::vector<std::string>& strings);

}  // namespace spfctl::dns
