#include "dns/zone_resolver.hpp"

#include <set>
#include <string>

namespace spfctl::dns {
namespace {

std::vector<ZoneFile> load_all(const std::vector<std::filesystem::path>& paths) {
  std::vector<ZoneFile> zones;
  for (const auto& path : paths) zones.push_back(load_zone_file(path));
  return zones;
}

void add(MemoryResolver& store, const ZoneRecord& record) {
  switch (record.type) {
    case RrType::TXT:
      store.add_txt(record.owner, std::get<TxtRdata>(record.rdata).strings, record.ttl);
      break;
    case RrType::SPF:
      store.add_spf(record.owner, std::get<TxtRdata>(record.rdata).strings, record.ttl);
      break;
    case RrType::A:
    case RrType::AAAA:
      store.add_address(record.owner, std::get<net::IpAddress>(record.rdata), record.ttl);
      break;
    case RrType::MX: {
      const auto& mx = std::get<MxRecord>(record.rdata);
      store.add_mx(record.owner, mx.preference, mx.exchange, record.ttl);
      break;
    }
    case RrType::PTR:
      store.add_ptr(record.owner, std::get<NameRdata>(record.rdata).name, record.ttl);
      break;
    case RrType::CNAME:
      store.add_cname(record.owner, std::get<NameRdata>(record.rdata).name, record.ttl);
      break;
    case RrType::NS:
    case RrType::SOA:
      store.add_name(record.owner);
      break;
  }
}

}  // namespace

ZoneResolver::ZoneResolver(const std::vector<std::filesystem::path>& paths) {
  load(load_all(paths));
}

ZoneResolver::ZoneResolver(const std::vector<ZoneFile>& zones) {
  load(zones);
}

void ZoneResolver::load(const std::vector<ZoneFile>& zones) {
  std::set<std::string> apexes;
  std::set<std::string> owners;
  for (const ZoneFile& zone : zones) {
    for (const ZoneRecord& record : zone.records) {
      add(m_store, record);
      owners.insert(record.owner);
      if (record.type == RrType::SOA) apexes.insert(record.owner);
    }
    for (const SkippedRecord& record : zone.skipped) {
      m_store.add_name(record.owner);
      owners.insert(record.owner);
    }
  }
  // Empty non-terminals: every ancestor of an owner exists, up to its zone's apex (or up to the
  // top-level domain when no SOA covers it).
  for (const std::string& owner : owners) {
    std::string ancestor = owner;
    while (!apexes.contains(ancestor)) {
      const auto dot = ancestor.find('.');
      if (dot == std::string::npos) break;
      ancestor.erase(0, dot + 1);
      m_store.add_name(ancestor);
    }
  }
}

}  // namespace spfctl::dns
