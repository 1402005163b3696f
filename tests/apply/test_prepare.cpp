// apply's preparation in-process, against the Cloudflare and GoDaddy fakes: a saved plan checked
// against the configuration, changes laid onto what is published now (stale plans refused), what
// they would publish proved again, the safety checks --force lifts, and then execute publishing the
// jobs made here.
#include <algorithm>
#include <catch2/catch.hpp>
#include <string>
#include <vector>

#include "apply/prepare.hpp"
#include "cli/plan_run.hpp"
#include "error.hpp"
#include "tests/support/session_testing.hpp"

using namespace spfctl;
using Catch::Matchers::Contains;
using publish::Change;
using publish::TxtValue;
using testing::CloudflareAccount;
using testing::GoDaddyAccount;
using testing::Workspace;

namespace {

const std::string k_new_spf = "v=spf1 include:_spf.senders.test ip4:198.51.100.1 -all";

// A planned session and what preparing its runs gives.
template <class Account>
struct Run {
  explicit Run(Workspace<Account>& workspace) : work(workspace) {}

  Workspace<Account>& work;
  std::unique_ptr<cli::Session> session = work.session();
  std::vector<cli::DomainRun> runs = session->plan(session->select({}), false);
  apply::Refusals refusals;

  apply::Prepared prepare(bool reread) {
    refusals = {};
    return apply::prepare(runs, reread, session->mapper(), concurrency(), refusals);
  }
  std::function<int(const std::string&)> concurrency() {
    return [this](const std::string& name) { return session->providers().write_concurrency(name); };
  }
  apply::ProviderLookup providers() {
    return [this](const std::string& name) -> publish::Provider& { return session->providers().get(name); };
  }
  apply::SavedPlanSource source(const std::string& sha = "") const {
    return {"plan.json", work.globals.config, sha.empty() ? session->config_sha256() : sha};
  }
  // The plan as `spfctl plan --out` saves it and apply reads it back.
  plan::Plan saved() const {
    return plan::parse_plan(plan::to_json_text(cli::to_plan(runs, session->config_sha256())), "plan.json");
  }
  // Someone else changes the apex's SPF record at the provider.
  void edit_apex(const std::string& from, const std::string& to) {
    Change change;
    change.action = Change::Action::update;
    change.name = "example.com";
    change.ttl = 3600;
    change.before = TxtValue{{from}};
    change.after = TxtValue{{to}};
    for (const TxtValue& other : runs.at(0).live.other_values("example.com")) change.others.push_back(other);
    session->providers().get("dns").apply("example.com", {change});
  }
};

}  // namespace

TEMPLATE_TEST_CASE("a fresh plan becomes one proved job, and execute publishes it", "[apply][prepare]",
                   CloudflareAccount, GoDaddyAccount) {
  Workspace<TestType> work;
  Run<TestType> run(work);
  REQUIRE(run.runs.at(0).result.status() == plan::DomainStatus::changes);
  const apply::Prepared prepared = run.prepare(false);
  CHECK(run.refusals.drift.empty());
  CHECK(run.refusals.unsafe.empty());
  CHECK(run.refusals.deletes == 0);
  REQUIRE(prepared.jobs.size() == 1);
  CHECK(prepared.run_of_job == std::vector<std::size_t>{0});
  const apply::DomainJob& job = prepared.jobs[0];
  CHECK(job.domain == "example.com");
  CHECK(job.zone == "example.com");
  CHECK(job.provider == run.runs[0].provider);
  CHECK(job.changes.size() == 1);
  CHECK(run.runs[0].result.equivalent);
  CHECK(run.runs[0].apply_error.empty());
  CHECK_NOTHROW(apply::refuse(run.refusals, {}, "stale"));
  CHECK(work.account.writes() == 0);

  const std::vector<apply::DomainOutcome> outcomes = apply::execute(prepared.jobs, 4, {});
  REQUIRE(outcomes.size() == 1);
  INFO(outcomes[0].error << outcomes[0].verify_error);
  CHECK(outcomes[0].ok());
  CHECK(outcomes[0].verified_by == "provider");
  const auto apex = work.account.txt_now("example.com").at("example.com");
  CHECK(std::count(apex.begin(), apex.end(), k_new_spf) == 1);
  CHECK(std::count(apex.begin(), apex.end(), testing::k_verification) == 1);
  CHECK(apex.size() == 2);
}

TEMPLATE_TEST_CASE("a saved plan whose record changed at the provider since is stale, and refused",
                   "[apply][prepare]", CloudflareAccount, GoDaddyAccount) {
  Workspace<TestType> work;
  Run<TestType> planned(work);
  const plan::Plan saved = planned.saved();
  planned.edit_apex(testing::k_old_spf, "v=spf1 ip4:198.51.100.1 ip4:192.0.2.1 -all");
  const std::size_t writes = work.account.writes();

  Run<TestType> run(work);
  run.runs = apply::runs_from_plan(saved, run.source(), run.session->config(), {}, run.providers());
  REQUIRE(run.runs.size() == 1);
  const apply::Prepared prepared = run.prepare(true);
  CHECK(prepared.jobs.empty());
  REQUIRE(run.refusals.drift.size() == 1);
  CHECK_THAT(run.refusals.drift[0], Contains("example.com"));
  CHECK_THROWS_WITH(apply::refuse(run.refusals, {true, 10, "plan.json"}, "the plan plan.json is stale."),
                    Contains("the plan plan.json is stale. Nothing was applied.") &&
                        Contains("make and review a new plan with 'spfctl plan --out plan.json'"));
  CHECK(work.account.writes() == writes);
}

TEMPLATE_TEST_CASE("a plan read from DNS is prepared from what the API shows, and refused where they differ",
                   "[apply][prepare][reads]", CloudflareAccount, GoDaddyAccount) {
  Workspace<TestType> work;
  work.serve_zone("example.com", {{"example.com", {testing::k_old_spf, testing::k_verification}}});
  work.provider_settings = "plan_reads = \"dns\"\n";
  work.write_config(Workspace<TestType>::domain_block("example.com"));

  // DNS and the API agree: the plan made from DNS becomes a job, after reading each name it
  // writes through the API (prepare re-reads even when the plan is not a saved one).
  {
    Run<TestType> run(work);
    REQUIRE(run.runs.at(0).result.status() == plan::DomainStatus::changes);
    const std::size_t from = work.account.fake.server().request_count();
    const apply::Prepared prepared = run.prepare(false);
    CHECK(run.refusals.drift.empty());
    CHECK(prepared.jobs.size() == 1);
    const std::vector<std::string> reads = work.account.fake.server().targets(from);
    CHECK(std::ranges::any_of(reads, [](const std::string& target) {
      return target.starts_with("GET ") &&
             (target.find("name=example.com") != std::string::npos || target.ends_with("/records/TXT/@"));
    }));
  }

  // The API holds a value DNS does not show yet (a change made moments ago): the plan made from
  // DNS is refused as stale, and nothing is written.
  Run<TestType> run(work);
  REQUIRE(run.runs.at(0).result.status() == plan::DomainStatus::changes);
  run.edit_apex(testing::k_old_spf, "v=spf1 ip4:198.51.100.1 ip4:192.0.2.1 -all");
  const std::size_t writes = work.account.writes();
  const apply::Prepared prepared = run.prepare(false);
  CHECK(prepared.jobs.empty());
  REQUIRE(run.refusals.drift.size() == 1);
  CHECK_THAT(run.refusals.drift[0], Contains("example.com"));
  CHECK(work.account.writes() == writes);
}

TEMPLATE_TEST_CASE("a saved plan an earlier run already published is done, not stale", "[apply][prepare]",
                   CloudflareAccount, GoDaddyAccount) {
  Workspace<TestType> work;
  Run<TestType> planned(work);
  const plan::Plan saved = planned.saved();
  planned.runs[0].provider->apply("example.com", planned.runs[0].result.changes);

  Run<TestType> run(work);
  run.runs = apply::runs_from_plan(saved, run.source(), run.session->config(), {}, run.providers());
  const apply::Prepared prepared = run.prepare(true);
  CHECK(prepared.jobs.empty());
  CHECK(run.refusals.drift.empty());
  CHECK(run.runs.at(0).already_applied);
}

TEMPLATE_TEST_CASE("a change that weakens the published policy is refused without --force",
                   "[apply][prepare]", CloudflareAccount, GoDaddyAccount) {
  Workspace<TestType> work(Workspace<TestType>::domain_block("example.com", "policy = \"softfail\""));
  Run<TestType> run(work);
  REQUIRE(run.runs.at(0).result.status() == plan::DomainStatus::changes);
  // The plan told the reviewer.
  REQUIRE_FALSE(run.runs[0].result.warnings.empty());
  CHECK_THAT(run.runs[0].result.warnings[0], Contains("apply refuses this without --force"));

  const apply::Prepared prepared = run.prepare(false);
  CHECK(prepared.jobs.size() == 1);
  REQUIRE(run.refusals.unsafe.size() == 1);
  CHECK_THAT(run.refusals.unsafe[0], Contains("example.com: "));
  CHECK_THROWS_WITH(apply::refuse(run.refusals, {}, "stale"),
                    Contains("refusing to apply without --force; nothing was applied:") &&
                        Contains("run apply again with --force"));
  CHECK_NOTHROW(apply::refuse(run.refusals, {true, 10, ""}, "stale"));
}

TEMPLATE_TEST_CASE("deleting more records than --max-deletes allows is refused without --force",
                   "[apply][prepare]", CloudflareAccount, GoDaddyAccount) {
  // Published today: the apex includes a chained record, which the new policy does not need.
  Workspace<TestType> work(Workspace<TestType>::domain_block("example.com"),
                           "v=spf1 include:_spf1.example.com -all");
  work.account.add_txt("example.com", "_spf1.example.com", "v=spf1 ip4:198.51.100.1 -all");
  Run<TestType> run(work);
  REQUIRE(run.runs.at(0).result.status() == plan::DomainStatus::changes);
  const apply::Prepared prepared = run.prepare(false);
  CHECK(prepared.jobs.size() == 1);
  CHECK(run.refusals.deletes == 1);
  CHECK_NOTHROW(apply::refuse(run.refusals, {false, 1, ""}, "stale"));
  CHECK_THROWS_WITH(apply::refuse(run.refusals, {false, 0, ""}, "stale"),
                    Contains("the plan deletes 1 record, more than --max-deletes 0"));
}

TEMPLATE_TEST_CASE("an edited plan whose records do not prove against the configuration is not applied",
                   "[apply][prepare]", CloudflareAccount, GoDaddyAccount) {
  Workspace<TestType> work;
  Run<TestType> planned(work);
  plan::Plan saved = planned.saved();
  REQUIRE(saved.domains.at(0).changes.size() == 1);
  // One more network slipped into the reviewed value: the configuration does not authorise it.
  const std::string edited = "v=spf1 include:_spf.senders.test ip4:198.51.100.1 ip4:192.0.2.0/24 -all";
  saved.domains[0].changes[0].after = TxtValue{{edited}};
  saved.domains[0].records.at(0).strings = {edited};

  Run<TestType> run(work);
  run.runs = apply::runs_from_plan(saved, run.source(), run.session->config(), {}, run.providers());
  const apply::Prepared prepared = run.prepare(true);
  CHECK(prepared.jobs.empty());
  CHECK_THAT(run.runs.at(0).apply_error, Contains("do not prove against the configuration now"));
  CHECK(work.account.writes() == 0);
}

TEMPLATE_TEST_CASE("a saved plan is checked against the configuration it claims to come from",
                   "[apply][prepare]", CloudflareAccount, GoDaddyAccount) {
  Workspace<TestType> work;
  Run<TestType> run(work);
  const plan::Plan saved = run.saved();
  const auto from = [&](const plan::Plan& plan, const std::string& sha = "") {
    return apply::runs_from_plan(plan, run.source(sha), run.session->config(), {}, run.providers());
  };
  CHECK(from(saved).size() == 1);
  CHECK_THROWS_WITH(
      from(saved, std::string(64, '0')),
      Contains("plan.json was made from another configuration") && Contains("Nothing was applied"));

  plan::Plan elsewhere = saved;
  elsewhere.domains[0].changes[0].name = "www.example.com";
  CHECK_THROWS_WITH(from(elsewhere),
                    Contains("has a change at 'www.example.com', which is neither the domain "
                             "nor one of its chained records"));

  plan::Plan unknown = saved;
  unknown.domains[0].domain = "example.org";
  CHECK_THROWS_WITH(from(unknown), Contains("domain 'example.org' is not configured in "));

  CHECK_THROWS_WITH(
      apply::runs_from_plan(saved, run.source(), run.session->config(), {"exampel.com"}, run.providers()),
      Contains("domain 'exampel.com' is not in the plan plan.json; did you mean 'example.com'?"));
  CHECK(work.account.writes() == 0);
}
