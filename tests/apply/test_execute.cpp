#include <algorithm>
#include <catch2/catch.hpp>
#include <chrono>
#include <condition_variable>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "apply/execute.hpp"
#include "apply/rebase.hpp"
#include "error.hpp"
#include "spf/select.hpp"

using namespace spfctl::apply;
using spfctl::Error;
using spfctl::plan::LiveRecords;
using spfctl::publish::Capabilities;
using spfctl::publish::Change;
using spfctl::publish::TxtRecordSet;
using spfctl::publish::TxtValue;

namespace {

// How apply calls overlap, by zone; shared by the fakes whose calls are watched together.
struct Overlap {
  std::mutex mutex;
  std::condition_variable changed;
  bool wait = false;  // calls wait (a while) until two are inside apply at once
  std::map<std::string, int> inside;
  int inside_total = 0;
  int max_in_zone = 0;
  int max_total = 0;
  bool gave_up = false;

  void enter(const std::string& zone) {
    std::unique_lock lock(mutex);
    max_in_zone = std::max(max_in_zone, ++inside[zone]);
    max_total = std::max(max_total, ++inside_total);
    changed.notify_all();
    // Fails rather than hangs: after one wait in vain nobody waits again, and the test sees
    // max_total == 1.
    if (wait && !gave_up && !changed.wait_for(lock, std::chrono::seconds(20), [&] { return max_total >= 2; }))
      gave_up = true;
  }
  void leave(const std::string& zone) {
    const std::lock_guard lock(mutex);
    --inside[zone];
    --inside_total;
  }
  int max_inside_one_zone() {
    const std::lock_guard lock(mutex);
    return max_in_zone;
  }
  int max_inside() {
    const std::lock_guard lock(mutex);
    return max_total;
  }
};

// A provider keeping its zones in memory, with knobs to fail, to lie, and to watch how apply calls
// overlap. Safe to call from several threads.
class FakeProvider : public spfctl::publish::Provider {
 public:
  explicit FakeProvider(std::vector<std::string> zones) {
    for (std::string& zone : zones) m_zones[std::move(zone)];
  }

  // Knobs, set before execute() runs.
  std::size_t fail_at = 0;  // this change of each apply call (1-based) throws; 0: none
  std::optional<spfctl::publish::Failure> fail_as;  // set: it throws a ProviderError of this kind
  bool list_fails_after_failure = false;
  std::size_t drop_at = 0;            // this change of each apply call is skipped, reporting success
  bool drop_others = false;           // writes lose the other TXT values at the name
  std::optional<std::string> server;  // what dns_server() names
  std::chrono::milliseconds hold{0};  // how long each apply call takes
  std::shared_ptr<Overlap> overlap = std::make_shared<Overlap>();

  // Publishes `values` at `name` (in `zone`) with `ttl`.
  void publish(const std::string& zone, const std::string& name, std::vector<TxtValue> values,
               std::uint32_t ttl = 300) {
    const std::lock_guard lock(m_mutex);
    m_zones.at(zone)[name] = TxtRecordSet{name, ttl, std::move(values), {}};
  }

  // What is published at `name`, values joined; empty when nothing is.
  std::vector<std::string> published(const std::string& name) {
    const std::lock_guard lock(m_mutex);
    std::vector<std::string> out;
    for (const auto& [zone, names] : m_zones)
      if (const auto it = names.find(name); it != names.end())
        for (const TxtValue& value : it->second.values) out.push_back(value.joined());
    return out;
  }

  std::uint32_t ttl_at(const std::string& name) {
    const std::lock_guard lock(m_mutex);
    for (const auto& [zone, names] : m_zones)
      if (const auto it = names.find(name); it != names.end()) return it->second.ttl;
    return 0;
  }

  // "zone: action name" for every change made, in order.
  std::vector<std::string> log() {
    const std::lock_guard lock(m_mutex);
    return m_log;
  }
  // The first change's name of every apply call for `zone`, in the order the calls began.
  std::vector<std::string> calls(const std::string& zone) {
    const std::lock_guard lock(m_mutex);
    return m_calls[zone];
  }
  const Capabilities& capabilities() const override { return m_capabilities; }

  std::string zone_for(std::string_view name) override {
    for (const auto& [zone, names] : m_zones)
      if (name == zone || name.ends_with("." + zone)) return zone;
    throw Error("no zone for '" + std::string(name) + "'");
  }

  std::vector<TxtRecordSet> list(std::string_view zone, const std::vector<std::string>& names) override {
    const std::lock_guard lock(m_mutex);
    if (m_failed && list_fails_after_failure) throw Error("fake: cannot list " + std::string(zone));
    std::vector<TxtRecordSet> out;
    const auto& records = m_zones.at(std::string(zone));
    for (const std::string& name : names)
      if (const auto it = records.find(name); it != records.end() && !it->second.values.empty())
        out.push_back(it->second);
    return out;
  }

  void apply(std::string_view zone_view, const std::vector<Change>& changes) override {
    const std::string zone(zone_view);
    {
      const std::lock_guard lock(m_mutex);
      m_calls[zone].push_back(changes.empty() ? "" : changes.front().name);
    }
    overlap->enter(zone);
    struct Leave {
      Overlap& overlap;
      const std::string& zone;
      ~Leave() { overlap.leave(zone); }
    } leave{*overlap, zone};
    std::this_thread::sleep_for(hold);
    for (std::size_t i = 0; i < changes.size(); ++i) {
      const std::lock_guard lock(m_mutex);
      if (i + 1 == fail_at) {
        m_failed = true;
        if (fail_as)
          throw spfctl::publish::ProviderError(*fail_as, "fake: change " + std::to_string(i + 1) + " failed");
        throw Error("fake: change " + std::to_string(i + 1) + " at " + changes[i].name + " was refused");
      }
      if (i + 1 == drop_at) continue;
      make(zone, changes[i]);
    }
  }

  std::optional<std::string> dns_server() const override { return server; }

 private:
  void make(const std::string& zone, const Change& change) {
    TxtRecordSet& set = m_zones.at(zone)[change.name];
    set.name = change.name;
    auto at = set.values.end();
    if (change.before) {
      at = std::find(set.values.begin(), set.values.end(), *change.before);
      if (at == set.values.end()) throw Error("fake: " + change.name + " does not hold the value to replace");
    }
    if (drop_others)
      std::erase_if(set.values,
                    [](const TxtValue& value) { return !spfctl::spf::is_spf_record(value.joined()); });
    switch (change.action) {
      case Change::Action::create:
        set.values.push_back(*change.after);
        break;
      case Change::Action::update:
        *std::find(set.values.begin(), set.values.end(), *change.before) = *change.after;
        break;
      case Change::Action::remove:
        set.values.erase(std::find(set.values.begin(), set.values.end(), *change.before));
        break;
    }
    if (change.after) set.ttl = change.ttl;
    m_log.push_back(zone + ": " + std::string(to_string(change.action)) + " " + change.name);
  }

  Capabilities m_capabilities;
  std::mutex m_mutex;
  std::map<std::string, std::map<std::string, TxtRecordSet>> m_zones;
  std::vector<std::string> m_log;
  std::map<std::string, std::vector<std::string>> m_calls;
  bool m_failed = false;
};

TxtValue txt(const std::string& value) {
  return TxtValue{{value}};
}

// A job as apply prepares one: the domain's records read from `fake`, the planned records diffed
// against them and the changes rebased.
DomainJob job_for(FakeProvider& fake, const std::string& provider_name, const std::string& domain,
                  const std::vector<std::pair<std::string, std::string>>& records, std::uint32_t ttl = 3600) {
  DomainJob job;
  job.domain = domain;
  job.provider_name = provider_name;
  job.zone = fake.zone_for(domain);
  job.chain_prefix = "_spf";
  job.provider = &fake;
  spfctl::plan::DomainPlan desired;
  desired.domain = domain;
  desired.equivalent = true;
  std::vector<std::string> names;
  for (const auto& [name, value] : records) {
    desired.records.push_back({name, {value}});
    names.push_back(name);
  }
  spfctl::plan::read_managed(
      job.live, domain, job.chain_prefix, names,
      [&](const std::vector<std::string>& wanted) { return fake.list(job.zone, wanted); });
  const Rebased rebased =
      rebase(spfctl::plan::diff_domain(desired, ttl, job.chain_prefix, job.live).changes, job.live);
  REQUIRE(rebased.ok());
  job.changes = rebased.changes;
  return job;
}

// example.com publishing a chained record _spf2 that the plan replaces by _spf1: three changes.
DomainJob three_changes(FakeProvider& fake) {
  fake.publish("example.com", "example.com",
               {txt("verify=1"), TxtValue{{"v=spf1 include:_spf2.example.com ", "-all"}}});
  fake.publish("example.com", "_spf2.example.com", {txt("v=spf1 ip4:198.51.100.0/24")});
  DomainJob job = job_for(fake, "main", "example.com",
                          {{"example.com", "v=spf1 include:_spf1.example.com -all"},
                           {"_spf1.example.com", "v=spf1 ip4:192.0.2.0/24"}});
  REQUIRE(job.changes.size() == 3);
  return job;
}

const std::vector<std::string> k_three_changes_log = {"example.com: create _spf1.example.com",
                                                      "example.com: update example.com",
                                                      "example.com: delete _spf2.example.com"};

}  // namespace

TEST_CASE("execute applies a domain's changes in order and verifies them through the provider", "[apply]") {
  FakeProvider fake({"example.com"});
  const DomainJob job = three_changes(fake);
  const std::vector<DomainOutcome> outcomes = execute({job}, 4, {});
  REQUIRE(outcomes.size() == 1);
  const DomainOutcome& outcome = outcomes.front();
  INFO(outcome.error << outcome.verify_error);
  CHECK(outcome.ok());
  CHECK(outcome.applied == std::optional<std::size_t>(3));
  CHECK(outcome.verified_by == "provider");
  CHECK(fake.log() == k_three_changes_log);
  CHECK(fake.published("example.com") ==
        std::vector<std::string>{"verify=1", "v=spf1 include:_spf1.example.com -all"});
  CHECK(fake.published("_spf1.example.com") == std::vector<std::string>{"v=spf1 ip4:192.0.2.0/24"});
  CHECK(fake.published("_spf2.example.com").empty());
  CHECK(fake.ttl_at("example.com") == 3600);
}

TEST_CASE("execute reports a failed change and how many changes are in effect", "[apply]") {
  FakeProvider fake({"example.com"});
  const DomainJob job = three_changes(fake);
  FakeProvider other({"other.example"});
  const DomainJob fine = job_for(other, "second", "other.example", {{"other.example", "v=spf1 mx -all"}});

  const std::size_t fail_at = GENERATE(1, 2, 3);
  fake.fail_at = fail_at;
  const std::vector<DomainOutcome> outcomes = execute({job, fine}, 4, {});
  REQUIRE(outcomes.size() == 2);
  const DomainOutcome& failed = outcomes[0];
  CHECK_FALSE(failed.ok());
  CHECK(failed.error ==
        "fake: change " + std::to_string(fail_at) + " at " + job.changes[fail_at - 1].name + " was refused");
  CHECK(failed.applied == std::optional<std::size_t>(fail_at - 1));
  CHECK(failed.verified_by.empty());
  CHECK(fake.log() == std::vector<std::string>(k_three_changes_log.begin(),
                                               k_three_changes_log.begin() + static_cast<long>(fail_at) - 1));
  // A failed domain does not stop the others.
  CHECK(outcomes[1].ok());
  CHECK(outcomes[1].verified_by == "provider");
}

TEST_CASE("execute keeps the kind of a provider's failure for the summary", "[apply]") {
  using spfctl::publish::Failure;
  FakeProvider fake({"example.com"});
  const DomainJob job = three_changes(fake);
  fake.fail_at = 2;
  SECTION("a plain error is a failure of no known kind") {
    const DomainOutcome outcome = execute({job}, 1, {}).at(0);
    CHECK(outcome.failure == Failure::failed);
    CHECK(outcome.applied == std::optional<std::size_t>(1));
  }
  SECTION("a ProviderError keeps its kind") {
    const Failure kind =
        GENERATE(Failure::refused, Failure::drift, Failure::transient, Failure::unknown_outcome);
    fake.fail_as = kind;
    const DomainOutcome outcome = execute({job}, 1, {}).at(0);
    CHECK(outcome.error == "fake: change 2 failed");
    CHECK(outcome.failure == kind);
    CHECK(outcome.applied == std::optional<std::size_t>(1));
  }
}

TEST_CASE("execute says it cannot tell how far a failed domain got when reading back fails too", "[apply]") {
  FakeProvider fake({"example.com"});
  const DomainJob job = three_changes(fake);
  fake.fail_at = 2;
  fake.list_fails_after_failure = true;
  const DomainOutcome outcome = execute({job}, 1, {}).at(0);
  CHECK_THAT(outcome.error, Catch::Contains("change 2"));
  CHECK_FALSE(outcome.applied);
}

TEST_CASE("execute catches a provider that reports success but publishes something else", "[apply]") {
  FakeProvider fake({"example.com"});
  const DomainJob job = three_changes(fake);
  SECTION("a change silently dropped") {
    fake.drop_at = 2;
    const DomainOutcome outcome = execute({job}, 4, {}).at(0);
    CHECK_FALSE(outcome.ok());
    CHECK(outcome.error.empty());
    CHECK(outcome.verified_by.empty());
    CHECK(outcome.verify_error ==
          "read back from the provider: example.com: expected 'v=spf1 include:_spf1.example.com -all', "
          "read back 'v=spf1 include:_spf2.example.com -all'; example.com: expected ttl 3600, read back 300");
  }
  SECTION("the other TXT values at a name lost") {
    fake.drop_others = true;
    const DomainOutcome outcome = execute({job}, 4, {}).at(0);
    CHECK_FALSE(outcome.ok());
    CHECK(
        outcome.verify_error ==
        "read back from the provider: example.com: the other TXT values there differ from those read before "
        "applying (spfctl never writes them: changed by someone else meanwhile?)");
  }
  SECTION("a TTL not stored") {
    FakeProvider same({"example.com"});
    same.publish("example.com", "example.com", {txt("v=spf1 mx -all")}, 3600);
    // A TTL difference alone is an update; the provider skips it and keeps the old TTL.
    const DomainJob ttl_job = job_for(same, "main", "example.com", {{"example.com", "v=spf1 mx -all"}}, 600);
    REQUIRE(ttl_job.changes.size() == 1);
    same.drop_at = 1;
    const DomainOutcome outcome = execute({ttl_job}, 4, {}).at(0);
    CHECK(outcome.verify_error ==
          "read back from the provider: example.com: expected ttl 600, read back 3600");
  }
}

TEST_CASE("execute runs one zone's domains one after another and different zones at once", "[apply]") {
  FakeProvider fake({"a.example", "b.example"});
  std::vector<DomainJob> jobs;
  // Interleaved, as a configuration may list them.
  for (const char* label : {"one", "two", "three"})
    for (const char* zone : {"a.example", "b.example"}) {
      const std::string domain = std::string(label) + "." + zone;
      jobs.push_back(job_for(fake, "main", domain, {{domain, "v=spf1 mx -all"}}));
    }
  // Long enough for two calls of one zone to overlap if they ran at once.
  fake.hold = std::chrono::milliseconds(20);

  SECTION("in parallel") {
    // Each zone's first call waits until the other zone's call is inside apply too.
    fake.overlap->wait = true;
    const std::vector<DomainOutcome> outcomes = execute(jobs, 4, {});
    for (const DomainOutcome& outcome : outcomes) CHECK(outcome.ok());
    CHECK(fake.overlap->max_inside_one_zone() == 1);
    CHECK(fake.overlap->max_inside() == 2);
  }
  SECTION("one at a time") {
    const std::vector<DomainOutcome> outcomes = execute(jobs, 1, {});
    for (const DomainOutcome& outcome : outcomes) CHECK(outcome.ok());
    CHECK(fake.overlap->max_inside() == 1);
  }
  // Each zone's domains in the order given.
  CHECK(fake.calls("a.example") ==
        std::vector<std::string>{"one.a.example", "two.a.example", "three.a.example"});
  CHECK(fake.calls("b.example") ==
        std::vector<std::string>{"one.b.example", "two.b.example", "three.b.example"});
}

TEST_CASE("execute runs one zone name at two providers one after the other", "[apply]") {
  // Two configured providers may publish to the same zone (one directory of zone files under two
  // names): their writes must not race.
  FakeProvider first({"example.com"});
  FakeProvider second({"example.com"});
  second.overlap = first.overlap;
  const DomainJob a = job_for(first, "one", "example.com", {{"example.com", "v=spf1 mx -all"}});
  const DomainJob b = job_for(second, "two", "example.com", {{"example.com", "v=spf1 a -all"}});
  const std::vector<DomainOutcome> outcomes = execute({a, b}, 4, {});
  CHECK(outcomes.at(0).ok());
  CHECK(outcomes.at(1).ok());
  CHECK(first.overlap->max_inside() == 1);
  CHECK(first.published("example.com") == std::vector<std::string>{"v=spf1 mx -all"});
  CHECK(second.published("example.com") == std::vector<std::string>{"v=spf1 a -all"});
}

TEST_CASE("execute verifies over DNS with the reader given when the provider names a server", "[apply]") {
  FakeProvider fake({"example.com"});
  const DomainJob job = three_changes(fake);
  const std::vector<std::string> stale = fake.published("example.com");
  fake.server = "192.0.2.53:5300";
  std::mutex mutex;
  std::vector<std::string> asked;
  std::vector<std::chrono::milliseconds> pauses;
  const auto pause = [&](std::chrono::milliseconds delay) { pauses.push_back(delay); };

  SECTION("DNS answers what was published") {
    const DnsReader dns = [&](const std::string& server, const std::string& name) {
      const std::lock_guard lock(mutex);
      asked.push_back(server + " " + name);
      return fake.published(name);
    };
    const DomainOutcome outcome = execute({job}, 4, {dns, pause}).at(0);
    INFO(outcome.verify_error);
    CHECK(outcome.ok());
    CHECK(outcome.verified_by == "provider and DNS at 192.0.2.53:5300");
    std::sort(asked.begin(), asked.end());
    CHECK(asked == std::vector<std::string>{"192.0.2.53:5300 _spf1.example.com",
                                            "192.0.2.53:5300 _spf2.example.com",
                                            "192.0.2.53:5300 example.com"});
  }
  SECTION("DNS catches up after a moment") {
    int rounds = 0;
    const DnsReader dns = [&](const std::string&, const std::string& name) {
      const std::lock_guard lock(mutex);
      if (name == "example.com") ++rounds;
      return rounds < 2 && name == "example.com" ? stale : fake.published(name);
    };
    const DomainOutcome outcome = execute({job}, 4, {dns, pause}).at(0);
    CHECK(outcome.ok());
    CHECK(outcome.verified_by == "provider and DNS at 192.0.2.53:5300");
    CHECK(pauses.size() == 1);  // it waited once, through the injected pause, before asking again
  }
  SECTION("DNS keeps answering the old record") {
    const DnsReader dns = [&](const std::string&, const std::string& name) {
      return name == "example.com" ? stale : fake.published(name);
    };
    const DomainOutcome outcome = execute({job}, 4, {dns, pause}).at(0);
    CHECK_FALSE(outcome.ok());
    CHECK(outcome.error.empty());
    CHECK(outcome.applied == std::optional<std::size_t>(3));
    CHECK(outcome.verify_error ==
          "example.com: expected 'v=spf1 include:_spf1.example.com -all', DNS at 192.0.2.53:5300 answers "
          "'v=spf1 include:_spf2.example.com -all'");
    CHECK(pauses == std::vector<std::chrono::milliseconds>(4, std::chrono::milliseconds(300)));  // 5 attempts
  }
  SECTION("DNS does not answer") {
    const DnsReader dns = [&](const std::string&, const std::string&) -> std::vector<std::string> {
      throw Error("DNS at 192.0.2.53:5300 did not answer for example.com: timed out");
    };
    const DomainOutcome outcome = execute({job}, 4, {dns, pause}).at(0);
    CHECK(outcome.verify_error == "DNS at 192.0.2.53:5300 did not answer for example.com: timed out");
  }
  SECTION("no reader: verified through the provider only") {
    const DomainOutcome outcome = execute({job}, 4, {}).at(0);
    CHECK(outcome.ok());
    CHECK(outcome.verified_by == "provider");
  }
}

TEST_CASE("execute does not ask DNS when the provider names no server", "[apply]") {
  FakeProvider fake({"example.com"});
  const DomainJob job = three_changes(fake);
  int asked = 0;
  const DomainOutcome outcome = execute({job}, 4, {[&](const std::string&, const std::string&) {
                                          ++asked;
                                          return std::vector<std::string>{};
                                        }})
                                    .at(0);
  CHECK(outcome.ok());
  CHECK(outcome.verified_by == "provider");
  CHECK(asked == 0);
}

TEST_CASE("execute calls done once per job with its outcome", "[apply]") {
  FakeProvider fake({"a.example", "b.example", "c.example"});
  FakeProvider broken({"d.example"});
  std::vector<DomainJob> jobs;
  for (const char* domain : {"a.example", "x.a.example", "b.example", "c.example", "y.c.example"})
    jobs.push_back(job_for(fake, "main", domain, {{domain, "v=spf1 mx -all"}}));
  jobs.push_back(job_for(broken, "other", "d.example", {{"d.example", "v=spf1 a -all"}}));
  broken.fail_at = 1;

  const int parallel = GENERATE(1, 2, 8);
  std::mutex mutex;
  std::map<std::size_t, int> calls;
  std::map<std::size_t, bool> ok;
  const std::vector<DomainOutcome> outcomes =
      execute(jobs, parallel, {}, [&](std::size_t i, const DomainOutcome& outcome) {
        const std::lock_guard lock(mutex);
        ++calls[i];
        ok[i] = outcome.ok();
      });
  REQUIRE(outcomes.size() == jobs.size());
  CHECK(calls.size() == jobs.size());
  for (std::size_t i = 0; i < jobs.size(); ++i) {
    INFO(i);
    CHECK(calls[i] == 1);
    CHECK(ok[i] == outcomes[i].ok());
    CHECK(outcomes[i].ok() == (i + 1 != jobs.size()));
  }
}

TEST_CASE("execute with no jobs does nothing", "[apply]") {
  int calls = 0;
  CHECK(execute({}, 4, {}, [&](std::size_t, const DomainOutcome&) { ++calls; }).empty());
  CHECK(calls == 0);
}
