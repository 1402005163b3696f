#include <catch2/catch.hpp>
#include <map>

#include "plan/diff.hpp"

using namespace spfctl::plan;
using spfctl::publish::Change;
using spfctl::publish::TxtRecordSet;
using spfctl::publish::TxtValue;
using Action = Change::Action;

namespace {

DomainPlan desired(const std::string& domain,
                   const std::vector<std::pair<std::string, std::vector<std::string>>>& records) {
  DomainPlan plan;
  plan.domain = domain;
  plan.equivalent = true;
  for (const auto& [name, strings] : records) plan.records.push_back({name, strings});
  return plan;
}

// What a provider publishes: name → (ttl, values).
using Published = std::map<std::string, std::pair<std::uint32_t, std::vector<std::string>>>;

LiveRecords live_of(const Published& published) {
  LiveRecords live;
  for (const auto& [name, set] : published) {
    TxtRecordSet rrset{name, set.first, {}, {}};
    for (const std::string& value : set.second) rrset.values.push_back({{value}});
    live.sets[name] = rrset;
  }
  return live;
}

std::string describe(const Change& change) {
  return std::string(to_string(change.action)) + " " + change.name;
}

std::vector<std::string> describe(const std::vector<Change>& changes) {
  std::vector<std::string> out;
  for (const Change& change : changes) out.push_back(describe(change));
  return out;
}

std::vector<std::string> joined(const std::vector<TxtValue>& values) {
  std::vector<std::string> out;
  for (const TxtValue& value : values) out.push_back(value.joined());
  return out;
}

}  // namespace

TEST_CASE("diff creates at a name without an SPF value, carrying the other TXT values", "[plan][diff]") {
  const auto plan = desired("example.com", {{"example.com", {"v=spf1 mx -all"}}});
  const auto diff =
      diff_domain(plan, 3600, "_spf", live_of({{"example.com", {300, {"google-site-verification=x"}}}}));
  REQUIRE(diff.changes.size() == 1);
  const Change& change = diff.changes.front();
  CHECK(change.action == Action::create);
  CHECK(change.name == "example.com");
  CHECK(change.ttl == 3600);
  CHECK(change.after->joined() == "v=spf1 mx -all");
  CHECK_FALSE(change.before);
  CHECK(joined(change.others) == std::vector<std::string>{"google-site-verification=x"});

  const auto fresh = diff_domain(plan, 3600, "_spf", live_of({}));
  REQUIRE(fresh.changes.size() == 1);
  CHECK(fresh.changes.front().others.empty());
}

TEST_CASE("diff: equal joined values and TTL are no change; a TTL difference is", "[plan][diff]") {
  const auto plan = desired("example.com", {{"example.com", {"v=spf1 ip4:192.0.2.1 ", "-all"}}});
  CHECK(diff_domain(plan, 3600, "_spf", live_of({{"example.com", {3600, {"v=spf1 ip4:192.0.2.1 -all"}}}}))
            .changes.empty());
  const auto ttl =
      diff_domain(plan, 3600, "_spf", live_of({{"example.com", {300, {"v=spf1 ip4:192.0.2.1 -all"}}}}));
  REQUIRE(ttl.changes.size() == 1);
  CHECK(ttl.changes.front().action == Action::update);
  CHECK(ttl.changes.front().ttl == 3600);
  CHECK(ttl.changes.front().after->strings == std::vector<std::string>{"v=spf1 ip4:192.0.2.1 ", "-all"});
}

TEST_CASE("diff never puts a TXT value that is not SPF in a change", "[plan][diff]") {
  const auto plan = desired("example.com", {{"example.com", {"v=spf1 a -all"}}});
  const auto diff = diff_domain(
      plan, 3600, "_spf",
      live_of(
          {{"example.com", {3600, {"MS=ms123", "v=spf1 mx ~all", "v=spf10 is not spf", "spf1 neither"}}}}));
  REQUIRE(diff.changes.size() == 1);
  const Change& change = diff.changes.front();
  CHECK(change.action == Action::update);
  CHECK(change.before->joined() == "v=spf1 mx ~all");
  CHECK(change.after->joined() == "v=spf1 a -all");
  CHECK(joined(change.others) == std::vector<std::string>{"MS=ms123", "v=spf10 is not spf", "spf1 neither"});
}

TEST_CASE("diff orders chained records first, pointed-to before pointing, then the apex, then orphans",
          "[plan][diff]") {
  const auto plan =
      desired("example.com", {{"example.com", {"v=spf1 include:_spf1.example.com -all"}},
                              {"_spf1.example.com", {"v=spf1 ip4:192.0.2.0/24 include:_spf2.example.com"}},
                              {"_spf2.example.com", {"v=spf1 ip4:198.51.100.0/24"}}});
  const Published published = {
      {"example.com",
       {3600, {"v=spf1 include:_spf1.example.com include:_spf3.example.com ~all", "verify=1"}}},
      {"_spf1.example.com", {3600, {"v=spf1 ip4:192.0.2.0/25"}}},
      {"_spf3.example.com", {3600, {"v=spf1 ip4:203.0.113.0/24", "unrelated"}}},
  };
  const auto diff = diff_domain(plan, 3600, "_spf", live_of(published));
  CHECK(describe(diff.changes) == std::vector<std::string>{"create _spf2.example.com",
                                                           "update _spf1.example.com", "update example.com",
                                                           "delete _spf3.example.com"});
  const Change& orphan = diff.changes.back();
  CHECK(orphan.before->joined() == "v=spf1 ip4:203.0.113.0/24");
  CHECK(joined(orphan.others) == std::vector<std::string>{"unrelated"});
  CHECK(joined(diff.changes[2].others) == std::vector<std::string>{"verify=1"});
  REQUIRE(diff.notes.size() == 1);
  CHECK(diff.notes.front() == "deleting _spf3.example.com: nothing published points to it any more");
}

TEST_CASE("diff keeps a chained record the desired records still point to", "[plan][diff]") {
  // A raw include of a chained name in the policy: not the planner's, but still referenced.
  const auto plan = desired("example.com", {{"example.com", {"v=spf1 include:_spf7.example.com -all"}}});
  const auto diff = diff_domain(plan, 3600, "_spf",
                                live_of({{"example.com", {3600, {"v=spf1 include:_spf7.example.com ~all"}}},
                                         {"_spf7.example.com", {3600, {"v=spf1 ip4:192.0.2.1"}}}}));
  CHECK(describe(diff.changes) == std::vector<std::string>{"update example.com"});
}

TEST_CASE("diff replaces two SPF values at a name by one and says so", "[plan][diff]") {
  const auto plan = desired("example.com", {{"example.com", {"v=spf1 mx -all"}}});
  SECTION("neither is the desired one: delete the extra, then update the first") {
    const auto diff =
        diff_domain(plan, 3600, "_spf",
                    live_of({{"example.com", {3600, {"v=spf1 a -all", "other", "v=spf1 ptr -all"}}}}));
    CHECK(describe(diff.changes) == std::vector<std::string>{"delete example.com", "update example.com"});
    CHECK(diff.changes[0].before->joined() == "v=spf1 ptr -all");
    CHECK(joined(diff.changes[0].others) == std::vector<std::string>{"other", "v=spf1 a -all"});
    CHECK(diff.changes[1].before->joined() == "v=spf1 a -all");
    CHECK(joined(diff.changes[1].others) == std::vector<std::string>{"other"});
    REQUIRE(diff.notes.size() == 1);
    CHECK(diff.notes.front() ==
          "2 SPF records at example.com (receivers fail them all with permerror): keeping one, deleting 1");
  }
  SECTION("one is the desired one: only the other is deleted") {
    const auto diff = diff_domain(plan, 3600, "_spf",
                                  live_of({{"example.com", {3600, {"v=spf1 a -all", "v=spf1 mx -all"}}}}));
    CHECK(describe(diff.changes) == std::vector<std::string>{"delete example.com"});
    CHECK(diff.changes[0].before->joined() == "v=spf1 a -all");
  }
}

TEST_CASE("chained targets: includes and redirects of <prefix>N.<domain> only", "[plan][diff]") {
  CHECK(chained_targets(
            "v=spf1 include:_spf1.Example.com. ~include:_spf2.example.com include:_spf.example.com "
            "include:_spf3.example.org include:x_spf4.example.com ip4:192.0.2.1 redirect=_spf5.example.com",
            "example.com", "_spf") ==
        std::vector<std::string>{"_spf1.example.com", "_spf2.example.com", "_spf5.example.com"});
  CHECK(chained_targets("v=spf1 include:spf01.example.com include:spf12.example.com", "example.com", "spf") ==
        std::vector<std::string>{"spf12.example.com"});
}

TEST_CASE("read_managed reads the domain, the wanted names and every chained name published",
          "[plan][diff]") {
  const Published published = {
      {"example.com", {3600, {"v=spf1 include:_spf1.example.com -all"}}},
      {"_spf1.example.com", {3600, {"v=spf1 include:_spf2.example.com"}}},
      {"_spf2.example.com", {3600, {"v=spf1 include:_spf1.example.com ip4:192.0.2.1"}}},
  };
  const LiveRecords source = live_of(published);
  std::vector<std::vector<std::string>> calls;
  const ListFunction list = [&](const std::vector<std::string>& names) {
    calls.push_back(names);
    std::vector<TxtRecordSet> out;
    for (const std::string& name : names)
      if (const auto it = source.sets.find(name); it != source.sets.end()) out.push_back(it->second);
    return out;
  };
  LiveRecords live;
  read_managed(live, "Example.com.", "_spf", {}, list);
  CHECK(calls ==
        std::vector<std::vector<std::string>>{{"example.com"}, {"_spf1.example.com"}, {"_spf2.example.com"}});
  CHECK(live.sets.size() == 3);
  read_managed(live, "example.com", "_spf", {"example.com", "_spf1.example.com", "_spf4.example.com"}, list);
  CHECK(calls.back() == std::vector<std::string>{"_spf4.example.com"});
  CHECK(live.sets.contains("_spf4.example.com"));
  CHECK(live.sets.at("_spf4.example.com").values.empty());
  const auto before = calls.size();
  read_managed(live, "example.com", "_spf", {"_spf4.example.com"}, list);
  CHECK(calls.size() == before);
}

TEST_CASE("capabilities are checked before anything is published", "[plan][diff]") {
  spfctl::publish::Capabilities caps;
  caps.min_ttl = 300;
  caps.multi_string = false;
  caps.max_string_bytes = 255;
  const auto small = desired("example.com", {{"example.com", {"v=spf1 -all"}}});
  CHECK(check_capabilities(small, 3600, caps).empty());
  CHECK(check_capabilities(small, 60, caps) ==
        "ttl 60 is outside what the provider accepts (300 to 2147483647): set ttl within that range");
  const auto large =
      desired("example.com", {{"example.com", {std::string(250, 'a'), std::string(250, 'b')}}});
  CHECK(check_capabilities(large, 3600, caps) ==
        "the record at 'example.com' has 500 bytes; the provider stores one string of at most 255 bytes per "
        "value");
  // One string alone longer than the provider's single string is refused too.
  const auto one_long = desired("example.com", {{"example.com", {std::string(300, 'a')}}});
  CHECK_THAT(check_capabilities(one_long, 3600, caps), Catch::Contains("has 300 bytes"));
  caps.max_string_bytes = 512;
  CHECK(check_capabilities(one_long, 3600, caps).empty());
  caps.max_string_bytes = 255;
  caps.multi_string = true;
  CHECK(check_capabilities(large, 3600, caps).empty());
  CHECK_THAT(check_capabilities(one_long, 3600, caps), Catch::Contains("a string of the record"));
}
