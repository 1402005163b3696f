#include <catch2/catch.hpp>

#include "plan_support.hpp"
#include "spf/expansion.hpp"

using namespace spfctl;
using namespace spfctl::plan;
using Catch::Contains;
using Catch::StartsWith;
using spfctl::testing::cidrs;
using spfctl::testing::ip;
using spfctl::testing::plain;
using spfctl::testing::record;
using spfctl::testing::Snapshot;

namespace {

// Every probe address gets the same result from the published policy's map as from check_host().
// Receivers check an IPv4-mapped client as IPv4, so that is where its map value is.
void agrees_with_check_host(Snapshot& snapshot, PolicyMapper& mapper, const std::string& domain,
                            std::initializer_list<const char*> probes) {
  const auto published = mapper.published(domain);
  REQUIRE(published->ok());
  for (const char* probe : probes) {
    INFO(domain << " at " << probe);
    const Outcome outcome = published->map.at(ip(probe).unmapped());
    CHECK(outcome.guards == 0);
    CHECK(outcome.result == snapshot.check(probe, domain));
  }
}

}  // namespace

TEST_CASE("an included -ip4 and ~all are honoured: include matches exactly where the target passes",
          "[plan][policymap]") {
  Snapshot s;
  s.spf("sender.example", "v=spf1 -ip4:192.0.2.128/25 ip4:192.0.2.0/24 ip6:2001:db8::/32 ~all");
  s.spf("example.com", "v=spf1 include:sender.example ip4:192.0.2.200 -all");
  PolicyMapper mapper(s.dns);

  const auto sender = mapper.published("sender.example");
  REQUIRE(sender->ok());
  CHECK(sender->pass == cidrs({"192.0.2.0/25", "2001:db8::/32"}));
  CHECK(sender->map.ranges_with(plain(spf::Result::fail)) == cidrs({"192.0.2.128/25"}));
  CHECK(sender->map.at(ip("198.51.100.1")) == plain(spf::Result::softfail));

  const auto domain = mapper.published("example.com");
  REQUIRE(domain->ok());
  CHECK(domain->pass == cidrs({"192.0.2.0/25", "192.0.2.200/32", "2001:db8::/32"}));
  CHECK(domain->map.ranges_with(plain(spf::Result::fail)) == [] {
    net::IpSet rest = net::IpSet::everything();
    rest.subtract(cidrs({"192.0.2.0/25", "192.0.2.200/32", "2001:db8::/32"}));
    return rest;
  }());
  agrees_with_check_host(s, mapper, "example.com",
                         {"192.0.2.0", "192.0.2.127", "192.0.2.128", "192.0.2.199", "192.0.2.200",
                          "192.0.2.201", "192.0.3.0", "2001:db8::1", "2001:db9::", "::ffff:192.0.2.1"});
  agrees_with_check_host(s, mapper, "sender.example",
                         {"192.0.2.1", "192.0.2.129", "10.1.1.1", "2001:db8:ffff::"});
}

TEST_CASE("redirect= decides what the record leaves undecided, and only without 'all'", "[plan][policymap]") {
  Snapshot s;
  s.spf("target.example", "v=spf1 ip4:203.0.113.0/24 -ip4:198.51.100.7 ?all");
  s.spf("example.com", "v=spf1 ip4:198.51.100.0/24 redirect=target.example");
  s.spf("example.org", "v=spf1 ip4:198.51.100.0/24 ~all redirect=target.example");
  PolicyMapper mapper(s.dns);

  const auto redirected = mapper.published("example.com");
  REQUIRE(redirected->ok());
  CHECK(redirected->pass == cidrs({"198.51.100.0/24", "203.0.113.0/24"}));
  CHECK(redirected->map.at(ip("198.51.100.7")) == plain(spf::Result::pass));  // decided before the redirect
  CHECK(redirected->map.at(ip("192.0.2.1")) == plain(spf::Result::neutral));
  CHECK(redirected->lookups == 1);
  agrees_with_check_host(s, mapper, "example.com",
                         {"198.51.100.7", "203.0.113.9", "192.0.2.1", "2001:db8::1"});

  const auto with_all = mapper.published("example.org");
  REQUIRE(with_all->ok());
  CHECK(with_all->pass == cidrs({"198.51.100.0/24"}));
  CHECK(with_all->map.at(ip("203.0.113.9")) == plain(spf::Result::softfail));
  CHECK(with_all->lookups == 0);
  agrees_with_check_host(s, mapper, "example.org", {"198.51.100.7", "203.0.113.9", "2001:db8::1"});
}

TEST_CASE("a and mx resolve both families with their dual CIDR lengths", "[plan][policymap]") {
  Snapshot s;
  s.address("host.example.com", "192.0.2.77");
  s.address("host.example.com", "2001:db8:1:2:3::1");
  s.address("host.example.com", "::ffff:198.51.100.1");  // a mapped AAAA matches no client
  s.dns.add_mx("example.com", 10, "mx1.example.com");
  s.dns.add_mx("example.com", 20, "mx2.example.com");
  s.address("mx1.example.com", "203.0.113.17");
  s.address("mx2.example.com", "2001:db8:ff::1");
  s.spf("example.com", "v=spf1 a:host.example.com/24//64 mx/28//120 -all");
  PolicyMapper mapper(s.dns);

  const auto map = mapper.published("example.com");
  REQUIRE(map->ok());
  CHECK(map->pass == cidrs({"192.0.2.0/24", "2001:db8:1:2::/64", "203.0.113.16/28", "2001:db8:ff::/120"}));
  CHECK(map->lookups == 2);
  CHECK(map->void_lookups == 0);
  agrees_with_check_host(
      s, mapper, "example.com",
      {"192.0.2.0", "192.0.2.255", "192.0.3.0", "2001:db8:1:2:ffff::", "2001:db8:1:3::", "203.0.113.16",
       "203.0.113.31", "203.0.113.32", "2001:db8:ff::ff", "2001:db8:ff::100", "198.51.100.1"});
}

TEST_CASE(
    "a term that depends on more than the address becomes a guard, normalized away when it cannot matter",
    "[plan][policymap]") {
  Snapshot s;
  s.spf("example.com", "v=spf1 ip4:192.0.2.0/24 exists:%{i}.allow.example ~include:%{d}.soft.example -all");
  s.spf("deny.example", "v=spf1 -exists:%{i}.deny.example -all");
  s.spf("sf.example", "v=spf1 exists:%{i}._spf.sf.example -all");
  s.spf("user.example", "v=spf1 include:sf.example ip4:198.51.100.0/24 -all");
  PolicyMapper mapper(s.dns);

  const auto map = mapper.published("example.com");
  REQUIRE(map->ok());
  CHECK(map->guarded);
  CHECK(map->map.at(ip("192.0.2.1")) == plain(spf::Result::pass));
  const Outcome elsewhere = map->map.at(ip("10.0.0.1"));
  CHECK(elsewhere.result == spf::Result::fail);
  const std::vector<Guard> guards = mapper.guards(elsewhere.guards);
  REQUIRE(guards.size() == 2);
  CHECK(mapper.term_text(guards[0].term) == "exists:%{i}.allow.example");
  CHECK(guards[0].qualifier == spf::Qualifier::pass);
  CHECK(mapper.term_text(guards[1].term) == "include:%{d}.soft.example");
  CHECK(guards[1].qualifier == spf::Qualifier::softfail);
  CHECK(mapper.describe(elsewhere) ==
        "pass if exists:%{i}.allow.example matches, otherwise softfail if include:%{d}.soft.example matches, "
        "otherwise fail");

  // -exists before -all changes nothing: every address fails either way.
  const auto deny = mapper.published("deny.example");
  REQUIRE(deny->ok());
  CHECK_FALSE(deny->guarded);
  CHECK(deny->map.ranges_with(plain(spf::Result::fail)) == net::IpSet::everything());

  // An include of a guarded record is itself opaque, and the include's qualifier guards.
  RecordMap user =
      mapper.evaluate(record("v=spf1 include:sf.example ip4:198.51.100.0/24 -all"), "user.example");
  REQUIRE(user.ok());
  CHECK(user.terms[0].kind == TermClass::opaque);
  CHECK_THAT(user.terms[0].reason, Contains("exists:%{i}._spf.sf.example"));
  CHECK(user.terms[1].kind == TermClass::address);
  CHECK(user.map.at(ip("198.51.100.1")) == plain(spf::Result::pass));  // the guard could only give pass too
  CHECK(user.map.at(ip("10.0.0.1")).guards != 0);
  CHECK(user.lookups == 2);
}

TEST_CASE("an include of a guarded record is a guard only where the target could pass", "[plan][policymap]") {
  Snapshot s;
  s.spf("never.example", "v=spf1 ip4:192.0.2.0/24 -exists:%{i}.deny.example ~all");
  s.spf("maybe.example", "v=spf1 ip4:192.0.2.0/24 exists:%{i}.allow.example -all");
  PolicyMapper mapper(s.dns);
  REQUIRE(mapper.published("never.example")->guarded);

  // never.example passes only 192.0.2.0/24, whatever exists: finds: the include is exact.
  const RecordMap never = mapper.evaluate(record("v=spf1 include:never.example -all"), "example.com");
  REQUIRE(never.ok());
  CHECK(never.terms[0].kind == TermClass::opaque);  // still kept as written
  CHECK_FALSE(never.guarded);
  CHECK(never.pass == cidrs({"192.0.2.0/24"}));

  const RecordMap maybe = mapper.evaluate(record("v=spf1 ~include:maybe.example -all"), "example.com");
  REQUIRE(maybe.ok());
  CHECK(maybe.map.at(ip("192.0.2.9")) == plain(spf::Result::softfail));
  const Outcome elsewhere = maybe.map.at(ip("2001:db8::1"));
  CHECK(mapper.describe(elsewhere) == "softfail if include:maybe.example matches, otherwise fail");
}

TEST_CASE("lookups and void lookups are counted as the expansion tree counts them", "[plan][policymap]") {
  Snapshot s;
  s.spf("a.example",
        "v=spf1 include:b.example a:nothing.example mx:nomail.example exists:%{i}.x.example -all");
  s.spf("b.example", "v=spf1 include:c.example ptr ~all");
  s.spf("c.example", "v=spf1 exists:fixed.example a:void.example redirect=d.example");
  s.spf("d.example", "v=spf1 ip4:192.0.2.1 -all");
  s.dns.add_name("nomail.example");
  PolicyMapper mapper(s.dns);
  for (const char* name : {"a.example", "b.example", "c.example", "d.example"}) {
    INFO(name);
    const auto map = mapper.published(name);
    REQUIRE(map->ok());
    const spf::ExpansionTree expansion = spf::expand(s.dns, name);
    CHECK(map->lookups == expansion.root.lookups);
    CHECK(map->void_lookups == expansion.root.void_lookups);
  }
  CHECK(mapper.published("a.example")->lookups == 9);
  CHECK(mapper.published("a.example")->void_lookups == 4);
}

TEST_CASE("a published map is computed once per mapper", "[plan][policymap]") {
  Snapshot s;
  s.spf("example.com", "v=spf1 ip4:192.0.2.0/24 -all");
  PolicyMapper mapper(s.dns);
  const auto first = mapper.published("example.com");
  const auto queries = s.dns.queries_sent();
  CHECK(mapper.published("EXAMPLE.COM.") == first);
  CHECK(s.dns.queries_sent() == queries);
}

TEST_CASE("evaluation fails closed, naming what failed", "[plan][policymap]") {
  Snapshot s;
  s.spf("servers.mcsv.net", "v=spf1 ip4:205.201.128.0/20 -all");
  s.dns.set_failure("servers.mcsv.net", dns::RrType::TXT, dns::Status::servfail);
  s.dns.add_txt("nospf.example", {"google-site-verification=abc"});
  s.spf("twice.example", "v=spf1 -all");
  s.spf("twice.example", "v=spf1 ~all");
  s.spf("broken.example", "v=spf1 ip4:192.0.2.1/33 -all");
  s.spf("loop1.example", "v=spf1 include:loop2.example -all");
  s.spf("loop2.example", "v=spf1 include:loop1.example -all");
  for (int i = 0; i < 11; ++i) s.dns.add_mx("many.example", 10, "mx" + std::to_string(i) + ".many.example");
  s.dns.set_failure("down.example", dns::RrType::A, dns::Status::timeout);
  PolicyMapper mapper(s.dns);

  auto error_of = [&](const std::string& text) {
    const RecordMap map = mapper.evaluate(record(text), "example.com");
    CHECK_FALSE(map.ok());
    return map.error;
  };
  CHECK_THAT(error_of("v=spf1 ip4:192.0.2.1 include:servers.mcsv.net -all"),
             StartsWith("include:servers.mcsv.net: TXT lookup for servers.mcsv.net failed (SERVFAIL"));
  CHECK_THAT(error_of("v=spf1 include:nospf.example -all"),
             Contains("include:nospf.example: no SPF record at nospf.example") && Contains("permerror"));
  CHECK_THAT(error_of("v=spf1 redirect=nowhere.example"),
             Contains("redirect=nowhere.example: nowhere.example does not exist"));
  CHECK_THAT(error_of("v=spf1 include:twice.example -all"), Contains("2 SPF records at twice.example"));
  CHECK_THAT(error_of("v=spf1 include:broken.example -all"),
             Contains("include:broken.example: the SPF record at broken.example does not parse"));
  CHECK_THAT(error_of("v=spf1 include:loop1.example -all"), Contains("loops back to loop1.example"));
  CHECK_THAT(error_of("v=spf1 mx:many.example -all"), Contains("11 MX names, over the limit of 10"));
  CHECK_THAT(error_of("v=spf1 a:down.example -all"),
             StartsWith("'a:down.example': A lookup for down.example failed (timeout"));
  CHECK_THAT(error_of("v=spf1 include:example.com -all"), Contains("loops back to example.com"));
}

TEST_CASE("a sender that includes the planned domain is a loop in the plan, not in the snapshot",
          "[plan][policymap]") {
  Snapshot s;
  s.spf("example.com", "v=spf1 ip4:192.0.2.1 -all");  // published today
  s.spf("partner.example", "v=spf1 include:example.com -all");
  PolicyMapper mapper(s.dns);
  REQUIRE(mapper.published("partner.example")->ok());  // fine as published today
  const RecordMap planned = mapper.evaluate(record("v=spf1 include:partner.example -all"), "example.com");
  CHECK_THAT(planned.error,
             Contains("include:partner.example: include:example.com: loops back to example.com"));
}

TEST_CASE("range_text shows one CIDR block when the range is one", "[plan][policymap]") {
  CHECK(range_text({ip("192.0.2.0"), ip("192.0.2.255")}) == "192.0.2.0/24");
  CHECK(range_text({ip("192.0.2.1"), ip("192.0.2.6")}) == "192.0.2.1-192.0.2.6");
  CHECK(range_text({ip("2001:db8::"), ip("2001:db8::ffff")}) == "2001:db8::/112");
}

TEST_CASE("walks are bounded in depth and in records read, and a cut walk is not memoized",
          "[plan][policymap]") {
  Snapshot s;
  // A chain c0 → c1 → ... → c70 ending in one address.
  for (int i = 0; i < 70; ++i)
    s.spf(("c" + std::to_string(i) + ".example").c_str(),
          "v=spf1 include:c" + std::to_string(i + 1) + ".example -all");
  s.spf("c70.example", "v=spf1 ip4:192.0.2.1 -all");
  PolicyMapper mapper(s.dns);
  const RecordMap deep = mapper.evaluate(record("v=spf1 include:c0.example -all"), "example.com");
  CHECK_THAT(deep.error, Contains("includes nested more than 64 deep"));
  // From c60 the same chain is 10 deep: the cut above was not kept for c60.
  const RecordMap shallow = mapper.evaluate(record("v=spf1 include:c60.example -all"), "example.com");
  CHECK(shallow.ok());
  CHECK(shallow.pass == cidrs({"192.0.2.1/32"}));

  // One record asking 2 questions (A and AAAA) for each of 2600 names.
  std::string wide = "v=spf1";
  for (int i = 0; i < 2600; ++i) wide += " a:h" + std::to_string(i) + ".example";
  const RecordMap many = mapper.evaluate(record(wide + " -all"), "example.com");
  CHECK_THAT(many.error, Contains("the policy asks more than 5000 DNS questions"));
  CHECK(many.cut);
  // A sender asking many questions inside a budget of its own is fine.
  s.spf("big.example", "v=spf1 a:h1.example a:h2.example ip4:198.51.100.1 -all");
  CHECK(mapper.published("big.example")->ok());
}
