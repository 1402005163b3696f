#include <atomic>
#include <catch2/catch.hpp>
#include <mutex>
#include <set>

#include "dns/caching_resolver.hpp"
#include "dns/message_size.hpp"
#include "plan/planner.hpp"
#include "plan_support.hpp"

using namespace spfctl;
using namespace spfctl::plan;
using Catch::Contains;
using Catch::StartsWith;
using spfctl::testing::Snapshot;

namespace {

constexpr const char* k_config = R"(
[defaults]
lookup_budget = 10

[senders.own-relays]
ip4 = ["203.0.113.0/24"]
ip6 = ["2001:db8:4c::/48"]
mx = ["@"]

[[domain]]
name = "shop.example"
senders = ["mailchimp", "sendgrid"]

[[domain]]
name = "big.example"
senders = ["google-workspace", "microsoft365", "sendgrid", "mailgun", "zendesk", "salesforce", "amazon-ses",
           "own-relays"]
lookup_budget = 9

[[domain]]
name = "quiet.example"
senders = []
policy = "fail"

[[domain]]
name = "news.example"
senders = ["mailchimp"]
policy = "softfail"
)";

void add_senders(Snapshot& s) {
  s.spf("servers.mcsv.net", "v=spf1 ip4:205.201.128.0/20 ip4:198.2.128.0/18 ip4:148.105.8.0/21 -all");
  s.spf("sendgrid.net", "v=spf1 ip4:167.89.0.0/17 ip4:149.72.0.0/16 include:ab.sendgrid.net ~all");
  s.spf("ab.sendgrid.net", "v=spf1 ip4:223.165.113.0/24 ~all");
  s.spf("_spf.google.com", "v=spf1 ip4:74.125.0.0/16 ip4:209.85.128.0/17 ip6:2001:4860:4864::/56 ~all");
  s.spf("spf.protection.outlook.com",
        "v=spf1 ip4:40.92.0.0/15 ip4:40.107.0.0/16 ip6:2a01:111:f400::/48 -all");
  s.spf("mailgun.org", "v=spf1 include:_spf.mailgun.org include:_spf.eu.mailgun.org -all");
  s.spf("_spf.mailgun.org", "v=spf1 include:_spf1.mailgun.org include:_spf2.mailgun.org ~all");
  s.spf("_spf1.mailgun.org", "v=spf1 ip4:209.61.151.0/24 ip4:166.78.68.0/22 ~all");
  s.spf("_spf2.mailgun.org", "v=spf1 ip4:104.130.122.0/23 ip4:161.38.192.0/20 ~all");
  s.spf("_spf.eu.mailgun.org", "v=spf1 ip4:141.193.32.0/23 ~all");
  s.spf("mail.zendesk.com", "v=spf1 ip4:185.12.80.0/22 ip4:188.172.128.0/20 ~all");
  s.spf("_spf.salesforce.com", "v=spf1 exists:%{i}._spf.mta.salesforce.com -all");
  s.spf("amazonses.com", "v=spf1 ip4:199.255.192.0/22 ip4:54.240.0.0/18 -all");
  s.dns.add_mx("big.example", 10, "mail.big.example");
  s.address("mail.big.example", "203.0.113.25");
  s.address("mail.big.example", "2001:db8:25::25");
}

std::vector<config::DomainPolicy> domains() {
  return config::load_config_text(k_config, "planner-test.toml").domains;
}

const DomainPlan& plan_for(const std::vector<DomainPlan>& plans, const std::string& domain) {
  for (const DomainPlan& plan : plans)
    if (plan.domain == domain) return plan;
  FAIL("no plan for " << domain);
  return plans.front();
}

}  // namespace

TEST_CASE("plan_domains plans every domain within its budget, proved", "[plan][planner]") {
  Snapshot s;
  add_senders(s);
  dns::CachingResolver cache(s.dns);
  const std::vector<config::DomainPolicy> policies = domains();
  std::atomic<std::size_t> calls{0};
  std::mutex seen_mutex;
  std::set<std::size_t> seen;
  std::set<std::size_t> totals;  // checked on this thread: Catch's assertions are not thread-safe
  PolicyMapper mapper(cache);
  const std::vector<DomainPlan> plans = plan_domains(
      mapper, policies,
      [&](const config::DomainPolicy& p) {
        ++calls;
        return p.name == "shop.example" ? ApexContext{{{"google-site-verification=abc"}}} : ApexContext{};
      },
      2,
      [&](std::size_t done, std::size_t total) {
        std::lock_guard lock(seen_mutex);
        seen.insert(done);
        totals.insert(total);
      });
  CHECK(totals == std::set<std::size_t>{4});
  CHECK(calls == 4);
  CHECK(seen == std::set<std::size_t>{1, 2, 3, 4});
  REQUIRE(plans.size() == 4);
  for (std::size_t i = 0; i < plans.size(); ++i) {
    INFO(plans[i].domain << ": " << plans[i].error);
    CHECK(plans[i].domain == policies[i].name);
    REQUIRE(plans[i].ok());
    CHECK(plans[i].equivalent);
    CHECK(plans[i].lookups <= policies[i].lookup_budget);
    CHECK(plans[i].void_lookups <= 2);
    CHECK(plans[i].records.front().name == plans[i].domain);
  }
  CHECK(plan_for(plans, "shop.example").records.front().value() ==
        "v=spf1 include:servers.mcsv.net include:sendgrid.net -all");
  CHECK(plan_for(plans, "quiet.example").records.front().value() == "v=spf1 -all");
  CHECK(plan_for(plans, "news.example").records.front().value() == "v=spf1 include:servers.mcsv.net ~all");

  const DomainPlan& big = plan_for(plans, "big.example");
  CHECK(big.lookups_unflattened == 14);
  CHECK(big.lookups <= 9);
  CHECK(big.flattened == std::vector<std::string>{"include:mailgun.org"});
  CHECK_THAT(big.records.front().value(), Contains("include:_spf.salesforce.com"));
  CHECK(big.dns_queries > 0);
  // Each question is counted once, for the domain that asked it first: the counts add up.
  std::uint64_t counted = 0;
  for (const DomainPlan& plan : plans) counted += plan.dns_queries;
  CHECK(counted == cache.misses());
}

TEST_CASE("one failed lookup fails exactly the domains that need it", "[plan][planner]") {
  Snapshot s;
  add_senders(s);
  s.dns.set_failure("ab.sendgrid.net", dns::RrType::TXT, dns::Status::servfail);
  dns::CachingResolver cache(s.dns);
  PolicyMapper mapper(cache);
  const std::vector<DomainPlan> plans = plan_domains(mapper, domains(), {}, 3);
  for (const char* failing : {"shop.example", "big.example"}) {
    const DomainPlan& plan = plan_for(plans, failing);
    CHECK_FALSE(plan.ok());
    CHECK(plan.records.empty());
    CHECK_FALSE(plan.equivalent);
    CHECK_THAT(plan.error, StartsWith("include:sendgrid.net: include:ab.sendgrid.net: TXT lookup for "
                                      "ab.sendgrid.net failed (SERVFAIL"));
  }
  CHECK(plan_for(plans, "news.example").ok());
  CHECK(plan_for(plans, "quiet.example").ok());
}

TEST_CASE("an include without an SPF record fails the domain", "[plan][planner]") {
  Snapshot s;
  add_senders(s);
  s.dns.add_txt("servers.mcsv.net", {"v=spf1 -all"});  // now two records: permerror
  const DomainPlan twice = plan_domain(s.dns, domains()[3], {});
  CHECK_THAT(twice.error, Contains("include:servers.mcsv.net: 2 SPF records at servers.mcsv.net"));

  Snapshot bare;
  bare.dns.add_txt("servers.mcsv.net", {"mailru-verification: 1"});
  const DomainPlan missing = plan_domain(bare.dns, domains()[3], {});
  CHECK(missing.error ==
        "include:servers.mcsv.net: no SPF record at servers.mcsv.net, so receivers return permerror");
}

TEST_CASE("other TXT records at the apex can push the record into a chain", "[plan][planner]") {
  Snapshot s;
  add_senders(s);
  config::DomainPolicy policy = domains()[1];  // big.example
  policy.flatten = config::FlattenMode::full;
  const DomainPlan alone = plan_domain(s.dns, policy, {});
  REQUIRE(alone.ok());
  const std::vector<std::vector<std::string>> others = {
      {"google-site-verification=" + std::string(60, 'g')},
      {"MS=ms48223017"},
      {"facebook-domain-verification=" + std::string(30, 'f')}};
  const DomainPlan crowded = plan_domain(s.dns, policy, {others});
  REQUIRE(crowded.ok());
  CHECK(crowded.records.size() > alone.records.size());
  CHECK(crowded.lookups == alone.lookups + static_cast<int>(crowded.records.size() - alone.records.size()));
  std::vector<std::vector<std::string>> apex_answer = others;
  apex_answer.push_back(crowded.records.front().strings);
  CHECK(dns::txt_response_size("big.example", apex_answer) <= 512);
  CHECK(crowded.equivalent);
}

TEST_CASE("the SPF record published at the apex today is replaced, not kept beside the plan",
          "[plan][planner]") {
  Snapshot s;
  add_senders(s);
  const config::DomainPolicy policy = domains()[3];  // news.example
  const DomainPlan plan = plan_domain(s.dns, policy, {{{"v=spf1 ", "include:old.example -all"}, {"MS=ms1"}}});
  REQUIRE(plan.ok());
  CHECK(plan.equivalent);
  CHECK(plan.records.size() == 1);
}
