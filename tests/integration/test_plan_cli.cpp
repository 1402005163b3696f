// spfctl plan end to end: the real binary on a copy of the bundled example, offline (--zone).
#include <sys/wait.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <regex>
#include <sstream>
#include <string>

#include "config/config.hpp"
#include "plan/plan_file.hpp"
#include "providers/zonefile.hpp"

namespace fs = std::filesystem;
using nlohmann::json;

namespace {

const fs::path k_source = SPFCTL_SOURCE_DIR;
const std::string k_senders = (k_source / "examples" / "dns" / "senders.zone").string();

std::string read(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

void write(const fs::path& path, const std::string& text) {
  std::ofstream out(path, std::ios::binary);
  out << text;
}

struct Result {
  int exit_code = -1;
  std::string out;
  std::string err;
};

// Runs spfctl with `args` (shell words) in `dir`.
Result run_spfctl(const fs::path& dir, const std::string& args) {
  const fs::path out = dir / ".stdout";
  const fs::path err = dir / ".stderr";
  const std::string command = "cd '" + dir.string() + "' && '" + std::string(SPFCTL_BINARY) + "' " + args +
                              " >'" + out.string() + "' 2>'" + err.string() + "'";
  const int status = std::system(command.c_str());
  Result result;
  result.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  result.out = read(out);
  result.err = read(err);
  fs::remove(out);
  fs::remove(err);
  return result;
}

// A copy of the example: its configuration and the zones its provider publishes to.
struct ExampleCopy {
  fs::path dir;
  ExampleCopy() : dir(fs::temp_directory_path() / ("spfctl-plan-cli-" + std::to_string(getpid()))) {
    fs::remove_all(dir);
    fs::create_directories(dir / "examples");
    fs::copy_file(k_source / "config.example.toml", dir / "spfctl.toml");
    fs::copy(k_source / "examples" / "zones", dir / "examples" / "zones");
  }
  ~ExampleCopy() { fs::remove_all(dir); }
  std::string zone(const std::string& name) const {
    return read(dir / "examples" / "zones" / (name + ".zone"));
  }
};

bool has_line(const std::string& text, const std::string& line) {
  std::istringstream in(text);
  for (std::string l; std::getline(in, l);)
    if (l == line) return true;
  return false;
}

bool search(const std::string& text, const std::string& pattern) {
  return std::regex_search(text, std::regex(pattern));
}

}  // namespace

TEST_CASE("plan shows the example's changes and exits 2 with --detailed-exitcode", "[integration][plan]") {
  ExampleCopy example;
  const std::string shop_before = example.zone("example-shop.com");
  const Result result = run_spfctl(example.dir, "plan --zone '" + k_senders + "' --detailed-exitcode");
  INFO(result.out << result.err);
  CHECK(result.exit_code == 2);
  const std::string& out = result.out;
  CHECK(has_line(out, "example-shop.com  1 change  (zone example-shop.com at local-zones)"));
  CHECK(has_line(out, "  ~ example-shop.com TXT"));
  CHECK(has_line(
      out,
      "      - v=spf1 include:_spf.perfora.net include:_spf.kundenserver.de include:secureserver.net ~all"));
  CHECK(has_line(out,
                 "      + v=spf1 ip4:198.51.100.0/28 ip6:2001:db8:a9e::/48 include:_spf.perfora.net "
                 "include:_spf.kundenserver.de include:secureserver.net include:servers.mcsv.net -all"));
  // example-agency.net: over the limit as published, so some includes are flattened into addresses and
  // what does not fit the 512-byte answer goes into a chained record, created before the apex changes.
  CHECK(
      search(out,
             "\\n  \\+ _spf1\\.example-agency\\.net TXT  ttl 1800\\n[^\\n]*\\n  ~ example-agency\\.net TXT  "
             "ttl 3600 → 1800\\n"));
  CHECK(search(out,
               "\\n      - v=spf1 mx include:_spf\\.google\\.com include:spf\\.protection\\.outlook\\.com "));
  CHECK(search(out,
               "\\n  lookups [1-8]/8 \\(13 with every include kept\\), void lookups 0/2, proved equivalent"));
  CHECK(search(out, "\\n  flattened include:[a-z.]+"));
  // A subdomain whose records live in its parent's zone.
  CHECK(has_line(out, "news.example-agency.net  1 change  (zone example-agency.net at local-zones)"));
  CHECK(has_line(out, "  + news.example-agency.net TXT  ttl 3600"));
  CHECK(has_line(out, "  + example-shop.net TXT  ttl 3600"));
  CHECK(has_line(out, "      + v=spf1 -all"));
  CHECK(has_line(out, "4 domains: 0 in sync, 4 with changes, 0 in error"));
  CHECK(result.err.empty());
  CHECK(example.zone("example-shop.com") == shop_before);  // plan publishes nothing

  CHECK(run_spfctl(example.dir, "plan --zone '" + k_senders + "'").exit_code == 0);
}

TEST_CASE("plan --json prints the plan in the documented shape", "[integration][plan]") {
  ExampleCopy example;
  const Result result = run_spfctl(example.dir, "--json plan --zone '" + k_senders + "'");
  INFO(result.out << result.err);
  REQUIRE(result.exit_code == 0);
  const json plan = json::parse(result.out);
  CHECK(plan["format"] == "spfctl-plan/1");
  CHECK(plan["config_sha256"].get<std::string>().size() == 64);
  CHECK(search(plan["created"].get<std::string>(), "^\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\dZ$"));
  REQUIRE(plan["domains"].size() == 4);
  std::map<std::string, json> domains;
  for (const json& domain : plan["domains"]) domains[domain["domain"]] = domain;

  const json& shop = domains.at("example-shop.com");
  CHECK(shop["provider"] == "local-zones");
  CHECK(shop["zone"] == "example-shop.com");
  CHECK(shop["status"] == "changes");
  CHECK(shop["equivalent"] == true);
  CHECK(shop["lookups"] == 6);
  CHECK(shop["void_lookups"] == 0);
  REQUIRE(shop["changes"].size() == 1);
  const json& change = shop["changes"][0];
  CHECK(change["action"] == "update");
  CHECK(change["name"] == "example-shop.com");
  CHECK(change["type"] == "TXT");
  CHECK(change["ttl"] == 3600);
  CHECK(change["before"] ==
        "v=spf1 include:_spf.perfora.net include:_spf.kundenserver.de include:secureserver.net ~all");
  CHECK(change["after"].get<std::string>().ends_with("include:servers.mcsv.net -all"));
  CHECK(change["others"] ==
        json::array({json::array({"google-site-verification=3kq1dI4xN3W0vOfPzT0bq8bm3e0fJt7Zbq9W2aJmX0E"})}));

  const json& agency = domains.at("example-agency.net");
  CHECK(agency["status"] == "changes");
  CHECK(agency["lookups"].get<int>() <= 8);
  CHECK(agency["lookups_unflattened"] == 13);
  CHECK_FALSE(agency["flattened"].empty());
  REQUIRE(agency["changes"].size() >= 2);
  CHECK(agency["changes"][0]["action"] == "create");
  CHECK(agency["changes"][0]["name"] == "_spf1.example-agency.net");
  CHECK(agency["changes"].back()["name"] == "example-agency.net");
  CHECK(agency["changes"].back()["others"] == json::array({json::array({"MS=ms48223017"})}));

  CHECK(domains.at("example-shop.net")["changes"][0]["after"] == "v=spf1 -all");
}

TEST_CASE("plan --out writes a plan file that reads back, and applying it leaves nothing to do",
          "[integration][plan]") {
  ExampleCopy example;
  const Result result = run_spfctl(example.dir, "plan --zone '" + k_senders + "' --out plan.json");
  INFO(result.out << result.err);
  REQUIRE(result.exit_code == 0);
  CHECK(has_line(result.out, "plan written to plan.json"));
  const spfctl::plan::Plan plan = spfctl::plan::read_plan_file(example.dir / "plan.json");
  const auto config = spfctl::config::load_config(example.dir / "spfctl.toml");
  CHECK(plan.config_sha256 == spfctl::plan::sha256_hex(config.canonical_bytes));
  REQUIRE(plan.domains.size() == 4);

  // What apply will do with it: each domain's changes, in order, through its provider.
  spfctl::providers::ZoneFileProvider provider(example.dir / "examples" / "zones");
  for (const auto& domain : plan.domains) provider.apply(domain.zone, domain.changes);
  const std::string shop = example.zone("example-shop.com");
  CHECK(shop.find("; Hand-written years ago: IONOS and GoDaddy, Mailchimp forgotten, and only ~all.\n") !=
        std::string::npos);
  CHECK(shop.find("2026110101 ; serial") == std::string::npos);

  const Result again = run_spfctl(example.dir, "plan --zone '" + k_senders + "' --detailed-exitcode");
  INFO(again.out << again.err);
  CHECK(again.exit_code == 0);
  CHECK(has_line(again.out, "4 domains: 4 in sync, 0 with changes, 0 in error"));
}

TEST_CASE("plan reports configuration errors with their place and exits 1", "[integration][plan]") {
  ExampleCopy example;
  write(example.dir / "bad.toml",
        "[defaults]\n"
        "policy = \"pass\"\n"
        "\n"
        "[[domain]]\n"
        "name = \"example.com\"\n"
        "senders = [\"mailchimpp\"]\n");
  const Result result = run_spfctl(example.dir, "plan -c bad.toml --zone '" + k_senders + "'");
  CHECK(result.exit_code == 1);
  CHECK(result.out.empty());
  CHECK(search(result.err, "^spfctl: error: 2 errors in the configuration:\\n"));
  CHECK(search(result.err, "\\nbad\\.toml:2:10: [^\\n]*pass"));
  CHECK(search(result.err, "\\nbad\\.toml:6:12: [^\\n]*'mailchimp'"));
}

TEST_CASE("plan goes on past a domain in error, and exits 1 at the end", "[integration][plan]") {
  ExampleCopy example;
  fs::remove(example.dir / "examples" / "zones" / "example-shop.net.zone");
  const Result result = run_spfctl(example.dir, "plan --zone '" + k_senders + "' --detailed-exitcode");
  INFO(result.out << result.err);
  CHECK(result.exit_code == 1);
  CHECK(has_line(result.out, "example-shop.net  error"));
  CHECK(search(result.out,
               "\\n  error: no zone file for 'example-shop\\.net' in '[^']*examples/zones' \\(add "));
  CHECK(has_line(result.out, "4 domains: 0 in sync, 3 with changes, 1 in error"));
  CHECK(has_line(result.out, "  ~ example-shop.com TXT"));
}

TEST_CASE("plan --domain plans only the domains named, and rejects unknown ones", "[integration][plan]") {
  ExampleCopy example;
  const Result one = run_spfctl(example.dir, "plan --zone '" + k_senders + "' --domain EXAMPLE-SHOP.COM");
  CHECK(one.exit_code == 0);
  CHECK(has_line(one.out, "1 domain: 0 in sync, 1 with changes, 0 in error"));
  // No other domain's block (a sender's description may still name another domain).
  CHECK(one.out.find("\nexample-agency.net  ") == std::string::npos);
  CHECK(one.out.find("example-shop.com  1 change") == 0);
  CHECK(has_line(one.out, "  sender  mailchimp: Mailchimp marketing email"));

  const Result typo = run_spfctl(example.dir, "plan --zone '" + k_senders + "' --domain example-shop.nte");
  CHECK(typo.exit_code == 1);
  CHECK(typo.err ==
        "spfctl: error: domain 'example-shop.nte' is not configured in spfctl.toml; did you mean "
        "'example-shop.net'? (--domain takes the name of a [[domain]])\n");
}

TEST_CASE("plan -v reports the DNS questions sent and each domain's time", "[integration][plan]") {
  ExampleCopy example;
  const Result result = run_spfctl(example.dir, "plan -v -q --zone '" + k_senders + "'");
  INFO(result.err);
  CHECK(result.exit_code == 0);
  CHECK(search(result.err, "\\nspfctl: [1-9][0-9]* DNS questions sent \\(answered from zone files\\); "));
  CHECK(search(result.err, "(^|\\n)spfctl: example-agency\\.net: provider read [0-9.]+ s, planned "));
}

TEST_CASE("providers lists the zonefile type", "[integration][plan]") {
  ExampleCopy example;
  const Result text = run_spfctl(example.dir, "providers");
  CHECK(text.exit_code == 0);
  CHECK(text.out.starts_with("zonefile  "));
  const Result as_json = run_spfctl(example.dir, "providers --json");
  CHECK(as_json.exit_code == 0);
  const json table = json::parse(as_json.out);
  CHECK(table["providers"][0]["type"] == "zonefile");
  CHECK(table["providers"][0]["capabilities"]["max_string_bytes"] == 255);
}

TEST_CASE("plan -q leaves out figures and notes, never a warning", "[integration][plan]") {
  ExampleCopy example;
  // The published record authorises an address the configuration no longer lists.
  std::string zone = example.zone("example-shop.com");
  const std::string old_spf = "\"v=spf1 include:_spf.perfora.net";
  REQUIRE(zone.find(old_spf) != std::string::npos);
  zone.replace(zone.find(old_spf), old_spf.size(), "\"v=spf1 ip4:192.0.2.99 include:_spf.perfora.net");
  write(example.dir / "examples" / "zones" / "example-shop.com.zone", zone);

  const Result full = run_spfctl(example.dir, "plan --zone '" + k_senders + "'");
  const Result quiet = run_spfctl(example.dir, "plan -q --zone '" + k_senders + "'");
  INFO(full.out << quiet.out << quiet.err);
  CHECK(quiet.exit_code == 0);
  const std::string warning = "stops authorising 192.0.2.99 (ip4:192.0.2.99)";
  CHECK_THAT(full.out, Catch::Contains(warning) && Catch::Contains("lookups ") && Catch::Contains("note:"));
  CHECK_THAT(quiet.out, Catch::Contains("warning:") && Catch::Contains(warning) &&
                            Catch::Contains("apply refuses this without --force"));
  CHECK_THAT(quiet.out, !Catch::Contains("lookups ") && !Catch::Contains("note:"));
}

TEST_CASE("plan and apply refuse a configuration that manages no domain", "[integration][plan]") {
  ExampleCopy example;
  write(example.dir / "spfctl.toml", "# every client moved away\n[defaults]\npolicy = \"fail\"\n");
  for (const std::string command : {"plan", "apply --auto-approve"}) {
    const Result result = run_spfctl(example.dir, command + " --zone '" + k_senders + "'");
    INFO(command << ": " << result.out << result.err);
    CHECK(result.exit_code == 1);
    CHECK_THAT(result.err, Catch::Contains("spfctl.toml configures no domain, so there is nothing to plan"));
  }
  // Nor one whose include_files pattern has a typo: it would manage nothing it meant to.
  write(example.dir / "spfctl.toml", "include_files = [\"clients/*.tml\"]\n");
  const Result typo = run_spfctl(example.dir, "plan --zone '" + k_senders + "'");
  CHECK(typo.exit_code == 1);
  CHECK_THAT(typo.err, Catch::Contains("spfctl.toml:1:") &&
                           Catch::Contains("include_files pattern 'clients/*.tml' matches no file"));
}

TEST_CASE("with --json, an error is also a JSON object on stdout, exit code unchanged",
          "[integration][plan]") {
  ExampleCopy example;
  const Result missing = run_spfctl(example.dir, "plan --json -c no-such.toml");
  CHECK(missing.exit_code == 1);
  CHECK_THAT(missing.err, Catch::Contains("spfctl: error: cannot read configuration file 'no-such.toml'"));
  const json error = json::parse(missing.out);
  CHECK(error.at("exit_code") == 1);
  CHECK(error.at("error").at("kind") == "error");
  CHECK_THAT(error.at("error").at("message").get<std::string>(), Catch::Contains("no-such.toml"));

  const Result usage = run_spfctl(example.dir, "--json plan --outt x.json");
  CHECK(usage.exit_code == 1);
  CHECK(json::parse(usage.out).at("error").at("kind") == "usage");
  // Without --json, stdout stays empty.
  CHECK(run_spfctl(example.dir, "plan -c no-such.toml").out.empty());
}
