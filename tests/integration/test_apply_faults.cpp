// spfctl apply, end to end through the CLI, against fakes of the GoDaddy and Cloudflare APIs that
// misbehave on cue: the client killed part-way, 429 storms, server errors and timeouts beyond the
// retry budget, one domain failing among others. Whatever happens, every TXT state the API
// published on the way is a valid SPF deployment, other TXT values survive, no secret is printed,
// and running apply again converges.
//
// The domains list only ip4 literals, so planning asks DNS nothing (--zone gives an offline
// resolver); forty single addresses that cannot be merged need chained records besides the apex.
#include <signal.h>

#include <algorithm>
#include <atomic>
#include <catch2/catch.hpp>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>
#include <vector>

#include "tests/support/cloudflare_fake.hpp"
#include "tests/support/godaddy_fake.hpp"
#include "tests/support/spf_state_check.hpp"
#include "tests/support/spfctl_process.hpp"
#include "tests/support/temp_dir.hpp"

namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;
using Catch::Matchers::Contains;
using json = nlohmann::json;
using spfctl::test_support::ProcessOptions;
using spfctl::test_support::ProcessResult;
using spfctl::testing::ApiFault;
using spfctl::testing::CloudflareFake;
using spfctl::testing::GoDaddyFake;
using spfctl::testing::published_state_problems;
using spfctl::testing::TempDir;
using spfctl::testing::TxtState;

constexpr const char* k_gd_key_env = "SPFCTL_TEST_GD_KEY";
constexpr const char* k_gd_secret_env = "SPFCTL_TEST_GD_SECRET";
constexpr const char* k_cf_token_env = "SPFCTL_TEST_CF_TOKEN";
const std::string k_verification = "google-site-verification=Fa9kQ2x7Lm";
// Published before spfctl: the new policy keeps -all and still authorises 198.51.100.1.
const std::string k_old_spf = "v=spf1 ip4:198.51.100.1 -all";

// `count` single addresses, 198.51.100.1, .3, .5, ...: no two merge into one block.
std::string ip4_list(int count) {
  std::string out;
  for (int i = 0; i < count; ++i)
    out += (i ? ", \"198.51.100." : "\"198.51.100.") + std::to_string(1 + 2 * i) + "\"";
  return out;
}

std::string domain_block(const std::string& domain, const std::string& provider, int addresses = 40) {
  return "[[domain]]\nname = \"" + domain + "\"\nprovider = \"" + provider + "\"\nip4 = [" +
         ip4_list(addresses) + "]\n\n";
}

std::string godaddy_provider(const GoDaddyFake& fake, const std::string& extra = "") {
  return "[providers.gd]\ntype = \"godaddy\"\napi_url = \"" + fake.api_url() + "\"\nkey_env = \"" +
         k_gd_key_env + "\"\nsecret_env = \"" + k_gd_secret_env + "\"\n" + extra + "\n";
}

std::string cloudflare_provider(const CloudflareFake& fake, const std::string& name = "cf",
                                const std::string& extra = "") {
  return "[providers." + name + "]\ntype = \"cloudflare\"\napi_url = \"" + fake.api_url() +
         "\"\ntoken_env = \"" + k_cf_token_env + "\"\n" + extra + "\n";
}

// A GoDaddy account holding `domain`, its apex publishing the old SPF record and a verification.
void seed(GoDaddyFake& fake, const std::string& domain) {
  fake.add_domain(domain);
  fake.add_record(domain, "@", k_old_spf);
  fake.add_record(domain, "@", k_verification);
}

void seed(CloudflareFake& fake, const std::string& domain) {
  fake.add_zone(domain);
  fake.add_record(domain, domain, k_old_spf);
  fake.add_record(domain, domain, "\"" + k_verification + "\"");
}

// The credentials every run gets, and the secrets no output may show.
struct Credentials {
  std::vector<std::pair<std::string, std::optional<std::string>>> env;
  std::vector<std::string> secrets;

  void add(const GoDaddyFake& fake) {
    env.push_back({k_gd_key_env, fake.key()});
    env.push_back({k_gd_secret_env, fake.secret()});
    secrets.push_back(fake.key());
    secrets.push_back(fake.secret());
  }
  void add(const CloudflareFake& fake) {
    env.push_back({k_cf_token_env, fake.token()});
    secrets.push_back(fake.token());
  }
};

// Runs spfctl with `config`, offline but for the fakes; `child` receives the pid when given.
ProcessResult spfctl_run(const Credentials& credentials, const std::string& config,
                         std::vector<std::string> args, std::atomic<pid_t>* child = nullptr) {
  args.insert(args.end(), {"-c", config, "--zone", SPFCTL_SOURCE_DIR "/examples/dns/senders.zone"});
  ProcessOptions options;
  options.env = credentials.env;
  options.timeout = 60s;
  if (child) options.on_started = [child](pid_t pid) { *child = pid; };
  ProcessResult result = spfctl::test_support::run_spfctl(args, options);
  INFO(result.out << result.err);
  CHECK_FALSE(result.timed_out);
  for (const std::string& secret : credentials.secrets)
    CHECK_THAT(result.out + result.err, !Contains(secret));
  return result;
}

// name -> planned SPF value, per domain, from `spfctl plan --json`.
using Planned = std::map<std::string, std::map<std::string, std::string>>;

Planned plan_of(const Credentials& credentials, const std::string& config) {
  const ProcessResult planned = spfctl_run(credentials, config, {"plan", "--json"});
  INFO(planned.out << planned.err);
  REQUIRE(planned.exit_code == 0);
  Planned out;
  const json plan = json::parse(planned.out);
  for (const json& domain : plan["domains"]) {
    REQUIRE(domain["status"] == "changes");
    for (const json& change : domain["changes"]) {
      REQUIRE(change["action"] != "delete");
      out[domain["domain"]][change["name"]] = change["after"];
    }
  }
  return out;
}

// What `domain`'s zone should publish once its plan is applied: the planned values, and the
// verification beside the apex's.
TxtState expected_state(const Planned& planned, const std::string& domain) {
  TxtState state;
  for (const auto& [name, value] : planned.at(domain)) state[name].push_back(value);
  state[domain].push_back(k_verification);
  for (auto& [name, values] : state) std::sort(values.begin(), values.end());
  return state;
}

// What `domain`'s zone publishes before spfctl runs.
TxtState old_state(const std::string& domain) {
  TxtState state = {{domain, {k_old_spf, k_verification}}};
  std::sort(state[domain].begin(), state[domain].end());
  return state;
}

// Every state the zone went through is a working SPF deployment that kept the verification.
void check_history(const std::vector<TxtState>& history, const std::string& domain) {
  for (std::size_t i = 0; i < history.size(); ++i) {
    INFO("state " << i << " of " << domain);
    CHECK(published_state_problems(history[i], domain) == std::vector<std::string>{});
    const auto apex = history[i].find(domain);
    REQUIRE(apex != history[i].end());
    CHECK(std::count(apex->second.begin(), apex->second.end(), k_verification) == 1);
  }
}

// The requests a fake received, as "METHOD path", in order.
template <class Fake>
std::vector<std::string> requests_of(const Fake& fake) {
  std::vector<std::string> out;
  for (const auto& request : fake.server().requests()) out.push_back(request.method + " " + request.path);
  return out;
}

template <class Fake>
std::size_t writes_of(const Fake& fake) {
  const auto requests = fake.server().requests();
  return static_cast<std::size_t>(
      std::count_if(requests.begin(), requests.end(), [](const auto& r) { return r.method != "GET"; }));
}

std::string applied_line(const std::string& domain, std::size_t changes) {
  return domain + "  applied " + std::to_string(changes) + " change" + (changes == 1 ? "" : "s") +
         ", verified by provider\n";
}

// A planned value's chained records: the names other than the domain.
std::size_t chained_count(const Planned& planned, const std::string& domain) {
  return planned.at(domain).size() - 1;
}

}  // namespace

TEST_CASE("apply killed while writing the apex leaves a valid state, and apply again converges",
          "[integration][apply][faults]") {
  GoDaddyFake fake;
  seed(fake, "example.com");
  Credentials credentials;
  credentials.add(fake);
  TempDir work("spfctl-faults");
  const std::string config =
      work.write("spfctl.toml", godaddy_provider(fake) + domain_block("example.com", "gd"));

  const Planned planned = plan_of(credentials, config);
  REQUIRE(planned.at("example.com").contains("example.com"));
  REQUIRE(planned.at("example.com").contains("_spf1.example.com"));
  const std::size_t chained = chained_count(planned, "example.com");

  // Kills the client as its write of the apex arrives (one PUT per name: the chained records were
  // written before), and refuses that write as if it never left the client (`lost`); or kills it
  // once the apex is written, as it starts reading back.
  const bool lost = GENERATE(true, false);
  INFO((lost ? "killed as the apex write arrives" : "killed as the read-back after the apex write starts"));
  std::atomic<pid_t> child{0};
  std::atomic<bool> apex_written{false};
  std::atomic<bool> killed{false};
  std::atomic<std::size_t> states_at_kill{0};
  fake.on_request([&](const httplib::Request& req) {
    if (!req.path.ends_with("/records/TXT/@")) return;
    // The GET of a read-back comes only once the PUT before it was answered, its work done.
    const bool now = lost ? req.method == "PUT" : req.method == "GET" && apex_written;
    if (req.method == "PUT") apex_written = true;
    if (!now || killed.exchange(true)) return;
    while (child.load() == 0) std::this_thread::yield();  // set as soon as the child runs
    states_at_kill = fake.txt_history("example.com").size();
    if (lost) fake.inject(ApiFault::answer(503));  // taken by this very request, after the hook
    kill(child.load(), SIGKILL);
  });
  const ProcessResult killed_run = spfctl_run(credentials, config, {"apply", "--auto-approve"}, &child);
  CHECK(killed_run.signal == SIGKILL);
  CHECK(killed_run.exit_code == -1);
  REQUIRE(killed);
  fake.on_request({});

  // Each chained record was written once before the apex; nothing pointed at them yet.
  CHECK(states_at_kill == chained + (lost ? 0 : 1));
  std::vector<TxtState> history = fake.txt_history("example.com");
  REQUIRE(history.size() == chained + (lost ? 0 : 1));
  check_history(history, "example.com");
  TxtState chained_only = expected_state(planned, "example.com");
  chained_only["example.com"] = old_state("example.com").at("example.com");
  CHECK(history.at(chained - 1) == chained_only);
  CHECK(fake.txt_now("example.com") == (lost ? chained_only : expected_state(planned, "example.com")));

  // The next run plans from what is published: the chained records are in sync, and only the
  // apex is left to write (when it was lost).
  const std::size_t writes_before = writes_of(fake);
  const ProcessResult again = spfctl_run(credentials, config, {"apply", "--auto-approve"});
  CHECK(again.exit_code == 0);
  if (lost) {
    CHECK_THAT(again.out, Contains(applied_line("example.com", 1)));
    CHECK_THAT(again.out, Contains("1 domain: 1 applied, 0 in sync, 0 failed"));
  } else {
    CHECK_THAT(again.out, Contains("Nothing to apply."));
    CHECK_THAT(again.out, Contains("1 domain: 0 applied, 1 in sync, 0 failed"));
  }
  CHECK(writes_of(fake) - writes_before == (lost ? 1u : 0u));
  history = fake.txt_history("example.com");
  CHECK(history.size() == chained + 1);
  check_history(history, "example.com");
  CHECK(fake.txt_now("example.com") == expected_state(planned, "example.com"));

  const ProcessResult in_sync = spfctl_run(credentials, config, {"plan", "--detailed-exitcode"});
  CHECK(in_sync.exit_code == 0);
  CHECK_THAT(in_sync.out, Contains("1 domain: 1 in sync, 0 with changes, 0 in error"));
}

// example.com at a GoDaddy fake and example.net at a Cloudflare fake, both seeded, and one
// configuration publishing each through its own provider.
struct BothApis {
  GoDaddyFake godaddy;
  CloudflareFake cloudflare;
  Credentials credentials;
  TempDir work{"spfctl-faults"};
  std::string config;

  BothApis() {
    seed(godaddy, "example.com");
    seed(cloudflare, "example.net");
    credentials.add(godaddy);
    credentials.add(cloudflare);
    config =
        work.write("spfctl.toml", godaddy_provider(godaddy) + cloudflare_provider(cloudflare) +
                                      domain_block("example.com", "gd") + domain_block("example.net", "cf"));
  }
};

TEST_CASE("apply waits out 429 storms on reads and writes of both APIs", "[integration][apply][faults]") {
  BothApis apis;
  GoDaddyFake& godaddy = apis.godaddy;
  CloudflareFake& cloudflare = apis.cloudflare;
  const Credentials& credentials = apis.credentials;
  const std::string& config = apis.config;
  const Planned planned = plan_of(credentials, config);
  const std::size_t gd_requests = godaddy.server().request_count();
  const std::size_t cf_requests = cloudflare.server().request_count();

  // The first two requests of each API, whatever they are, then its first two writes.
  godaddy.inject(ApiFault::answer(429).with_retry_after(1), 2);
  godaddy.inject(ApiFault::answer(429).with_retry_after(1).on_writes(), 2);
  cloudflare.inject(ApiFault::answer(429).with_retry_after(1), 2);
  cloudflare.inject(ApiFault::answer(429).with_retry_after(1).on_writes(), 2);
  const ProcessResult applied = spfctl_run(credentials, config, {"apply", "--auto-approve"});
  CHECK(applied.exit_code == 0);
  CHECK_THAT(applied.out, Contains(applied_line("example.com", planned.at("example.com").size())));
  CHECK_THAT(applied.out, Contains(applied_line("example.net", planned.at("example.net").size())));
  CHECK_THAT(applied.out, Contains("2 domains: 2 applied, 0 in sync, 0 failed"));

  // Each refused request was sent again until it passed: the first request three times, the first
  // write three times, and one write per change in all besides.
  for (const auto& [requests, before, writes, changes] :
       {std::tuple{requests_of(godaddy), gd_requests, writes_of(godaddy), planned.at("example.com").size()},
        std::tuple{requests_of(cloudflare), cf_requests, writes_of(cloudflare),
                   planned.at("example.net").size()}}) {
    REQUIRE(requests.size() >= before + 3);
    CHECK(requests[before + 1] == requests[before]);
    CHECK(requests[before + 2] == requests[before]);
    CHECK(writes == changes + 2);
    const auto first_write =
        std::find_if(requests.begin() + static_cast<std::ptrdiff_t>(before), requests.end(),
                     [](const std::string& r) { return !r.starts_with("GET "); });
    REQUIRE(requests.end() - first_write >= 3);
    CHECK(first_write[1] == first_write[0]);
    CHECK(first_write[2] == first_write[0]);
  }

  check_history(godaddy.txt_history("example.com"), "example.com");
  check_history(cloudflare.txt_history("example.net"), "example.net");
  CHECK(godaddy.txt_now("example.com") == expected_state(planned, "example.com"));
  CHECK(cloudflare.txt_now("example.net") == expected_state(planned, "example.net"));
}

TEST_CASE("server errors beyond the retry budget fail the domain part-way, validly, until apply again",
          "[integration][apply][faults]") {
  CloudflareFake fake;
  seed(fake, "example.net");
  Credentials credentials;
  credentials.add(fake);
  TempDir work("spfctl-faults");
  // Sixty addresses: two chained records, _spf1 including _spf2, so _spf2 is written first.
  const std::string config =
      work.write("spfctl.toml", cloudflare_provider(fake) + domain_block("example.net", "cf", 60));
  const Planned planned = plan_of(credentials, config);
  const std::size_t changes = planned.at("example.net").size();
  REQUIRE(planned.at("example.net").contains("_spf1.example.net"));
  REQUIRE(planned.at("example.net").contains("_spf2.example.net"));
  REQUIRE(changes == 3);

  // Every write of _spf1 answers 500: the create is read back and sent again, three times in all.
  std::atomic<int> spf1_posts{0};
  fake.on_request([&](const httplib::Request& req) {
    if (req.method != "POST" || req.body.find("\"_spf1.example.net\"") == std::string::npos) return;
    ++spf1_posts;
    fake.inject(ApiFault::answer(500).on_writes());  // taken by this very request, after the hook
  });
  const ProcessResult failed = spfctl_run(credentials, config, {"apply", "--auto-approve"});
  fake.on_request({});
  CHECK(failed.exit_code == 1);
  CHECK(spf1_posts == 3);
  CHECK_THAT(failed.out,
             Contains("example.net  failed: cloudflare provider 'cf': zone example.net: creating the "
                      "SPF value at _spf1.example.net: POST " +
                      fake.api_url() + "/zones/"));
  CHECK_THAT(failed.out, Contains("answered 500 internal server error"));
  CHECK_THAT(failed.out, Contains("(1 of 3 changes applied)\n"));
  CHECK_THAT(failed.out, Contains("1 domain: 0 applied, 0 in sync, 1 failed"));

  // _spf2 was written, nothing points at it yet, and the apex is as it was.
  const std::vector<TxtState> history = fake.txt_history("example.net");
  REQUIRE(history.size() == 1);
  check_history(history, "example.net");
  TxtState partial = old_state("example.net");
  partial["_spf2.example.net"] = {planned.at("example.net").at("_spf2.example.net")};
  CHECK(fake.txt_now("example.net") == partial);

  const ProcessResult again = spfctl_run(credentials, config, {"apply", "--auto-approve"});
  CHECK(again.exit_code == 0);
  CHECK_THAT(again.out, Contains(applied_line("example.net", 2)));
  check_history(fake.txt_history("example.net"), "example.net");
  CHECK(fake.txt_history("example.net").size() == 3);
  CHECK(fake.txt_now("example.net") == expected_state(planned, "example.net"));
}

TEST_CASE("writes slower than the provider's timeout fail the domain with a timeout, validly",
          "[integration][apply][faults]") {
  CloudflareFake fake;
  seed(fake, "example.net");
  Credentials credentials;
  credentials.add(fake);
  TempDir work("spfctl-faults");
  const std::string config = work.write(
      "spfctl.toml", cloudflare_provider(fake, "cf", "timeout = 1\n") + domain_block("example.net", "cf"));
  const Planned planned = plan_of(credentials, config);
  const std::size_t changes = planned.at("example.net").size();

  // Writes answered after 2 s (with a gateway timeout, having done nothing): a create whose answer
  // never came is read back and sent again, three times in all, then the domain fails.
  ApiFault slow = ApiFault::answer(504).on_writes();
  slow.delay = 2s;
  fake.inject(slow, 3);
  const ProcessResult failed = spfctl_run(credentials, config, {"apply", "--auto-approve"});
  CHECK(failed.exit_code == 1);
  CHECK(writes_of(fake) == 3);
  CHECK_THAT(failed.out,
             Contains("example.net  failed: cloudflare provider 'cf': zone example.net: creating the "
                      "SPF value at _spf1.example.net: POST " +
                      fake.api_url() + "/zones/"));
  CHECK_THAT(failed.out, Contains("failed: timeout"));
  CHECK_THAT(failed.out, Contains("(0 of " + std::to_string(changes) + " changes applied)\n"));
  CHECK_THAT(failed.out, Contains("1 domain: 0 applied, 0 in sync, 1 failed"));
  // A write that got no answer may have been made: apply again converges, and says so.
  CHECK_THAT(failed.out, Contains("run apply again, it plans from what is published then and converges"));
  CHECK(fake.txt_history("example.net").empty());
  CHECK(fake.txt_now("example.net") == old_state("example.net"));

  const ProcessResult again = spfctl_run(credentials, config, {"apply", "--auto-approve"});
  CHECK(again.exit_code == 0);
  CHECK_THAT(again.out, Contains(applied_line("example.net", changes)));
  check_history(fake.txt_history("example.net"), "example.net");
  CHECK(fake.txt_now("example.net") == expected_state(planned, "example.net"));
}

TEST_CASE("a write refused for its credentials says to fix them, not that apply again converges",
          "[integration][apply][faults]") {
  CloudflareFake fake;
  seed(fake, "example.net");
  Credentials credentials;
  credentials.add(fake);
  TempDir work("spfctl-faults");
  const std::string config =
      work.write("spfctl.toml", cloudflare_provider(fake) + domain_block("example.net", "cf"));
  fake.inject(ApiFault::answer(403).on_writes(), 1);
  const ProcessResult failed = spfctl_run(credentials, config, {"apply", "--auto-approve"});
  INFO(failed.out << failed.err);
  CHECK(failed.exit_code == 1);
  CHECK(writes_of(fake) == 1);  // a refusal is not retried
  CHECK_THAT(failed.out, Contains("answered 403 forbidden"));
  CHECK_THAT(failed.out,
             Contains("the provider refused the credentials or their permissions: fix them as the "
                      "message says, then run apply again"));
  CHECK_THAT(failed.out, !Contains("converges"));
  CHECK(fake.txt_now("example.net") == old_state("example.net"));

  fake.inject(ApiFault::answer(403).on_writes(), 1);
  const ProcessResult as_json = spfctl_run(credentials, config, {"apply", "--auto-approve", "--json"});
  CHECK(as_json.exit_code == 1);
  const nlohmann::json report = nlohmann::json::parse(as_json.out);
  CHECK(report["domains"][0]["status"] == "failed");
  CHECK(report["domains"][0]["failure"] == "refused");
}

TEST_CASE("one domain failing does not stop the others", "[integration][apply][faults]") {
  BothApis apis;
  GoDaddyFake& godaddy = apis.godaddy;
  CloudflareFake& cloudflare = apis.cloudflare;
  const Credentials& credentials = apis.credentials;
  const std::string& config = apis.config;
  const Planned planned = plan_of(credentials, config);

  // Cloudflare refuses every write with a server error; GoDaddy works.
  cloudflare.inject(ApiFault::answer(502).on_writes(), 3);
  const ProcessResult applied = spfctl_run(credentials, config, {"apply", "--auto-approve"});
  CHECK(applied.exit_code == 1);
  CHECK(writes_of(cloudflare) == 3);
  CHECK_THAT(applied.out, Contains(applied_line("example.com", planned.at("example.com").size())));
  CHECK_THAT(applied.out, Contains("example.net  failed: cloudflare provider 'cf'") &&
                              Contains("answered 502 bad gateway"));
  CHECK_THAT(applied.out,
             Contains("(0 of " + std::to_string(planned.at("example.net").size()) + " changes applied)\n"));
  CHECK_THAT(applied.out, Contains("2 domains: 1 applied, 0 in sync, 1 failed"));

  check_history(godaddy.txt_history("example.com"), "example.com");
  CHECK(godaddy.txt_now("example.com") == expected_state(planned, "example.com"));
  CHECK(cloudflare.txt_history("example.net").empty());
  CHECK(cloudflare.txt_now("example.net") == old_state("example.net"));

  const ProcessResult again = spfctl_run(credentials, config, {"apply", "--auto-approve"});
  CHECK(again.exit_code == 0);
  CHECK_THAT(again.out, Contains("2 domains: 1 applied, 1 in sync, 0 failed"));
  check_history(cloudflare.txt_history("example.net"), "example.net");
  CHECK(cloudflare.txt_now("example.net") == expected_state(planned, "example.net"));
}

TEST_CASE("a saved plan that a run applied in part says which domains are done, and applies the rest",
          "[integration][apply][faults]") {
  BothApis apis;
  const std::string plan = (apis.work.dir / "plan.json").string();
  REQUIRE(spfctl_run(apis.credentials, apis.config, {"plan", "--out", plan}).exit_code == 0);
  const Planned planned = plan_of(apis.credentials, apis.config);

  apis.cloudflare.inject(ApiFault::answer(502).on_writes(), 3);
  const ProcessResult first = spfctl_run(apis.credentials, apis.config, {"apply", plan, "--auto-approve"});
  CHECK(first.exit_code == 1);
  CHECK_THAT(first.out, Contains("2 domains: 1 applied, 0 in sync, 1 failed"));

  // The same reviewed plan again: example.com is not stale, it is done.
  const ProcessResult second = spfctl_run(apis.credentials, apis.config, {"apply", plan, "--auto-approve"});
  CHECK(second.exit_code == 0);
  CHECK_THAT(second.out, Contains("example.com  already applied (by an earlier run of this plan)") &&
                             Contains(applied_line("example.net", planned.at("example.net").size())) &&
                             Contains("2 domains: 1 applied, 1 in sync, 0 failed"));
  CHECK(apis.cloudflare.txt_now("example.net") == expected_state(planned, "example.net"));
}

namespace {

// Six zones at one Cloudflare account, written one at a time (write_concurrency = 1).
struct SixZones {
  CloudflareFake fake;
  Credentials credentials;
  TempDir work{"spfctl-faults"};
  std::string config;
  std::vector<std::string> domains;

  SixZones() {
    std::string text = cloudflare_provider(fake, "cf", "write_concurrency = 1");
    for (int i = 1; i <= 6; ++i) {
      const std::string domain = "example" + std::to_string(i) + ".net";
      seed(fake, domain);
      domains.push_back(domain);
      text += domain_block(domain, "cf", 3);
    }
    credentials.add(fake);
    config = work.write("spfctl.toml", text);
  }
  std::size_t changed() const {
    std::size_t count = 0;
    for (const std::string& domain : domains) count += !fake.txt_history(domain).empty();
    return count;
  }
};

}  // namespace

TEST_CASE("an interrupted apply finishes the write in flight, starts no other, reports, exits 130",
          "[integration][apply][faults]") {
  SixZones six;
  std::atomic<pid_t> child{0};
  std::atomic<bool> signalled{false};
  six.fake.on_request([&](const httplib::Request& req) {
    if (req.method == "GET" || signalled.exchange(true)) return;
    while (child.load() == 0) std::this_thread::yield();
    kill(child.load(), SIGINT);  // the write goes on: it was sent
  });
  const ProcessResult interrupted =
      spfctl_run(six.credentials, six.config, {"apply", "--auto-approve"}, &child);
  six.fake.on_request({});
  CHECK(interrupted.exit_code == 130);
  CHECK_THAT(interrupted.err, Contains("interrupted: finishing the writes in flight and starting no more"));
  CHECK_THAT(interrupted.out,
             Contains("example1.net  applied 1 change, verified by provider") &&
                 Contains("example2.net  not applied: interrupted before it started") &&
                 Contains("6 domains: 1 applied, 0 in sync, 0 failed, 5 not started (interrupted)") &&
                 Contains("run apply again to finish"));
  CHECK(six.changed() == 1);

  const ProcessResult again = spfctl_run(six.credentials, six.config, {"apply", "--auto-approve"});
  CHECK(again.exit_code == 0);
  CHECK_THAT(again.out, Contains("6 domains: 5 applied, 1 in sync, 0 failed"));
  CHECK(six.changed() == 6);
}

TEST_CASE("a second interrupt ends apply at once, without waiting for the write in flight",
          "[integration][apply][faults]") {
  SixZones six;
  six.fake.inject(ApiFault::slow(3s).on_writes());  // the first write takes 3 s to be carried out
  std::atomic<pid_t> child{0};
  std::atomic<bool> signalled{false};
  six.fake.on_request([&](const httplib::Request& req) {
    if (req.method == "GET" || signalled.exchange(true)) return;
    while (child.load() == 0) std::this_thread::yield();
    kill(child.load(), SIGINT);
    std::this_thread::sleep_for(100ms);
    kill(child.load(), SIGTERM);
  });
  const ProcessResult stopped = spfctl_run(six.credentials, six.config, {"apply", "--auto-approve"}, &child);
  // Gone before the fake carried out the write it was waiting for.
  const std::size_t changed_when_stopped = six.changed();
  six.fake.on_request({});
  CHECK(stopped.exit_code == 130);
  CHECK(changed_when_stopped == 0);
  CHECK_THAT(stopped.out, !Contains("applied"));
}
