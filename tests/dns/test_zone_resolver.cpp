#include <unistd.h>

#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>

#include "dns/zone_resolver.hpp"
#include "error.hpp"

using namespace spfctl::dns;
using spfctl::net::IpAddress;

namespace {

ZoneResolver resolver_for(std::string_view text) {
  return ZoneResolver({parse_zone(text, "test.zone")});
}

const char* const k_zone =
    "$ORIGIN example.com.\n"
    "$TTL 300\n"
    "@          SOA ns1 hostmaster 1 3600 600 86400 60\n"
    "@          NS  ns1\n"
    "@          TXT \"v=spf1 include:_spf.example.com -all\"\n"
    "@          TXT \"site-verification=abc\"\n"
    "@          MX  10 mail\n"
    "mail       A   192.0.2.25\n"
    "mail       AAAA 2001:db8::25\n"
    "a._spf     TXT \"v=spf1 ip4:192.0.2.0/24\" \" -all\"\n"
    "alias  60  CNAME mail\n"
    "dangling   CNAME missing\n"
    "srv-only   SRV 0 5 5060 sip\n"
    "old        SPF \"v=spf1 -all\"\n"
    "25.2.0.192.in-addr.arpa. PTR mail\n";

}  // namespace

TEST_CASE("zone resolver answers the records of the files", "[dns][zone-resolver]") {
  auto resolver = resolver_for(k_zone);

  const Answer apex = resolver.query("Example.COM.", RrType::TXT);
  CHECK(apex.status == Status::ok);
  CHECK(apex.txt == std::vector<std::vector<std::string>>{{"v=spf1 include:_spf.example.com -all"},
                                                          {"site-verification=abc"}});
  CHECK(apex.ttl == 300);

  const Answer split = resolver.query("a._spf.example.com", RrType::TXT);
  CHECK(split.txt == std::vector<std::vector<std::string>>{{"v=spf1 ip4:192.0.2.0/24", " -all"}});

  CHECK(resolver.query("example.com", RrType::MX).mx == std::vector<MxRecord>{{10, "mail.example.com"}});
  CHECK(resolver.query("mail.example.com", RrType::A).addresses ==
        std::vector<IpAddress>{*IpAddress::parse("192.0.2.25")});
  CHECK(resolver.query("mail.example.com", RrType::AAAA).addresses ==
        std::vector<IpAddress>{*IpAddress::parse("2001:db8::25")});
  CHECK(resolver.query("25.2.0.192.in-addr.arpa", RrType::PTR).names ==
        std::vector<std::string>{"mail.example.com"});
  CHECK(resolver.query("old.example.com", RrType::SPF).txt ==
        std::vector<std::vector<std::string>>{{"v=spf1 -all"}});
  CHECK(resolver.queries_sent() == 7);
}

TEST_CASE("zone resolver tells NXDOMAIN from NODATA, empty non-terminals included", "[dns][zone-resolver]") {
  auto resolver = resolver_for(k_zone);
  CHECK(resolver.query("nothere.example.com", RrType::TXT).status == Status::nxdomain);
  CHECK(resolver.query("mail.example.com", RrType::TXT).status == Status::nodata);
  CHECK(resolver.query("example.com", RrType::A).status == Status::nodata);
  // _spf.example.com exists only because a._spf.example.com does (RFC 8020).
  CHECK(resolver.query("_spf.example.com", RrType::TXT).status == Status::nodata);
  CHECK(resolver.query("x._spf.example.com", RrType::TXT).status == Status::nxdomain);
  // A name holding only a type spfctl skips still exists.
  CHECK(resolver.query("srv-only.example.com", RrType::TXT).status == Status::nodata);
  // Names above the apex of the file's SOA are not in the files.
  CHECK(resolver.query("com", RrType::TXT).status == Status::nxdomain);
  CHECK(resolver.query("example.org", RrType::TXT).status == Status::nxdomain);
}

TEST_CASE("zone resolver without an SOA makes every ancestor up to the TLD exist", "[dns][zone-resolver]") {
  auto resolver = resolver_for("deep.sub.example.net. TXT \"x\"\n");
  CHECK(resolver.query("deep.sub.example.net", RrType::TXT).status == Status::ok);
  CHECK(resolver.query("sub.example.net", RrType::TXT).status == Status::nodata);
  CHECK(resolver.query("example.net", RrType::TXT).status == Status::nodata);
  CHECK(resolver.query("net", RrType::TXT).status == Status::nodata);
  CHECK(resolver.query("other.net", RrType::TXT).status == Status::nxdomain);
}

TEST_CASE("zone resolver follows CNAMEs within the files", "[dns][zone-resolver]") {
  auto resolver = resolver_for(k_zone);
  const Answer a = resolver.query("alias.example.com", RrType::A);
  CHECK(a.status == Status::ok);
  CHECK(a.addresses == std::vector<IpAddress>{*IpAddress::parse("192.0.2.25")});
  CHECK(a.ttl == 60);  // the CNAME's TTL is the smallest in the answer
  CHECK(resolver.query("alias.example.com", RrType::TXT).status == Status::nodata);
  CHECK(resolver.query("alias.example.com", RrType::CNAME).names ==
        std::vector<std::string>{"mail.example.com"});
  CHECK(resolver.query("dangling.example.com", RrType::TXT).status == Status::nxdomain);
}

TEST_CASE("zone resolver loads several files and reports unreadable ones", "[dns][zone-resolver]") {
  const auto dir = std::filesystem::temp_directory_path();
  const std::string pid = std::to_string(getpid());
  const auto first = dir / ("spfctl-test-first-" + pid + ".zone");
  const auto second = dir / ("spfctl-test-second-" + pid + ".zone");
  std::ofstream(first) << "$ORIGIN example.com.\n@ TXT \"one\"\nlink CNAME target.example.net.\n";
  std::ofstream(second) << "$ORIGIN example.net.\ntarget TXT \"two\"\n";
  ZoneResolver resolver({first, second});
  CHECK(resolver.query("example.com", RrType::TXT).txt == std::vector<std::vector<std::string>>{{"one"}});
  CHECK(resolver.query("link.example.com", RrType::TXT).txt ==
        std::vector<std::vector<std::string>>{{"two"}});
  std::filesystem::remove(first);
  std::filesystem::remove(second);

  CHECK_THROWS_AS(ZoneResolver({dir / "spfctl-test-missing.zone"}), spfctl::Error);
}
