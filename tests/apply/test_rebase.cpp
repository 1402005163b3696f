#include <catch2/catch.hpp>
#include <map>
#include <string>
#include <vector>

#include "apply/rebase.hpp"
#include "plan/diff.hpp"
#include "plan/plan_file.hpp"

using namespace spfctl::apply;
using spfctl::plan::LiveRecords;
using spfctl::publish::Change;
using spfctl::publish::TxtRecordSet;
using spfctl::publish::TxtValue;
using Action = Change::Action;

namespace {

// What a provider publishes: name → values, each value as its character-strings.
using Published = std::map<std::string, std::vector<std::vector<std::string>>>;

LiveRecords live_of(const Published& published) {
  LiveRecords live;
  for (const auto& [name, values] : published) {
    TxtRecordSet set{name, 300, {}, {}};
    for (const std::vector<std::string>& strings : values) set.values.push_back({strings});
    live.sets[name] = set;
  }
  return live;
}

Change change(Action action, const std::string& name, std::optional<std::string> before,
              std::optional<std::string> after, std::vector<std::string> others = {}) {
  Change out;
  out.action = action;
  out.name = name;
  out.ttl = 3600;
  if (before) out.before = TxtValue{{*before}};
  if (after) out.after = TxtValue{{*after}};
  for (std::string& other : others) out.others.push_back({{std::move(other)}});
  return out;
}

std::vector<std::string> joined(const std::vector<TxtValue>& values) {
  std::vector<std::string> out;
  for (const TxtValue& value : values) out.push_back(value.joined());
  return out;
}

// `changes` as `spfctl apply PLANFILE` reads them: written to a plan file and parsed back.
std::vector<Change> through_plan_file(const std::vector<Change>& changes) {
  spfctl::plan::Plan plan;
  plan.config_sha256 = std::string(64, 'a');
  plan.created = "2026-11-01T09:30:00Z";
  spfctl::plan::PlannedDomain domain;
  domain.domain = "example.com";
  domain.provider = "main";
  domain.zone = "example.com";
  domain.equivalent = true;
  domain.changes = changes;
  plan.domains.push_back(domain);
  const spfctl::plan::Plan read = spfctl::plan::parse_plan(spfctl::plan::to_json_text(plan), "plan.json");
  REQUIRE(read.domains.size() == 1);
  return read.domains.front().changes;
}

}  // namespace

TEST_CASE("rebase without drift takes `before` as published, in its own character-strings", "[apply]") {
  const std::vector<Change> planned = {change(Action::update, "example.com",
                                              "v=spf1 include:old.example -all",
                                              "v=spf1 include:new.example -all", {"stale=1"})};
  const LiveRecords live =
      live_of({{"example.com",
                {{"google-site-verification=abc"}, {"v=spf1 include:old", ".example -all"}, {"stale=1"}}}});
  const Rebased rebased = rebase(planned, live);
  REQUIRE(rebased.ok());
  REQUIRE(rebased.changes.size() == 1);
  const Change& out = rebased.changes.front();
  CHECK(out.action == Action::update);
  CHECK(out.name == "example.com");
  CHECK(out.ttl == 3600);
  REQUIRE(out.before);
  CHECK(out.before->strings == std::vector<std::string>{"v=spf1 include:old", ".example -all"});
  CHECK(out.after == planned.front().after);
  // The non-SPF value added since the plan travels with the change, in published order.
  CHECK(joined(out.others) == std::vector<std::string>{"google-site-verification=abc", "stale=1"});
}

TEST_CASE("rebase matches a plan file's U+FFFD with the published byte and writes back the byte", "[apply]") {
  const std::string published = "v=spf1 ip4:192.0.2.1 exp=expl\xff.example.com -all";
  const std::vector<Change> planned = through_plan_file(
      {change(Action::update, "example.com", published, "v=spf1 ip4:192.0.2.2 -all", {"note=\xfe"})});
  REQUIRE(planned.size() == 1);
  REQUIRE(planned.front().before);
  // The plan file could not keep the byte: this is what makes the case worth testing.
  REQUIRE(planned.front().before->joined() != published);
  CHECK(planned.front().before->joined() == "v=spf1 ip4:192.0.2.1 exp=expl\xef\xbf\xbd.example.com -all");

  const Rebased rebased = rebase(planned, live_of({{"example.com", {{published}, {"note=\xfe"}}}}));
  REQUIRE(rebased.ok());
  REQUIRE(rebased.changes.size() == 1);
  CHECK(rebased.changes.front().before->joined() == published);
  CHECK(joined(rebased.changes.front().others) == std::vector<std::string>{"note=\xfe"});

  SECTION("a different byte at the same place is still the same value as a plan file stores it") {
    // Both bytes become U+FFFD in a plan file; rebase compares what a plan can express.
    const std::string other = "v=spf1 ip4:192.0.2.1 exp=expl\xfe.example.com -all";
    const Rebased again = rebase(planned, live_of({{"example.com", {{other}}}}));
    REQUIRE(again.ok());
    CHECK(again.changes.front().before->joined() == other);
  }
  SECTION("a changed value is drift even when it holds the same byte") {
    const Rebased drifted =
        rebase(planned, live_of({{"example.com", {{"v=spf1 ip4:192.0.2.9 exp=expl\xff.example.com -all"}}}}));
    CHECK_FALSE(drifted.ok());
    CHECK(drifted.changes.empty());
  }
}

TEST_CASE("rebase of a create takes every published value at the name as `others`", "[apply]") {
  const std::vector<Change> planned = {
      change(Action::create, "_spf1.example.com", std::nullopt, "v=spf1 ip4:192.0.2.0/24"),
      change(Action::create, "example.com", std::nullopt, "v=spf1 include:_spf1.example.com -all", {"a=1"})};
  const Rebased rebased = rebase(planned, live_of({{"example.com", {{"a=1"}, {"b=2"}}}}));
  REQUIRE(rebased.ok());
  REQUIRE(rebased.changes.size() == 2);
  CHECK(rebased.changes[0].name == "_spf1.example.com");
  CHECK(rebased.changes[0].others.empty());
  CHECK_FALSE(rebased.changes[0].before);
  CHECK(rebased.changes[1].name == "example.com");
  CHECK(joined(rebased.changes[1].others) == std::vector<std::string>{"a=1", "b=2"});
}

TEST_CASE("rebase refuses drift at every name the plan changes, naming each", "[apply]") {
  const std::vector<Change> planned = {
      change(Action::create, "_spf1.example.com", std::nullopt, "v=spf1 ip4:192.0.2.0/24"),
      change(Action::update, "example.com", "v=spf1 include:a.example -all",
             "v=spf1 include:_spf1.example.com -all"),
      change(Action::remove, "_spf2.example.com", "v=spf1 ip4:198.51.100.0/24", std::nullopt)};
  const Published in_step = {{"example.com", {{"v=spf1 include:a.example -all"}}},
                             {"_spf2.example.com", {{"v=spf1 ip4:198.51.100.0/24"}}}};
  REQUIRE(rebase(planned, live_of(in_step)).ok());

  Published now = in_step;
  std::string name;
  SECTION("an SPF value changed at the apex") {
    name = "example.com";
    now[name] = {{"v=spf1 include:a.example ~all"}};
  }
  SECTION("an SPF value appeared at a name the plan creates") {
    name = "_spf1.example.com";
    now[name] = {{"v=spf1 ip4:203.0.113.0/24"}};
  }
  SECTION("a second SPF value appeared at a name the plan updates") {
    name = "example.com";
    now[name].push_back({"v=spf1 mx -all"});
  }
  SECTION("a value the plan deletes is already gone") {
    name = "_spf2.example.com";
    now[name] = {{"other=1"}};
  }
  SECTION("a value the plan deletes is gone with its whole name") {
    name = "_spf2.example.com";
    now.erase(name);
  }
  const Rebased rebased = rebase(planned, live_of(now));
  CHECK_FALSE(rebased.ok());
  CHECK(rebased.changes.empty());
  REQUIRE(rebased.drift.size() == 1);
  INFO(rebased.drift.front());
  CHECK_THAT(rebased.drift.front(), Catch::StartsWith(name + ": the plan was made against "));
  CHECK_THAT(rebased.drift.front(), Catch::Contains("; published now: "));
}

TEST_CASE("rebase drift lines say what the plan expected and what is published", "[apply]") {
  const std::vector<Change> planned = {
      change(Action::create, "_spf1.example.com", std::nullopt, "v=spf1 ip4:192.0.2.0/24"),
      change(Action::update, "example.com", "v=spf1 include:a.example -all", "v=spf1 mx -all")};
  const Rebased rebased = rebase(planned, live_of({{"_spf1.example.com", {{"v=spf1 a -all"}}},
                                                   {"example.com", {{"v=spf1 a -all"}, {"v=spf1 b -all"}}}}));
  CHECK(rebased.drift ==
        std::vector<std::string>{"_spf1.example.com: the plan was made against no SPF record; published now: "
                                 "'v=spf1 a -all'",
                                 "example.com: the plan was made against 'v=spf1 include:a.example -all'; "
                                 "published now: 'v=spf1 a -all' and 'v=spf1 b -all'"});
}

TEST_CASE("rebase is not stale for non-SPF values added or removed since the plan", "[apply]") {
  const std::vector<Change> planned = {
      change(Action::update, "example.com", "v=spf1 mx -all", "v=spf1 mx a -all", {"gone=1"})};
  const Rebased rebased = rebase(planned, live_of({{"example.com", {{"v=spf1 mx -all"}, {"new=2"}}}}));
  REQUIRE(rebased.ok());
  CHECK(joined(rebased.changes.front().others) == std::vector<std::string>{"new=2"});
}

TEST_CASE("rebase of several changes at one name carries each one's state forward", "[apply]") {
  // As diff_domain orders it: the extra SPF value deleted just before the kept one is updated.
  const std::vector<Change> planned = {
      change(Action::remove, "example.com", "v=spf1 a -all", std::nullopt, {"v=spf1 mx -all", "x=1"}),
      change(Action::update, "example.com", "v=spf1 mx -all", "v=spf1 mx include:new.example -all",
             {"v=spf1 a -all", "x=1"})};
  const LiveRecords live = live_of({{"example.com", {{"v=spf1 mx", " -all"}, {"x=1"}, {"v=spf1 a -all"}}}});
  const Rebased rebased = rebase(planned, live);
  REQUIRE(rebased.ok());
  REQUIRE(rebased.changes.size() == 2);
  const Change& removed = rebased.changes[0];
  CHECK(removed.action == Action::remove);
  CHECK(removed.before->joined() == "v=spf1 a -all");
  CHECK(joined(removed.others) == std::vector<std::string>{"v=spf1 mx -all", "x=1"});
  const Change& updated = rebased.changes[1];
  CHECK(updated.action == Action::update);
  CHECK(updated.before->strings == std::vector<std::string>{"v=spf1 mx", " -all"});
  // The value deleted just before is no longer at the name.
  CHECK(joined(updated.others) == std::vector<std::string>{"x=1"});

  SECTION("one of the two values changed is drift") {
    const Rebased drifted =
        rebase(planned, live_of({{"example.com", {{"v=spf1 mx -all"}, {"v=spf1 a ~all"}}}}));
    CHECK_FALSE(drifted.ok());
    CHECK(drifted.drift.size() == 1);
  }
}

TEST_CASE("expected_spf lays creates, updates and deletes over what is published", "[apply]") {
  const LiveRecords live = live_of({{"example.com", {{"v=spf1 a ", "-all"}, {"verify=1"}}},
                                    {"_spf1.example.com", {{"v=spf1 ip4:192.0.2.1"}}},
                                    {"_spf2.example.com", {{"v=spf1 ip4:192.0.2.2"}, {"keep=1"}}},
                                    {"other.example.com", {{"v=spf1 -all"}}},
                                    {"text.example.com", {{"only=text"}}}});
  const std::map<std::string, std::vector<std::string>> before = {
      {"_spf1.example.com", {"v=spf1 ip4:192.0.2.1"}},
      {"_spf2.example.com", {"v=spf1 ip4:192.0.2.2"}},
      {"example.com", {"v=spf1 a -all"}},
      {"other.example.com", {"v=spf1 -all"}}};
  CHECK(expected_spf(live, {}) == before);

  Change created = change(Action::create, "_spf3.example.com", std::nullopt, std::nullopt);
  created.after = TxtValue{{"v=spf1 ip4:192.0.2.3 ", "ip4:192.0.2.4"}};
  const std::vector<Change> changes = {
      created,
      change(Action::update, "example.com", "v=spf1 a -all",
             "v=spf1 include:_spf1.example.com include:_spf3.example.com -all"),
      change(Action::remove, "_spf2.example.com", "v=spf1 ip4:192.0.2.2", std::nullopt)};
  CHECK(expected_spf(live, changes) ==
        std::map<std::string, std::vector<std::string>>{
            {"_spf1.example.com", {"v=spf1 ip4:192.0.2.1"}},
            {"_spf3.example.com", {"v=spf1 ip4:192.0.2.3 ip4:192.0.2.4"}},
            {"example.com", {"v=spf1 include:_spf1.example.com include:_spf3.example.com -all"}},
            {"other.example.com", {"v=spf1 -all"}}});
}

TEST_CASE("expected_spf lists several values at one name sorted", "[apply]") {
  const LiveRecords live = live_of({{"example.com", {{"v=spf1 mx -all"}, {"v=spf1 a -all"}}}});
  CHECK(expected_spf(live, {}).at("example.com") ==
        std::vector<std::string>{"v=spf1 a -all", "v=spf1 mx -all"});
  const auto after =
      expected_spf(live, {change(Action::remove, "example.com", "v=spf1 a -all", std::nullopt),
                          change(Action::update, "example.com", "v=spf1 mx -all", "v=spf1 mx ~all")});
  CHECK(after.at("example.com") == std::vector<std::string>{"v=spf1 mx ~all"});
}

TEST_CASE("rebase of a plan deleting an extra SPF value next to the one it keeps as it is", "[apply]") {
  // Two SPF values where one is already the desired record: the plan only deletes the other one,
  // and is not stale while both are still published.
  spfctl::plan::DomainPlan desired;
  desired.domain = "example.com";
  desired.equivalent = true;
  desired.records.push_back({"example.com", {"v=spf1 mx -all"}});
  LiveRecords live = live_of({{"example.com", {{"v=spf1 a -all"}, {"v=spf1 mx -all"}, {"x=1"}}}});
  live.sets.at("example.com").ttl = 3600;  // the kept value needs no update
  const std::vector<Change> planned = spfctl::plan::diff_domain(desired, 3600, "_spf", live).changes;
  REQUIRE(planned.size() == 1);
  REQUIRE(planned.front().action == Action::remove);

  for (const std::vector<Change>& changes : {planned, through_plan_file(planned)}) {
    const Rebased rebased = rebase(changes, live);
    INFO((rebased.drift.empty() ? "" : rebased.drift.front()));
    REQUIRE(rebased.ok());
    REQUIRE(rebased.changes.size() == 1);
    CHECK(rebased.changes.front().before->joined() == "v=spf1 a -all");
    CHECK(joined(rebased.changes.front().others) == std::vector<std::string>{"v=spf1 mx -all", "x=1"});
    CHECK(expected_spf(live, rebased.changes).at("example.com") ==
          std::vector<std::string>{"v=spf1 mx -all"});
  }

  SECTION("the kept value changed since is drift") {
    const Rebased drifted =
        rebase(planned, live_of({{"example.com", {{"v=spf1 a -all"}, {"v=spf1 mx ~all"}}}}));
    REQUIRE(drifted.drift.size() == 1);
    CHECK(drifted.drift.front() ==
          "example.com: the plan was made against 'v=spf1 a -all' and 'v=spf1 mx -all'; published now: "
          "'v=spf1 a -all' and 'v=spf1 mx ~all'");
  }
  SECTION("the kept value gone since is drift") {
    CHECK_FALSE(rebase(planned, live_of({{"example.com", {{"v=spf1 a -all"}}}})).ok());
  }
}

TEST_CASE("rebase checks the planned records no change touches are still published as planned", "[apply]") {
  // The plan updates the apex only; its chained record _spf1 was in sync when planned.
  const std::vector<Change> planned = {change(Action::update, "example.com",
                                              "v=spf1 include:_spf1.example.com ~all",
                                              "v=spf1 include:_spf1.example.com -all")};
  const std::vector<spfctl::plan::DesiredRecord> records = {
      {"example.com", {"v=spf1 include:_spf1.example.com -all"}},
      {"_spf1.example.com", {"v=spf1 ip4:192.0.2.0/24 ", "ip4:198.51.100.0/24"}}};
  Published now = {{"example.com", {{"v=spf1 include:_spf1.example.com ~all"}}},
                   {"_spf1.example.com", {{"v=spf1 ip4:192.0.2.0/24 ip4:198.51.100.0/24"}}}};
  // Split into other character-strings, the same record is not drift.
  CHECK(rebase(planned, live_of(now), records).ok());

  SECTION("changed since the plan") {
    now["_spf1.example.com"] = {{"v=spf1 ip4:192.0.2.0/24"}};
  }
  SECTION("gone since the plan") {
    now.erase("_spf1.example.com");
  }
  SECTION("a second SPF value beside it") {
    now["_spf1.example.com"].push_back({"v=spf1 -all"});
  }
  const Rebased rebased = rebase(planned, live_of(now), records);
  CHECK_FALSE(rebased.ok());
  REQUIRE(rebased.drift.size() == 1);
  CHECK_THAT(
      rebased.drift.front(),
      Catch::StartsWith("_spf1.example.com: the plan leaves 'v=spf1 ip4:192.0.2.0/24 ip4:198.51.100.0/24' "
                        "there as it was; published now: "));
}
