// What spfctl refuses to publish, end to end through the CLI: hostile include graphs, edited plan
// files, dropped and world-wide senders, other writers of zone files. Each case runs offline:
// DNS from master files (--zone), publishing through the zone-file provider into a temporary
// directory, and receivers' verdicts from `spfctl eval` over the zones as written.
#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <catch2/catch.hpp>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "tests/support/spfctl_process.hpp"
#include "tests/support/temp_dir.hpp"

namespace {

namespace fs = std::filesystem;
using Catch::Contains;
using spfctl::test_support::ProcessOptions;
using spfctl::test_support::ProcessResult;

std::string read(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

// A zone of SOA, NS and the given records (relative owners).
std::string zone_text(const std::string& origin, const std::string& records) {
  return "$ORIGIN " + origin + ".\n$TTL 3600\n@ SOA ns hostmaster 2026010100 3600 600 86400 300\n@ NS ns\n" +
         "ns A 192.0.2.53\n" + records;
}

// Records a0..a<levels-1> and b0..b<levels-1> under dag.test, each including both of the next
// level: 2^levels paths through 2 * levels + 2 records. The last level holds one address each.
std::string diamond_zone(int levels) {
  std::string records;
  for (int i = 0; i < levels; ++i)
    for (const char* p : {"a", "b"})
      records += p + std::to_string(i) + " TXT \"v=spf1 include:a" + std::to_string(i + 1) +
                 ".dag.test include:b" + std::to_string(i + 1) + ".dag.test -all\"\n";
  records += "a" + std::to_string(levels) + " TXT \"v=spf1 ip4:198.51.100.1 -all\"\n";
  records += "b" + std::to_string(levels) + " TXT \"v=spf1 ip4:198.51.100.2 -all\"\n";
  return zone_text("dag.test", records);
}

// A configuration, the zones the zone-file provider publishes (zones/), and the senders' DNS.
struct Workspace {
  spfctl::testing::TempDir temp{"spfctl-trust"};
  std::vector<std::string> dns_zones;

  Workspace() { fs::create_directories(temp.dir / "zones"); }

  void config(const std::string& text) const { temp.write("spfctl.toml", text); }
  void dns(const std::string& name, const std::string& text) {
    dns_zones.push_back(temp.write(name + ".dns.zone", text));
  }
  fs::path zone_path(const std::string& zone) const { return temp.dir / "zones" / (zone + ".zone"); }
  void published(const std::string& zone, const std::string& records) const {
    std::ofstream(zone_path(zone)) << zone_text(zone, records);
  }
  std::string zone(const std::string& zone) const { return read(zone_path(zone)); }

  std::vector<std::string> dns_args() const {
    std::vector<std::string> args;
    for (const std::string& z : dns_zones) args.insert(args.end(), {"--zone", z});
    return args;
  }
  ProcessResult run(std::vector<std::string> args, const ProcessOptions& options = {}) const {
    std::vector<std::string> all = {"-c", (temp.dir / "spfctl.toml").string()};
    const std::vector<std::string> dns = dns_args();
    all.insert(all.end(), dns.begin(), dns.end());
    all.insert(all.end(), args.begin(), args.end());
    return spfctl::test_support::run_spfctl(all, options);
  }
  // spfctl without a configuration, over the senders' DNS and `zone` as published now.
  ProcessResult over_dns(const std::string& zone, const std::vector<std::string>& args) const {
    std::vector<std::string> all = dns_args();
    all.insert(all.end(), {"--zone", zone_path(zone).string()});
    all.insert(all.end(), args.begin(), args.end());
    return spfctl::test_support::run_spfctl(all);
  }
  // What a receiver answers for `ip` sending as `domain`: the first word `spfctl eval` prints.
  std::string receiver(const std::string& domain, const std::string& zone, const std::string& ip) const {
    const ProcessResult result = over_dns(zone, {"eval", "--ip", ip, domain});
    INFO(result.out << result.err);
    return result.out.substr(0, result.out.find('\n'));
  }
};

std::size_t count_lines(const std::string& text) {
  return static_cast<std::size_t>(std::count(text.begin(), text.end(), '\n'));
}

// Every "lookups"-like number anywhere in a JSON document, for checking none wrapped.
void collect_counts(const nlohmann::json& json, std::vector<long long>& out) {
  if (json.is_object()) {
    for (const auto& [key, value] : json.items()) {
      if (value.is_number() && key.find("lookups") != std::string::npos)
        out.push_back(value.get<long long>());
      collect_counts(value, out);
    }
  } else if (json.is_array()) {
    for (const auto& item : json) collect_counts(item, out);
  }
}

}  // namespace

TEST_CASE("a 31-level diamond include graph is counted as receivers count it, flattened, and works",
          "[integration][trust][cli]") {
  Workspace w;
  w.dns("dag.test", diamond_zone(31));
  w.published("example.com", "@ TXT \"v=spf1 ip4:192.0.2.1 -all\"\n");
  w.config("[[domain]]\nname = \"example.com\"\ninclude = [\"a0.dag.test\"]\nip4 = [\"192.0.2.1\"]\n");

  const ProcessResult plan = w.run({"plan", "--json"});
  INFO(plan.out << plan.err);
  REQUIRE(plan.exit_code == 0);
  const nlohmann::json json = nlohmann::json::parse(plan.out);
  std::vector<long long> counts;
  collect_counts(json, counts);
  REQUIRE_FALSE(counts.empty());
  for (long long count : counts) CHECK((count >= 0 && count <= 1000000));
  const nlohmann::json& domain = json["domains"][0];
  CHECK(domain["status"] == "changes");
  CHECK(domain["lookups"].get<int>() <= 10);
  CHECK(domain["lookups_unflattened"].get<int>() > 10);
  CHECK(domain["flattened"] == nlohmann::json::array({"include:a0.dag.test"}));

  const ProcessResult text = w.run({"plan"});
  CHECK_THAT(text.out, Contains("(1000000+ with every include kept)") && !Contains("lookups -") &&
                           Contains("as written: 1000000+ DNS lookups"));

  const ProcessResult apply = w.run({"apply", "--auto-approve"});
  INFO(apply.out << apply.err);
  REQUIRE(apply.exit_code == 0);
  CHECK(w.receiver("example.com", "example.com", "192.0.2.1") == "pass");
  CHECK(w.receiver("example.com", "example.com", "198.51.100.2") == "pass");
  CHECK(w.receiver("example.com", "example.com", "203.0.113.9") == "fail");
}

TEST_CASE("flatten never shows a negative or wrapped count, 60 levels deep", "[integration][trust][cli]") {
  Workspace w;
  w.dns("dag.test", diamond_zone(60));
  const ProcessResult flatten = w.run({"flatten", "a0.dag.test"});
  INFO(flatten.out << flatten.err);
  CHECK(flatten.exit_code == 0);
  CHECK_THAT(flatten.out, Contains("lookups  1000000+ → 0 (budget 10)") &&
                              Contains("\"v=spf1 ip4:198.51.100.1 ip4:198.51.100.2 -all\""));
}

TEST_CASE("check shows each shared subtree of a 22-level diamond once, in text and JSON",
          "[integration][trust][cli]") {
  Workspace w;
  w.dns("dag.test", diamond_zone(22));

  const ProcessResult text = w.run({"check", "a0.dag.test"});
  INFO(text.err);
  CHECK(text.exit_code == 1);
  // One line per term of each distinct record, not one per path (2^22 of them).
  CHECK(count_lines(text.out) < 120);
  CHECK_THAT(text.out, Contains("1000000+/10 DNS lookups") &&
                           Contains("(repeats: shown under a1.dag.test)") &&
                           Contains("error: 1000000+ DNS lookups, over RFC 7208's limit of 10"));

  const ProcessResult json = w.run({"check", "--json", "a0.dag.test"});
  REQUIRE(json.exit_code == 1);
  CHECK(json.out.size() < 300000);  // pretty-printed: indentation grows with depth
  const nlohmann::json report = nlohmann::json::parse(json.out);
  const nlohmann::json& tree = report["domains"][0]["tree"];
  // b1 is met once and expanded; a2 below it was expanded under a1 first.
  CHECK_FALSE(tree["terms"][1]["target"].contains("repeat_of"));
  CHECK(tree["terms"][1]["target"]["terms"][0]["target"]["repeat_of"] == "a1.dag.test");
  std::vector<long long> counts;
  collect_counts(report, counts);
  for (long long count : counts) CHECK((count >= 0 && count <= 1000000));
}

namespace {

// Senders under s.test: a good one, one that lets the whole internet pass, a wide one.
std::string senders_zone() {
  return zone_text("s.test",
                   "good TXT \"v=spf1 ip4:198.51.100.0/24 -all\"\n"
                   "everyone TXT \"v=spf1 +all\"\n"
                   "wide TXT \"v=spf1 ip4:10.0.0.0/7 -all\"\n"
                   "guarded TXT \"v=spf1 -exists:%{i}.bl.s.test +all\"\n");
}

nlohmann::json read_json(const fs::path& path) {
  return nlohmann::json::parse(read(path));
}
void write_json(const fs::path& path, const nlohmann::json& json) {
  std::ofstream(path) << json.dump(2);
}

std::string replaced(std::string text, const std::string& from, const std::string& to) {
  const std::size_t at = text.find(from);
  REQUIRE(at != std::string::npos);
  return text.replace(at, from.size(), to);
}

// `value` edited in a change's after, after_strings (one string) and in the planned records.
void edit_after(nlohmann::json& domain, std::size_t change, const std::string& from, const std::string& to) {
  nlohmann::json& c = domain["changes"][change];
  const std::string before = c["after"].get<std::string>();
  const std::string after = replaced(before, from, to);
  c["after"] = after;
  c["after_strings"] = nlohmann::json::array({after});
  for (nlohmann::json& record : domain["records"])
    if (record["value"] == before) {
      record["value"] = after;
      record["strings"] = nlohmann::json::array({after});
    }
}

}  // namespace

TEST_CASE("an edited plan file is proved again and refused: nothing is written",
          "[integration][trust][cli]") {
  Workspace w;
  w.dns("s.test", senders_zone());
  w.config("[[domain]]\nname = \"example.com\"\ninclude = [\"good.s.test\"]\nip4 = [\"192.0.2.1\"]\n");
  const fs::path plan_file = w.temp.dir / "plan.json";

  SECTION("a world-wide range added to an update") {
    w.published("example.com", "@ TXT \"v=spf1 ip4:192.0.2.1 -all\"\n");
    REQUIRE(w.run({"plan", "--out", plan_file.string()}).exit_code == 0);
    nlohmann::json plan = read_json(plan_file);
    edit_after(plan["domains"][0], 0, " -all", " ip4:0.0.0.0/0 -all");
    write_json(plan_file, plan);
  }
  SECTION("+all on a new record") {
    w.published("example.com", "@ TXT \"google-site-verification=abc\"\n");
    REQUIRE(w.run({"plan", "--out", plan_file.string()}).exit_code == 0);
    nlohmann::json plan = read_json(plan_file);
    REQUIRE(plan["domains"][0]["changes"][0]["action"] == "create");
    edit_after(plan["domains"][0], 0, "-all", "+all");
    write_json(plan_file, plan);
  }
  const std::string before = w.zone("example.com");
  const ProcessResult apply = w.run({"apply", plan_file.string(), "--auto-approve"});
  INFO(apply.out << apply.err);
  CHECK(apply.exit_code == 1);
  CHECK_THAT(apply.out,
             Contains("example.com  failed: nothing was applied for it: the records it would publish "
                      "do not prove against the configuration now") &&
                 Contains("the plan file was edited") && Contains("0 applied, 0 in sync, 1 failed"));
  CHECK(w.zone("example.com") == before);
  CHECK(w.receiver("example.com", "example.com", "8.8.8.8") != "pass");
}

TEST_CASE("a sender the published record authorises is not dropped without --force",
          "[integration][trust][cli]") {
  Workspace w;
  w.dns("s.test", senders_zone());
  w.published("example.com", "@ TXT \"v=spf1 include:good.s.test ip4:203.0.113.1 -all\"\n");
  w.config("[[domain]]\nname = \"example.com\"\ninclude = [\"good.s.test\"]\n");
  const std::string before = w.zone("example.com");

  const ProcessResult plan = w.run({"plan"});
  CHECK_THAT(plan.out,
             Contains("warning: stops authorising 203.0.113.1 (ip4:203.0.113.1), which the published "
                      "record authorises; apply refuses this without --force"));
  const ProcessResult refused = w.run({"apply", "--auto-approve"});
  INFO(refused.out << refused.err);
  CHECK(refused.exit_code == 1);
  CHECK_THAT(refused.err, Contains("refusing to apply without --force; nothing was applied") &&
                              Contains("example.com: stops authorising 203.0.113.1 (ip4:203.0.113.1)"));
  CHECK(w.zone("example.com") == before);
  CHECK(w.receiver("example.com", "example.com", "203.0.113.1") == "pass");

  const ProcessResult forced = w.run({"apply", "--auto-approve", "--force"});
  CHECK(forced.exit_code == 0);
  CHECK(w.receiver("example.com", "example.com", "203.0.113.1") == "fail");
  CHECK(w.receiver("example.com", "example.com", "198.51.100.7") == "pass");
}

TEST_CASE("senders that pass a large part of the internet are an error unless the domain allows them",
          "[integration][trust][cli]") {
  Workspace w;
  w.dns("s.test", senders_zone());
  w.published("example.com", "@ TXT \"v=spf1 ip4:192.0.2.1 -all\"\n");
  const std::string before = w.zone("example.com");

  SECTION("a sender whose record says +all, flattened") {
    w.config("[[domain]]\nname = \"example.com\"\ninclude = [\"everyone.s.test\"]\nflatten = \"full\"\n");
    const ProcessResult plan = w.run({"plan"});
    CHECK(plan.exit_code == 1);
    CHECK_THAT(plan.out,
               Contains("error: the policy would authorise 0.0.0.0/0 (include:everyone.s.test) and ::/0 "
                        "(include:everyone.s.test): wider than /8"));
    CHECK(w.run({"apply", "--auto-approve", "--force"}).exit_code == 1);
    CHECK(w.zone("example.com") == before);
  }
  SECTION("a sender passing everything but what a condition fails") {
    w.config("[[domain]]\nname = \"example.com\"\ninclude = [\"guarded.s.test\"]\n");
    const ProcessResult plan = w.run({"plan"});
    CHECK(plan.exit_code == 1);
    CHECK_THAT(plan.out, Contains("error: the policy would authorise 0.0.0.0/0 (include:guarded.s.test) and ::/0 "
                                  "(include:guarded.s.test): wider than /8"));
  }
  SECTION("raw terms") {
    w.config("[[domain]]\nname = \"example.com\"\nraw = [\"ip4:0.0.0.0/0\", \"ip6:::/0\"]\n");
    const ProcessResult plan = w.run({"plan"});
    CHECK(plan.exit_code == 1);
    CHECK_THAT(plan.out,
               Contains("the policy would authorise 0.0.0.0/0 (ip4:0.0.0.0/0) and ::/0 (ip6:::/0)") &&
                   Contains("set allow_wide_ranges = true for the domain if it is intended"));
    CHECK(w.run({"apply", "--auto-approve", "--force"}).exit_code == 1);
    CHECK(w.zone("example.com") == before);
  }
  SECTION("allowed by the domain, then reported by check") {
    w.config("[[domain]]\nname = \"example.com\"\ninclude = [\"wide.s.test\"]\nallow_wide_ranges = true\n");
    const ProcessResult apply = w.run({"apply", "--auto-approve", "--force"});
    INFO(apply.out << apply.err);
    CHECK(apply.exit_code == 0);
    const ProcessResult check = w.over_dns("example.com", {"check", "example.com"});
    CHECK(check.exit_code == 1);
    CHECK_THAT(check.out,
               Contains("error: the policy of example.com authorises 10.0.0.0/7 (include:wide.s.test), "
                        "wider than /8"));
  }
}

TEST_CASE("apply PLANFILE writes only into the zone the provider serves the domain in",
          "[integration][trust][cli]") {
  Workspace w;
  w.dns("s.test", senders_zone());
  w.published("example.com", "@ TXT \"v=spf1 ip4:192.0.2.1 -all\"\n");
  w.published("example.org", "@ TXT \"v=spf1 -all\"\n");
  w.config("[[domain]]\nname = \"example.com\"\ninclude = [\"good.s.test\"]\n");
  const fs::path plan_file = w.temp.dir / "plan.json";
  REQUIRE(w.run({"plan", "--out", plan_file.string()}).exit_code == 0);
  nlohmann::json plan = read_json(plan_file);
  plan["domains"][0]["zone"] = "example.org";
  write_json(plan_file, plan);
  const std::string com = w.zone("example.com"), org = w.zone("example.org");

  const ProcessResult apply = w.run({"apply", plan_file.string(), "--auto-approve"});
  INFO(apply.out << apply.err);
  CHECK(apply.exit_code == 1);
  CHECK_THAT(apply.out,
             Contains("the plan puts example.com in the zone 'example.org', but provider 'zonefile' "
                      "serves it in 'example.com'"));
  CHECK(w.zone("example.com") == com);
  CHECK(w.zone("example.org") == org);
}

namespace {

// A domain whose configuration changes its published record, for the zone-file cases.
void changing_domain(Workspace& w) {
  w.dns("s.test", senders_zone());
  w.published("example.com", "@ TXT \"v=spf1 ip4:192.0.2.1 -all\"\n");
  w.config("[[domain]]\nname = \"example.com\"\ninclude = [\"good.s.test\"]\nip4 = [\"192.0.2.1\"]\n");
}

}  // namespace

TEST_CASE("apply holds the zone file's lock: lines another writer appends under it are never lost",
          "[integration][trust][cli][zonefile]") {
  Workspace w;
  changing_domain(w);
  const fs::path zone = w.zone_path("example.com");
  std::atomic<bool> stop{false};
  std::atomic<int> appended{0};
  std::thread writer([&] {
    // A deploy script's edits, each under the documented lock (flock on FILE.lock).
    const int lock = ::open((zone.string() + ".lock").c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    REQUIRE(lock >= 0);
    while (!stop || appended < 80) {
      ::flock(lock, LOCK_EX);
      std::ofstream(zone, std::ios::app) << "; appended " << appended << "\n";
      ++appended;
      ::flock(lock, LOCK_UN);
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    ::close(lock);
  });
  const ProcessResult apply = w.run({"apply", "--auto-approve"});
  stop = true;
  writer.join();
  INFO(apply.out << apply.err);
  CHECK(apply.exit_code == 0);
  const std::string text = w.zone("example.com");
  for (int i = 0; i < appended; ++i) CHECK_THAT(text, Contains("; appended " + std::to_string(i) + "\n"));
  CHECK_THAT(text, Contains("include:good.s.test"));
}

TEST_CASE("apply rewrites the file a symlinked zone file leads to, and keeps the link",
          "[integration][trust][cli][zonefile]") {
  Workspace w;
  changing_domain(w);
  const fs::path real = w.temp.dir / "real";
  fs::create_directories(real);
  fs::rename(w.zone_path("example.com"), real / "example.com.zone");
  fs::create_symlink(real / "example.com.zone", w.zone_path("example.com"));

  const ProcessResult apply = w.run({"apply", "--auto-approve"});
  INFO(apply.out << apply.err);
  CHECK(apply.exit_code == 0);
  CHECK(fs::is_symlink(w.zone_path("example.com")));
  CHECK_THAT(read(real / "example.com.zone"), Contains("include:good.s.test"));
  CHECK(w.receiver("example.com", "example.com", "198.51.100.7") == "pass");
}

TEST_CASE("apply refuses a zone file with several hard links and writes nothing",
          "[integration][trust][cli][zonefile]") {
  Workspace w;
  changing_domain(w);
  const fs::path other = w.temp.dir / "served-copy.zone";
  fs::create_hard_link(w.zone_path("example.com"), other);
  const std::string before = w.zone("example.com");

  const ProcessResult apply = w.run({"apply", "--auto-approve"});
  INFO(apply.out << apply.err);
  CHECK(apply.exit_code == 1);
  CHECK_THAT(apply.out, Contains("has 2 hard links") && Contains("nothing was written") &&
                            Contains("Make the other names symbolic links to it"));
  CHECK(w.zone("example.com") == before);
  CHECK(read(other) == before);
  CHECK(fs::hard_link_count(other) == 2);
}

TEST_CASE("the SOA serial after 4294967295 is 1, never 0", "[integration][trust][cli][zonefile]") {
  Workspace w;
  w.dns("s.test", senders_zone());
  std::ofstream(w.zone_path("example.com"))
      << "$ORIGIN example.com.\n$TTL 3600\n@ SOA ns hostmaster 4294967295 3600 600 86400 300\n@ NS ns\n"
         "ns A 192.0.2.53\n@ TXT \"v=spf1 ip4:192.0.2.1 -all\"\n";
  w.config("[[domain]]\nname = \"example.com\"\ninclude = [\"good.s.test\"]\n");
  REQUIRE(w.run({"apply", "--auto-approve", "--force"}).exit_code == 0);
  CHECK_THAT(w.zone("example.com"), Contains("@ SOA ns hostmaster 1 3600"));
}

TEST_CASE("plan --out replaces a symbolic link instead of writing through it, mode 0600",
          "[integration][trust][cli]") {
  Workspace w;
  changing_domain(w);
  const fs::path victim = w.temp.dir / "victim.txt";
  std::ofstream(victim) << "keep me\n";
  const fs::path plan_file = w.temp.dir / "plan.json";
  fs::create_symlink(victim, plan_file);

  const ProcessResult plan = w.run({"plan", "--out", plan_file.string()});
  INFO(plan.out << plan.err);
  CHECK(plan.exit_code == 0);
  CHECK(read(victim) == "keep me\n");
  CHECK_FALSE(fs::is_symlink(plan_file));
  CHECK(read_json(plan_file)["format"] == "spfctl-plan/1");
  CHECK((fs::status(plan_file).permissions() & fs::perms::all) ==
        (fs::perms::owner_read | fs::perms::owner_write));
  // No temporary file is left beside it.
  std::size_t files = 0;
  for ([[maybe_unused]] const auto& entry : fs::directory_iterator(w.temp.dir)) ++files;
  CHECK(files == 5);  // spfctl.toml, s.test.dns.zone, zones/, victim.txt, plan.json
}

TEST_CASE("control bytes from DNS and providers are shown escaped, never sent to the terminal",
          "[integration][trust][cli]") {
  Workspace w;
  // ESC ] ... BEL retitles a terminal, ESC [2J clears it, CR overwrites the line; C2 9B is the
  // one-character CSI some terminals obey.
  w.dns("s.test", zone_text("s.test",
                            "good TXT \"v=spf1 ip4:198.51.100.0/24 -all\"\n"
                            "evil TXT \"v=spf1 \\027[2J\\013ip4:192.0.2.1 \\194\\155 -all\"\n"));
  w.published("example.com", "@ TXT \"v=spf1 \\027]0;pwned\\007 -all\"\n");
  w.config("[[domain]]\nname = \"example.com\"\ninclude = [\"good.s.test\"]\n");
  auto no_controls = [](const std::string& text) {
    return std::none_of(text.begin(), text.end(), [](char c) {
      const auto byte = static_cast<unsigned char>(c);
      return (byte < 0x20 && c != '\n') || byte == 0x7f || byte == 0x9b;
    });
  };

  const ProcessResult check = w.over_dns("example.com", {"check", "evil.s.test", "example.com"});
  INFO(check.out);
  CHECK(check.exit_code == 1);
  CHECK(no_controls(check.out));
  CHECK_THAT(check.out, Contains("v=spf1 \\x1b[2J\\x0dip4:192.0.2.1 \\xc2\\x9b -all") &&
                            Contains("v=spf1 \\x1b]0;pwned\\x07 -all"));

  const ProcessResult plan = w.run({"plan"});
  INFO(plan.out);
  CHECK(no_controls(plan.out));
  CHECK_THAT(plan.out, Contains("- v=spf1 \\x1b]0;pwned\\x07 -all"));
}
