#include <catch2/catch.hpp>

#include "dns/overlay_resolver.hpp"
#include "plan/proof.hpp"
#include "plan_support.hpp"
#include "spf/expansion.hpp"

using namespace spfctl;
using namespace spfctl::plan;
using Catch::Contains;
using spfctl::testing::record;
using spfctl::testing::Snapshot;

namespace {

struct Fixture {
  Snapshot s;
  Fixture() {
    s.spf("mail.example", "v=spf1 ip4:192.0.2.0/24 -ip4:198.51.100.0/24 ip6:2001:db8::/32 ~all");
    s.spf("sf.example", "v=spf1 exists:%{i}._spf.sf.example -all");
    s.spf("example.com", "v=spf1 include:mail.example -all");  // published today: the snapshot's record
  }
};

DesiredRecord at(const std::string& name, std::vector<std::string> strings) {
  return DesiredRecord{name, std::move(strings)};
}

}  // namespace

TEST_CASE("the overlay answers TXT for the planned names and asks the snapshot for the rest",
          "[plan][proof]") {
  Snapshot s;
  s.spf("example.com", "v=spf1 -all");
  s.address("example.com", "192.0.2.1");
  dns::OverlayResolver overlay(
      s.dns, {{"Example.COM.", {{"v=spf1 ", "ip4:192.0.2.1 -all"}, {"MS=1"}}}, {"_spf1.example.com", {}}});
  const dns::Answer txt = overlay.query("example.com", dns::RrType::TXT);
  CHECK(txt.status == dns::Status::ok);
  CHECK(txt.txt.size() == 2);
  CHECK(txt.txt[0] == std::vector<std::string>{"v=spf1 ", "ip4:192.0.2.1 -all"});
  CHECK(overlay.query("_spf1.example.com", dns::RrType::TXT).status == dns::Status::nodata);
  CHECK(overlay.query("example.com", dns::RrType::A).addresses.size() == 1);
  CHECK(overlay.query("other.example", dns::RrType::TXT).status == dns::Status::nxdomain);
  CHECK(overlay.overlays("EXAMPLE.com"));
  CHECK_FALSE(overlay.overlays("other.example"));
  CHECK(overlay.names() == std::vector<std::string>{"_spf1.example.com", "example.com"});
}

TEST_CASE("a correct record set is proved equivalent, chained records included", "[plan][proof]") {
  Fixture f;
  PolicyMapper mapper(f.s.dns);
  const RecordMap policy =
      mapper.evaluate(record("v=spf1 include:mail.example ip4:203.0.113.5 -all"), "example.com");
  REQUIRE(policy.ok());

  const Proof flat =
      prove(mapper, "example.com", policy.map,
            {at("example.com", {"v=spf1 ip4:192.0.2.0/24 ip4:203.0.113.5 ip6:2001:db8::/32 -all"})}, {});
  CHECK(flat.equivalent);
  CHECK(flat.error.empty());
  CHECK(flat.lookups == 0);

  // A chained record counts one lookup; its own ~all is irrelevant inside an include.
  const Proof chained =
      prove(mapper, "example.com", policy.map,
            {at("example.com", {"v=spf1 ip4:203.0.113.5 include:_spf1.example.com -all"}),
             at("_spf1.example.com", {"v=spf1 ip4:192.0.2.0/24 ", "ip6:2001:db8::/32 ~all"})},
            {{"google-site-verification=x"}});
  CHECK(chained.equivalent);
  CHECK(chained.lookups == 1);
}

TEST_CASE("a wrong record set is caught, with the ranges where it differs", "[plan][proof]") {
  Fixture f;
  PolicyMapper mapper(f.s.dns);
  const RecordMap policy =
      mapper.evaluate(record("v=spf1 include:mail.example ip4:203.0.113.5 -all"), "example.com");
  REQUIRE(policy.ok());

  // One address missing.
  const Proof missing = prove(mapper, "example.com", policy.map,
                              {at("example.com", {"v=spf1 ip4:192.0.2.0/24 ip6:2001:db8::/32 -all"})}, {});
  CHECK_FALSE(missing.equivalent);
  REQUIRE(missing.differences.size() == 1);
  CHECK(missing.differences[0] == "203.0.113.5/32: pass in the policy, fail in the records");
  CHECK_THAT(missing.error, Contains("not equivalent") && Contains("203.0.113.5/32"));

  // The included -ip4 ignored: 198.51.100.0/24 must stay fail, not pass; and ~all instead of -all.
  const Proof careless =
      prove(mapper, "example.com", policy.map,
            {at("example.com", {"v=spf1 ip4:192.0.2.0/23 ip4:198.51.100.0/24 ip4:203.0.113.5 "
                                "ip6:2001:db8::/32 ~all"})},
            {});
  CHECK_FALSE(careless.equivalent);
  REQUIRE(careless.differences.size() == 3);  // up to three ranges
  CHECK(careless.differences[0] == "0.0.0.0-192.0.1.255: fail in the policy, softfail in the records");
  CHECK(careless.differences[1] == "192.0.3.0/24: fail in the policy, pass in the records");
  CHECK(careless.differences[2] == "192.0.4.0-198.51.99.255: fail in the policy, softfail in the records");

  // A chain that is missing from the set: the include finds no record.
  const Proof dangling = prove(mapper, "example.com", policy.map,
                               {at("example.com", {"v=spf1 include:_spf1.example.com -all"})}, {});
  CHECK_FALSE(dangling.equivalent);
  CHECK_THAT(dangling.error, Contains("include:_spf1.example.com"));
}

TEST_CASE("opaque terms must keep their place relative to what they can decide", "[plan][proof]") {
  Fixture f;
  PolicyMapper mapper(f.s.dns);
  const RecordMap policy = mapper.evaluate(
      record("v=spf1 ip4:192.0.2.1 include:sf.example -exists:%{i}.deny.example ip4:192.0.2.2 -all"),
      "example.com");
  REQUIRE(policy.ok());
  // Moving a pass address before a pass-only term changes nothing.
  const Proof swapped =
      prove(mapper, "example.com", policy.map,
            {at("example.com",
                {"v=spf1 ip4:192.0.2.1 include:sf.example -exists:%{i}.deny.example ip4:192.0.2.2 -all"})},
            {});
  CHECK(swapped.equivalent);
  CHECK(swapped.lookups == 3);
  // Moving it before a term that can fail it first does.
  const Proof hoisted =
      prove(mapper, "example.com", policy.map,
            {at("example.com",
                {"v=spf1 ip4:192.0.2.1 ip4:192.0.2.2 include:sf.example -exists:%{i}.deny.example -all"})},
            {});
  CHECK_FALSE(hoisted.equivalent);
  REQUIRE(hoisted.differences.size() == 1);
  CHECK(hoisted.differences[0] ==
        "192.0.2.2/32: fail if exists:%{i}.deny.example matches, otherwise pass in the policy, pass in the "
        "records");
}

TEST_CASE("the proof refuses records it cannot read", "[plan][proof]") {
  Fixture f;
  PolicyMapper mapper(f.s.dns);
  const RecordMap policy = mapper.evaluate(record("v=spf1 -all"), "example.com");
  CHECK_THAT(
      prove(mapper, "example.com", policy.map, {at("example.com", {"v=spf1 ip4:1.2.3.4/40 -all"})}, {}).error,
      Contains("does not parse"));
  CHECK_THAT(prove(mapper, "example.com", policy.map, {at("other.example", {"v=spf1 -all"})}, {}).error,
             Contains("do not start with the record at example.com"));
  CHECK_THAT(
      prove(mapper, "example.com", policy.map, {at("example.com", {"v=spf1 -all"})}, {{"v=spf1 +all"}}).error,
      Contains("2 SPF records at example.com"));
}

TEST_CASE("the proof counts lookups as the full expansion tree counts them", "[plan][proof]") {
  Fixture f;
  f.s.spf("nested.example", "v=spf1 include:mail.example include:sf.example a:gone.example ~all");
  PolicyMapper mapper(f.s.dns);
  const std::vector<DesiredRecord> acyclic = {
      at("example.com", {"v=spf1 include:nested.example mx:gone.example include:_spf1.example.com -all"}),
      at("_spf1.example.com", {"v=spf1 ip4:192.0.2.0/24 include:mail.example -all"})};
  const RecordMap intended = mapper.evaluate(
      record("v=spf1 include:nested.example mx:gone.example ip4:192.0.2.0/24 -all"), "example.com");
  REQUIRE(intended.ok());
  const Proof proof = prove(mapper, "example.com", intended.map, acyclic, {});
  INFO(proof.error);
  REQUIRE(proof.equivalent);
  dns::OverlayResolver overlay(
      f.s.dns, {{"example.com", {acyclic[0].strings}}, {"_spf1.example.com", {acyclic[1].strings}}});
  const spf::ExpansionTree full = spf::expand(overlay, "example.com");
  CHECK(proof.lookups == full.root.lookups);
  CHECK(proof.void_lookups == full.root.void_lookups);
  CHECK(proof.lookups == 8);
  CHECK(proof.void_lookups == 2);
}
