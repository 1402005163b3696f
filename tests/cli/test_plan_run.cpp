// cli::Session in-process: loading the configuration, reading each domain through its provider (the
// Cloudflare and GoDaddy fakes), planning over an offline resolver, diffing, and printing the plan.
#include <algorithm>
#include <catch2/catch.hpp>
#include <iostream>
#include <sstream>
#include <string>
#include <vector>

#include "cli/plan_run.hpp"
#include "error.hpp"
#include "tests/support/session_testing.hpp"

using namespace spfctl;
using Catch::Matchers::Contains;
using publish::Change;
using testing::CloudflareAccount;
using testing::GoDaddyAccount;
using testing::Workspace;

namespace {

const std::string k_new_spf = "v=spf1 include:_spf.senders.test ip4:198.51.100.1 -all";

std::string after_at(const plan::PlannedDomain& domain, const std::string& name) {
  for (const Change& change : domain.changes)
    if (change.name == name && change.after) return change.after->joined();
  return "";
}

}  // namespace

TEMPLATE_TEST_CASE("a session plans a domain against what its provider publishes", "[cli][session]",
                   CloudflareAccount, GoDaddyAccount) {
  Workspace<TestType> work;
  const auto session = work.session();
  const std::vector<cli::DomainRun> runs = session->plan(session->select({}), false);
  REQUIRE(runs.size() == 1);
  const plan::PlannedDomain& result = runs[0].result;
  INFO(result.error);
  CHECK(result.status() == plan::DomainStatus::changes);
  CHECK(result.zone == "example.com");
  CHECK(result.equivalent);
  CHECK(result.lookups == 1);
  // One update of the SPF record at the apex; the verification is not spfctl's to change.
  REQUIRE(result.changes.size() == 1);
  CHECK(result.changes[0].action == Change::Action::update);
  REQUIRE(result.changes[0].before);
  CHECK(result.changes[0].before->joined() == testing::k_old_spf);
  CHECK(after_at(result, "example.com") == k_new_spf);
  CHECK(work.account.writes() == 0);
  CHECK(session->dns_questions() > 0);
  CHECK(session->offline());

  const plan::Plan plan = cli::to_plan(runs, session->config_sha256());
  CHECK(plan.config_sha256.size() == 64);
  REQUIRE(plan.domains.size() == 1);
  CHECK(plan.domains[0].changes.size() == 1);

  std::ostringstream printed;
  cli::print_plan(printed, cli::Style(false), runs, false);
  CHECK_THAT(printed.str(), Contains("example.com"));
  CHECK_THAT(printed.str(), Contains(k_new_spf));
  CHECK_THAT(printed.str(), Contains("1 domain: 0 in sync, 1 with changes"));
}

TEMPLATE_TEST_CASE("a session finds a domain in sync once its plan is published", "[cli][session]",
                   CloudflareAccount, GoDaddyAccount) {
  Workspace<TestType> work;
  {
    const auto session = work.session();
    std::vector<cli::DomainRun> runs = session->plan(session->select({}), false);
    REQUIRE(runs.at(0).result.status() == plan::DomainStatus::changes);
    runs[0].provider->apply(runs[0].result.zone, runs[0].result.changes);
  }
  const auto session = work.session();
  const std::vector<cli::DomainRun> runs = session->plan(session->select({}), false);
  CHECK(runs.at(0).result.status() == plan::DomainStatus::in_sync);
  CHECK(runs.at(0).result.changes.empty());
  const auto apex = work.account.txt_now("example.com").at("example.com");
  CHECK(std::count(apex.begin(), apex.end(), testing::k_verification) == 1);
  CHECK(std::count(apex.begin(), apex.end(), k_new_spf) == 1);
}

TEMPLATE_TEST_CASE("a domain whose provider cannot be built fails alone", "[cli][session]", CloudflareAccount,
                   GoDaddyAccount) {
  Workspace<TestType> work;
  work.account.add_domain("example.org");
  work.write_config(Workspace<TestType>::domain_block("example.com") +
                    Workspace<TestType>::domain_block("example.org"));
  // The credential is missing: the provider cannot be built, for each of its domains.
  work.variables.clear();
  const auto session = work.session();
  const std::vector<cli::DomainRun> runs = session->plan(session->select({}), false);
  REQUIRE(runs.size() == 2);
  for (const cli::DomainRun& run : runs) {
    CHECK(run.result.status() == plan::DomainStatus::error);
    CHECK_THAT(run.result.error, Contains("SPFCTL_TEST_") && Contains("is not set or empty"));
  }
  CHECK(work.account.requests() == 0);
}

TEMPLATE_TEST_CASE("a session plans only the domains asked for, and names the closest for a typo",
                   "[cli][session]", CloudflareAccount, GoDaddyAccount) {
  Workspace<TestType> work;
  work.account.add_domain("example.org");
  work.write_config(Workspace<TestType>::domain_block("example.com") +
                    Workspace<TestType>::domain_block("example.org"));
  const auto session = work.session();
  const auto selected = session->select({"EXAMPLE.ORG."});
  REQUIRE(selected.size() == 1);
  CHECK(selected[0]->name == "example.org");
  const std::vector<cli::DomainRun> runs = session->plan(selected, false);
  REQUIRE(runs.size() == 1);
  CHECK(runs[0].result.domain == "example.org");
  // example.org publishes nothing yet: its record is created.
  REQUIRE(runs[0].result.changes.size() == 1);
  CHECK(runs[0].result.changes[0].action == Change::Action::create);

  CHECK_THROWS_WITH(
      session->select({"exmaple.org"}),
      Contains("domain 'exmaple.org' is not configured in ") && Contains("did you mean 'example.org'?"));
}

TEMPLATE_TEST_CASE("a session refuses a configuration with a bad provider setting before any request",
                   "[cli][session]", CloudflareAccount, GoDaddyAccount) {
  Workspace<TestType> work;
  work.globals.config =
      work.dir.write("spfctl.toml", "[providers.dns]\ntype = \"" + std::string(TestType::type) + "\"\n" +
                                        work.account.settings() + "api_ur = \"x\"\n\n" +
                                        Workspace<TestType>::domain_block("example.com"));
  CHECK_THROWS_WITH(work.session(), Contains("spfctl.toml:") && Contains("unknown setting 'api_ur'") &&
                                        Contains("did you mean 'api_url'?"));
  CHECK(work.account.requests() == 0);
}

TEMPLATE_TEST_CASE("each DNS question is counted once, for the domain that asked it first", "[cli][session]",
                   CloudflareAccount, GoDaddyAccount) {
  Workspace<TestType> work;
  work.account.add_domain("example.org");
  work.account.add_domain("example.net");
  work.write_config(Workspace<TestType>::domain_block("example.com") +
                    Workspace<TestType>::domain_block("example.org") +
                    Workspace<TestType>::domain_block("example.net"));
  const auto session = work.session();
  const std::vector<cli::DomainRun> runs = session->plan(session->select({}), false, 3);
  REQUIRE(runs.size() == 3);
  std::uint64_t counted = 0;
  for (const cli::DomainRun& run : runs) {
    INFO(run.result.error);
    CHECK(run.result.status() == plan::DomainStatus::changes);
    counted += run.dns_queries;
  }
  // The three share one sender: its question was sent once, by one of them.
  CHECK(counted == session->dns_questions());
  CHECK(counted > 0);
}

namespace {

// The requests that read records (not the account's zone or domain listing).
std::vector<std::string> record_reads(const std::vector<std::string>& targets) {
  std::vector<std::string> out;
  for (const std::string& target : targets)
    if (target.starts_with("GET ") &&
        (target.find("/dns_records") != std::string::npos || target.find("/records/") != std::string::npos))
      out.push_back(target);
  return out;
}

// The plan's domains as --json shows them, without the time it was made or the configuration's
// digest.
std::string plan_text(const std::vector<cli::DomainRun>& runs) {
  plan::Plan plan = cli::to_plan(runs, "");
  plan.created.clear();
  return plan::to_json_text(plan);
}

}  // namespace

TEMPLATE_TEST_CASE("a plan reads each zone's TXT records with one request, whatever names it holds",
                   "[cli][session][reads]", CloudflareAccount, GoDaddyAccount) {
  // example.com publishes a chain: its apex and _spf1 are read from the one listing of the zone.
  Workspace<TestType> work(Workspace<TestType>::domain_block("example.com"),
                           "v=spf1 include:_spf1.example.com -all");
  work.account.add_txt("example.com", "_spf1.example.com", testing::k_old_spf);
  work.account.add_domain("example.org");
  work.account.add_domain("example.net");
  work.account.add_txt("example.org", "example.org", testing::k_old_spf);
  work.write_config(Workspace<TestType>::domain_block("example.com") +
                    Workspace<TestType>::domain_block("example.org") +
                    Workspace<TestType>::domain_block("example.net"));
  const auto session = work.session();
  const std::vector<cli::DomainRun> runs = session->plan(session->select({}), false, 3);
  for (const cli::DomainRun& run : runs) {
    INFO(run.result.error);
    CHECK(run.result.status() == plan::DomainStatus::changes);
  }
  // The chain was read: the plan removes the _spf1 record the new policy no longer needs.
  CHECK(std::ranges::any_of(runs.at(0).result.changes, [](const Change& change) {
    return change.name == "_spf1.example.com" && change.action == Change::Action::remove;
  }));
  std::vector<std::string> reads = record_reads(work.account.fake.server().targets());
  CHECK(reads.size() == 3);
  std::ranges::sort(reads);
  CHECK(std::ranges::adjacent_find(reads) == reads.end());
  for (const std::string& read : reads) CHECK_THAT(read, Contains("TXT"));
  CHECK(session->zone_listings() == 3);
}

TEMPLATE_TEST_CASE(
    "a plan with plan_reads = \"dns\" equals the one read through the API, with no records request",
    "[cli][session][reads]", CloudflareAccount, GoDaddyAccount) {
  Workspace<TestType> work;
  // The zone's nameservers (here its zone file, read with --zone) serve what the API holds.
  work.serve_zone("example.com", {{"example.com", {testing::k_old_spf, testing::k_verification}}});
  std::string through_api;
  {
    const auto session = work.session();
    through_api = plan_text(session->plan(session->select({}), false));
  }
  const std::size_t from = work.account.fake.server().request_count();
  work.provider_settings = "plan_reads = \"dns\"\n";
  work.write_config(Workspace<TestType>::domain_block("example.com"));
  const auto session = work.session();
  const std::vector<cli::DomainRun> runs = session->plan(session->select({}), false);
  REQUIRE(runs.size() == 1);
  INFO(runs[0].result.error);
  CHECK(runs[0].result.status() == plan::DomainStatus::changes);
  CHECK(runs[0].live_from_dns);
  // The same plan (the configuration differs by the setting: its digest is left out).
  CHECK(plan_text(runs) == through_api);
  CHECK(record_reads(work.account.fake.server().targets(from)).empty());
  CHECK(session->zone_listings() == 0);
}

TEMPLATE_TEST_CASE("plan_reads_server needs plan_reads = \"dns\"", "[cli][session][reads]", CloudflareAccount,
                   GoDaddyAccount) {
  Workspace<TestType> work;
  work.provider_settings = "plan_reads_server = \"127.0.0.1:5353\"\n";
  work.write_config(Workspace<TestType>::domain_block("example.com"));
  CHECK_THROWS_WITH(work.session(), Contains("spfctl.toml:") && Contains("plan_reads_server") &&
                                        Contains("only used with plan_reads = \"dns\""));
  work.provider_settings = "plan_reads = \"dsn\"\n";
  work.write_config(Workspace<TestType>::domain_block("example.com"));
  CHECK_THROWS_WITH(work.session(), Contains("plan_reads") && Contains("dns"));
}

TEST_CASE("plan says in one line when API reads will take long under the provider's quota",
          "[cli][session][reads]") {
  Workspace<GoDaddyAccount> work;
  std::string domains;
  for (int i = 0; i < 120; ++i) {
    const std::string name = "client" + std::to_string(i) + ".example";
    work.account.add_domain(name);
    domains += Workspace<GoDaddyAccount>::domain_block(name);
  }
  const auto stderr_of_plan = [&] {
    work.write_config(domains);
    std::ostringstream captured;
    std::streambuf* saved = std::cerr.rdbuf(captured.rdbuf());
    try {
      const auto session = work.session();
      session->plan(session->select({}), false, 8);
    } catch (...) {
      std::cerr.rdbuf(saved);
      throw;
    }
    std::cerr.rdbuf(saved);
    return captured.str();
  };
  // 120 domains at 60 requests a minute: the first 60 at once, the rest a minute later.
  const std::string note = stderr_of_plan();
  CHECK(std::count(note.begin(), note.end(), '\n') == 1);
  CHECK_THAT(note, Contains("provider 'dns' reads 120 domains through the godaddy API, about 1 minute at") &&
                       Contains("60 requests a minute") &&
                       Contains("plan_reads = \"dns\" in [providers.dns]"));
  work.provider_settings = "plan_reads = \"dns\"\n";
  CHECK(stderr_of_plan().empty());
}
