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
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "providers/provider.hpp"
#include "providers/settings.hpp"
#include "providers/zone_text.hpp"

namespace spfctl::providers {

// The directory the built-in provider (and a zonefile provider without `directory`) reads: relative
// to the configuration file's directory.
inline constexpr std::string_view k_default_zone_directory = "zones";

// What zone files can hold: any TTL, strings of 255 bytes, values up to 65535 bytes; every change of
// a zone is written at once.
const Capabilities& zone_file_capabilities();

// What identifies a version of a file or directory: a change to it changes one of these.
struct FileStamp {
  std::uint64_t device = 0, inode = 0, size = 0;
  std::int64_t modified_ns = 0;
  bool operator==(const FileStamp&) const = default;
};

class ZoneFileProvider : public Provider {
 public:
  // `directory` holds the zone files. `today` gives the UTC date as YYYYMMDD for SOA serials; the
  // system clock when empty.
  explicit ZoneFileProvider(std::filesystem::path directory, std::function<std::uint32_t()> today = {});

  const Capabilities& capabilities() const override { return zone_file_capabilities(); }

  // The longest zone among the directory's "<zone>.zone" files that contains `name`. The directory
  // is listed once, and again only when it changed (its modification time).
  std::string zone_for(std::string_view name) override;

  // The TXT records at `names` as the zone's file holds them (ZoneTxt::sets). Each file is parsed
  // once, and again only when it changed (its inode, size or modification time), so a plan of many
  // domains in one zone reads that zone once, and a read after a write sees what was written.
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

  // How many times a zone file was parsed for list(), and the directory listed for zone_for().
  std::size_t files_parsed() const;
  std::size_t directory_listings() const;

 private:
  std::filesystem::path m_directory;
  std::function<std::uint32_t()> m_today;
  // A file's parse: domains of one zone asking at once wait for the one parse (its mutex).
  struct Parsed {
    std::mutex mutex;
    std::optional<FileStamp> stamp;  // of the file parsed
    std::shared_ptr<const ZoneTxt> txt;
  };

  mutable std::mutex m_mutex;  // guards what follows: domains of different zones list at once
  std::map<std::filesystem::path, std::shared_ptr<Parsed>> m_parsed;
  std::optional<std::pair<FileStamp, std::set<std::string>>> m_apexes;  // the zones the directory holds
  std::size_t m_files_parsed = 0;
  std::size_t m_directory_listings = 0;
};

// The lock apply holds while it rewrites `zone_file` (after following symbolic links): the file
// "<zone_file>.lock" beside it, locked with flock(2). A script that edits zone files takes the
// same lock, e.g. `flock zones/example.com.zone.lock -c 'edit zones/example.com.zone'`.
std::filesystem::path lock_file(const std::filesystem::path& zone_file);

// The provider of a [providers.NAME] table of type "zonefile": its `directory` (default "zones"),
// relative to the configuration's directory.
std::unique_ptr<Provider> make_zone_file(const ProviderSettings& settings,
                                         const ProviderEnvironment& environment);

}  // namespace spfctl::providers
