// The conformance suite every provider adapter passes, run identically against each: the zone-file
// provider, PowerDNS (a real pdns_server), RFC 2136 (a real knotd with TSIG), and the Cloudflare
// and GoDaddy fakes. The caller starts the backend with a zone whose apex already holds the
// `others` TXT values below and hands over a provider pointed at it.
#pragma once

#include <algorithm>
#include <catch2/catch.hpp>
#include <functional>
#include <string>
#include <vector>

#include "providers/provider.hpp"

namespace spfctl::testing {

// The non-SPF TXT values the backend's zone must hold at its apex before the suite runs.
inline std::vector<providers::TxtValue> conformance_other_values() {
  return {{{"google-site-verification=3kq1dI4xN3W0vOfPzT0bq8bm3e0fJt7Zbq9W2aJmX0E"}}, {{"MS=ms48223017"}}};
}

struct ConformanceOptions {
  std::uint32_t ttl = 3600;          // TTL used for writes; must be allowed by the provider
  std::uint32_t changed_ttl = 7200;  // the TTL of the TTL-change step
  // Called after each step with its name; a backend that can also be asked over DNS checks there
  // that what it serves matches what list() returns. Optional.
  std::function<void(const std::string& step, providers::Provider&)> after_step;
};

namespace conformance_detail {

inline std::string joined(const providers::TxtValue& v) {
  return v.joined();
}

inline const providers::TxtRecordSet* find_set(const std::vector<providers::TxtRecordSet>& sets,
                                               const std::string& name) {
  for (const auto& s : sets)
    if (s.name == name) return &s;
  return nullptr;
}

inline std::vector<std::string> spf_values(const providers::TxtRecordSet* set) {
  std::vector<std::string> out;
  if (!set) return out;
  for (const auto& v : set->values)
    if (joined(v).rfind("v=spf1", 0) == 0) out.push_back(joined(v));
  return out;
}

inline std::vector<std::string> other_values(const providers::TxtRecordSet* set) {
  std::vector<std::string> out;
  if (!set) return out;
  for (const auto& v : set->values)
    if (joined(v).rfind("v=spf1", 0) != 0) out.push_back(joined(v));
  std::sort(out.begin(), out.end());
  return out;
}

inline std::vector<std::string> expected_others() {
  std::vector<std::string> out;
  for (const auto& v : conformance_other_values()) out.push_back(v.joined());
  std::sort(out.begin(), out.end());
  return out;
}

// A value of several character-strings, each at most 255 bytes, split between terms.
inline providers::TxtValue split_value(const std::string& value) {
  providers::TxtValue out;
  std::string current;
  std::size_t start = 0;
  while (start < value.size()) {
    std::size_t end = value.find(' ', start);
    std::string term = value.substr(start, end == std::string::npos ? std::string::npos : end - start + 1);
    if (current.size() + term.size() > 255) {
      out.strings.push_back(current);
      current.clear();
    }
    current += term;
    if (end == std::string::npos) break;
    start = end + 1;
  }
  if (!current.empty()) out.strings.push_back(current);
  return out;
}

}  // namespace conformance_detail

// Runs every step against `provider`, whose zone `zone` starts with conformance_other_values() at
// its apex and no SPF record. Leaves the zone with an SPF record at the apex.
inline void run_provider_conformance(providers::Provider& provider, const std::string& zone,
                                     const ConformanceOptions& options = {}) {
  using namespace conformance_detail;
  using providers::Change;
  using providers::TxtValue;
  const std::string apex = zone;
  const std::string chain = "_spf1." + zone;
  const std::vector<TxtValue> others = conformance_other_values();
  auto live = [&] { return provider.list(zone, {apex, chain}); };
  auto step_done = [&](const std::string& step) {
    INFO("after step: " << step);
    const auto sets = live();
    CHECK(other_values(find_set(sets, apex)) == expected_others());
    if (options.after_step) options.after_step(step, provider);
  };

  REQUIRE(provider.zone_for(apex) == zone);
  REQUIRE(provider.zone_for("mail." + apex) == zone);
  {
    const auto sets = live();
    REQUIRE(other_values(find_set(sets, apex)) == expected_others());
    REQUIRE(spf_values(find_set(sets, apex)).empty());
  }

  // An empty change list changes nothing.
  provider.apply(zone, {});
  step_done("no changes");

  const TxtValue first{{"v=spf1 ip4:192.0.2.0/24 -all"}};
  provider.apply(zone, {Change{Change::Action::create, apex, options.ttl, std::nullopt, first, others}});
  step_done("create at an apex holding other TXT values");
  REQUIRE(spf_values(find_set(live(), apex)) == std::vector<std::string>{first.joined()});

  const TxtValue second{{"v=spf1 ip4:192.0.2.0/24 ip6:2001:db8::/32 include:_spf.google.com -all"}};
  provider.apply(zone, {Change{Change::Action::update, apex, options.ttl, first, second, others}});
  step_done("update");
  REQUIRE(spf_values(find_set(live(), apex)) == std::vector<std::string>{second.joined()});

  // Grow into a chain: a chained record over 255 bytes, then the apex pointing at it.
  std::string long_text = "v=spf1";
  for (int i = 0; i < 30; ++i) long_text += " ip4:198.51." + std::to_string(i) + ".0/24";
  long_text += " -all";
  const TxtValue chained = split_value(long_text);
  REQUIRE(chained.strings.size() >= 2);
  const TxtValue pointing{{"v=spf1 include:" + chain + " -all"}};
  provider.apply(zone, {Change{Change::Action::create, chain, options.ttl, std::nullopt, chained, {}},
                        Change{Change::Action::update, apex, options.ttl, second, pointing, others}});
  step_done("grow into a chain");
  {
    const auto sets = live();
    REQUIRE(spf_values(find_set(sets, chain)) == std::vector<std::string>{long_text});
    REQUIRE(spf_values(find_set(sets, apex)) == std::vector<std::string>{pointing.joined()});
    for (const auto& v : find_set(sets, chain)->values)
      for (const auto& s : v.strings) CHECK(s.size() <= 255);
  }

  // Shrink back: the apex stops pointing at the chain, then the chained record goes.
  provider.apply(zone, {Change{Change::Action::update, apex, options.ttl, pointing, second, others},
                        Change{Change::Action::remove, chain, options.ttl, chained, std::nullopt, {}}});
  step_done("shrink back and delete the chained record");
  {
    const auto sets = live();
    REQUIRE(find_set(sets, chain) == nullptr);
    REQUIRE(spf_values(find_set(sets, apex)) == std::vector<std::string>{second.joined()});
  }

  provider.apply(zone, {Change{Change::Action::update, apex, options.changed_ttl, second, second, others}});
  step_done("TTL change");
  REQUIRE(find_set(live(), apex)->ttl == options.changed_ttl);

  // Escapes and bytes outside ASCII survive the round trip (exp= text can hold anything).
  const TxtValue odd{{"v=spf1 -all exp=x \"quoted\" back\\slash caf\xc3\xa9"}};
  provider.apply(zone, {Change{Change::Action::update, apex, options.changed_ttl, second, odd, others}});
  step_done("escapes and non-ASCII bytes");
  REQUIRE(spf_values(find_set(live(), apex)) == std::vector<std::string>{odd.joined()});

  provider.apply(zone, {Change{Change::Action::update, apex, options.changed_ttl, odd, second, others}});
  step_done("back to a plain value");
  REQUIRE(spf_values(find_set(live(), apex)) == std::vector<std::string>{second.joined()});
}

}  // namespace spfctl::testing
