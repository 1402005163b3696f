#include <unistd.h>

#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <string>

#include "dns/zone_file.hpp"
#include "error.hpp"

using namespace std::string_literals;
using spfctl::Error;
using namespace spfctl::dns;
using spfctl::net::IpAddress;

namespace {

ZoneFile parse(std::string_view text, std::string_view origin = "") {
  return parse_zone(text, "zones/a.zone", origin);
}

const std::vector<std::string>& strings_of(const ZoneRecord& record) {
  return std::get<TxtRdata>(record.rdata).strings;
}

std::string error_of(std::string_view text) {
  try {
    parse(text);
  } catch (const Error& e) {
    return e.what();
  }
  return "(no error)";
}

}  // namespace

TEST_CASE("zone parser reads owners relative to $ORIGIN, absolute owners, @ and blank owners",
          "[dns][zone]") {
  const auto zone = parse(
      "$ORIGIN Example.COM.\n"
      "@      300 IN TXT \"apex\"\n"
      "www   IN 300 A 192.0.2.1\n"
      "       AAAA 2001:DB8::1\n"
      "other.example.net. TXT \"abs\"\n"
      "$ORIGIN sub.example.com.\n"
      "deep  TXT \"deep\"\n");
  REQUIRE(zone.records.size() == 5);
  CHECK(zone.records[0].owner == "example.com");
  CHECK(zone.records[0].origin == "example.com");
  CHECK(zone.records[1].owner == "www.example.com");
  CHECK(zone.records[1].type == RrType::A);
  CHECK(std::get<IpAddress>(zone.records[1].rdata) == *IpAddress::parse("192.0.2.1"));
  CHECK(zone.records[2].owner == "www.example.com");
  CHECK(zone.records[2].type == RrType::AAAA);
  CHECK(std::get<IpAddress>(zone.records[2].rdata).to_string() == "2001:db8::1");
  CHECK(zone.records[3].owner == "other.example.net");
  CHECK(zone.records[4].owner == "deep.sub.example.com");
  CHECK(zone.records[4].origin == "sub.example.com");
}

TEST_CASE("zone parser takes an initial origin from the caller", "[dns][zone]") {
  const auto zone = parse("www TXT \"x\"\n", "example.org.");
  REQUIRE(zone.records.size() == 1);
  CHECK(zone.records[0].owner == "www.example.org");
  const auto root = parse("$ORIGIN .\ncom. TXT x\nnet TXT y\n");
  CHECK(root.records[0].owner == "com");
  CHECK(root.records[1].owner == "net");
}

TEST_CASE("zone parser applies explicit TTLs, $TTL, the previous TTL and the default", "[dns][zone]") {
  const auto no_dollar = parse(
      "$ORIGIN example.com.\n"
      "a TXT \"default\"\n"
      "b 120 TXT \"explicit\"\n"
      "c TXT \"previous\"\n"
      "d 1h30m TXT \"units\"\n");
  CHECK(no_dollar.records[0].ttl == k_default_zone_ttl);
  CHECK(no_dollar.records[1].ttl == 120);
  CHECK(no_dollar.records[2].ttl == 120);
  CHECK(no_dollar.records[3].ttl == 5400);

  const auto dollar = parse(
      "$ORIGIN example.com.\n"
      "$TTL 1d\n"
      "a TXT \"x\"\n"
      "b 60 TXT \"y\"\n"
      "c TXT \"z\"\n");
  CHECK(dollar.records[0].ttl == 86400);
  CHECK(dollar.records[1].ttl == 60);
  CHECK(dollar.records[2].ttl == 86400);
}

TEST_CASE("zone parser reads TTL and class in either order, and type names in any case", "[dns][zone]") {
  const auto zone = parse(
      "$ORIGIN example.com.\n"
      "a 60 IN txt \"1\"\n"
      "b in 70 TXT \"2\"\n"
      "c IN TXT \"3\"\n"
      "d 80 TXT \"4\"\n");
  REQUIRE(zone.records.size() == 4);
  CHECK(zone.records[0].ttl == 60);
  CHECK(zone.records[1].ttl == 70);
  CHECK(zone.records[2].ttl == 70);
  CHECK(zone.records[3].ttl == 80);
  for (const auto& record : zone.records) CHECK(record.type == RrType::TXT);
}

TEST_CASE("zone parser keeps the character-strings of a TXT record apart and decodes escapes",
          "[dns][zone]") {
  const auto zone = parse(
      "$ORIGIN example.com.\n"
      "multi TXT \"v=spf1 ip4:192.0.2.0/24\" \" -all\"\n"
      "esc   TXT \"quote \\\" backslash \\\\ byte \\255 nul \\000 semi ; in quotes\"\n"
      "bare  TXT unquoted\\032word other\n"
      "empty TXT \"\"\n"
      "spf   SPF \"v=spf1 -all\"\n");
  REQUIRE(zone.records.size() == 5);
  CHECK(strings_of(zone.records[0]) == std::vector<std::string>{"v=spf1 ip4:192.0.2.0/24", " -all"});
  CHECK(strings_of(zone.records[1]) ==
        std::vector<std::string>{"quote \" backslash \\ byte \xff nul \0 semi ; in quotes"s});
  CHECK(strings_of(zone.records[2]) == std::vector<std::string>{"unquoted word", "other"});
  CHECK(strings_of(zone.records[3]) == std::vector<std::string>{""});
  CHECK(zone.records[4].type == RrType::SPF);
  CHECK(strings_of(zone.records[4]) == std::vector<std::string>{"v=spf1 -all"});
}

TEST_CASE("zone parser joins parentheses across lines and records each record's line span", "[dns][zone]") {
  const auto zone = parse(
      "; header comment\n"                                // 1
      "$ORIGIN example.com.\n"                            // 2
      "\n"                                                // 3
      "long TXT ( \"first ; not a comment\" ; comment\n"  // 4
      "           ; a comment line inside\n"              // 5
      "           \"second\"\n"                           // 6
      "         )\n"                                      // 7
      "next TXT \"x\" ; trailing\n"                       // 8
      "@ SOA ns1 hostmaster ( 2024010101 ; serial\n"      // 9
      "      1h 15m 1w 300 )\n");                         // 10
  REQUIRE(zone.records.size() == 3);
  CHECK(strings_of(zone.records[0]) == std::vector<std::string>{"first ; not a comment", "second"});
  CHECK(zone.records[0].source == SourceSpan{"zones/a.zone", 4, 7});
  CHECK(zone.records[1].source == SourceSpan{"zones/a.zone", 8, 8});
  CHECK(zone.records[2].source == SourceSpan{"zones/a.zone", 9, 10});
  const auto& soa = std::get<SoaRdata>(zone.records[2].rdata);
  CHECK(soa == SoaRdata{"ns1.example.com", "hostmaster.example.com", 2024010101, 3600, 900, 604800, 300});
}

TEST_CASE("zone parser reads MX, PTR, CNAME and NS targets relative to the origin", "[dns][zone]") {
  const auto zone = parse(
      "$ORIGIN example.com.\n"
      "@ MX 10 mail\n"
      "@ MX 20 Backup.Example.NET.\n"
      "@ NS ns1\n"
      "alias CNAME @\n"
      "1.2.0.192.in-addr.arpa. PTR host.example.com.\n");
  REQUIRE(zone.records.size() == 5);
  CHECK(std::get<MxRecord>(zone.records[0].rdata) == MxRecord{10, "mail.example.com"});
  CHECK(std::get<MxRecord>(zone.records[1].rdata) == MxRecord{20, "backup.example.net"});
  CHECK(zone.records[2].type == RrType::NS);
  CHECK(std::get<NameRdata>(zone.records[2].rdata).name == "ns1.example.com");
  CHECK(zone.records[3].type == RrType::CNAME);
  CHECK(std::get<NameRdata>(zone.records[3].rdata).name == "example.com");
  CHECK(zone.records[4].type == RrType::PTR);
  CHECK(zone.records[4].owner == "1.2.0.192.in-addr.arpa");
  CHECK(std::get<NameRdata>(zone.records[4].rdata).name == "host.example.com");
}

TEST_CASE("zone parser skips other types, keeping their owners and spans", "[dns][zone]") {
  const auto zone = parse(
      "$ORIGIN example.com.\n"
      "_sip._tcp SRV 0 5 5060 sip\n"
      "@ CAA 0 issue \"letsencrypt.org\"\n"
      "key TYPE65534 \\# 0\n"
      "@ DS ( 12345 13 2\n"
      "       ABCDEF )\n"
      "txt TXT \"kept\"\n");
  REQUIRE(zone.records.size() == 1);
  CHECK(zone.records[0].owner == "txt.example.com");
  REQUIRE(zone.skipped.size() == 4);
  CHECK(zone.skipped[0].owner == "_sip._tcp.example.com");
  CHECK(zone.skipped[0].type == "SRV");
  CHECK(zone.skipped[2].type == "TYPE65534");
  CHECK(zone.skipped[3].source == SourceSpan{"zones/a.zone", 5, 6});
}

TEST_CASE("zone parser decodes escapes in names, as a server loading the file does", "[dns][zone]") {
  const auto zone = parse(
      "$ORIGIN ex\\097mple.com.\n"
      "foo\\058bar\\047baz A 192.0.2.1\n"
      "pct\\037\\032sp.example.com. A 192.0.2.2\n"
      "@ MX 10 m\\120.example.com.\n"
      "l\\065"s +
      std::string(61, 'x') + " TXT x\n");
  REQUIRE(zone.records.size() == 4);
  CHECK(zone.records[0].owner == "foo:bar/baz.example.com");
  CHECK(zone.records[1].owner == "pct% sp.example.com");
  CHECK(zone.records[2].owner == "example.com");
  CHECK(std::get<MxRecord>(zone.records[2].rdata).exchange == "mx.example.com");
  CHECK(zone.records[3].owner == "la" + std::string(61, 'x') + ".example.com");
  CHECK_THAT(
      error_of("a\\.b.example.com. TXT x\n"),
      Catch::Matchers::StartsWith("zones/a.zone:1: name 'a\\.b.example.com.' has a '.' inside a label"));
  CHECK_THAT(error_of("$ORIGIN example.com.\nl\\065" + std::string(62, 'x') + " TXT x\n"),
             Catch::Matchers::StartsWith("zones/a.zone:2: label of 64 bytes"));
}

TEST_CASE("zone parser errors name the file, the line, the problem and the fix", "[dns][zone]") {
  using Catch::Matchers::Equals;
  using Catch::Matchers::StartsWith;
  const std::string o = "$ORIGIN example.com.\n";

  CHECK_THAT(error_of(o + "a TXT \"ok\"\nb TXT \"never closed\n"),
             Equals("zones/a.zone:3: unterminated quoted string in TXT record (close it with \")"));
  CHECK_THAT(error_of(o + "a CAA 0 issue \"x\n"),
             StartsWith("zones/a.zone:2: unterminated quoted string in CAA"));
  CHECK_THAT(error_of(o + "a TXT ( \"x\"\n\"y\"\n"), StartsWith("zones/a.zone:2: '(' is never closed"));
  CHECK_THAT(error_of(o + "a TXT \"x\" )\n"), StartsWith("zones/a.zone:2: ')' without a matching '('"));
  CHECK_THAT(error_of(o + "a TXT ( (\n"), StartsWith("zones/a.zone:2: nested '('"));
  CHECK_THAT(error_of(o + "\na TXT \"\\256\"\n"), StartsWith("zones/a.zone:3: invalid escape '\\256'"));
  CHECK_THAT(error_of(o + "a TXT \"\\1x\"\n"), StartsWith("zones/a.zone:2: invalid escape '\\1'"));
  CHECK_THAT(error_of(o + "a TXT x\\\n"), StartsWith("zones/a.zone:2: '\\' at the end of a line"));
  CHECK_THAT(error_of(o + "a TXT \"" + std::string(256, 'x') + "\"\n"),
             Equals("zones/a.zone:2: character-string of 256 bytes is longer than 255 (split it into "
                    "several quoted strings)"));
  CHECK_THAT(error_of(o + "$INCLUDE other.zone\n"), StartsWith("zones/a.zone:2: $INCLUDE is not supported"));
  CHECK_THAT(error_of(o + "$GENERATE 1-2 a$ A 1.2.3.4\n"),
             StartsWith("zones/a.zone:2: unknown directive '$GENERATE'"));
  CHECK_THAT(error_of("$TTL\n"), StartsWith("zones/a.zone:1: $TTL needs a value"));
  CHECK_THAT(error_of("$TTL 1 2\n"), StartsWith("zones/a.zone:1: unexpected '2' after $TTL 1"));
  CHECK_THAT(error_of("   TXT \"x\"\n"), StartsWith("zones/a.zone:1: record without an owner name"));
  CHECK_THAT(error_of("www TXT \"x\"\n"), StartsWith("zones/a.zone:1: relative name 'www' with no $ORIGIN"));
  CHECK_THAT(error_of("@ TXT \"x\"\n"), StartsWith("zones/a.zone:1: '@' used before any $ORIGIN"));
  CHECK_THAT(error_of(o + "a..b TXT x\n"), StartsWith("zones/a.zone:2: empty label in name 'a..b'"));
  CHECK_THAT(error_of(o + std::string(64, 'l') + " TXT x\n"),
             StartsWith("zones/a.zone:2: label of 64 bytes"));
  CHECK_THAT(error_of(o + "a 99999999999 TXT x\n"), StartsWith("zones/a.zone:2: invalid TTL '99999999999'"));
  CHECK_THAT(error_of(o + "a 1x TXT x\n"), StartsWith("zones/a.zone:2: invalid TTL '1x'"));
  CHECK_THAT(error_of(o + "a CH TXT x\n"), StartsWith("zones/a.zone:2: class 'CH' is not supported"));
  CHECK_THAT(error_of(o + "a 300 IN\n"),
             StartsWith("zones/a.zone:2: missing record type after 'a.example.com.'"));
  CHECK_THAT(error_of(o + "a TXY \"x\"\n"), StartsWith("zones/a.zone:2: unknown record type 'TXY'"));
  CHECK_THAT(error_of(o + "a \"TXT\" x\n"), StartsWith("zones/a.zone:2: expected a record type"));
  CHECK_THAT(error_of(o + "a TXT\n"), StartsWith("zones/a.zone:2: TXT record without text"));
  CHECK_THAT(error_of(o + "a A 192.0.2.300\n"),
             StartsWith("zones/a.zone:2: invalid IPv4 address '192.0.2.300'"));
  CHECK_THAT(error_of(o + "a A 2001:db8::1\n"), StartsWith("zones/a.zone:2: invalid IPv4 address"));
  CHECK_THAT(error_of(o + "a AAAA 192.0.2.1\n"), StartsWith("zones/a.zone:2: invalid IPv6 address"));
  CHECK_THAT(error_of(o + "a A\n"),
             StartsWith("zones/a.zone:2: incomplete A record (write: A IPV4-ADDRESS)"));
  CHECK_THAT(error_of(o + "a A 192.0.2.1 192.0.2.2\n"), StartsWith("zones/a.zone:2: unexpected '192.0.2.2'"));
  CHECK_THAT(error_of(o + "a MX 70000 mail\n"), StartsWith("zones/a.zone:2: invalid MX preference '70000'"));
  CHECK_THAT(error_of(o + "a MX 10\n"), StartsWith("zones/a.zone:2: incomplete MX record"));
  CHECK_THAT(error_of(o + "a CNAME \"b\"\n"),
             Equals("zones/a.zone:2: CNAME target 'b' cannot be a quoted string"));
  CHECK_THAT(error_of(o + "@ SOA ns host (\n 1 2 3 4 )\n"),
             StartsWith("zones/a.zone:3: incomplete SOA record"));
  CHECK_THAT(error_of(o + "@ SOA ns host x 2 3 4 5\n"), StartsWith("zones/a.zone:2: invalid SOA serial 'x'"));
  CHECK_THAT(error_of(o + "a TXT ( \"x\"\n \"y ) \n"),
             StartsWith("zones/a.zone:3: unterminated quoted string in TXT record"));
}

TEST_CASE("load_zone_file reports unreadable files and names the path in parse errors", "[dns][zone]") {
  CHECK_THROWS_WITH(load_zone_file("/nonexistent/z.zone"),
                    Catch::Matchers::StartsWith("cannot read zone file '/nonexistent/z.zone'"));
  const auto path =
      std::filesystem::temp_directory_path() / ("spfctl-test-bad-" + std::to_string(getpid()) + ".zone");
  {
    std::ofstream out(path);
    out << "$ORIGIN example.com.\n\nx TXT \"open\n";
  }
  CHECK_THROWS_WITH(load_zone_file(path),
                    path.string() + ":3: unterminated quoted string in TXT record (close it with \")");
  std::filesystem::remove(path);
}

TEST_CASE("TXT values render as master-file text that parses back to the same bytes", "[dns][zone]") {
  CHECK(render_character_string("v=spf1 -all") == "\"v=spf1 -all\"");
  CHECK(render_character_string("a\"b\\c") == "\"a\\\"b\\\\c\"");
  CHECK(render_character_string(std::string("\x00\x1f\x7f\x80\xff;", 6)) == "\"\\000\\031\\127\\128\\255;\"");
  CHECK(render_txt_rdata({"one", "two"}) == "\"one\" \"two\"");

  std::string every_byte;
  for (int b = 0; b < 256; ++b) every_byte += static_cast<char>(b);
  const std::vector<std::string> value = {every_byte.substr(0, 200), every_byte.substr(200), "x y"};
  const auto zone = parse("x. TXT " + render_txt_rdata(value) + "\n");
  REQUIRE(zone.records.size() == 1);
  CHECK(strings_of(zone.records[0]) == value);
}

TEST_CASE("the real-world zone parses completely, keeping multi-string TXT records", "[dns][zone]") {
  const std::filesystem::path path =
      std::filesystem::path(SPFCTL_DEFAULT_SPF_SUITE).parent_path() / "realworld.zone";
  const auto zone = load_zone_file(path);
  CHECK(zone.skipped.empty());

  // Every record entry in the file: lines that start with a name (not a comment, directive or
  // continuation).
  std::ifstream in(path);
  std::string line;
  std::size_t entries = 0;
  while (std::getline(in, line)) {
    if (!line.empty() && line[0] != ';' && line[0] != '$' && line[0] != '\t' && line[0] != ' ') ++entries;
  }
  CHECK(zone.records.size() == entries);
  CHECK(entries > 30);

  const ZoneRecord* github = nullptr;
  const ZoneRecord* secureserver = nullptr;
  for (const auto& record : zone.records) {
    CHECK(record.ttl == 300);
    if (record.owner == "github.com") github = &record;
    if (record.owner == "spf-0.secureserver.net") secureserver = &record;
  }
  REQUIRE(github != nullptr);
  REQUIRE(strings_of(*github).size() == 2);
  CHECK(strings_of(*github)[0].ends_with("ip4:166.78.69.169 ip4:1"));
  CHECK(strings_of(*github)[1].starts_with("66.78.69.170 "));
  CHECK(github->source.last_line == github->source.first_line + 1);
  REQUIRE(secureserver != nullptr);
  CHECK(strings_of(*secureserver).size() == 3);
  for (const auto& s : strings_of(*secureserver)) CHECK(s.size() <= 255);
}
