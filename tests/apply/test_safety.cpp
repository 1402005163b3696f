#include <catch2/catch.hpp>
#include <map>
#include <string>
#include <vector>

#include "apply/safety.hpp"

using spfctl::apply::check_domain;
using spfctl::apply::DomainSafety;

namespace {

using State = std::map<std::string, std::vector<std::string>>;

const std::string k_dropped_tail = ", which the published record authorises";

DomainSafety check(const State& before, const State& after, const std::vector<std::string>& flattened = {}) {
  return check_domain("example.com", "_spf", before, after, flattened);
}

DomainSafety apex(const std::string& before, const std::string& after,
                  const std::vector<std::string>& flattened = {}) {
  return check({{"example.com", {before}}}, {{"example.com", {after}}}, flattened);
}

}  // namespace

TEST_CASE("safety refuses a weaker final 'all'", "[apply]") {
  CHECK(apex("v=spf1 mx -all", "v=spf1 mx ~all").problems ==
        std::vector<std::string>{"weakens its final 'all' from -all to ~all"});
  CHECK(apex("v=spf1 mx ~all", "v=spf1 mx ?all").problems ==
        std::vector<std::string>{"weakens its final 'all' from ~all to ?all"});
  CHECK(apex("v=spf1 mx -all", "v=spf1 mx").problems ==
        std::vector<std::string>{"weakens its final 'all' from -all to no 'all' (neutral)"});
  CHECK(apex("v=spf1 mx ?all", "v=spf1 mx +all").problems ==
        std::vector<std::string>{"weakens its final 'all' from ?all to +all"});
  CHECK(apex("v=spf1 mx -all", "v=spf1 mx all").problems ==
        std::vector<std::string>{"weakens its final 'all' from -all to +all"});
}

TEST_CASE("safety reads the 'all' of a chained redirect target as the domain's", "[apply]") {
  const State before = {{"example.com", {"v=spf1 ip4:192.0.2.0/24 -all"}}};
  SECTION("the target carries a weaker 'all'") {
    const DomainSafety safety =
        check(before, {{"example.com", {"v=spf1 ip4:192.0.2.0/24 redirect=_spf1.example.com"}},
                       {"_spf1.example.com", {"v=spf1 ~all"}}});
    CHECK(safety.problems == std::vector<std::string>{"weakens its final 'all' from -all to ~all"});
  }
  SECTION("the target carries the same 'all'") {
    const DomainSafety safety = check(before, {{"example.com", {"v=spf1 redirect=_SPF1.Example.com."}},
                                               {"_spf1.example.com", {"v=spf1 ip4:192.0.2.0/24 -all"}}});
    CHECK(safety.problems.empty());
    CHECK(safety.notes.empty());
  }
  SECTION("and in the published policy") {
    const DomainSafety safety = check({{"example.com", {"v=spf1 redirect=_spf1.example.com"}},
                                       {"_spf1.example.com", {"v=spf1 ip4:192.0.2.0/24 -all"}}},
                                      {{"example.com", {"v=spf1 ip4:192.0.2.0/24 ?all"}}});
    CHECK(safety.problems == std::vector<std::string>{"weakens its final 'all' from -all to ?all"});
  }
}

TEST_CASE("safety accepts a stronger or equal 'all'", "[apply]") {
  CHECK(apex("v=spf1 mx ~all", "v=spf1 mx -all").problems.empty());
  CHECK(apex("v=spf1 mx ?all", "v=spf1 mx ~all").problems.empty());
  CHECK(apex("v=spf1 mx", "v=spf1 mx ?all").problems.empty());
  CHECK(apex("v=spf1 mx ?all", "v=spf1 mx").problems.empty());
  CHECK(apex("v=spf1 mx +all", "v=spf1 mx -all").problems.empty());
  CHECK(apex("v=spf1 mx -all", "v=spf1 mx -all").problems.empty());
}

TEST_CASE("safety does not compare the 'all' of a redirect to another domain", "[apply]") {
  // What other.example ends with is unknown here, so even +all is not called weaker.
  CHECK(apex("v=spf1 redirect=other.example", "v=spf1 +all").problems ==
        std::vector<std::string>{"stops authorising include:other.example" + k_dropped_tail});
  // The same sender: a redirect replaced by an include of it drops nothing.
  CHECK(apex("v=spf1 redirect=other.example", "v=spf1 include:other.example -all").problems.empty());
  CHECK(apex("v=spf1 -all", "v=spf1 redirect=other.example").problems.empty());
  CHECK(apex("v=spf1 ip4:192.0.2.1 redirect=other.example", "v=spf1 ip4:192.0.2.1 redirect=Other.Example")
            .problems.empty());
}

TEST_CASE("safety refuses dropping a sender the published record authorises", "[apply]") {
  const DomainSafety safety =
      apex("v=spf1 include:SendGrid.net mx a:other.example ip4:192.0.2.1 -all", "v=spf1 ip4:192.0.2.1 -all");
  CHECK(safety.problems ==
        std::vector<std::string>{"stops authorising a:other.example, include:sendgrid.net, mx" +
                                 k_dropped_tail});
  CHECK(safety.notes.empty());

  SECTION("each term alone") {
    CHECK(apex("v=spf1 mx -all", "v=spf1 -all").problems ==
          std::vector<std::string>{"stops authorising mx" + k_dropped_tail});
    CHECK(apex("v=spf1 a -all", "v=spf1 -all").problems ==
          std::vector<std::string>{"stops authorising a" + k_dropped_tail});
    CHECK(apex("v=spf1 ptr -all", "v=spf1 -all").problems ==
          std::vector<std::string>{"stops authorising ptr" + k_dropped_tail});
    CHECK(apex("v=spf1 a/24 -all", "v=spf1 -all").problems ==
          std::vector<std::string>{"stops authorising a:example.com/24" + k_dropped_tail});
    CHECK(apex("v=spf1 exists:%{i}.list.example -all", "v=spf1 -all").problems ==
          std::vector<std::string>{"stops authorising exists:%{i}.list.example" + k_dropped_tail});
    CHECK(apex("v=spf1 mx:mail.example -all", "v=spf1 mx -all").problems ==
          std::vector<std::string>{"stops authorising mx:mail.example" + k_dropped_tail});
  }
  SECTION("the same sender written differently is kept") {
    CHECK(apex("v=spf1 MX a include:x.example -all",
               "v=spf1 mx:example.com +a:EXAMPLE.com include:X.example -all")
              .problems.empty());
  }
  SECTION("terms that authorise nobody are not senders") {
    CHECK(apex("v=spf1 -include:bad.example ~mx ?a -all", "v=spf1 -all").problems.empty());
    CHECK(apex("v=spf1 -all include:never.example", "v=spf1 -all").problems.empty());
  }
}

TEST_CASE("safety follows chained records in the published and the new policy", "[apply]") {
  const State before = {
      {"example.com", {"v=spf1 include:sendgrid.net a:other.example ip4:192.0.2.0/24 -all"}}};
  SECTION("senders moved into a chained record are kept") {
    const DomainSafety safety = check(before, {{"example.com", {"v=spf1 include:_spf1.example.com -all"}},
                                               {"_spf1.example.com",
                                                {"v=spf1 include:sendgrid.net a:other.example "
                                                 "ip4:192.0.2.0/25 ip4:192.0.2.128/25"}}});
    CHECK(safety.problems.empty());
    CHECK(safety.notes.empty());
  }
  SECTION("senders in a chained record of the published policy must stay") {
    const DomainSafety safety =
        check({{"example.com", {"v=spf1 include:_spf1.example.com -all"}},
               {"_spf1.example.com", {"v=spf1 include:mailgun.org ip4:198.51.100.7"}}},
              {{"example.com", {"v=spf1 -all"}}});
    CHECK(safety.problems ==
          std::vector<std::string>{"stops authorising include:mailgun.org, ip4:198.51.100.7/32" +
                                   k_dropped_tail});
  }
  SECTION("a chained record the new policy does not publish does not count") {
    const DomainSafety safety = check(
        before, {{"example.com", {"v=spf1 include:_spf2.example.com -all"}},
                 {"_spf1.example.com", {"v=spf1 include:sendgrid.net a:other.example ip4:192.0.2.0/24"}}});
    CHECK(safety.problems.size() == 1);
  }
}

TEST_CASE("safety accepts a sender the new plan flattened", "[apply]") {
  const DomainSafety safety = apex("v=spf1 include:_spf.google.com mx -all",
                                   "v=spf1 ip4:203.0.113.0/24 mx -all", {"include:_spf.google.com"});
  CHECK(safety.problems.empty());
  CHECK(safety.notes.empty());
  CHECK(apex("v=spf1 a mx -all", "v=spf1 ip4:203.0.113.0/24 -all", {"a", "mx"}).problems.empty());
  CHECK(apex("v=spf1 include:a.example include:b.example -all", "v=spf1 ip4:203.0.113.0/24 -all",
             {"include:a.example"})
            .problems == std::vector<std::string>{"stops authorising include:b.example" + k_dropped_tail});
}

TEST_CASE("safety requires the published addresses to stay covered", "[apply]") {
  const std::string before = "v=spf1 include:esp.example ip4:192.0.2.0/24 ip6:2001:db8::/48 -all";
  SECTION("a wider new range covers them") {
    const DomainSafety safety =
        apex(before, "v=spf1 include:esp.example ip4:192.0.0.0/16 ip6:2001:db8::/32 -all");
    CHECK(safety.problems.empty());
    CHECK(safety.notes.empty());
  }
  SECTION("several new ranges together cover them") {
    CHECK(apex(before,
               "v=spf1 include:esp.example ip4:192.0.2.0/25 ip4:192.0.2.128/25 ip6:2001:db8::/49 "
               "ip6:2001:db8:0:8000::/49 -all")
              .problems.empty());
  }
  SECTION("an uncovered range is a problem when nothing is flattened and no lookup term is left") {
    const DomainSafety safety = apex(before, "v=spf1 ip4:192.0.2.0/25 ip6:2001:db8::/64 -all");
    REQUIRE(safety.problems.size() == 1);
    CHECK_THAT(safety.problems.front(),
               Catch::StartsWith(
                   "stops authorising include:esp.example, ip4:192.0.2.128/25, ip6:2001:db8:0:1::/64"));
    CHECK_THAT(safety.problems.front(), Catch::EndsWith(k_dropped_tail));
    CHECK(safety.notes.empty());
  }
  SECTION("an uncovered range is a note when the new record has lookup terms that may cover it") {
    const DomainSafety safety =
        apex(before, "v=spf1 include:esp.example ip4:192.0.2.0/25 ip6:2001:db8::/64 -all");
    CHECK(safety.problems.empty());
    REQUIRE(safety.notes.size() == 1);
    CHECK_THAT(safety.notes.front(),
               Catch::StartsWith("no longer lists ip4:192.0.2.128/25, ip6:2001:db8:0:1::/64"));
  }
  SECTION("an uncovered range is a note when the new plan flattens a sender") {
    const DomainSafety safety = apex(
        before, "v=spf1 ip4:192.0.2.0/25 ip4:203.0.113.0/24 ip6:2001:db8::/48 -all", {"include:esp.example"});
    CHECK(safety.problems.empty());
    REQUIRE(safety.notes.size() == 1);
    CHECK(safety.notes.front() ==
          "no longer lists ip4:192.0.2.128/25 (flattened senders publish different addresses now)");
  }
  SECTION("a non-pass range is not an address the record authorises") {
    CHECK(
        apex("v=spf1 -ip4:192.0.2.66 ~ip6:2001:db8::1 ip4:192.0.2.0/24 -all", "v=spf1 ip4:192.0.2.0/24 -all")
            .problems.empty());
  }
}

TEST_CASE("safety has nothing to compare without one published record that parses", "[apply]") {
  const State after = {{"example.com", {"v=spf1 +all"}}};
  CHECK(check({}, after).problems.empty());
  CHECK(check({{"example.com", {}}}, after).problems.empty());
  CHECK(check({{"example.com", {"v=spf1 ip4:192.0.2.300 include:x.example -all"}}}, after).problems.empty());
  CHECK(check({{"example.com", {"v=spf1 bogus:x -all"}}}, after).problems.empty());
  CHECK(
      check({{"example.com", {"v=spf1 include:x.example -all", "v=spf1 mx -all"}}}, after).problems.empty());
  // The same published record that parses is compared: the checks above are not vacuous.
  CHECK_FALSE(check({{"example.com", {"v=spf1 include:x.example -all"}}}, after).problems.empty());
}

TEST_CASE("safety reads the domain and chain prefix case-insensitively", "[apply]") {
  const DomainSafety safety =
      check_domain("Example.COM.", "_SPF", {{"example.com", {"v=spf1 include:x.example -all"}}},
                   {{"example.com", {"v=spf1 include:_spf1.example.com -all"}},
                    {"_spf1.example.com", {"v=spf1 include:x.example"}}},
                   {});
  CHECK(safety.problems.empty());
}
