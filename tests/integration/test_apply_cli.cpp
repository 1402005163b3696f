// spfctl apply through the CLI on copies of the bundled example, published by the zone-file
// provider: confirmation, the safety checks and --force, --max-deletes, saved plans, --json, and a
// second run with nothing left to do.
#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <regex>
#include <sstream>
#include <string>
#include <vector>

#include "tests/support/spfctl_process.hpp"
#include "tests/support/temp_dir.hpp"

namespace {

namespace fs = std::filesystem;
using Catch::Contains;
using spfctl::test_support::ProcessOptions;
using spfctl::test_support::ProcessResult;

const fs::path k_source = SPFCTL_SOURCE_DIR;
const std::string k_senders = (k_source / "examples" / "dns" / "senders.zone").string();

std::string read(const fs::path& path) {
  std::ifstream in(path);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

// The example's configuration and zone files in a temporary directory.
struct Example {
  spfctl::testing::TempDir temp{"spfctl-apply-cli"};
  const fs::path& dir = temp.dir;
  Example() {
    fs::copy_file(k_source / "config.example.toml", dir / "config.example.toml");
    fs::create_directories(dir / "examples");
    fs::copy(k_source / "examples" / "zones", dir / "examples" / "zones", fs::copy_options::recursive);
  }
  std::string config() const { return (dir / "config.example.toml").string(); }
  fs::path zone_path(const std::string& zone) const { return dir / "examples" / "zones" / (zone + ".zone"); }
  std::string zone(const std::string& zone) const { return read(zone_path(zone)); }
  void write_zone(const std::string& zone, const std::string& text) const {
    std::ofstream(zone_path(zone)) << text;
  }
  std::string all_zones() const {
    return zone("example-shop.com") + zone("example-agency.net") + zone("example-shop.net");
  }

  // DNS answers from the senders' snapshot and from the example's zone files as they are then, as
  // if a server loaded them.
  ProcessResult run(std::vector<std::string> args, ProcessOptions options = {}) const {
    args.insert(args.begin(), {"-c", config(), "--zone", k_senders});
    for (const char* zone : {"example-shop.com", "example-agency.net", "example-shop.net"})
      args.insert(args.begin() + 4, {"--zone", zone_path(zone).string()});
    return spfctl::test_support::run_spfctl(args, options);
  }
};

std::string replaced(std::string text, const std::string& from, const std::string& to) {
  const std::size_t at = text.find(from);
  REQUIRE(at != std::string::npos);
  return text.replace(at, from.size(), to);
}

// The lines of `text` that are not SPF records, SOA serials or the records spfctl writes.
std::vector<std::string> untouched_lines(const std::string& text) {
  std::vector<std::string> lines;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);)
    if (line.find("v=spf1") == std::string::npos && line.find("serial") == std::string::npos &&
        !std::regex_search(line, std::regex("^\\s+\\d{10} ")) &&
        !line.starts_with("                       \""))
      lines.push_back(line);
  return lines;
}

}  // namespace

TEST_CASE("apply refuses to drop a published sender, applies with --force, then has nothing to do",
          "[integration][apply][cli]") {
  const Example example;
  const std::string before = example.all_zones();
  // The agency's published 'mx' passes its mail host, 203.0.113.25 and 2001:db8:25::25; the
  // configuration covers the IPv4 address with its ip4 range, and without its ip6 range no longer
  // the IPv6 one.
  const std::string config = replaced(read(example.config()), "ip6 = [\"2001:db8:25::/64\"]\n", "");
  std::ofstream(example.config()) << config;

  const ProcessResult refused = example.run({"apply", "--auto-approve"});
  CHECK(refused.exit_code == 1);
  CHECK_THAT(refused.err,
             Contains("refusing to apply without --force; nothing was applied") &&
                 Contains("example-agency.net: stops authorising 2001:db8:25::25 (mx), which the "
                          "published record authorises"));
  CHECK(example.all_zones() == before);

  const ProcessResult applied = example.run({"apply", "--auto-approve", "--force"});
  INFO(applied.out << applied.err);
  CHECK(applied.exit_code == 0);
  CHECK_THAT(applied.out, Contains("4 domains: 0 in sync, 4 with changes, 0 in error") &&
                              Contains("example-agency.net  applied 2 changes, verified by provider") &&
                              Contains("4 domains: 4 applied, 0 in sync, 0 failed"));

  // Only SPF records changed: every other line of every zone is as it was.
  CHECK(untouched_lines(example.all_zones()) == untouched_lines(before));
  const std::string agency = example.zone("example-agency.net");
  CHECK_THAT(agency, Contains("include:_spf1.example-agency.net") && Contains("_spf1   1800 IN TXT") &&
                         Contains("\"MS=ms48223017\"") && !Contains("v=spf1 mx "));

  const ProcessResult again = example.run({"apply", "--auto-approve"});
  CHECK(again.exit_code == 0);
  CHECK_THAT(again.out,
             Contains("Nothing to apply.") && Contains("4 domains: 0 applied, 4 in sync, 0 failed"));
  CHECK(example.run({"plan", "--detailed-exitcode"}).exit_code == 0);
}

TEST_CASE("apply asks on a terminal, and refuses without one unless --auto-approve",
          "[integration][apply][cli]") {
  const Example example;
  const std::string before = example.all_zones();

  SECTION("no terminal") {
    const ProcessResult refused = example.run({"apply", "--force"});
    CHECK(refused.exit_code == 1);
    CHECK_THAT(refused.err, Contains("no terminal to confirm on, so nothing was applied"));
    CHECK(example.all_zones() == before);
  }
  SECTION("an answer other than yes cancels") {
    ProcessOptions options;
    options.stdin_terminal = true;
    options.stdin_text = "y\n";
    const ProcessResult cancelled = example.run({"apply", "--force"}, options);
    CHECK(cancelled.exit_code == 1);
    CHECK_THAT(cancelled.err, Contains("Apply 5 changes to 4 domains? Only 'yes' is accepted:") &&
                                  Contains("apply cancelled; nothing was changed"));
    CHECK(example.all_zones() == before);
  }
  SECTION("yes applies") {
    ProcessOptions options;
    options.stdin_terminal = true;
    options.stdin_text = "yes\n";
    const ProcessResult applied = example.run({"apply", "--force"}, options);
    INFO(applied.out << applied.err);
    CHECK(applied.exit_code == 0);
    CHECK_THAT(applied.out, Contains("4 domains: 4 applied, 0 in sync, 0 failed"));
    CHECK(example.all_zones() != before);
  }
}

TEST_CASE("apply refuses a weaker 'all' and more deletes than --max-deletes, listing each",
          "[integration][apply][cli]") {
  const Example example;
  // example-shop.com published with -all and two chained records the new plan no longer needs.
  example.write_zone(
      "example-shop.com",
      replaced(
          example.zone("example-shop.com"),
          "@       IN TXT  \"v=spf1 include:_spf.perfora.net include:_spf.kundenserver.de "
          "include:secureserver.net "
          "~all\"",
          "@       IN TXT  \"v=spf1 include:_spf1.example-shop.com include:_spf2.example-shop.com -all\"\n"
          "_spf1   IN TXT  \"v=spf1 include:_spf.perfora.net include:_spf.kundenserver.de ?all\"\n"
          "_spf2   IN TXT  \"v=spf1 include:secureserver.net ?all\""));
  std::string config = read(example.config());
  std::ofstream(example.config()) << replaced(
      config,
      "senders = [\"ionos-legacy\", \"godaddy\", \"mailchimp\"]\npolicy = "
      "\"fail\"",
      "senders = [\"ionos-legacy\", \"godaddy\", \"mailchimp\"]\npolicy = "
      "\"softfail\"");
  const std::string before = example.all_zones();

  const ProcessResult refused =
      example.run({"apply", "--auto-approve", "--domain", "example-shop.com", "--max-deletes", "1"});
  CHECK(refused.exit_code == 1);
  CHECK_THAT(refused.err, Contains("example-shop.com: weakens its final 'all' from -all to ~all") &&
                              Contains("the plan deletes 2 records, more than --max-deletes 1"));
  CHECK_THAT(refused.err, !Contains("stops authorising"));
  CHECK(example.all_zones() == before);

  // --force-domain lifts the checks of the domain it names, and only those.
  const ProcessResult other = example.run({"apply", "--auto-approve", "--domain", "example-shop.com",
                                           "--max-deletes", "1", "--force-domain", "example-shop.net"});
  CHECK(other.exit_code == 1);
  CHECK_THAT(other.err, Contains("--force-domain 'example-shop.net' is not a domain of this run"));
  const ProcessResult still =
      example.run({"apply", "--auto-approve", "--max-deletes", "1", "--force-domain", "example-shop.net"});
  CHECK(still.exit_code == 1);
  CHECK_THAT(still.err, Contains("example-shop.com: weakens its final 'all'") &&
                            Contains("or --force-domain D for each domain whose changes are intended"));
  CHECK(example.all_zones() == before);

  const ProcessResult applied = example.run({"apply", "--auto-approve", "--domain", "example-shop.com",
                                             "--max-deletes", "1", "--force-domain", "EXAMPLE-shop.com"});
  INFO(applied.out << applied.err);
  CHECK(applied.exit_code == 0);
  CHECK_THAT(applied.out, Contains("example-shop.com  applied 3 changes"));
  const std::string shop = example.zone("example-shop.com");
  CHECK_THAT(shop, !Contains("_spf1") && !Contains("_spf2") && Contains("~all\""));
}

TEST_CASE("apply PLANFILE --domain applies only that domain of the plan, and --json reports it",
          "[integration][apply][cli]") {
  const Example example;
  const std::string plan = (example.dir / "plan.json").string();
  REQUIRE(example.run({"plan", "--out", plan}).exit_code == 0);
  const std::string agency = example.zone("example-agency.net");

  const ProcessResult applied =
      example.run({"--json", "apply", plan, "--domain", "EXAMPLE-SHOP.COM", "--auto-approve"});
  INFO(applied.out << applied.err);
  REQUIRE(applied.exit_code == 0);
  const nlohmann::json report = nlohmann::json::parse(applied.out);
  CHECK(report["format"] == "spfctl-apply/1");
  REQUIRE(report["domains"].size() == 1);
  const nlohmann::json& shop = report["domains"][0];
  CHECK(shop["domain"] == "example-shop.com");
  CHECK(shop["status"] == "applied");
  CHECK(shop["changes"] == 1);
  CHECK(shop["changes_applied"] == 1);
  CHECK(shop["verified"] == true);
  CHECK(shop["verified_by"] == "provider");
  CHECK(example.zone("example-agency.net") == agency);
  CHECK_THAT(example.zone("example-shop.com"), Contains("include:servers.mcsv.net -all"));

  const ProcessResult unknown =
      example.run({"apply", plan, "--domain", "example-shop.nte", "--auto-approve"});
  CHECK(unknown.exit_code == 1);
  CHECK_THAT(unknown.err, Contains("domain 'example-shop.nte' is not in the plan") &&
                              Contains("did you mean 'example-shop.net'?"));
}

TEST_CASE("docs/apply.md shows apply --help as the binary prints it", "[integration][apply][docs]") {
  const ProcessResult help = spfctl::test_support::run_spfctl({"apply", "--help"});
  CHECK(help.exit_code == 0);
  CHECK_THAT(read(k_source / "docs" / "apply.md"), Contains("```\n" + help.out + "```\n"));
}

TEST_CASE("apply PLANFILE applies the domains planned and reports the one in error as failed",
          "[integration][apply][cli]") {
  const Example example;
  std::ofstream(example.config(), std::ios::app)
      << "\n[[domain]]\nname = \"broken.example-shop.com\"\nzone = \"example-shop.com\"\n"
         "include = [\"no-spf-here.example-shop.com\"]\n";
  const std::string plan = (example.dir / "plan.json").string();
  const ProcessResult planned = example.run({"plan", "--out", plan});
  CHECK(planned.exit_code == 1);
  CHECK_THAT(planned.out, Contains("5 domains: 0 in sync, 4 with changes, 1 in error"));

  const ProcessResult applied = example.run({"apply", plan, "--auto-approve", "--force"});
  INFO(applied.out << applied.err);
  CHECK(applied.exit_code == 1);
  CHECK_THAT(applied.out, Contains("broken.example-shop.com  failed: not planned: ") &&
                              Contains("5 domains: 4 applied, 0 in sync, 1 failed") &&
                              Contains("run apply again once the cause is fixed"));
  CHECK_THAT(example.zone("example-shop.com"),
             Contains("include:servers.mcsv.net -all") && !Contains("broken"));
}

TEST_CASE("a saved plan is the approval: apply PLANFILE asks nothing, even without a terminal",
          "[integration][apply][cli]") {
  const Example example;
  const std::string before = example.all_zones();
  const std::string plan_file = (example.dir / "plan.json").string();
  const ProcessResult planned = example.run({"plan", "--out", plan_file});
  REQUIRE(planned.exit_code == 0);
  // No terminal, no --auto-approve: the plan file is applied (with --force for the example's
  // intended changes, as the other tests here).
  const ProcessResult applied = example.run({"apply", plan_file, "--force"});
  INFO(applied.out << applied.err);
  CHECK(applied.exit_code == 0);
  CHECK_THAT(applied.out, Contains("4 domains: 4 applied, 0 in sync, 0 failed"));
  CHECK_THAT(applied.err, !Contains("Only 'yes' is accepted"));
  CHECK(example.all_zones() != before);
}
