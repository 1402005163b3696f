// published_state_problems() (tests/support/spf_state_check.hpp): the check apply's tests run on
// every state a provider published, so it must catch each way a deployment can be broken.
#include <catch2/catch.hpp>
#include <map>
#include <string>
#include <vector>

#include "tests/support/spf_state_check.hpp"

using Catch::Matchers::Contains;
using spfctl::testing::published_state_problems;
using State = std::map<std::string, std::vector<std::string>>;

namespace {

const std::string k_domain = "example.com";

// A deployment split over two chained records, with other TXT values beside it.
State chained_state() {
  return {{"example.com", {"google-site-verification=abc", "v=spf1 include:_spf1.example.com ~all"}},
          {"_spf1.example.com", {"v=spf1 ip4:192.0.2.0/24 include:_spf2.example.com -all"}},
          {"_spf2.example.com", {"v=spf1 ip6:2001:db8::/32 include:_spf.google.com -all"}}};
}

}  // namespace

TEST_CASE("spf state: valid deployments have no problems", "[plan][spf_state]") {
  CHECK(published_state_problems({{"example.com", {"v=spf1 -all"}}}, k_domain).empty());
  CHECK(published_state_problems(chained_state(), k_domain).empty());
  // Selection ignores case in "v=spf1"; names compare without case or trailing dot.
  CHECK(published_state_problems({{"Example.COM.", {"V=SPF1 include:_SPF1.example.com. -all"}},
                                  {"_spf1.example.com", {"v=spf1 a -all"}}},
                                 "example.com.")
            .empty());
  // Other domains' records are not followed, present or not.
  CHECK(published_state_problems(
            {{"example.com", {"v=spf1 include:_spf.example.net redirect=_spf9.example.org"}}}, k_domain)
            .empty());
  // A chained name is reached through redirect= as well.
  CHECK(published_state_problems(
            {{"example.com", {"v=spf1 redirect=_spf1.example.com"}}, {"_spf1.example.com", {"v=spf1 -all"}}},
            k_domain)
            .empty());
}

TEST_CASE("spf state: the domain needs exactly one SPF record that parses", "[plan][spf_state]") {
  auto problems = published_state_problems({{"example.com", {"google-site-verification=abc"}}}, k_domain);
  CHECK(problems == std::vector<std::string>{"no SPF record at example.com"});
  CHECK(published_state_problems({}, k_domain) == std::vector<std::string>{"no SPF record at example.com"});
  // "v=spf10" and "v=spf1x" are not SPF records (RFC 7208 4.5).
  CHECK(published_state_problems({{"example.com", {"v=spf10 -all", "v=spf1x"}}}, k_domain) ==
        std::vector<std::string>{"no SPF record at example.com"});
  // SPF records elsewhere do not count.
  CHECK(published_state_problems({{"_spf1.example.com", {"v=spf1 -all"}}}, k_domain).size() == 1);

  problems = published_state_problems({{"example.com", {"v=spf1 -all", "v=spf1 ~all"}}}, k_domain);
  REQUIRE(problems.size() == 1);
  CHECK_THAT(problems[0], Contains("2 SPF records at example.com"));
  CHECK_THAT(problems[0], Contains("'v=spf1 ~all'"));

  problems = published_state_problems({{"example.com", {"v=spf1 ip4:192.0.2.1/33 -all"}}}, k_domain);
  REQUIRE(problems.size() == 1);
  CHECK_THAT(problems[0], Contains("the SPF record at example.com does not parse"));
  CHECK_THAT(problems[0], Contains("'v=spf1 ip4:192.0.2.1/33 -all'"));
}

TEST_CASE("spf state: every chained record named must be there, once, and parse", "[plan][spf_state]") {
  State missing = chained_state();
  missing.erase("_spf2.example.com");
  auto problems = published_state_problems(missing, k_domain);
  REQUIRE(problems.size() == 1);
  CHECK_THAT(problems[0], Contains("no SPF record at _spf2.example.com"));
  CHECK_THAT(problems[0], Contains("include:_spf2.example.com at _spf1.example.com"));

  State doubled = chained_state();
  doubled["_spf1.example.com"].push_back("v=spf1 -all");
  problems = published_state_problems(doubled, k_domain);
  REQUIRE(problems.size() == 1);
  CHECK_THAT(problems[0], Contains("2 SPF records at _spf1.example.com"));

  State broken = chained_state();
  broken["_spf2.example.com"] = {"v=spf1 ip6:2001:db8::/129 -all"};
  problems = published_state_problems(broken, k_domain);
  REQUIRE(problems.size() == 1);
  CHECK_THAT(problems[0], Contains("the SPF record at _spf2.example.com does not parse"));

  // A name shaped like a chained record under the domain is checked whatever its number; with
  // another prefix, names with the default one are someone else's.
  CHECK(published_state_problems({{"example.com", {"v=spf1 include:_spf7.example.com -all"}}}, k_domain)
            .size() == 1);
  CHECK(published_state_problems({{"example.com", {"v=spf1 include:_spf7.example.com -all"}}}, k_domain, "_s")
            .empty());
  CHECK(published_state_problems({{"example.com", {"v=spf1 include:_s7.example.com -all"}}}, k_domain, "_s")
            .size() == 1);
  // Not chained names: a deeper one, no number, a letter after it.
  CHECK(published_state_problems({{"example.com",
                                   {"v=spf1 include:x._spf1.example.com include:_spf.example.com "
                                    "include:_spf1a.example.com -all"}}},
                                 k_domain)
            .empty());
}

TEST_CASE("spf state: a loop among chained records is a problem", "[plan][spf_state]") {
  State looped = chained_state();
  looped["_spf2.example.com"] = {"v=spf1 include:_spf1.example.com -all"};
  auto problems = published_state_problems(looped, k_domain);
  CHECK(problems ==
        std::vector<std::string>{
            "loop among chained records: _spf1.example.com -> _spf2.example.com -> _spf1.example.com"});

  problems = published_state_problems({{"example.com", {"v=spf1 ip4:192.0.2.1 redirect=_spf1.example.com"}},
                                       {"_spf1.example.com", {"v=spf1 redirect=example.com"}}},
                                      k_domain);
  CHECK(problems == std::vector<std::string>{
                        "loop among chained records: example.com -> _spf1.example.com -> example.com"});

  CHECK(published_state_problems({{"example.com", {"v=spf1 include:example.com -all"}}}, k_domain) ==
        std::vector<std::string>{"loop among chained records: example.com -> example.com"});

  // Two records naming the same chained record is no loop.
  CHECK(published_state_problems(
            {{"example.com", {"v=spf1 include:_spf1.example.com include:_spf2.example.com"}},
             {"_spf1.example.com", {"v=spf1 include:_spf2.example.com"}},
             {"_spf2.example.com", {"v=spf1 -all"}}},
            k_domain)
            .empty());
}
