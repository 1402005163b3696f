#include <catch2/catch.hpp>
#include <map>
#include <string>
#include <vector>

#include "apply/safety.hpp"
#include "tests/plan/plan_support.hpp"

using spfctl::apply::check_domain;
using spfctl::apply::DomainSafety;
using spfctl::plan::PolicyMapper;
using spfctl::plan::TxtState;

namespace {

// Managed names and their SPF values, each value one string.
using State = std::map<std::string, std::vector<std::string>>;

const std::string k_dropped_tail = ", which the published record authorises";

TxtState txt(const State& state) {
  TxtState out;
  for (const auto& [name, values] : state)
    for (const std::string& value : values) out[name].push_back({value});
  for (const auto& [name, values] : state)
    if (values.empty()) out[name];
  return out;
}

// The DNS the records are evaluated over: senders and the domain's own hosts.
struct Fixture {
  spfctl::testing::Snapshot s;
  Fixture() {
    s.spf("sendgrid.net", "v=spf1 ip4:167.89.0.0/17 ip4:208.117.48.0/20 ~all");
    s.spf("esp.example", "v=spf1 ip4:198.51.100.0/24 -all");
    s.spf("other.example", "v=spf1 ip4:192.0.2.9 -all");
    s.spf("google.example", "v=spf1 ip4:203.0.113.0/24 -all");
    s.dns.add_mx("example.com", 10, "mail.example.com");
    s.address("mail.example.com", "192.0.2.25");
    s.address("example.com", "192.0.2.80");
    s.address("other.example", "192.0.2.9");
  }
  DomainSafety check(const State& before, const State& after) {
    PolicyMapper mapper(s.dns);
    return check_domain(mapper, "example.com", "_spf", txt(before), txt(after));
  }
  DomainSafety apex(const std::string& before, const std::string& after) {
    return check({{"example.com", {before}}}, {{"example.com", {after}}});
  }
};

std::vector<std::string> problem(const std::string& text) {
  return {text};
}

}  // namespace

TEST_CASE("safety refuses a weaker final 'all'", "[apply]") {
  Fixture f;
  CHECK(f.apex("v=spf1 mx -all", "v=spf1 mx ~all").problems ==
        problem("weakens its final 'all' from -all to ~all"));
  CHECK(f.apex("v=spf1 mx ~all", "v=spf1 mx ?all").problems ==
        problem("weakens its final 'all' from ~all to ?all"));
  CHECK(f.apex("v=spf1 mx -all", "v=spf1 mx").problems ==
        problem("weakens its final 'all' from -all to no 'all' (neutral)"));
  CHECK(f.apex("v=spf1 mx -all", "v=spf1 mx all").problems.front() ==
        "weakens its final 'all' from -all to +all");
}

TEST_CASE("safety holds a new record to the same rule: none before is neutral", "[apply]") {
  Fixture f;
  CHECK(f.check({}, {{"example.com", {"v=spf1 mx -all"}}}).problems.empty());
  CHECK(f.check({{"example.com", {}}}, {{"example.com", {"v=spf1 mx ?all"}}}).problems.empty());
  CHECK(f.check({}, {{"example.com", {"v=spf1 mx +all"}}}).problems ==
        problem("weakens its final 'all' from no 'all' (neutral) to +all"));
  // A chained record created with the new apex is read through it.
  CHECK(f.check({}, {{"example.com", {"v=spf1 redirect=_spf1.example.com"}},
                     {"_spf1.example.com", {"v=spf1 +all"}}})
            .problems == problem("weakens its final 'all' from no 'all' (neutral) to +all"));
}

TEST_CASE("safety reads the 'all' of a chained redirect target as the domain's", "[apply]") {
  Fixture f;
  const State before = {{"example.com", {"v=spf1 ip4:192.0.2.0/24 -all"}}};
  CHECK(f.check(before, {{"example.com", {"v=spf1 ip4:192.0.2.0/24 redirect=_spf1.example.com"}},
                         {"_spf1.example.com", {"v=spf1 ~all"}}})
            .problems == problem("weakens its final 'all' from -all to ~all"));
  CHECK(f.check(before, {{"example.com", {"v=spf1 redirect=_SPF1.Example.com."}},
                         {"_spf1.example.com", {"v=spf1 ip4:192.0.2.0/24 -all"}}})
            .problems.empty());
  CHECK(f.check({{"example.com", {"v=spf1 redirect=_spf1.example.com"}},
                 {"_spf1.example.com", {"v=spf1 ip4:192.0.2.0/24 -all"}}},
                {{"example.com", {"v=spf1 ip4:192.0.2.0/24 ?all"}}})
            .problems == problem("weakens its final 'all' from -all to ?all"));
}

TEST_CASE("safety accepts a stronger or equal 'all'", "[apply]") {
  Fixture f;
  CHECK(f.apex("v=spf1 mx ~all", "v=spf1 mx -all").problems.empty());
  CHECK(f.apex("v=spf1 mx ?all", "v=spf1 mx ~all").problems.empty());
  CHECK(f.apex("v=spf1 mx", "v=spf1 mx ?all").problems.empty());
  CHECK(f.apex("v=spf1 mx ?all", "v=spf1 mx").problems.empty());
  CHECK(f.apex("v=spf1 mx +all", "v=spf1 mx -all").problems.empty());
}

TEST_CASE("safety does not compare the 'all' of a redirect to another domain", "[apply]") {
  Fixture f;
  CHECK(f.apex("v=spf1 redirect=other.example", "v=spf1 include:other.example -all").problems.empty());
  CHECK(f.apex("v=spf1 -all", "v=spf1 redirect=other.example").problems.empty());
  // What the redirect passed is compared like any other sender.
  CHECK(f.apex("v=spf1 redirect=other.example", "v=spf1 -all").problems ==
        problem("stops authorising 192.0.2.9 (redirect=other.example)" + k_dropped_tail));
}

TEST_CASE("safety lists every address the published policy passes and the new one does not", "[apply]") {
  Fixture f;
  CHECK(
      f.apex("v=spf1 include:SendGrid.net mx a:other.example ip4:192.0.2.1 -all", "v=spf1 ip4:192.0.2.1 -all")
          .problems == problem("stops authorising 167.89.0.0/17 (include:SendGrid.net), 192.0.2.9 "
                               "(a:other.example), 192.0.2.25 (mx), 208.117.48.0/20 (include:SendGrid.net)" +
                               k_dropped_tail));
  CHECK(f.apex("v=spf1 a/24 -all", "v=spf1 -all").problems ==
        problem("stops authorising 192.0.2.0/24 (a/24)" + k_dropped_tail));
  CHECK(f.apex("v=spf1 include:google.example ip4:203.0.113.1 -all", "v=spf1 include:google.example -all")
            .problems.empty());  // still passed through the include: nothing is lost
  SECTION("written differently, the same addresses") {
    CHECK(f.apex("v=spf1 MX a include:esp.example -all",
                 "v=spf1 ip4:192.0.2.25 +a:EXAMPLE.com ip4:198.51.100.0/25 ip4:198.51.100.128/25 -all")
              .problems.empty());
  }
  SECTION("terms that pass nobody authorise nothing") {
    CHECK(f.apex("v=spf1 -include:esp.example ~mx ?a -all", "v=spf1 -all").problems.empty());
    CHECK(f.apex("v=spf1 -all include:esp.example", "v=spf1 -all").problems.empty());
    CHECK(f.apex("v=spf1 -ip4:192.0.2.66 ~ip6:2001:db8::1 ip4:192.0.2.0/24 -all",
                 "v=spf1 ip4:192.0.2.0/24 -all")
              .problems.empty());
  }
  SECTION("IPv6") {
    CHECK(f.apex("v=spf1 ip6:2001:db8::/48 -all", "v=spf1 ip6:2001:db8::/49 -all").problems ==
          problem("stops authorising 2001:db8:0:8000::/49 (ip6:2001:db8::/48)" + k_dropped_tail));
  }
}

TEST_CASE("safety accepts a flattened sender and refuses when its addresses shrank", "[apply]") {
  Fixture f;
  CHECK(
      f.apex("v=spf1 include:google.example mx -all", "v=spf1 ip4:203.0.113.0/24 mx -all").problems.empty());
  // The sender's record lists fewer addresses than the published, flattened copy: refused until
  // someone says it is intended.
  CHECK(f.apex("v=spf1 ip4:203.0.113.0/24 ip4:198.51.100.0/24 -all", "v=spf1 include:esp.example -all")
            .problems == problem("stops authorising 203.0.113.0/24 (ip4:203.0.113.0/24)" + k_dropped_tail));
}

TEST_CASE("safety refuses dropping a term that passes depending on more than the address", "[apply]") {
  Fixture f;
  CHECK(f.apex("v=spf1 exists:%{i}.list.example -all", "v=spf1 -all").problems ==
        problem("stops authorising exists:%{i}.list.example" + k_dropped_tail));
  CHECK(f.apex("v=spf1 ptr -all", "v=spf1 -all").problems ==
        problem("stops authorising ptr" + k_dropped_tail));
  CHECK(f.apex("v=spf1 exists:%{i}.list.example -all", "v=spf1 ip4:192.0.2.1 exists:%{i}.list.example -all")
            .problems.empty());
  CHECK(f.apex("v=spf1 -exists:%{i}.block.example -all", "v=spf1 -all").problems.empty());
}

TEST_CASE("safety follows chained records in the published and the new policy", "[apply]") {
  Fixture f;
  const State before = {
      {"example.com", {"v=spf1 include:sendgrid.net a:other.example ip4:192.0.2.0/24 -all"}}};
  CHECK(f.check(before,
                {{"example.com", {"v=spf1 include:_spf1.example.com -all"}},
                 {"_spf1.example.com",
                  {"v=spf1 include:sendgrid.net a:other.example ip4:192.0.2.0/25 ip4:192.0.2.128/25 -all"}}})
            .problems.empty());
  CHECK(f.check({{"example.com", {"v=spf1 include:_spf1.example.com -all"}},
                 {"_spf1.example.com", {"v=spf1 include:esp.example ip4:198.18.0.7 -all"}}},
                {{"example.com", {"v=spf1 -all"}}})
            .problems == problem("stops authorising 198.18.0.7 (include:_spf1.example.com), 198.51.100.0/24 "
                                 "(include:_spf1.example.com)" +
                                 k_dropped_tail));
}

TEST_CASE("safety has nothing to compare without one published record that parses", "[apply]") {
  Fixture f;
  const State after = {{"example.com", {"v=spf1 -all"}}};
  CHECK(f.check({}, after).problems.empty());
  CHECK(f.check({{"example.com", {}}}, after).problems.empty());
  CHECK(f.check({{"example.com", {"v=spf1 ip4:192.0.2.300 include:esp.example -all"}}}, after)
            .problems.empty());
  CHECK(f.check({{"example.com", {"v=spf1 include:esp.example -all", "v=spf1 mx -all"}}}, after)
            .problems.empty());
  // The same published record that parses is compared: the checks above are not vacuous.
  CHECK_FALSE(f.check({{"example.com", {"v=spf1 include:esp.example -all"}}}, after).problems.empty());
}

TEST_CASE("safety refuses to replace a published policy it cannot evaluate", "[apply]") {
  Fixture f;
  const DomainSafety safety = f.apex("v=spf1 include:missing.example -all", "v=spf1 -all");
  REQUIRE(safety.problems.size() == 1);
  CHECK_THAT(safety.problems.front(),
             Catch::StartsWith("cannot tell what the published record authorises (") &&
                 Catch::Contains("missing.example"));
}

TEST_CASE("safety reads the domain and chain prefix case-insensitively", "[apply]") {
  Fixture f;
  PolicyMapper mapper(f.s.dns);
  const DomainSafety safety = check_domain(mapper, "Example.COM.", "_SPF",
                                           txt({{"example.com", {"v=spf1 include:esp.example -all"}}}),
                                           txt({{"example.com", {"v=spf1 include:_spf1.example.com -all"}},
                                                {"_spf1.example.com", {"v=spf1 include:esp.example -all"}}}));
  CHECK(safety.problems.empty());
}
