#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>

#include "config/config.hpp"
#include "dns/zone_file.hpp"
#include "error.hpp"
#include "providers/registry.hpp"
#include "providers/zonefile.hpp"
#include "tests/support/provider_conformance.hpp"

using namespace std::string_literals;
using spfctl::Error;
using namespace spfctl::providers;
namespace fs = std::filesystem;

namespace {

constexpr std::uint32_t k_today = 20261102;

// A zone as people write them: comments, aligned columns, a multi-line SOA, a verification record
// next to the SPF record, and a DKIM key in parentheses.
const std::string k_zone =
    "; example.com, hand-maintained\n"
    "$ORIGIN example.com.\n"
    "$TTL 3600\n"
    "@       IN SOA  ns1.example.com. hostmaster.example.com. (\n"
    "                2026110101 ; serial\n"
    "                7200 3600 1209600 3600 )\n"
    "        IN NS   ns1.example.com.\n"
    "        IN MX   10 mail.example.com.\n"
    "ns1     IN A    192.0.2.2\n"
    "; the SPF record, written years ago\n"
    "@       IN TXT  \"v=spf1 include:_spf.old.example ~all\" ; keep this comment\n"
    "@       IN TXT  \"google-site-verification=abc\"\n"
    "sel._domainkey IN TXT ( \"v=DKIM1; k=rsa; \"\n"
    "        \"p=MIIB\" )\n"
    "www     IN CNAME example.com.\n";

Change update(const std::string& name, const std::string& before, std::vector<std::string> after,
              std::uint32_t ttl = 3600) {
  Change change;
  change.action = Change::Action::update;
  change.name = name;
  change.ttl = ttl;
  change.before = TxtValue{{before}};
  change.after = TxtValue{std::move(after)};
  return change;
}

Change create(const std::string& name, std::vector<std::string> after, std::uint32_t ttl = 3600) {
  Change change;
  change.action = Change::Action::create;
  change.name = name;
  change.ttl = ttl;
  change.after = TxtValue{std::move(after)};
  return change;
}

Change remove(const std::string& name, const std::string& before, std::uint32_t ttl = 3600) {
  Change change;
  change.action = Change::Action::remove;
  change.name = name;
  change.ttl = ttl;
  change.before = TxtValue{{before}};
  return change;
}

std::string rewrite(const std::string& text, const std::vector<Change>& changes) {
  return rewrite_zone_text(text, "example.com.zone", "example.com", changes, k_today);
}

std::string rewrite_error(const std::string& text, const std::vector<Change>& changes) {
  try {
    rewrite(text, changes);
  } catch (const Error& e) {
    return e.what();
  }
  return "(no error)";
}

std::string replace_line(std::string text, const std::string& old_line, const std::string& new_line) {
  const std::size_t at = text.find(old_line);
  REQUIRE(at != std::string::npos);
  return text.replace(at, old_line.size(), new_line);
}

// The TXT values at `name` in `text`, each as its strings, with the TTL of the set.
TxtRecordSet txt_at(const std::string& text, const std::string& name) {
  const auto sets = txt_sets(spfctl::dns::parse_zone(text, "t.zone", "example.com"), {name});
  return sets.empty() ? TxtRecordSet{name, 0, {}, {}} : sets.front();
}

std::vector<std::string> joined_values(const TxtRecordSet& set) {
  std::vector<std::string> out;
  for (const TxtValue& value : set.values) out.push_back(value.joined());
  return out;
}

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

struct TempDir {
  fs::path path;
  explicit TempDir(const std::string& name)
      : path(fs::temp_directory_path() / ("spfctl-test-" + name + "-" + std::to_string(getpid()))) {
    fs::remove_all(path);
    fs::create_directories(path);
  }
  ~TempDir() { fs::remove_all(path); }
};

}  // namespace

TEST_CASE("zone rewrite changes only the SPF line and the serial, keeping every other byte",
          "[providers][zonefile]") {
  const std::string out = rewrite(k_zone, {update("example.com", "v=spf1 include:_spf.old.example ~all",
                                                  {"v=spf1 ip4:192.0.2.0/24 -all"})});
  std::string expected = replace_line(k_zone, "2026110101 ; serial", "2026110200 ; serial");
  expected =
      replace_line(expected, "@       IN TXT  \"v=spf1 include:_spf.old.example ~all\" ; keep this comment",
                   "@       IN TXT  \"v=spf1 ip4:192.0.2.0/24 -all\" ; keep this comment");
  CHECK(out == expected);
}

TEST_CASE("zone rewrite keeps CRLF line endings and a last line without newline", "[providers][zonefile]") {
  const std::string text =
      "$ORIGIN example.com.\r\n$TTL 300\r\n@ IN TXT \"v=spf1 -all\"\r\n@ IN TXT \"other\"";
  const std::string out = rewrite(text, {create("_spf1.example.com", {"v=spf1 ip4:192.0.2.1 -all"})});
  CHECK(out ==
        "$ORIGIN example.com.\r\n$TTL 300\r\n@ IN TXT \"v=spf1 -all\"\r\n@ IN TXT \"other\"\r\n"
        "_spf1 3600 IN TXT \"v=spf1 ip4:192.0.2.1 -all\"\r\n");
  CHECK(txt_at(out, "_spf1.example.com").ttl == 3600);
}

TEST_CASE("next SOA serial: date serials move to today, others count up", "[providers][zonefile]") {
  CHECK(next_soa_serial(2026110101, 20261102) == 2026110200);
  CHECK(next_soa_serial(2026110207, 20261102) == 2026110208);
  CHECK(next_soa_serial(2026110299, 20261102) == 2026110300);  // the 100th change of a day
  CHECK(next_soa_serial(2026120105, 20261102) == 2026120106);  // a serial ahead of the clock keeps counting
  CHECK(next_soa_serial(42, 20261102) == 43);
  CHECK(next_soa_serial(1700000000, 20261102) == 1700000001);  // a Unix-time serial is not a date
  CHECK(next_soa_serial(4294967295u, 20261102) == 1);          // wraps, but never to 0
}

TEST_CASE("zone rewrite splits long values into strings of at most 255 bytes between terms",
          "[providers][zonefile]") {
  std::string value = "v=spf1";
  for (int i = 0; i < 40; ++i) value += " ip4:198.51.100." + std::to_string(i);
  value += " -all";
  REQUIRE(value.size() > 600);
  const std::string out =
      rewrite(k_zone, {update("example.com", "v=spf1 include:_spf.old.example ~all", {value})});
  const TxtRecordSet set = txt_at(out, "example.com");
  REQUIRE(set.values.size() == 2);
  const TxtValue& spf = set.values.front();
  CHECK(spf.joined() == value);
  REQUIRE(spf.strings.size() == 3);
  for (std::size_t i = 0; i < spf.strings.size(); ++i) {
    CHECK(spf.strings[i].size() <= 255);
    if (i + 1 < spf.strings.size()) CHECK(spf.strings[i].back() == ' ');  // cut between two terms
  }
  CHECK(spf.strings.back().ends_with("-all"));
  // Several strings go in parentheses, one per line, aligned under the first.
  CHECK(out.find("@       IN TXT  ( \"v=spf1 ip4:198.51.100.0 ") != std::string::npos);
  CHECK(out.find("\n                  \"ip4:") != std::string::npos);
}

TEST_CASE("zone rewrite escapes quotes, backslashes and control bytes", "[providers][zonefile]") {
  const std::string value = "v=spf1 exp=%{d}.\"x\\y\x01 -all";
  const std::string out =
      rewrite(k_zone, {update("example.com", "v=spf1 include:_spf.old.example ~all", {value})});
  CHECK(out.find(R"("v=spf1 exp=%{d}.\"x\\y\001 -all")") != std::string::npos);
  CHECK(txt_at(out, "example.com").values.front().strings == std::vector<std::string>{value});
}

TEST_CASE("zone rewrite creates a value at a name without TXT records after the last record",
          "[providers][zonefile]") {
  const std::string out = rewrite(k_zone, {create("_spf1.example.com", {"v=spf1 ip4:192.0.2.0/24 -all"})});
  std::string expected = replace_line(k_zone, "2026110101 ; serial", "2026110200 ; serial");
  expected += "_spf1   IN TXT  \"v=spf1 ip4:192.0.2.0/24 -all\"\n";
  CHECK(out == expected);
}

TEST_CASE("zone rewrite creates the SPF value next to the other TXT values at its name",
          "[providers][zonefile]") {
  const std::string text =
      "$ORIGIN example.com.\n$TTL 3600\n"
      "@       IN TXT  \"google-site-verification=abc\"\n"
      "www     IN A    192.0.2.1\n";
  const std::string out = rewrite(text, {create("example.com", {"v=spf1 mx -all"}, 1800)});
  CHECK(out ==
        "$ORIGIN example.com.\n$TTL 3600\n"
        "@       IN TXT  \"google-site-verification=abc\"\n"
        "@       1800 IN TXT  \"v=spf1 mx -all\"\n"
        "www     IN A    192.0.2.1\n");
  const TxtRecordSet set = txt_at(out, "example.com");
  CHECK(joined_values(set) == std::vector<std::string>{"google-site-verification=abc", "v=spf1 mx -all"});
  CHECK(set.ttl == 1800);
}

TEST_CASE("zone rewrite writes a TTL only when the line would not get it otherwise",
          "[providers][zonefile]") {
  const std::string before = "v=spf1 include:_spf.old.example ~all";
  SECTION("a new TTL is written") {
    const std::string out = rewrite(k_zone, {update("example.com", before, {"v=spf1 -all"}, 300)});
    CHECK(out.find("@       300 IN TXT  \"v=spf1 -all\" ; keep this comment\n") != std::string::npos);
    CHECK(txt_at(out, "example.com").ttl == 300);
  }
  SECTION("an explicit TTL is kept explicit, with the new value") {
    const std::string text = replace_line(k_zone, "@       IN TXT  \"v=spf1", "@       600 IN TXT  \"v=spf1");
    const std::string out = rewrite(text, {update("example.com", before, {"v=spf1 -all"}, 3600)});
    CHECK(out.find("@       3600 IN TXT  \"v=spf1 -all\"") != std::string::npos);
  }
}

TEST_CASE("zone rewrite deletes a value's lines and writes out an owner the next record relied on",
          "[providers][zonefile]") {
  const std::string text =
      "$ORIGIN example.com.\n$TTL 3600\n"
      "_spf2   IN TXT  ( \"v=spf1 ip4:192.0.2.1\"\n"
      "                  \" -all\" ) ; chained\n"
      "        IN TXT  \"not spf\"\n"
      "www     IN A    192.0.2.1\n";
  const std::string out = rewrite(text, {remove("_spf2.example.com", "v=spf1 ip4:192.0.2.1 -all")});
  CHECK(out ==
        "$ORIGIN example.com.\n$TTL 3600\n"
        "_spf2        IN TXT  \"not spf\"\n"
        "www     IN A    192.0.2.1\n");
  CHECK(joined_values(txt_at(out, "_spf2.example.com")) == std::vector<std::string>{"not spf"});
}

TEST_CASE("zone rewrite turns two SPF values at a name into one", "[providers][zonefile]") {
  const std::string text =
      "$ORIGIN example.com.\n$TTL 3600\n"
      "@ IN TXT \"v=spf1 a -all\"\n"
      "@ IN TXT \"verification\"\n"
      "@ IN TXT \"v=spf1 mx -all\"\n";
  const std::string out = rewrite(text, {remove("example.com", "v=spf1 mx -all"),
                                         update("example.com", "v=spf1 a -all", {"v=spf1 a mx -all"})});
  CHECK(out ==
        "$ORIGIN example.com.\n$TTL 3600\n"
        "@ IN TXT \"v=spf1 a mx -all\"\n"
        "@ IN TXT \"verification\"\n");
  CHECK_THAT(rewrite_error(text, {update("example.com", "v=spf1 a -all", {"v=spf1 a mx -all"})}),
             Catch::Contains("would leave 2 SPF records at 'example.com'"));
}

TEST_CASE("zone rewrite refuses changes that do not match the file", "[providers][zonefile]") {
  CHECK_THAT(
      rewrite_error(k_zone, {update("example.com", "v=spf1 -all", {"v=spf1 mx -all"})}),
      Catch::Contains("the SPF record at 'example.com' is not the one planned ('v=spf1 -all'); published: "
                      "'v=spf1 include:_spf.old.example ~all'; the zone changed since the plan was made"));
  CHECK_THAT(rewrite_error(k_zone, {create("example.com", {"v=spf1 mx -all"})}),
             Catch::Contains("'example.com' already has an SPF record"));
  CHECK_THAT(rewrite_error(k_zone, {create("example.org", {"v=spf1 mx -all"})}),
             Catch::Contains("'example.org' is not in the zone 'example.com'"));
}

TEST_CASE("zone rewrite refuses to change the TTL other records inherit", "[providers][zonefile]") {
  // Without $TTL a record without a TTL takes the TTL of the record before it.
  const std::string text =
      "$ORIGIN example.com.\n"
      "@   600 IN TXT \"v=spf1 -all\"\n"
      "www IN A 192.0.2.1\n";
  CHECK_THAT(
      rewrite_error(text, {update("example.com", "v=spf1 -all", {"v=spf1 mx -all"}, 300)}),
      Catch::Contains("would also change the A record at 'www.example.com'") && Catch::Contains("$TTL"));
  // The same change where the file says $TTL is fine.
  const std::string with_ttl = "$TTL 600\n" + text;
  const auto zone = spfctl::dns::parse_zone(
      rewrite(with_ttl, {update("example.com", "v=spf1 -all", {"v=spf1 mx -all"}, 300)}), "t.zone",
      "example.com");
  REQUIRE(zone.records.size() == 2);
  CHECK(zone.records[0].ttl == 300);
  CHECK(zone.records[1].owner == "www.example.com");
  CHECK(zone.records[1].ttl == 600);
}

TEST_CASE("zone rewrite without changes returns the text unchanged, serial included",
          "[providers][zonefile]") {
  CHECK(rewrite(k_zone, {}) == k_zone);
}

TEST_CASE("zone-file provider finds zones, lists TXT sets and applies changes atomically",
          "[providers][zonefile]") {
  TempDir dir("zonefile");
  write(dir.path / "example.com.zone", k_zone);
  write(dir.path / "sub.example.com.zone",
        "$ORIGIN sub.example.com.\n$TTL 300\n@ IN SOA ns1 hostmaster 7 7200 3600 1209600 300\n");
  write(dir.path / "notes.txt", "not a zone");
  ::chmod((dir.path / "example.com.zone").c_str(), 0640);

  ZoneFileProvider provider(dir.path, [] { return k_today; });
  CHECK(provider.zone_for("Example.COM.") == "example.com");
  CHECK(provider.zone_for("mail.example.com") == "example.com");
  CHECK(provider.zone_for("a.sub.example.com") == "sub.example.com");
  CHECK_THROWS_WITH(provider.zone_for("example.org"), Catch::Contains("no zone file for 'example.org'"));

  const auto sets =
      provider.list("example.com", {"example.com", "_spf1.example.com", "sel._domainkey.example.com"});
  REQUIRE(sets.size() == 2);
  CHECK(sets[0].name == "example.com");
  CHECK(joined_values(sets[0]) ==
        std::vector<std::string>{"v=spf1 include:_spf.old.example ~all", "google-site-verification=abc"});
  CHECK(sets[0].ids.front().ends_with("example.com.zone:11"));
  CHECK(sets[1].values.front().strings == std::vector<std::string>{"v=DKIM1; k=rsa; ", "p=MIIB"});

  provider.apply("example.com", {create("_spf1.example.com", {"v=spf1 ip4:192.0.2.0/24 -all"}),
                                 update("example.com", "v=spf1 include:_spf.old.example ~all",
                                        {"v=spf1 include:_spf1.example.com -all"})});
  const auto after = provider.list("example.com", {"example.com", "_spf1.example.com"});
  REQUIRE(after.size() == 2);
  CHECK(joined_values(after[0]) ==
        std::vector<std::string>{"v=spf1 include:_spf1.example.com -all", "google-site-verification=abc"});
  CHECK(joined_values(after[1]) == std::vector<std::string>{"v=spf1 ip4:192.0.2.0/24 -all"});
  struct stat st {};
  REQUIRE(::stat((dir.path / "example.com.zone").c_str(), &st) == 0);
  CHECK((st.st_mode & 0777) == 0640);
  CHECK(read(dir.path / "example.com.zone").find("2026110200 ; serial") != std::string::npos);
  std::size_t files = 0;
  for ([[maybe_unused]] const auto& entry : fs::directory_iterator(dir.path)) ++files;
  CHECK(files == 4);  // no temporary file left behind; the zone's lock file stays
  CHECK(fs::exists(dir.path / "example.com.zone.lock"));

  // A failed apply leaves the file as it was.
  const std::string before_failure = read(dir.path / "example.com.zone");
  CHECK_THROWS_AS(provider.apply("example.com", {create("example.com", {"v=spf1 -all"})}), Error);
  CHECK(read(dir.path / "example.com.zone") == before_failure);
}

TEST_CASE("the zone-file provider parses a zone once and lists the directory once, until they change",
          "[providers][zonefile]") {
  TempDir dir("zonefile");
  // One zone holding many client domains, as an agency keeps them.
  std::string zone = "$ORIGIN example.com.\n$TTL 3600\n@ IN SOA ns1 hostmaster 1 7200 3600 1209600 3600\n";
  for (int i = 0; i < 50; ++i)
    zone += "client" + std::to_string(i) + " IN TXT \"v=spf1 ip4:192.0.2." + std::to_string(i) + " -all\"\n";
  write(dir.path / "example.com.zone", zone);

  ZoneFileProvider provider(dir.path, [] { return k_today; });
  for (int round = 0; round < 2; ++round)
    for (int i = 0; i < 50; ++i) {
      const std::string name = "client" + std::to_string(i) + ".example.com";
      REQUIRE(provider.zone_for(name) == "example.com");
      const auto sets = provider.list("example.com", {name, "_spf1." + name});
      REQUIRE(sets.size() == 1);
      CHECK(joined_values(sets[0]) ==
            std::vector<std::string>{"v=spf1 ip4:192.0.2." + std::to_string(i) + " -all"});
    }
  CHECK(provider.files_parsed() == 1);
  CHECK(provider.directory_listings() == 1);

  // Another writer changes the file: the next list reads it again, once.
  write(dir.path / "example.com.zone", zone + "extra IN TXT \"v=spf1 -all\"\n");
  CHECK(provider.list("example.com", {"extra.example.com"}).size() == 1);
  CHECK(provider.list("example.com", {"client7.example.com"}).size() == 1);
  CHECK(provider.files_parsed() == 2);

  // A write of spfctl's own is read back as written.
  provider.apply("example.com",
                 {update("client3.example.com", "v=spf1 ip4:192.0.2.3 -all", {"v=spf1 -all"})});
  CHECK(joined_values(provider.list("example.com", {"client3.example.com"}).at(0)) ==
        std::vector<std::string>{"v=spf1 -all"});
  CHECK(provider.files_parsed() == 3);

  // A zone file added to the directory is found.
  write(dir.path / "example.org.zone",
        "$ORIGIN example.org.\n@ 3600 IN SOA ns1 hostmaster 1 7200 3600 1209600 3600\n");
  CHECK(provider.zone_for("www.example.org") == "example.org");
  CHECK(provider.directory_listings() == 2);
}

TEST_CASE("the zone-file provider parses a zone once when many domains of it are read at once",
          "[providers][zonefile]") {
  TempDir dir("zonefile");
  std::string zone = "$ORIGIN example.com.\n$TTL 3600\n@ IN SOA ns1 hostmaster 1 7200 3600 1209600 3600\n";
  for (int i = 0; i < 2000; ++i)
    zone += "client" + std::to_string(i) + " IN TXT \"v=spf1 ip4:192.0.2." + std::to_string(i % 250) +
            " -all\"\n";
  write(dir.path / "example.com.zone", zone);
  ZoneFileProvider provider(dir.path, [] { return k_today; });
  std::atomic<int> found{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 16; ++t)
    threads.emplace_back([&, t] {
      found += static_cast<int>(
          provider.list("example.com", {"client" + std::to_string(t) + ".example.com"}).size());
    });
  for (std::thread& thread : threads) thread.join();
  CHECK(found == 16);
  CHECK(provider.files_parsed() == 1);
}

TEST_CASE("zone-file provider settings: directory relative to the configuration", "[providers][zonefile]") {
  TempDir dir("zonefile-settings");
  fs::create_directories(dir.path / "zones");
  write(dir.path / "zones" / "example.net.zone", "$ORIGIN example.net.\n@ 300 IN TXT \"v=spf1 -all\"\n");
  fs::create_directories(dir.path / "dns");
  write(dir.path / "dns" / "example.org.zone", "$ORIGIN example.org.\n@ 300 IN TXT \"v=spf1 -all\"\n");

  spfctl::config::ProviderConfig builtin{"zonefile", "zonefile", {}, {}, true, {}};
  const spfctl::providers::ProviderEnvironment here{.config_dir = dir.path};
  auto provider = spfctl::providers::create_provider(builtin, here);
  CHECK(provider->zone_for("example.net") == "example.net");

  spfctl::config::ProviderConfig custom{"local", "zonefile", {{"directory", {"dns", {"spfctl.toml", 3, 13}}}},
                                        {},      false,      {}};
  CHECK(spfctl::providers::create_provider(custom, here)->zone_for("www.example.org") == "example.org");

  spfctl::config::ProviderConfig typo{"local", "zonefile", {{"directroy", {"dns", {"spfctl.toml", 3, 1}}}},
                                      {},      false,      {}};
  CHECK_THROWS_WITH(
      spfctl::providers::create_provider(typo, here),
      Catch::StartsWith("spfctl.toml:3:1: unknown setting 'directroy' in [providers.local] (type "
                        "zonefile); did you mean 'directory'?"));

  ZoneFileProvider missing(dir.path / "nowhere");
  CHECK_THROWS_WITH(missing.zone_for("example.net"), Catch::Contains("does not exist"));
  CHECK_THROWS_WITH(ZoneFileProvider(dir.path / "zones").list("example.org", {"example.org"}),
                    Catch::Contains("no zone file") && Catch::Contains("example.org.zone"));
}

TEST_CASE("zone-file provider passes the provider conformance suite", "[providers][zonefile][conformance]") {
  TempDir dir("zonefile-conformance");
  std::string zone =
      "$ORIGIN example.com.\n"
      "$TTL 3600\n"
      "@ IN SOA ns1.example.com. hostmaster.example.com. 2026110101 7200 3600 1209600 3600\n"
      "  IN NS  ns1.example.com.\n"
      "ns1 IN A 192.0.2.2\n";
  for (const TxtValue& other : spfctl::testing::conformance_other_values())
    zone += "@ IN TXT \"" + other.joined() + "\"\n";
  write(dir.path / "example.com.zone", zone);
  ZoneFileProvider provider(dir.path, [] { return k_today; });
  spfctl::testing::ConformanceOptions options;
  // After every step the file must still parse and hold exactly what list() reports.
  options.after_step = [&](const std::string&, Provider&) {
    const auto parsed = spfctl::dns::load_zone_file(dir.path / "example.com.zone");
    std::size_t txt_records = 0;
    for (const auto& record : parsed.records)
      if (record.type == spfctl::dns::RrType::TXT) ++txt_records;
    std::size_t listed = 0;
    for (const auto& set : provider.list("example.com", {"example.com", "_spf1.example.com"}))
      listed += set.values.size();
    CHECK(txt_records == listed);
  };
  spfctl::testing::run_provider_conformance(provider, "example.com", options);
}
