// Where a plan reads what a domain publishes. Through its provider, a whole zone at a time where the
// provider can list one (one listing per zone and run, shared by every domain in it); or, with a
// provider's plan_reads = "dns", from the zone's authoritative nameservers, asked directly without
// recursion so that nothing is a TTL old, and with no API request at all.
//
// Apply never reads through here: it reads each name it writes through the provider right before
// writing (apply::lister), so a plan made from a listing or from DNS is only applied onto what the
// provider shows then.
#pragma once

#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include "dns/resolver.hpp"
#include "plan/diff.hpp"
#include "publish/provider.hpp"

namespace spfctl::plan {

// How one provider's domains are read for a plan.
struct ReadSource {
  bool dns = false;  // plan_reads = "dns"
  // With dns: "ADDR[:PORT]" servers asked instead of the zone's NS records (plan_reads_server).
  std::vector<std::string> servers;
};

struct DnsReadOptions {
  int timeout_ms = 2000;  // for each question to a nameserver, as --timeout gives it
  int tries = 2;
  std::uint16_t nameserver_port = 53;  // where the zone's NS hosts are asked (tests run them higher)
};

class LiveReads {
 public:
  // `resolver` (the run's) finds a zone's nameservers: its NS records, then their addresses. With
  // `offline` (the run answers from zone files), DNS reads ask `resolver` itself: the zone files are
  // the authoritative data.
  LiveReads(dns::Resolver& resolver, bool offline, DnsReadOptions options = {});
  ~LiveReads();
  LiveReads(const LiveReads&) = delete;
  LiveReads& operator=(const LiveReads&) = delete;

  // Reads names of `zone` at `provider` as `source` says. Thread-safe: domains are read at once,
  // and those of one zone share its one listing (the first asks, the others wait for it). Throws
  // spfctl::Error naming the zone and what failed; a failed listing fails every domain of the
  // zone in this run.
  ListFunction lister(publish::Provider& provider, const std::string& zone, const ReadSource& source);

  std::uint64_t zone_listings() const { return m_zone_listings.load(); }  // provider list_zone() calls
  std::uint64_t dns_questions() const { return m_dns_questions.load(); }  // asked of nameservers

 private:
  struct ZoneListing;
  struct Nameservers;

  std::shared_ptr<ZoneListing> listing(publish::Provider& provider, const std::string& zone);
  std::vector<publish::TxtRecordSet> from_listing(publish::Provider& provider, const std::string& zone,
                                                  const std::vector<std::string>& names);
  std::vector<publish::TxtRecordSet> from_dns(const std::string& zone, const ReadSource& source,
                                              const std::vector<std::string>& names);
  dns::Resolver& nameservers_of(const std::string& zone, const ReadSource& source, std::string& described);

  dns::Resolver& m_resolver;
  bool m_offline;
  DnsReadOptions m_options;
  std::mutex m_mutex;  // guards the maps below (not the work they stand for)
  std::map<std::pair<const publish::Provider*, std::string>, std::shared_ptr<ZoneListing>> m_listings;
  std::map<std::string, std::shared_ptr<Nameservers>> m_zone_servers;        // by zone
  std::map<std::string, std::shared_ptr<dns::Resolver>> m_server_resolvers;  // by server list
  std::atomic<std::uint64_t> m_zone_listings{0};
  std::atomic<std::uint64_t> m_dns_questions{0};
};

}  // namespace spfctl::plan
