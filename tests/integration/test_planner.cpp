// The planner against a real knotd serving the real-world sender records, and `spfctl flatten`
// end to end through the binary.
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <catch2/catch.hpp>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>

#include "config/config.hpp"
#include "dns/caching_resolver.hpp"
#include "dns/live_resolver.hpp"
#include "dns/message_size.hpp"
#include "dns/overlay_resolver.hpp"
#include "knot_server.hpp"
#include "net/ip_set.hpp"
#include "plan/planner.hpp"
#include "spf/evaluator.hpp"

using namespace spfctl;
using Catch::Contains;
using spfctl::testing::KnotConfig;
using spfctl::testing::KnotServer;

namespace {

std::string read_text(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  REQUIRE(in);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

// One zone "." holding the real-world sender records, the clients' own MX and A records, and the
// SOA and NS knotd needs.
std::string root_zone() {
  return "$ORIGIN .\n$TTL 300\n"
         ". IN SOA ns.spfctl.test. hostmaster.spfctl.test. 1 7200 3600 1209600 300\n"
         ". IN NS ns.spfctl.test.\n"
         "ns.spfctl.test. IN A 127.0.0.1\n"
         "client03.example. IN MX 10 mail.client03.example.\n"
         "mail.client03.example. IN A 203.0.113.25\n"
         "mail.client03.example. IN AAAA 2001:db8:25::25\n"
         "client11.example. IN MX 10 mx1.client11.example.\n"
         "client11.example. IN MX 20 mx2.client11.example.\n"
         "mx1.client11.example. IN A 198.51.100.11\n"
         "mx2.client11.example. IN A 198.51.100.12\n"
         "relay.client14.example. IN A 198.51.100.140\n" +
         read_text(SPFCTL_REALWORLD_ZONE) + "\n";
}

// Twenty domains over twelve real-world senders: some fit as they are, some need flattening,
// some chained records.
constexpr const char* k_config = R"(
[senders.hubspot-portal]
include = ["7593890.spf10.hubspotemail.net"]

[senders.agency-relay]
ip4 = ["198.51.100.0/28"]
ip6 = ["2001:db8:a9e::/48"]

[templates.client]
senders = ["agency-relay"]

[[domain]]
name = "client01.example"
senders = ["google-workspace", "mailchimp"]

[[domain]]
name = "client02.example"
templates = ["client"]
senders = ["google-workspace", "microsoft365", "sendgrid", "mailgun", "zendesk", "salesforce", "amazon-ses"]

[[domain]]
name = "client03.example"
senders = ["microsoft365", "sendgrid", "mailgun", "zendesk", "salesforce", "amazon-ses", "google-workspace"]
mx = ["@"]
lookup_budget = 8

[[domain]]
name = "client04.example"
senders = ["godaddy", "ionos-legacy", "mailchimp"]
policy = "softfail"

[[domain]]
name = "client05.example"
senders = ["ionos", "mandrill", "hubspot-portal"]

[[domain]]
name = "client06.example"
templates = ["client"]
senders = ["sendgrid", "mailgun", "amazon-ses", "mailchimp", "zendesk", "microsoft365", "google-workspace", "godaddy"]
flatten = "full"

[[domain]]
name = "client07.example"
senders = ["mailgun", "mailgun"]
ip4 = ["192.0.2.0/24"]

[[domain]]
name = "client08.example"
senders = ["salesforce", "hubspot-portal", "godaddy", "mandrill"]

[[domain]]
name = "client09.example"
senders = []

[[domain]]
name = "client10.example"
senders = ["google-workspace", "microsoft365", "mailchimp", "sendgrid", "amazon-ses", "mailgun", "zendesk",
           "godaddy", "ionos-legacy", "mandrill", "hubspot-portal", "salesforce"]
lookup_budget = 9

[[domain]]
name = "client11.example"
senders = ["microsoft365"]
mx = ["@"]
flatten = "off"

[[domain]]
name = "client12.example"
senders = ["mailgun", "sendgrid", "ionos"]
include = ["_netblocks.google.com", "_netblocks2.google.com", "_netblocks3.google.com"]

[[domain]]
name = "client13.example"
templates = ["client"]
senders = ["amazon-ses"]
policy = "neutral"

[[domain]]
name = "client14.example"
senders = ["mailchimp", "mandrill"]
a = ["relay.client14.example/28"]
raw = ["exists:%{i}._spf.mta.salesforce.com"]

[[domain]]
name = "client15.example"
senders = ["godaddy", "microsoft365", "google-workspace", "sendgrid", "mailgun"]
lookup_budget = 6

[[domain]]
name = "client16.example"
senders = ["zendesk", "salesforce", "mailchimp", "mailgun", "sendgrid", "microsoft365"]
chain_prefix = "_spfpart"
flatten = "full"

[[domain]]
name = "client17.example"
senders = ["hubspot-portal", "ionos-legacy", "ionos"]

[[domain]]
name = "client18.example"
senders = ["google-workspace"]
ip4 = ["203.0.113.0/24"]
ip6 = ["2001:db8:18::/48"]

[[domain]]
name = "client19.example"
senders = ["mailgun", "godaddy", "amazon-ses", "hubspot-portal"]
lookup_budget = 5

[[domain]]
name = "client20.example"
templates = ["client"]
senders = ["microsoft365", "google-workspace", "sendgrid", "mailgun", "mailchimp", "mandrill", "zendesk",
           "amazon-ses"]
)";

std::vector<config::DomainPolicy> policies() {
  return config::load_config_text(k_config, "planner-integration.toml").domains;
}

bool uses(const config::DomainPolicy& policy, const std::string& term) {
  return std::any_of(policy.terms.begin(), policy.terms.end(),
                     [&](const config::SenderTerm& t) { return t.text() == term; });
}

// Client addresses worth asking about: both ends of every block the plan names, one past each, and
// addresses the fixed senders care about.
std::vector<net::IpAddress> probes(const plan::DomainPlan& plan) {
  std::set<net::IpAddress> out;
  for (const char* fixed :
       {"192.0.2.10", "192.0.2.11", "8.8.8.8", "203.0.113.25", "2001:db8:25::25", "2001:4860:4864::1",
        "2a01:111:f400::1", "198.51.100.140", "198.51.100.11", "::1"})
    out.insert(*net::IpAddress::parse(fixed));
  for (const plan::DesiredRecord& record : plan.records) {
    std::istringstream words(record.value());
    for (std::string word; words >> word;) {
      const std::size_t colon = word.find(':');
      if (colon == std::string::npos || (word.rfind("ip4:", 0) != 0 && word.rfind("ip6:", 0) != 0)) continue;
      const net::CidrParse cidr = net::Cidr::parse(word.substr(colon + 1));
      if (!cidr.cidr) continue;
      const net::AddressRange range = cidr.cidr->range();
      out.insert(range.first);
      out.insert(range.last);
      if (range.first.is_v4() && range.first.v4_value() > 0)
        out.insert(net::IpAddress::from_v4(range.first.v4_value() - 1));
      if (range.last.is_v4() && range.last.v4_value() < 0xffffffffu)
        out.insert(net::IpAddress::from_v4(range.last.v4_value() + 1));
    }
  }
  return {out.begin(), out.end()};
}

// check_host() on the planned records and on the policy published unsplit (allowed as many
// lookups as it needs) give every probe the same result.
void receivers_agree(dns::Resolver& snapshot, const config::DomainPolicy& policy,
                     const plan::DomainPlan& plan) {
  std::map<std::string, std::vector<std::vector<std::string>>> planned;
  for (const plan::DesiredRecord& record : plan.records) planned[record.name] = {record.strings};
  dns::OverlayResolver published(snapshot, planned);
  const plan::IntendedRecord intended = plan::intended_record(policy);
  REQUIRE(intended.record);
  dns::OverlayResolver written(snapshot, {{policy.name, {{spf::to_string(*intended.record)}}}});
  spf::CheckHostOptions unlimited;
  unlimited.lookup_limit = 100;
  unlimited.void_limit = 100;
  unlimited.timestamp = 1700000000;
  spf::CheckHostOptions receiver;
  receiver.timestamp = 1700000000;
  for (const net::IpAddress& ip : probes(plan)) {
    const spf::CheckHostInput input{ip, "postmaster@" + policy.name, "mta.example.org", policy.name};
    const spf::CheckHostResult want = spf::check_host(written, input, unlimited);
    const spf::CheckHostResult got = spf::check_host(published, input, receiver);
    INFO(policy.name << " from " << ip.to_string() << ": " << got.problem);
    CHECK(spf::to_string(got.result) == spf::to_string(want.result));
  }
}

struct Run {
  int exit_code = -1;
  std::string out;
  std::string err;
};

Run run_spfctl(const std::string& arguments) {
  const auto dir = std::filesystem::temp_directory_path();
  const std::string tag = std::to_string(getpid());
  const auto out_path = dir / ("spfctl-planner-out-" + tag);
  const auto err_path = dir / ("spfctl-planner-err-" + tag);
  const std::string command = std::string("cd '") + SPFCTL_SOURCE_DIR + "' && '" + SPFCTL_BINARY + "' " +
                              arguments + " >'" + out_path.string() + "' 2>'" + err_path.string() + "'";
  const int status = std::system(command.c_str());
  Run run;
  run.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  run.out = read_text(out_path);
  run.err = read_text(err_path);
  std::filesystem::remove(out_path);
  std::filesystem::remove(err_path);
  return run;
}

constexpr const char* k_example_zones =
    "--zone examples/dns/senders.zone --zone examples/zones/example-agency.net.zone";

}  // namespace

TEST_CASE("twenty domains over real-world senders plan through knotd, each proved and within budget",
          "[integration][planner]") {
  KnotServer knot(KnotConfig().zone(".", root_zone()));
  dns::LiveResolver live({{knot.address()}, 2000, 2});
  dns::CachingResolver cache(live);
  const std::vector<config::DomainPolicy> domains = policies();
  REQUIRE(domains.size() == 20);

  plan::PolicyMapper mapper(cache);
  const std::vector<plan::DomainPlan> plans = plan::plan_domains(mapper, domains, {}, 4);
  REQUIRE(plans.size() == 20);
  std::size_t flattened = 0, chained = 0;
  for (std::size_t i = 0; i < plans.size(); ++i) {
    const plan::DomainPlan& plan = plans[i];
    INFO(plan.domain << ": " << plan.error);
    REQUIRE(plan.ok());
    CHECK(plan.domain == domains[i].name);
    CHECK(plan.equivalent);
    CHECK(plan.lookups <= domains[i].lookup_budget);
    CHECK(plan.void_lookups <= domains[i].void_lookup_budget);
    REQUIRE_FALSE(plan.records.empty());
    CHECK(plan.records.front().name == plan.domain);
    for (std::size_t r = 0; r < plan.records.size(); ++r) {
      const plan::DesiredRecord& record = plan.records[r];
      if (r > 0) CHECK(record.name == domains[i].chain_prefix + std::to_string(r) + "." + plan.domain);
      for (const std::string& s : record.strings) CHECK(s.size() <= 255);
      CHECK(dns::txt_response_size(record.name, {record.strings}) <= 512);
    }
    flattened += plan.flattened.empty() ? 0 : 1;
    chained += plan.records.size() > 1 ? 1 : 0;
    receivers_agree(cache, domains[i], plan);
  }
  CHECK(flattened >= 5);
  CHECK(chained >= 2);
  CHECK(plans[1].lookups_unflattened > 10);  // client02 as written is over RFC 7208's limit
  CHECK(plans[8].records.front().value() == "v=spf1 -all");
  CHECK(plans[10].flattened.empty());  // flatten = "off"
}

TEST_CASE("a sender whose DNS fails makes exactly the domains using it fail", "[integration][planner]") {
  // mcsv.net is configured in knotd but its file does not load: SERVFAIL for servers.mcsv.net.
  KnotServer knot(KnotConfig().zone(".", root_zone()).failing_zone("mcsv.net", "this is not a zone file\n"));
  dns::LiveResolver live({{knot.address()}, 2000, 1});
  dns::CachingResolver cache(live);
  const std::vector<config::DomainPolicy> domains = policies();
  plan::PolicyMapper mapper(cache);
  const std::vector<plan::DomainPlan> plans = plan::plan_domains(mapper, domains, {}, 4);
  std::size_t failed = 0;
  for (std::size_t i = 0; i < plans.size(); ++i) {
    INFO(plans[i].domain << ": " << plans[i].error);
    if (uses(domains[i], "include:servers.mcsv.net")) {
      ++failed;
      CHECK_FALSE(plans[i].ok());
      CHECK(plans[i].records.empty());
      CHECK_THAT(plans[i].error,
                 Contains("include:servers.mcsv.net: TXT lookup for servers.mcsv.net failed (SERVFAIL"));
    } else {
      CHECK(plans[i].ok());
      CHECK(plans[i].equivalent);
    }
  }
  CHECK(failed == 7);
}

TEST_CASE("spfctl flatten brings example-agency.net from 14 lookups within budget, proved",
          "[integration][planner]") {
  const Run run = run_spfctl(std::string(k_example_zones) + " flatten example-agency.net --json");
  INFO(run.err);
  REQUIRE(run.exit_code == 0);
  const nlohmann::json out = nlohmann::json::parse(run.out);
  CHECK(out["domain"] == "example-agency.net");
  CHECK(out["equivalent"] == true);
  CHECK(out["lookups_before"] == 14);
  CHECK(out["lookups"].get<int>() <= 10);
  CHECK(out["void_lookups"].get<int>() <= 2);
  REQUIRE(out["records"].size() >= 1);
  CHECK(out["records"][0]["name"] == "example-agency.net");
  CHECK(std::find(out["flattened"].begin(), out["flattened"].end(), "include:mailgun.org") !=
        out["flattened"].end());
  for (const auto& record : out["records"]) {
    std::string joined;
    for (const auto& s : record["strings"]) {
      CHECK(s.get<std::string>().size() <= 255);
      joined += s.get<std::string>();
    }
    CHECK(record["value"] == joined);
  }

  // Published as planned, `spfctl check` finds the domain healthy within the limits.
  const std::filesystem::path zone =
      std::filesystem::temp_directory_path() / ("spfctl-flattened-" + std::to_string(getpid()) + ".zone");
  {
    std::istringstream original(
        read_text(std::string(SPFCTL_SOURCE_DIR) + "/examples/zones/example-agency.net.zone"));
    std::ofstream file(zone);
    auto quoted = [](const nlohmann::json& strings) {
      std::string text;
      for (const auto& s : strings) text += " \"" + s.get<std::string>() + "\"";
      return text;
    };
    for (std::string line; std::getline(original, line);)
      file << (line.find("v=spf1") != std::string::npos ? "@ IN TXT" + quoted(out["records"][0]["strings"])
                                                        : line)
           << "\n";
    for (std::size_t i = 1; i < out["records"].size(); ++i)
      file << out["records"][i]["name"].get<std::string>() << ". IN TXT"
           << quoted(out["records"][i]["strings"]) << "\n";
  }
  const Run check = run_spfctl("--zone examples/dns/senders.zone --zone '" + zone.string() +
                               "' check example-agency.net --json");
  std::filesystem::remove(zone);
  INFO(check.out << check.err);
  CHECK(check.exit_code == 0);
  const nlohmann::json audit = nlohmann::json::parse(check.out);
  CHECK(audit["domains"][0]["healthy"] == true);
  CHECK(audit["domains"][0]["lookups"] == out["lookups"]);
}

TEST_CASE("spfctl flatten on the bundled senders, text and errors", "[integration][planner]") {
  const Run text =
      run_spfctl(std::string(k_example_zones) + " flatten example-agency.net --flatten full --no-color");
  INFO(text.err);
  REQUIRE(text.exit_code == 0);
  CHECK_THAT(text.out, Contains("example-agency.net  equivalent") && Contains("lookups  14 → ") &&
                           Contains("_spf1.example-agency.net  TXT  \"v=spf1 ") &&
                           Contains("kept include:_spf.salesforce.com as written"));

  const Run gmail = run_spfctl("--zone examples/dns/senders.zone flatten gmail.com --json --flatten full");
  REQUIRE(gmail.exit_code == 0);
  const nlohmann::json flat = nlohmann::json::parse(gmail.out);
  CHECK(flat["records"][0]["value"].get<std::string>().find("redirect=") == std::string::npos);
  CHECK(flat["lookups"] == 0);
  CHECK(flat["equivalent"] == true);

  // Without the senders' records every include is missing: an error naming the domain and the include.
  const Run missing = run_spfctl("--zone examples/zones/example-agency.net.zone flatten example-agency.net");
  CHECK(missing.exit_code == 1);
  CHECK(missing.out.empty());
  CHECK_THAT(missing.err, Contains("spfctl: error: example-agency.net: include:_spf.google.com: "));

  const Run over = run_spfctl("--zone examples/dns/senders.zone flatten github.com --lookup-budget 3");
  CHECK(over.exit_code == 1);
  CHECK_THAT(over.err, Contains("spfctl: error: github.com: ") && Contains("over the budget of 3"));

  const Run none = run_spfctl("--zone examples/dns/senders.zone flatten nothing.example");
  CHECK(none.exit_code == 1);
  CHECK_THAT(none.err, Contains("spfctl: error: nothing.example: nothing.example does not exist"));

  const Run help = run_spfctl("flatten --help");
  CHECK(help.exit_code == 0);
  CHECK_THAT(help.out, Contains("--lookup-budget") && Contains("Examples:"));
}
