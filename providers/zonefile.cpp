#include "providers/zonefile.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <optional>

#include "error.hpp"
#include "util/file.hpp"
#include "util/text.hpp"

namespace spfctl::providers {
namespace fs = std::filesystem;

namespace {

constexpr std::string_view k_suffix = ".zone";
// How long apply waits for another writer holding a zone file's lock.
constexpr double k_lock_wait_seconds = 30;

std::string read_text(const fs::path& path) {
  std::string error;
  std::optional<std::string> text = util::read_file(path, error);
  if (!text) throw Error("cannot read zone file " + util::quoted(path.string()) + " (" + error + ")");
  return std::move(*text);
}

std::uint32_t utc_today() {
  const std::chrono::year_month_day date{
      std::chrono::floor<std::chrono::days>(std::chrono::system_clock::now())};
  return static_cast<std::uint32_t>(static_cast<int>(date.year())) * 10000 +
         static_cast<unsigned>(date.month()) * 100 + static_cast<unsigned>(date.day());
}

// The file to rewrite for the zone file at `path`: the file itself, or the one a symbolic link
// there leads to (so the link stays). A file with several hard links is refused: replacing it
// would leave the other links with the old zone.
fs::path file_to_rewrite(const fs::path& path) {
  std::error_code error;
  const fs::path target = fs::is_symlink(path, error) ? fs::canonical(path, error) : path;
  if (error)
    throw Error("cannot follow the symbolic link " + util::quoted(path.string()) +
                " to its zone file: " + error.message());
  struct stat info {};
  if (::stat(target.c_str(), &info) != 0)
    throw Error("cannot read zone file " + util::quoted(target.string()) + ": " + std::strerror(errno));
  if (info.st_nlink > 1)
    throw Error("zone file " + util::quoted(target.string()) + " has " + std::to_string(info.st_nlink) +
                " hard links: spfctl replaces a zone file with a new one (readers never see half a zone), "
                "which would leave the other links with the old zone; nothing was written. Make the other "
                "names symbolic links to it, then run apply again");
  return target;
}

// The stamp of `path` (following a symbolic link), or nullopt when it cannot be read.
std::optional<FileStamp> stamp_of(const fs::path& path) {
  struct stat info {};
  if (::stat(path.c_str(), &info) != 0) return std::nullopt;
  return FileStamp{static_cast<std::uint64_t>(info.st_dev), static_cast<std::uint64_t>(info.st_ino),
                   static_cast<std::uint64_t>(info.st_size),
                   static_cast<std::int64_t>(info.st_mtim.tv_sec) * 1000000000 + info.st_mtim.tv_nsec};
}

}  // namespace

ZoneFileProvider::ZoneFileProvider(fs::path directory, std::function<std::uint32_t()> today)
    : m_directory(std::move(directory)), m_today(today ? std::move(today) : utc_today) {}

std::unique_ptr<Provider> make_zone_file(const ProviderSettings& settings,
                                         const ProviderEnvironment& environment) {
  fs::path directory = settings.text("directory", k_default_zone_directory);
  if (directory.is_relative()) directory = environment.config_dir / directory;
  return std::make_unique<ZoneFileProvider>(directory.lexically_normal());
}

const Capabilities& zone_file_capabilities() {
  static const Capabilities capabilities = [] {
    Capabilities c;
    c.min_ttl = 0;
    c.batch = true;
    return c;
  }();
  return capabilities;
}

fs::path ZoneFileProvider::file_of(std::string_view zone) const {
  return m_directory / (dns::normalize_name(zone) + std::string(k_suffix));
}

std::string ZoneFileProvider::zone_for(std::string_view name) {
  const std::string wanted = dns::normalize_name(name);
  std::error_code error;
  const std::optional<FileStamp> stamp = stamp_of(m_directory);
  if (!stamp || !fs::is_directory(m_directory, error))
    throw Error("zone directory " + util::quoted(m_directory.string()) +
                " does not exist (create it with one <zone>.zone file per zone, or set `directory` in the "
                "provider's [providers.NAME] table)");
  const std::lock_guard lock(m_mutex);
  if (!m_apexes || m_apexes->first != *stamp) {
    std::set<std::string> apexes;
    for (const auto& entry : fs::directory_iterator(m_directory, error)) {
      const std::string filename = entry.path().filename().string();
      if (!filename.ends_with(k_suffix) || filename.size() == k_suffix.size() || filename.front() == '.')
        continue;
      std::error_code ignored;
      if (!entry.is_regular_file(ignored)) continue;
      apexes.insert(
          dns::normalize_name(std::string_view(filename).substr(0, filename.size() - k_suffix.size())));
    }
    if (error)
      throw Error("cannot list zone directory " + util::quoted(m_directory.string()) + ": " +
                  error.message());
    m_apexes.emplace(*stamp, std::move(apexes));
    ++m_directory_listings;
  }
  // The longest zone holding the name: the name itself, then each parent, then the root.
  for (std::string_view candidate = wanted;;) {
    if (m_apexes->second.contains(std::string(candidate))) return std::string(candidate);
    if (candidate.empty()) break;
    const std::size_t dot = candidate.find('.');
    candidate = dot == std::string_view::npos ? std::string_view() : candidate.substr(dot + 1);
  }
  throw Error("no zone file for " + util::quoted(wanted) + " in " + util::quoted(m_directory.string()) +
              " (add " + util::quoted(file_of(wanted).string()) +
              ", or name the domain's zone with zone = \"...\")");
}

std::vector<TxtRecordSet> ZoneFileProvider::list(std::string_view zone,
                                                 const std::vector<std::string>& names) {
  const fs::path path = file_of(zone);
  const std::optional<FileStamp> stamp = stamp_of(path);
  std::error_code error;
  if (!stamp && !fs::exists(path, error))
    throw Error("no zone file " + util::quoted(path.string()) + " for the zone " +
                util::quoted(dns::normalize_name(zone)) +
                " (create it, or check the domain's zone and the provider's directory)");
  std::shared_ptr<Parsed> slot;
  {
    const std::lock_guard lock(m_mutex);
    std::shared_ptr<Parsed>& found = m_parsed[path];
    if (!found) found = std::make_shared<Parsed>();
    slot = found;
  }
  std::shared_ptr<const ZoneTxt> parsed;
  {
    // Held while parsing: the zone's other domains wait for this parse rather than parse it too.
    const std::lock_guard lock(slot->mutex);
    if (stamp && slot->txt && slot->stamp == *stamp) {
      parsed = slot->txt;
    } else {
      // Read after taking the stamp: a change in between is seen as a change at the next list().
      parsed = std::make_shared<const ZoneTxt>(
          dns::parse_zone(read_text(path), path.string(), dns::normalize_name(zone)));
      slot->stamp = stamp;
      slot->txt = stamp ? parsed : nullptr;
      const std::lock_guard count(m_mutex);
      ++m_files_parsed;
    }
  }
  return parsed->sets(names);
}

std::size_t ZoneFileProvider::files_parsed() const {
  const std::lock_guard lock(m_mutex);
  return m_files_parsed;
}

std::size_t ZoneFileProvider::directory_listings() const {
  const std::lock_guard lock(m_mutex);
  return m_directory_listings;
}

void ZoneFileProvider::apply(std::string_view zone, const std::vector<Change>& changes) {
  if (changes.empty()) return;
  const fs::path path = file_to_rewrite(file_of(zone));
  const util::FileLock lock(lock_file(path), k_lock_wait_seconds);
  const std::string text = read_text(path);
  const std::string rewritten = rewrite_zone_text(text, path.string(), zone, changes, m_today());
  util::AtomicWrite options;
  options.keep_existing_mode = true;
  // A writer that does not take the lock may have changed the file since it was read: its change
  // must not be lost under the rewrite.
  options.before_rename = [&] {
    if (read_text(path) != text)
      throw Error("zone file " + util::quoted(path.string()) +
                  " changed while spfctl was rewriting it (another writer that does not take " +
                  util::quoted(lock_file(path).string()) + "); nothing was written, run apply again");
  };
  util::write_file_atomically(path, rewritten, options);
}

fs::path lock_file(const fs::path& zone_file) {
  return zone_file.string() + ".lock";
}

}  // namespace spfctl::providers
