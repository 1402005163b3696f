// The zone-file provider: RFC 1035 master files in one directory, one file per zone named
// "<zone>.zone" (example.com.zone holds the zone example.com). spfctl's built-in provider: it needs
// no account, works offline, and suits zones served by knotd, BIND, NSD or PowerDNS's bind backend
// from files.
//
// Writing a zone changes only the lines of the SPF values it changes: every other line, comment and
// record stays byte for byte as it was, and the SOA serial is bumped.
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "dns/zone_file.hpp"
#include "providers/provider.hpp"
#include "providers/settings.hpp"

namespace spfctl::providers {

// The directory the built-in provider (and a zonefile provider without `directory`) reads: relative
// to the configuration file's directory.
inline constexpr std::string_view k_default_zone_directory = "zones";

// What zone files can hold: any TTL, strings of 255 bytes, values up to 65535 bytes; every change of
// a zone is written at once.
const Capabilities& zone_file_capabilities();

class ZoneFileProvider : public Provider {
 public:
  // `directory` holds the zone files. `today` gives the UTC date as YYYYMMDD for SOA serials; the
  // system clock when empty.
  explicit ZoneFileProvider(std::filesystem::path directory, std::function<std::uint32_t()> today = {});

  const Capabilities& capabilities() const override { return zone_file_capabilities(); }

  // The longest zone among the directory's "<zone>.zone" files that contains `name`.
  std::string zone_for(std::string_view name) override;

  // The TXT records at `names` as the zone's file holds them. A set's ttl is its SPF value's TTL
  // when it has one, else its first value's; ids are "FILE:LINE".
  std::vector<TxtRecordSet> list(std::string_view zone, const std::vector<std::string>& names) override;

  // Rewrites the zone's file with every change applied (see rewrite_zone_text), atomically: a
  // temporary file in the same directory, written, synced and renamed over the old one, keeping its
  // permissions. All changes are written or none. Safe with other writers: it holds the file's
  // advisory lock (lock_file) from reading to renaming, and refuses when the file changed under it
  // all the same (a writer that does not lock). A symbolic link is kept: the file it leads to is
  // rewritten. A file with several hard links is refused (the rename would break them).
  void apply(std::string_view zone, const std::vector<Change>& changes) override;

  // The file that holds `zone`.
  std::filesystem::path file_of(std::string_view zone) const;

 private:
  std::filesystem::path m_directory;
  std::function<std::uint32_t()> m_today;
};

// The lock apply holds while it rewrites `zone_file` (after following symbolic links): the file
// "<zone_file>.lock" beside it, locked with flock(2). A script that edits zone files takes the
// same lock, e.g. `flock zones/example.com.zone.lock -c 'edit zones/example.com.zone'`.
std::filesystem::path lock_file(const std::filesystem::path& zone_file);

// The provider of a [providers.NAME] table of type "zonefile": its `directory` (default "zones"),
// relative to the configuration's directory.
std::unique_ptr<Provider> make_zone_file(const ProviderSettings& settings,
                                         const ProviderEnvironment& environment);

// The TXT record sets at `names` (normalized) in a parsed zone, in the order of `names`; names
// without TXT records are left out. Only type TXT counts (never type SPF, 99).
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
