#include <catch2/catch.hpp>

#include "plan/flatten.hpp"
#include "plan/planner.hpp"
#include "plan_support.hpp"

using namespace spfctl;
using namespace spfctl::plan;
using Catch::Contains;
using spfctl::testing::cidrs;
using spfctl::testing::record;
using spfctl::testing::Snapshot;

namespace {

config::SenderTerm term(config::TermKind kind, std::string value) {
  config::SenderTerm t;
  t.kind = kind;
  t.value = std::move(value);
  t.origin = "domain example.com";
  return t;
}

config::DomainPolicy policy_of(std::initializer_list<config::SenderTerm> terms, int budget = 10) {
  config::DomainPolicy policy;
  policy.name = "example.com";
  policy.terms = terms;
  policy.lookup_budget = budget;
  return policy;
}

config::SenderTerm include(const char* name) {
  return term(config::TermKind::include, name);
}

// The flattened record of `text` at example.com with the terms at `indexes` flattened.
std::string flattened_text(PolicyMapper& mapper, const std::string& text,
                           std::initializer_list<std::size_t> indexes) {
  const spf::Record intended = record(text);
  const RecordMap map = mapper.evaluate(intended, "example.com");
  REQUIRE(map.ok());
  std::vector<bool> flatten(intended.terms.size(), false);
  for (std::size_t i : indexes) flatten[i] = true;
  std::string out = "v=spf1";
  for (const std::string& t : flattened_terms(intended, map, flatten).terms) out += " " + t;
  return out;
}

// Senders whose costs the budget tests rely on: big.example costs 5 lookups, the small ones 1.
void add_senders(Snapshot& s) {
  s.spf("big.example",
        "v=spf1 include:b1.example include:b2.example include:b3.example include:b4.example -all");
  for (int i = 1; i <= 4; ++i)
    s.dns.add_txt("b" + std::to_string(i) + ".example",
                  {"v=spf1 ip4:198.51." + std::to_string(i) + ".0/24 -all"});
  for (int i = 1; i <= 6; ++i)
    s.dns.add_txt("s" + std::to_string(i) + ".example",
                  {"v=spf1 ip4:203.0." + std::to_string(i) + ".0/24 -all"});
  // Two senders that save 2 lookups each: x adds ten ranges, y one.
  s.spf("x.example", "v=spf1 include:x1.example ~all");
  s.spf("x1.example",
        "v=spf1 ip4:10.0.0.1 ip4:10.0.0.3 ip4:10.0.0.5 ip4:10.0.0.7 ip4:10.0.0.9 ip4:10.0.0.11 ip4:10.0.0.13 "
        "ip4:10.0.0.15 ip4:10.0.0.17 ip4:10.0.0.19 -all");
  s.spf("y.example", "v=spf1 include:y1.example ~all");
  s.spf("y1.example", "v=spf1 ip4:10.1.0.0/16 -all");
  s.spf("sf.example", "v=spf1 exists:%{i}._spf.sf.example -all");
}

}  // namespace

TEST_CASE("the intended record is the domain's terms in order, then 'all' with its policy",
          "[plan][flatten]") {
  config::DomainPolicy policy = policy_of(
      {include("_spf.google.com"), term(config::TermKind::ip4, "192.0.2.0/24"),
       term(config::TermKind::mx, "/24"), term(config::TermKind::raw, "exists:%{i}._spf.example.net")});
  policy.policy = spf::Qualifier::softfail;
  const IntendedRecord intended = intended_record(policy);
  REQUIRE(intended.record);
  CHECK(spf::to_string(*intended.record) ==
        "v=spf1 include:_spf.google.com ip4:192.0.2.0/24 mx/24 exists:%{i}._spf.example.net ~all");

  CHECK(spf::to_string(*intended_record(policy_of({})).record) == "v=spf1 -all");

  config::DomainPolicy bad =
      policy_of({include("_spf.google.com"), term(config::TermKind::raw, "ip4:192.0.2.1/33")});
  bad.terms[1].origin = "sender legacy";
  const IntendedRecord refused = intended_record(bad);
  CHECK_FALSE(refused.record);
  CHECK_THAT(refused.error, Contains("'ip4:192.0.2.1/33' from sender legacy") &&
                                Contains("v=spf1 ip4:192.0.2.1/33") && Contains("^~~"));
}

TEST_CASE("flattened addresses are aggregated, pass runs merged across pass-qualified terms",
          "[plan][flatten]") {
  Snapshot s;
  s.spf("low.example", "v=spf1 ip4:192.0.2.0/25 ~all");
  s.spf("high.example", "v=spf1 ip4:192.0.2.128/25 ip6:2001:db8::/33 -all");
  s.spf("keep.example", "v=spf1 ip4:203.0.113.0/24 -all");
  PolicyMapper mapper(s.dns);

  CHECK(flattened_text(mapper, "v=spf1 include:low.example include:high.example ip6:2001:db8:8000::/33 -all",
                       {0, 1}) == "v=spf1 ip4:192.0.2.0/24 ip6:2001:db8::/32 -all");
  // Across a kept pass include the later addresses join the first run.
  CHECK(flattened_text(mapper, "v=spf1 include:low.example include:keep.example include:high.example -all",
                       {0, 2}) == "v=spf1 ip4:192.0.2.0/24 ip6:2001:db8::/33 include:keep.example -all");
  // Not across a term that could decide otherwise first, and minus what a non-pass run decides.
  CHECK(flattened_text(mapper, "v=spf1 include:low.example -exists:%{i}.x.example include:high.example -all",
                       {0, 2}) ==
        "v=spf1 ip4:192.0.2.0/25 -exists:%{i}.x.example ip4:192.0.2.128/25 ip6:2001:db8::/33 -all");
  CHECK(flattened_text(mapper, "v=spf1 include:low.example -ip4:192.0.2.200 include:high.example ~all",
                       {0, 2}) ==
        "v=spf1 ip4:192.0.2.0/25 ip4:192.0.2.128/26 ip4:192.0.2.192/29 ip4:192.0.2.201 ip4:192.0.2.202/31 "
        "ip4:192.0.2.204/30 ip4:192.0.2.208/28 ip4:192.0.2.224/27 ip6:2001:db8::/33 -ip4:192.0.2.200 ~all");
  // A run just before an 'all' of its own qualifier says nothing.
  CHECK(flattened_text(mapper, "v=spf1 include:keep.example ~include:low.example ~all", {1}) ==
        "v=spf1 include:keep.example ~all");
  CHECK(flattened_text(mapper, "v=spf1 include:low.example -ip4:192.0.2.200 include:high.example -all",
                       {0, 2}) ==
        "v=spf1 ip4:192.0.2.0/25 ip4:192.0.2.128/26 ip4:192.0.2.192/29 ip4:192.0.2.201 ip4:192.0.2.202/31 "
        "ip4:192.0.2.204/30 ip4:192.0.2.208/28 ip4:192.0.2.224/27 ip6:2001:db8::/33 -all");
  // Terms after 'all' are never reached.
  CHECK(flattened_text(mapper, "v=spf1 ip4:198.51.100.1 -all include:keep.example", {}) ==
        "v=spf1 ip4:198.51.100.1 -all");
  // A flattened redirect= becomes its target's map, its largest class as 'all'.
  CHECK(flattened_text(mapper, "v=spf1 ip4:198.51.100.1 redirect=high.example exp=why.example", {1}) ==
        "v=spf1 ip4:192.0.2.128/25 ip4:198.51.100.1 ip6:2001:db8::/33 -all exp=why.example");
  CHECK(flattened_text(mapper, "v=spf1 redirect=high.example", {}) == "v=spf1 redirect=high.example");
}

TEST_CASE("auto keeps every include when the published set fits the budget", "[plan][flatten]") {
  Snapshot s;
  add_senders(s);
  const config::DomainPolicy policy =
      policy_of({include("big.example"), include("s1.example"), include("sf.example")});
  const DomainPlan plan = plan_domain(s.dns, policy, {});
  REQUIRE(plan.ok());
  CHECK(plan.flattened.empty());
  REQUIRE(plan.records.size() == 1);
  CHECK(plan.records[0].value() == "v=spf1 include:big.example include:s1.example include:sf.example -all");
  CHECK(plan.lookups == 8);
  CHECK(plan.lookups_unflattened == 8);
  CHECK(plan.equivalent);
}

TEST_CASE("auto flattens the fewest includes that fit the budget", "[plan][flatten]") {
  Snapshot s;
  add_senders(s);
  // 11 lookups against a budget of 6: big.example alone saves 5; five small ones would too.
  const config::DomainPolicy policy =
      policy_of({include("s1.example"), include("s2.example"), include("big.example"), include("s3.example"),
                 include("s4.example"), include("s5.example"), include("s6.example")},
                6);
  const DomainPlan plan = plan_domain(s.dns, policy, {});
  REQUIRE(plan.ok());
  CHECK(plan.flattened == std::vector<std::string>{"include:big.example"});
  CHECK(plan.lookups_unflattened == 11);
  CHECK(plan.lookups == 6);
  CHECK(plan.records[0].value() ==
        "v=spf1 include:s1.example include:s2.example ip4:198.51.1.0/24 ip4:198.51.2.0/23 ip4:198.51.4.0/24 "
        "include:s3.example include:s4.example include:s5.example include:s6.example -all");
  CHECK_THAT(plan.notes.front(), Contains("11 DNS lookups (budget 6)"));
  CHECK(std::find(plan.notes.begin(), plan.notes.end(),
                  "flattened include:big.example: saves 5 lookups, adds 3 ip4 ranges") != plan.notes.end());
}

TEST_CASE("auto prefers the includes that add the fewest bytes", "[plan][flatten]") {
  Snapshot s;
  add_senders(s);
  const config::DomainPolicy policy =
      policy_of({include("x.example"), include("y.example"), include("s1.example")}, 3);
  const DomainPlan plan = plan_domain(s.dns, policy, {});
  REQUIRE(plan.ok());
  CHECK(plan.flattened == std::vector<std::string>{"include:y.example"});
  CHECK(plan.records[0].value() == "v=spf1 include:x.example ip4:10.1.0.0/16 include:s1.example -all");
  CHECK(plan.lookups == 3);
}

TEST_CASE("full flattens all that can be; off flattens nothing and refuses a set over budget",
          "[plan][flatten]") {
  Snapshot s;
  add_senders(s);
  config::DomainPolicy policy = policy_of({include("s1.example"), include("sf.example"), include("y.example"),
                                           term(config::TermKind::ip4, "10.1.2.3")});
  policy.flatten = config::FlattenMode::full;
  const DomainPlan full = plan_domain(s.dns, policy, {});
  REQUIRE(full.ok());
  CHECK(full.flattened == std::vector<std::string>{"include:s1.example", "include:y.example"});
  CHECK(full.records[0].value() == "v=spf1 ip4:10.1.0.0/16 ip4:203.0.1.0/24 include:sf.example -all");
  CHECK(full.lookups == 2);
  CHECK(full.equivalent);

  policy.flatten = config::FlattenMode::off;
  policy.lookup_budget = 4;
  const DomainPlan off = plan_domain(s.dns, policy, {});
  CHECK_FALSE(off.ok());
  CHECK(off.records.empty());
  CHECK_THAT(off.error, Contains("5 DNS lookups needed, over the budget of 4") && Contains("\"off\""));
  policy.lookup_budget = 5;
  const DomainPlan fits = plan_domain(s.dns, policy, {});
  REQUIRE(fits.ok());
  CHECK(fits.flattened.empty());

  policy.flatten = config::FlattenMode::automatic;
  policy.lookup_budget = 1;
  const DomainPlan impossible = plan_domain(s.dns, policy, {});
  CHECK_FALSE(impossible.ok());
  CHECK_THAT(impossible.error,
             Contains("2 DNS lookups needed even with everything flattened, over the budget of 1") &&
                 Contains("'include:sf.example' (2 lookups: its result depends on more than the "
                          "client address (exists:%{i}._spf.sf.example))"));
}

TEST_CASE("void lookups are kept within their budget by flattening", "[plan][flatten]") {
  Snapshot s;
  s.dns.add_name("gone1.example");
  s.dns.add_name("gone2.example");
  s.dns.add_name("gone3.example");
  const config::DomainPolicy policy =
      policy_of({term(config::TermKind::a, "gone1.example"), term(config::TermKind::a, "gone2.example"),
                 term(config::TermKind::a, "gone3.example"), term(config::TermKind::ip4, "192.0.2.1")});
  const DomainPlan plan = plan_domain(s.dns, policy, {});
  REQUIRE(plan.ok());
  CHECK(plan.flattened == std::vector<std::string>{"a:gone1.example"});
  CHECK(plan.void_lookups == 2);
  CHECK(plan.records[0].value() == "v=spf1 ip4:192.0.2.1 a:gone2.example a:gone3.example -all");
  CHECK(plan.warnings.size() == 3);
}

TEST_CASE("planning is deterministic", "[plan][flatten]") {
  Snapshot s;
  add_senders(s);
  config::DomainPolicy policy =
      policy_of({include("x.example"), include("big.example"), include("y.example"), include("sf.example"),
                 include("s1.example"), include("s2.example")},
                7);
  std::vector<config::DomainPolicy> many;
  for (int i = 0; i < 8; ++i) {
    many.push_back(policy);
    many.back().name = "d" + std::to_string(i) + ".example";
  }
  const DomainPlan first = plan_domain(s.dns, policy, {});
  const DomainPlan second = plan_domain(s.dns, policy, {});
  REQUIRE(first.ok());
  CHECK(first.records == second.records);
  CHECK(first.notes == second.notes);
  CHECK(first.flattened == second.flattened);
  PolicyMapper mapper(s.dns);
  const std::vector<DomainPlan> plans = plan_domains(mapper, many, {}, 3);
  for (std::size_t i = 0; i < plans.size(); ++i) {
    INFO(plans[i].domain);
    REQUIRE(plans[i].ok());
    CHECK(plans[i].domain == many[i].name);
    CHECK(plans[i].flattened == first.flattened);
    CHECK(plans[i].records.size() == first.records.size());
  }
}
