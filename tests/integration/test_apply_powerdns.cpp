// spfctl plan --out, then spfctl apply PLANFILE, end to end through the CLI against a real
// pdns_server: what it publishes answers over DNS, `spfctl eval` agrees with the policy, the next
// plan is in sync, and a plan made stale by a change in between is refused.
#include <httplib.h>

#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "pdns_server.hpp"
#include "tests/support/served_txt.hpp"
#include "tests/support/spfctl_process.hpp"
#include "tests/support/temp_dir.hpp"

namespace {

using json = nlohmann::json;
using spfctl::test_support::ProcessOptions;
using spfctl::test_support::ProcessResult;
using spfctl::testing::PdnsConfig;
using spfctl::testing::PdnsServer;
using spfctl::testing::served_txt;
using spfctl::testing::TempDir;

constexpr const char* k_key_env = "SPFCTL_TEST_PDNS_KEY";
const std::string k_verification = "google-site-verification=4nJ2mXq0";

// example.com publishes a small SPF record and a site verification; three senders publish theirs.
PdnsConfig apply_zones() {
  return PdnsConfig()
      .zone("example.com")
      .zone("sender-a.test")
      .zone("sender-b.test")
      .zone("sender-c.test")
      .record("example.com", "example.com", "TXT", 3600, "\"v=spf1 ip4:198.51.100.1 -all\"")
      .record("example.com", "example.com", "TXT", 3600, "\"" + k_verification + "\"")
      .record("sender-a.test", "sender-a.test", "TXT", 3600, "\"v=spf1 ip4:203.0.113.0/28 -all\"")
      .record("sender-b.test", "sender-b.test", "TXT", 3600,
              "\"v=spf1 ip4:203.0.113.64/27 ip6:2001:db8:b::/48 -all\"")
      .record("sender-c.test", "sender-c.test", "TXT", 3600, "\"v=spf1 ip4:192.0.2.128/25 -all\"");
}

// Forty single addresses that cannot be merged into blocks: with the senders they do not fit one
// 512-byte answer, so the plan needs a chained record. A budget of 2 lookups flattens one sender.
std::string config_text(const PdnsServer& pdns, const std::string& extra_ip4 = "") {
  std::string ip4 = "\"198.51.100.1\"";
  for (int i = 3; i < 80; i += 2) ip4 += ", \"198.51.100." + std::to_string(i) + "\"";
  if (!extra_ip4.empty()) ip4 += ", \"" + extra_ip4 + "\"";
  return "[providers.pdns]\n"
         "type = \"powerdns\"\n"
         "api_url = \"" +
         pdns.api_url() +
         "\"\n"
         "api_key_env = \"" +
         k_key_env +
         "\"\n"
         "dns_server = \"" +
         pdns.address() +
         "\"\n\n"
         "[[domain]]\n"
         "name = \"example.com\"\n"
         "provider = \"pdns\"\n"
         "include = [\"sender-a.test\", \"sender-b.test\", \"sender-c.test\"]\n"
         "ip4 = [" +
         ip4 +
         "]\n"
         "lookup_budget = 2\n"
         "ttl = 600\n";
}

ProcessResult spfctl_run(const PdnsServer& pdns, std::vector<std::string> args) {
  args.insert(args.begin(), {"--resolver", pdns.address()});
  ProcessOptions options;
  options.env = {{k_key_env, pdns.api_key()}};
  options.timeout = std::chrono::seconds(60);
  return spfctl::test_support::run_spfctl(args, options);
}

std::vector<std::string> spf_only(const std::vector<std::string>& values) {
  std::vector<std::string> out;
  for (const std::string& value : values)
    if (value.starts_with("v=spf1")) out.push_back(value);
  return out;
}

std::string eval_result(const PdnsServer& pdns, const std::string& ip) {
  const ProcessResult result = spfctl_run(pdns, {"eval", "-q", "--ip", ip, "example.com"});
  INFO(result.err);
  REQUIRE(result.exit_code == 0);
  return result.out.substr(0, result.out.find('\n'));
}

}  // namespace

TEST_CASE("plan --out then apply PLANFILE publishes through pdns_server what the plan shows",
          "[integration][apply][powerdns]") {
  PdnsServer pdns(apply_zones());
  TempDir work("spfctl-apply");
  const std::string config = work.write("spfctl.toml", config_text(pdns));
  const std::string plan_path = (work.dir / "plan.json").string();

  const ProcessResult planned = spfctl_run(pdns, {"plan", "-c", config, "--out", plan_path});
  INFO(planned.out << planned.err);
  REQUIRE(planned.exit_code == 0);
  const json plan = json::parse(std::ifstream(plan_path));
  const json& domain = plan["domains"][0];
  REQUIRE(domain["status"] == "changes");
  REQUIRE(domain["equivalent"] == true);
  REQUIRE(domain["flattened"].size() >= 1);
  std::map<std::string, std::string> after;  // name → planned SPF value
  for (const json& change : domain["changes"])
    if (change.contains("after")) after[change["name"]] = change["after"];
  REQUIRE(after.contains("example.com"));
  REQUIRE(after.contains("_spf1.example.com"));

  const ProcessResult applied = spfctl_run(pdns, {"apply", "-c", config, plan_path, "--auto-approve"});
  INFO(applied.out << applied.err);
  REQUIRE(applied.exit_code == 0);
  CHECK_THAT(applied.out, Catch::Contains("example.com  applied " + std::to_string(domain["changes"].size()) +
                                          " changes, verified by provider and DNS at " + pdns.address()));
  CHECK_THAT(applied.out, Catch::Contains("1 domain: 1 applied, 0 in sync, 0 failed"));

  // What pdns_server answers is what the plan shows; the site verification is untouched.
  const std::vector<std::string> apex = served_txt(pdns.address(), "example.com");
  CHECK(spf_only(apex) == std::vector<std::string>{after["example.com"]});
  CHECK(std::count(apex.begin(), apex.end(), k_verification) == 1);
  CHECK(spf_only(served_txt(pdns.address(), "_spf1.example.com")) ==
        std::vector<std::string>{after["_spf1.example.com"]});

  // A receiver evaluating the published records gives every configured sender a pass, and
  // nothing else.
  CHECK(eval_result(pdns, "198.51.100.1") == "pass");
  CHECK(eval_result(pdns, "198.51.100.79") == "pass");
  CHECK(eval_result(pdns, "198.51.100.2") == "fail");
  CHECK(eval_result(pdns, "203.0.113.5") == "pass");
  CHECK(eval_result(pdns, "203.0.113.70") == "pass");
  CHECK(eval_result(pdns, "2001:db8:b::25") == "pass");
  CHECK(eval_result(pdns, "192.0.2.200") == "pass");
  CHECK(eval_result(pdns, "192.0.2.1") == "fail");
  CHECK(eval_result(pdns, "2001:db8:c::1") == "fail");

  const ProcessResult again = spfctl_run(pdns, {"plan", "-c", config, "--detailed-exitcode"});
  INFO(again.out << again.err);
  CHECK(again.exit_code == 0);
  CHECK_THAT(again.out, Catch::Contains("1 domain: 1 in sync, 0 with changes, 0 in error"));

  // Applying the same plan again finds it done: nothing is written, nothing is called stale.
  const ProcessResult replay = spfctl_run(pdns, {"apply", "-c", config, plan_path, "--auto-approve"});
  INFO(replay.out << replay.err);
  CHECK(replay.exit_code == 0);
  CHECK_THAT(replay.out, Catch::Contains("example.com  already applied (by an earlier run of this plan)") &&
                             Catch::Contains("1 domain: 0 applied, 1 in sync, 0 failed"));
}

TEST_CASE("apply PLANFILE refuses a plan that DNS or the configuration moved away from",
          "[integration][apply][powerdns]") {
  PdnsServer pdns(apply_zones());
  TempDir work("spfctl-apply");
  const std::string config = work.write("spfctl.toml", config_text(pdns));
  const std::string plan_path = (work.dir / "plan.json").string();
  REQUIRE(spfctl_run(pdns, {"plan", "-c", config, "--out", plan_path}).exit_code == 0);

  SECTION("a record changed at the provider between plan and apply") {
    httplib::Client api("127.0.0.1", pdns.web_port());
    const json edit = {
        {"rrsets",
         {{{"name", "example.com."},
           {"type", "TXT"},
           {"ttl", 3600},
           {"changetype", "REPLACE"},
           {"records",
            {{{"content", "\"v=spf1 ip4:198.51.100.1 include:sender-d.test -all\""}, {"disabled", false}},
             {{"content", "\"" + k_verification + "\""}, {"disabled", false}}}}}}}};
    const auto edited = api.Patch("/api/v1/servers/localhost/zones/example.com.",
                                  {{"X-API-Key", pdns.api_key()}}, edit.dump(), "application/json");
    REQUIRE(edited);
    REQUIRE(edited->status == 204);

    const ProcessResult refused = spfctl_run(pdns, {"apply", "-c", config, plan_path, "--auto-approve"});
    CHECK(refused.exit_code == 1);
    CHECK_THAT(refused.err,
               Catch::Contains("is stale") && Catch::Contains("Nothing was applied") &&
                   Catch::Contains("example.com: the plan was made against 'v=spf1 ip4:198.51.100.1 -all'") &&
                   Catch::Contains("published now: 'v=spf1 ip4:198.51.100.1 include:sender-d.test -all'"));
    // Nothing was written: the edit stands and no chained record appeared.
    CHECK(spf_only(served_txt(pdns.address(), "example.com")) ==
          std::vector<std::string>{"v=spf1 ip4:198.51.100.1 include:sender-d.test -all"});
    CHECK(served_txt(pdns.address(), "_spf1.example.com").empty());
  }

  SECTION("the configuration changed between plan and apply") {
    work.write("spfctl.toml", config_text(pdns, "198.51.100.200"));
    const ProcessResult refused = spfctl_run(pdns, {"apply", "-c", config, plan_path, "--auto-approve"});
    CHECK(refused.exit_code == 1);
    CHECK_THAT(refused.err, Catch::Contains("was made from another configuration"));
    CHECK(spf_only(served_txt(pdns.address(), "example.com")) ==
          std::vector<std::string>{"v=spf1 ip4:198.51.100.1 -all"});
  }

  SECTION("the API key is never printed, whatever happens") {
    // Planning afresh needs a confirmation there is no terminal for: refused.
    const ProcessResult refused = spfctl_run(pdns, {"apply", "-v", "-c", config});
    CHECK(refused.exit_code == 1);
    CHECK_THAT(refused.err, Catch::Contains("no terminal to confirm on"));
    CHECK_THAT(refused.out + refused.err, !Catch::Contains(pdns.api_key()));
    // The saved plan is the approval: applied, verbosely.
    const ProcessResult applied = spfctl_run(pdns, {"apply", "-v", "-c", config, plan_path});
    CHECK(applied.exit_code == 0);
    CHECK_THAT(applied.out + applied.err, !Catch::Contains(pdns.api_key()));
  }
}

TEST_CASE("apply over 8 zones of a sqlite3-backed pdns_server succeeds in the first run, ten runs running",
          "[integration][apply][powerdns]") {
  // pdns_server with the gsqlite3 backend (the documented small set-up) takes one writer at a time;
  // concurrent PATCHes used to fail with 500 "database is locked".
  PdnsConfig zones;
  for (int i = 1; i <= 8; ++i) {
    const std::string zone = "zone" + std::to_string(i) + ".test";
    zones.zone(zone).record(zone, zone, "TXT", 3600, "\"v=spf1 ip4:198.51.100.1 -all\"");
  }
  PdnsServer pdns(zones);
  TempDir work("spfctl-apply");
  const std::string provider = "[providers.pdns]\ntype = \"powerdns\"\napi_url = \"" + pdns.api_url() +
                               "\"\napi_key_env = \"" + k_key_env + "\"\ndns_server = \"" + pdns.address() +
                               "\"\n\n";
  std::string addresses = "\"198.51.100.1\"";
  for (int run = 1; run <= 10; ++run) {
    // Each run authorises one more address at every domain: eight zones to write, every time.
    addresses += ", \"198.51.100." + std::to_string(10 + run) + "\"";
    std::string config = provider;
    for (int i = 1; i <= 8; ++i)
      config += "[[domain]]\nname = \"zone" + std::to_string(i) + ".test\"\nprovider = \"pdns\"\nip4 = [" +
                addresses + "]\n\n";
    const std::string path = work.write("spfctl.toml", config);
    const ProcessResult applied = spfctl_run(pdns, {"apply", "-c", path, "--auto-approve"});
    INFO("run " << run << "\n" << applied.out << applied.err << "\npdns log:\n" << pdns.log());
    REQUIRE(applied.exit_code == 0);
    CHECK_THAT(applied.out, Catch::Contains("8 domains: 8 applied, 0 in sync, 0 failed"));
  }
  // And what pdns serves is what the configuration says now.
  const ProcessResult again =
      spfctl_run(pdns, {"plan", "-c", (work.dir / "spfctl.toml").string(), "--detailed-exitcode"});
  CHECK(again.exit_code == 0);
}
