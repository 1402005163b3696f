// Answers questions from RFC 1035 master files only (`--zone FILE`), offline. The files are read
// once, into an in-memory store; answers follow authoritative semantics:
//   - a name not in the files is NXDOMAIN;
//   - a name holding other types only is NODATA;
//   - an empty non-terminal (a name that exists only because a name below it has records, e.g.
//     `_spf.example.com` when only `a._spf.example.com` has data) is NODATA (RFC 8020). Names
//     exist up to the apex of a file's SOA record; in a file without SOA, up to the top-level
//     domain, as when the records are served from one zone ".";
//   - CNAMEs are followed, within the loaded data.
#pragma once

#include <filesystem>
#include <vector>

#include "dns/memory_resolver.hpp"
#include "dns/resolver.hpp"
#include "dns/zone_file.hpp"

namespace spfctl::dns {

class ZoneResolver : public Resolver {
 public:
  // Loads every file, in order. Throws spfctl::Error for a file that cannot be read or parsed.
  explicit ZoneResolver(const std::vector<std::filesystem::path>& paths);
  // Serves zones parsed already (e.g. by parse_zone()).
  explicit ZoneResolver(const std::vector<ZoneFile>& zones);

  Answer query(std::string_view name, RrType type) override { return m_store.query(name, type); }
  std::uint64_t queries_sent() const override { return m_store.queries_sent(); }

 private:
  void load(const std::vector<ZoneFile>& zones);

  MemoryResolver m_store;
};

}  // namespace spfctl::dns
