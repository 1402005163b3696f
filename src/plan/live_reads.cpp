#include "plan/live_reads.hpp"

#include <algorithm>
#include <optional>

#include "dns/live_resolver.hpp"
#include "error.hpp"
#include "util/text.hpp"

namespace spfctl::plan {

namespace {

// Addresses of a zone's nameservers asked at most: c-ares moves on to the next when one does not
// answer, and a hostile NS set must not make spfctl ask hundreds.
constexpr std::size_t k_max_nameserver_addresses = 8;

const std::string k_use_api = "; plan_reads = \"api\" reads through the provider's API instead";

}  // namespace

// One zone's listing, made once per run: the first domain of the zone to ask makes it while the
// others wait on `mutex`; afterwards it is read only.
struct LiveReads::ZoneListing {
  std::mutex mutex;
  bool done = false;
  bool listed = false;  // false: the provider cannot list a zone; ask list() per name
  std::string error;
  std::map<std::string, publish::TxtRecordSet> by_name;
};

// Where a zone's records are asked over DNS, found once per run.
struct LiveReads::Nameservers {
  std::mutex mutex;
  bool done = false;
  dns::Resolver* resolver = nullptr;
  std::string described;  // for messages: "ns1.example.net (192.0.2.53:53)"
  std::string error;
};

LiveReads::LiveReads(dns::Resolver& resolver, bool offline, DnsReadOptions options)
    : m_resolver(resolver), m_offline(offline), m_options(options) {}

LiveReads::~LiveReads() = default;

ListFunction LiveReads::lister(publish::Provider& provider, const std::string& zone,
                               const ReadSource& source) {
  if (source.dns)
    return
        [this, zone, source](const std::vector<std::string>& names) { return from_dns(zone, source, names); };
  return [this, &provider, zone](const std::vector<std::string>& names) {
    return from_listing(provider, zone, names);
  };
}

std::shared_ptr<LiveReads::ZoneListing> LiveReads::listing(publish::Provider& provider,
                                                           const std::string& zone) {
  const std::lock_guard lock(m_mutex);
  std::shared_ptr<ZoneListing>& entry = m_listings[{&provider, zone}];
  if (!entry) entry = std::make_shared<ZoneListing>();
  return entry;
}

std::vector<publish::TxtRecordSet> LiveReads::from_listing(publish::Provider& provider,
                                                           const std::string& zone,
                                                           const std::vector<std::string>& names) {
  const std::shared_ptr<ZoneListing> entry = listing(provider, zone);
  {
    const std::lock_guard lock(entry->mutex);
    if (!entry->done) {
      try {
        std::optional<std::vector<publish::TxtRecordSet>> sets = provider.list_zone(zone);
        if (sets) {
          ++m_zone_listings;
          entry->listed = true;
          for (publish::TxtRecordSet& set : *sets) {
            set.name = dns::normalize_name(set.name);
            std::string name = set.name;
            entry->by_name[std::move(name)] = std::move(set);
          }
        }
      } catch (const Error& e) {
        entry->error = e.what();
      }
      entry->done = true;
    }
  }
  if (!entry->error.empty()) throw Error(entry->error);
  if (!entry->listed) return provider.list(zone, names);
  std::vector<publish::TxtRecordSet> out;
  for (const std::string& name : names)
    if (const auto found = entry->by_name.find(dns::normalize_name(name)); found != entry->by_name.end())
      out.push_back(found->second);
  return out;
}

dns::Resolver& LiveReads::nameservers_of(const std::string& zone, const ReadSource& source,
                                         std::string& described) {
  if (m_offline) {
    described = "the zone files";
    return m_resolver;
  }
  std::shared_ptr<Nameservers> entry;
  {
    const std::lock_guard lock(m_mutex);
    // By zone when found through its NS records; by the servers named otherwise (two providers may
    // name different ones).
    const std::string key =
        source.servers.empty() ? "zone " + zone : "servers " + util::joined(source.servers, " ");
    std::shared_ptr<Nameservers>& slot = m_zone_servers[key];
    if (!slot) slot = std::make_shared<Nameservers>();
    entry = slot;
  }
  const std::lock_guard lock(entry->mutex);
  if (!entry->done) {
    entry->done = true;
    std::vector<std::string> servers = source.servers;
    if (servers.empty()) {
      const dns::Answer ns = m_resolver.query(zone, dns::RrType::NS);
      if (ns.failed())
        entry->error = "cannot find the nameservers of zone " + zone + " (" + ns.detail + ")";
      else if (ns.names.empty())
        entry->error = "zone " + zone + " has no NS records in DNS (is it delegated?); set plan_reads_server";
      std::vector<std::string> v4, v6;
      for (const std::string& host : ns.names) {
        for (const dns::RrType type : {dns::RrType::A, dns::RrType::AAAA})
          for (const net::IpAddress& address : m_resolver.query(host, type).addresses)
            (address.is_v4() ? v4 : v6)
                .push_back(dns::ServerAddress{address, m_options.nameserver_port}.to_string());
        entry->described += (entry->described.empty() ? "" : ", ") + host;
      }
      // IPv4 first: a machine without IPv6 routes fails those slowly.
      servers = std::move(v4);
      servers.insert(servers.end(), v6.begin(), v6.end());
      if (servers.size() > k_max_nameserver_addresses) servers.resize(k_max_nameserver_addresses);
      if (entry->error.empty() && servers.empty())
        entry->error = "no address found for the nameservers of zone " + zone + " (" + entry->described + ")";
    } else {
      entry->described = util::joined(servers);
    }
    if (entry->error.empty()) {
      std::vector<std::string> sorted = servers;
      std::sort(sorted.begin(), sorted.end());
      const std::string key = util::joined(sorted, " ");
      const std::lock_guard maps(m_mutex);
      std::shared_ptr<dns::Resolver>& resolver = m_server_resolvers[key];
      try {
        if (!resolver) {
          dns::LiveResolverOptions options;
          options.servers = servers;
          options.timeout_ms = m_options.timeout_ms;
          options.tries = m_options.tries;
          options.authoritative = true;
          resolver = std::make_shared<dns::LiveResolver>(options);
        }
        entry->resolver = resolver.get();
      } catch (const Error& e) {
        entry->error = e.what();
      }
    }
  }
  if (!entry->error.empty()) throw Error("plan_reads = \"dns\": " + entry->error + k_use_api);
  described = entry->described;
  return *entry->resolver;
}

std::vector<publish::TxtRecordSet> LiveReads::from_dns(const std::string& zone, const ReadSource& source,
                                                       const std::vector<std::string>& names) {
  std::string described;
  dns::Resolver& resolver = nameservers_of(zone, source, described);
  std::vector<publish::TxtRecordSet> out;
  for (const std::string& name : names) {
    const std::string fqdn = dns::normalize_name(name);
    if (!m_offline) ++m_dns_questions;
    const dns::Answer answer = resolver.query(fqdn, dns::RrType::TXT);
    if (answer.failed())
      throw Error("plan_reads = \"dns\": reading the TXT records at " + fqdn +
                  " from the nameservers of zone " + zone + " (" + described + "): " + answer.detail +
                  k_use_api);
    if (answer.status != dns::Status::ok) continue;
    publish::TxtRecordSet set{fqdn, answer.ttl, {}, {}};
    for (const std::vector<std::string>& strings : answer.txt) set.values.push_back({strings});
    out.push_back(std::move(set));
  }
  return out;
}

}  // namespace spfctl::plan
