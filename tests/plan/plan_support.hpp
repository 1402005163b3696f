// Shared helpers for the planner's unit tests: an in-memory DNS snapshot with SPF records, and
// checks of policy maps against the RFC 7208 evaluator.
#pragma once

#include <catch2/catch.hpp>
#include <string>
#include <vector>

#include "dns/memory_resolver.hpp"
#include "net/ip_set.hpp"
#include "plan/policy_map.hpp"
#include "spf/evaluator.hpp"
#include "spf/parser.hpp"

namespace spfctl::testing {

inline net::IpAddress ip(const char* text) {
  const auto parsed = net::IpAddress::parse(text);
  REQUIRE(parsed);
  return *parsed;
}

inline net::IpSet cidrs(std::initializer_list<const char*> blocks) {
  std::vector<net::Cidr> list;
  for (const char* block : blocks) {
    const net::CidrParse parsed = net::Cidr::parse(block);
    REQUIRE(parsed.cidr);
    list.push_back(*parsed.cidr);
  }
  return net::IpSet::of(list);
}

inline spf::Record record(const std::string& text) {
  const spf::ParseResult parsed = spf::parse_record(text);
  INFO(text);
  REQUIRE(parsed.ok());
  return parsed.record();
}

inline plan::Outcome plain(spf::Result result) {
  return plan::Outcome{0, result, 0};
}

struct Snapshot {
  dns::MemoryResolver dns;

  void spf(const char* name, const std::string& text) { dns.add_txt(name, {text}); }
  void address(const char* name, const char* address) { dns.add_address(name, ip(address)); }

  // check_host() for a client of `domain`'s published policy, with a sender that no exists: or
  // ptr term in the tests matches.
  spf::Result check(const char* client, const std::string& domain) {
    spf::CheckHostOptions options;
    options.timestamp = 1700000000;
    return spf::check_host(dns, {ip(client), "someone@" + domain, "mta.example.org", domain}, options).result;
  }
};

}  // namespace spfctl::testing
