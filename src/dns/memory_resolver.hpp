// Authoritative data held in memory: the store behind the zone-file resolver and the resolver
// unit tests fill directly. Answers as an authoritative server with recursion would: a name with
// no data is NXDOMAIN, a name with other types only is NODATA, CNAMEs are followed.
#pragma once

#include <atomic>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "dns/resolver.hpp"

namespace spfctl::dns {

class MemoryResolver : public Resolver {
 public:
  void add_txt(std::string_view name, std::vector<std::string> strings, std::uint32_t ttl = 300);
  void add_spf(std::string_view name, std::vector<std::string> strings, std::uint32_t ttl = 300);
  void add_address(std::string_view name, const net::IpAddress& address, std::uint32_t ttl = 300);
  void add_mx(std::string_view name, std::uint16_t preference, std::string_view exchange,
              std::uint32_t ttl = 300);
  void add_ptr(std::string_view name, std::string_view target, std::uint32_t ttl = 300);
  void add_cname(std::string_view name, std::string_view target, std::uint32_t ttl = 300);
  // Marks a name as existing without data of its own (NS, SOA, or types spfctl does not use).
  void add_name(std::string_view name);
  // Makes questions for (name, type) fail with `status` (servfail or timeout), e.g. to model the
  // conformance suite's TIMEOUT entries or an injected SERVFAIL.
  void set_failure(std::string_view name, RrType type, Status status);
  // Makes every question for `name` about a type it holds no data for fail with `status`.
  void set_failure_for_missing(std::string_view name, Status status);

  Answer query(std::string_view name, RrType type) override;
  std::uint64_t queries_sent() const override { return m_queries.load(); }

 private:
  struct Node {
    std::vector<std::vector<std::string>> txt, spf;
    std::vector<net::IpAddress> a, aaaa;
    std::vector<MxRecord> mx;
    std::vector<std::string> ptr;
    std::string cname;
    std::map<RrType, Status> failures;
    std::optional<Status> missing_failure;
    std::map<RrType, std::uint32_t> ttls;  // per RRset: the smallest TTL added to it
  };
  Node& node(std::string_view name, RrType type, std::uint32_t ttl);

  mutable std::mutex m_mutex;
  std::map<std::string, Node> m_nodes;
  std::atomic<std::uint64_t> m_queries{0};
};

}  // namespace spfctl::dns
