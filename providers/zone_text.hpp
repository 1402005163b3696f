// Master-file text edited as a person would: the SPF values of a zone changed on their own lines,
// every other line, comment and record kept byte for byte, the SOA serial bumped, and the result
// parsed again to prove that nothing else moved. The zone-file provider (providers/zonefile) reads
// and writes the files; this knows only text.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "dns/zone_file.hpp"
#include "providers/provider.hpp"

namespace spfctl::providers {

// A parsed zone with its TXT records indexed by owner, so that listing a few names costs the same
// in a zone of ten domains as in a zone of ten thousand.
class ZoneTxt {
 public:
  explicit ZoneTxt(dns::ZoneFile zone);

  // The TXT record sets at `names` (normalized), in the order of `names`; names without TXT
  // records are left out. Only type TXT counts (never type SPF, 99). A set's ttl is its SPF value's
  // TTL when it has one, else its first value's; ids are "FILE:LINE".
  std::vector<TxtRecordSet> sets(const std::vector<std::string>& names) const;

 private:
  dns::ZoneFile m_zone;
  std::unordered_map<std::string, std::vector<std::size_t>> m_txt;  // owner → its TXT records, in file order
};

// ZoneTxt(zone).sets(names), for one question.
std::vector<TxtRecordSet> txt_sets(const dns::ZoneFile& zone, const std::vector<std::string>& names);

// The SOA serial after `serial` on the date `today` (YYYYMMDD): a serial that reads as a date
// (YYYYMMDDnn) becomes today's first (YYYYMMDD00) when that is later, else it counts up by one,
// as any other serial does (wrapping modulo 2^32 as RFC 1982 allows, but to 1: never 0, which
// some servers and tools read as unset).
std::uint32_t next_soa_serial(std::uint32_t serial, std::uint32_t today);

// The master-file text `text` of `zone` (named `file` in messages) with `changes` applied in order:
//   - update and delete find the SPF value (a TXT value starting "v=spf1") at the change's name
//     whose strings joined equal `before`; create requires that the name has no SPF value;
//   - an updated value is written on the lines of the old one, keeping its owner field, class and
//     comments; a created one goes after the last record at its name, or after the last record of
//     the file when the name has none; a deleted one's lines are removed (a record after it that
//     relied on its owner gets the owner written out);
//   - values are written as quoted strings of at most 255 bytes (longer ones split between terms),
//     with escapes; the TTL is written only where the line would not get it otherwise;
//   - the apex SOA serial is bumped (next_soa_serial);
//   - every other line is kept byte for byte.
// Before returning, the result is parsed again and compared with the original: it must hold the
// same records except the changed SPF values and the serial, and exactly the planned SPF values.
// Throws spfctl::Error when a change does not match the file (changed since it was planned), when
// a name would end with two SPF values, or when the comparison fails (saying what to fix).
std::string rewrite_zone_text(std::string_view text, const std::string& file, std::string_view zone,
                              const std::vector<Change>& changes, std::uint32_t today);

}  // namespace spfctl::providers
