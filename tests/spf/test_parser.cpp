#include <catch2/catch.hpp>
#include <filesystem>
#include <string>

#include "spf/parser.hpp"
#include "spf/select.hpp"
#include "tests/support/spf_suite.hpp"

using namespace spfctl;
using namespace spfctl::spf;

namespace {

Record parse_ok(std::string_view text) {
  const ParseResult parsed = parse_record(text);
  INFO("record: " << text);
  if (!parsed) INFO("error: " << parsed.error().message);
  REQUIRE(parsed.ok());
  return parsed.record();
}

ParseError parse_error(std::string_view text) {
  const ParseResult parsed = parse_record(text);
  INFO("record: " << text);
  REQUIRE_FALSE(parsed.ok());
  return parsed.error();
}

const Mechanism& mechanism_at(const Record& record, std::size_t index) {
  REQUIRE(index < record.terms.size());
  REQUIRE(record.terms[index].mechanism());
  return *record.terms[index].mechanism();
}

// Every error names the bad term; the message is checked for the words that say what is wrong.
void check_error(std::string_view text, std::string_view term, std::string_view words) {
  const ParseError error = parse_error(text);
  INFO("record: " << text << "\nmessage: " << error.message);
  CHECK(error.term == term);
  CHECK(text.substr(error.offset, error.length) == term);
  CHECK(error.message.find(words) != std::string::npos);
}

void check_round_trip(const std::string& text) {
  const ParseResult parsed = parse_record(text);
  if (!parsed) return;  // invalid records have nothing to print
  const std::string printed = to_string(parsed.record());
  INFO("record: " << printable(text) << "\nprinted: " << printed);
  const ParseResult reparsed = parse_record(printed);
  REQUIRE(reparsed.ok());
  CHECK(reparsed.record() == parsed.record());
  CHECK(to_string(reparsed.record()) == printed);
}

}  // namespace

TEST_CASE("parser reads every mechanism with its arguments", "[spf][parser]") {
  const Record record = parse_ok(
      "v=spf1 all include:_spf.example.com a a:mail.example.com a/24 a:%{d}//64 mx mx:mx.example.com/24//64 "
      "ptr "
      "ptr:example.org ip4:192.0.2.0/24 ip4:192.0.2.1 ip6:2001:DB8::/32 ip6:::1 exists:%{i}._spf.%{d}");
  REQUIRE(record.terms.size() == 15);
  CHECK(mechanism_at(record, 0).kind == MechanismKind::all);
  CHECK(mechanism_at(record, 1).kind == MechanismKind::include);
  CHECK(mechanism_at(record, 1).domain == "_spf.example.com");
  CHECK(mechanism_at(record, 2).kind == MechanismKind::a);
  CHECK_FALSE(mechanism_at(record, 2).domain);
  CHECK(mechanism_at(record, 3).domain == "mail.example.com");
  CHECK(mechanism_at(record, 4).cidr4 == 24);
  CHECK_FALSE(mechanism_at(record, 4).cidr6);
  CHECK(mechanism_at(record, 5).domain == "%{d}");
  CHECK_FALSE(mechanism_at(record, 5).cidr4);
  CHECK(mechanism_at(record, 5).cidr6 == 64);
  CHECK(mechanism_at(record, 6).kind == MechanismKind::mx);
  const Mechanism& mx = mechanism_at(record, 7);
  CHECK(mx.domain == "mx.example.com");
  CHECK(mx.cidr4 == 24);
  CHECK(mx.cidr6 == 64);
  CHECK(mechanism_at(record, 8).kind == MechanismKind::ptr);
  CHECK(mechanism_at(record, 9).domain == "example.org");
  const Mechanism& ip4 = mechanism_at(record, 10);
  CHECK(ip4.kind == MechanismKind::ip4);
  CHECK(ip4.network == *net::IpAddress::parse("192.0.2.0"));
  CHECK(ip4.cidr4 == 24);
  CHECK_FALSE(mechanism_at(record, 11).cidr4);
  const Mechanism& ip6 = mechanism_at(record, 12);
  CHECK(ip6.network == *net::IpAddress::parse("2001:db8::"));
  CHECK(ip6.cidr6 == 32);
  CHECK(mechanism_at(record, 13).network == *net::IpAddress::parse("::1"));
  CHECK(mechanism_at(record, 14).kind == MechanismKind::exists);
  CHECK(mechanism_at(record, 14).domain == "%{i}._spf.%{d}");
}

TEST_CASE("parser reads qualifiers, keywords in any case, and extra spaces", "[spf][parser]") {
  const Record record = parse_ok("V=SpF1  +A  -MX:Example.COM   ~Include:x.example.com ?ALL  ");
  REQUIRE(record.terms.size() == 4);
  CHECK(mechanism_at(record, 0).qualifier == Qualifier::pass);
  CHECK(mechanism_at(record, 0).explicit_qualifier);
  CHECK(mechanism_at(record, 1).qualifier == Qualifier::fail);
  CHECK(mechanism_at(record, 1).kind == MechanismKind::mx);
  CHECK(mechanism_at(record, 1).domain == "Example.COM");  // domains keep their case
  CHECK(mechanism_at(record, 2).qualifier == Qualifier::softfail);
  CHECK(mechanism_at(record, 3).qualifier == Qualifier::neutral);
  CHECK(record.terms[0].offset == 8);
  CHECK(record.terms[1].offset == 12);
  CHECK_FALSE(mechanism_at(parse_ok("v=spf1 a"), 0).explicit_qualifier);
  CHECK(parse_ok("v=spf1").terms.empty());
  CHECK(parse_ok("v=spf1 ").terms.empty());
}

TEST_CASE("parser keeps modifiers, known and unknown", "[spf][parser]") {
  const Record record = parse_ok(
      "v=spf1 -all REDIRECT=_spf.example.com exp=explain.%{d} moo.cow-far_out=man:dog/cat default=+ x=");
  REQUIRE(record.terms.size() == 6);
  REQUIRE(record.redirect());
  CHECK(record.redirect()->value == "_spf.example.com");
  CHECK(record.redirect()->name == "redirect");
  REQUIRE(record.exp());
  CHECK(record.exp()->value == "explain.%{d}");
  REQUIRE(record.terms[3].modifier());
  CHECK(record.terms[3].modifier()->name == "moo.cow-far_out");
  CHECK(record.terms[3].modifier()->value == "man:dog/cat");
  CHECK(record.terms[4].modifier()->value == "+");
  CHECK(record.terms[5].modifier()->value.empty());
  CHECK_FALSE(parse_ok("v=spf1 -all").redirect());
  CHECK_FALSE(parse_ok("v=spf1 -all").exp());
}

TEST_CASE("parser accepts the domain-specs RFC 7208 allows", "[spf][parser]") {
  parse_ok("v=spf1 a:foo.example.xn--zckzah");          // a dash in the top label
  parse_ok("v=spf1 a:foo:bar/baz.example.com");         // any visible character before it
  parse_ok("v=spf1 a:mail.example.com.");               // one trailing dot
  parse_ok("v=spf1 a:mail.example...com");              // empty labels are a matter for evaluation
  parse_ok("v=spf1 a:123-456.example.1-2");             // an all-digit label with a dash
  parse_ok("v=spf1 exists:%{l}%%%_%-.example.com");     // %% %_ %- are fine
  parse_ok("v=spf1 a:%{H} exists:%{ir}.%{v}.%{d2}");    // ending in a macro
  parse_ok("v=spf1 exists:%{l1r+-=,/_.}.example.com");  // every delimiter
  parse_ok("v=spf1 exists:%{D}.%{S}.%{L}.%{O}.%{I}.%{P}.%{V}.%{H}.example.com");
}

TEST_CASE("parser rejects a record that does not start with v=spf1", "[spf][parser]") {
  check_error("v=spf10 -all", "v=spf10", "not an SPF record");
  check_error("spf1 -all", "spf1", "not an SPF record");
  check_error("", "", "not an SPF record");
  check_error("v=spf1\t-all", "v=spf1\t-all", "not an SPF record");
}

TEST_CASE("parser rejects non-ASCII bytes and control characters", "[spf][parser]") {
  check_error("v=spf1 a:\xEF\xBB\xBFgarbage.example.net -all", "a:\xEF\xBB\xBFgarbage.example.net",
              "non-ASCII");
  check_error(
      "v=spf1 a:example.net \x96"
      "all",
      "\x96"
      "all",
      "non-ASCII");
  check_error("v=spf1 a:ctrl.example.com\rptr -all", "a:ctrl.example.com\rptr", "separated by spaces only");
  check_error("v=spf1 ip4:192.0.2.5\n include:x.example.com", "ip4:192.0.2.5\n", "control character");
  check_error(std::string_view("v=spf1 a:foo.example.com\0", 25), std::string_view("a:foo.example.com\0", 18),
              "control character");
}

TEST_CASE("parser rejects unknown and malformed mechanisms", "[spf][parser]") {
  check_error("v=spf1 foo:bar -all", "foo:bar", "unknown mechanism 'foo:bar'");
  check_error("v=spf1 ip4:1.2.3.4 -all moo", "moo", "unknown mechanism 'moo'");
  check_error("v=spf1 -all.", "-all.", "unknown mechanism");
  check_error("v=spf1 moo.cow/far_out=man:dog/cat", "moo.cow/far_out=man:dog/cat", "unknown mechanism");
  check_error("v=spf1 moo.cow:far_out=man:dog/cat", "moo.cow:far_out=man:dog/cat", "unknown mechanism");
  check_error("v=spf1 redirect:t2.example.com", "redirect:t2.example.com", "did you mean 'redirect='");
  check_error("v=spf1 -all:foobar", "-all:foobar", "'all' takes no domain");
  check_error("v=spf1 -all/8", "-all/8", "'all' takes no domain");
  check_error("v=spf1 include +all", "include", "include needs a domain");
  check_error("v=spf1 exists", "exists", "exists needs a domain");
  check_error("v=spf1 include:ip5.example.com/24", "include:ip5.example.com/24", "takes no CIDR length");
  check_error("v=spf1 exists:mail.example.com/24", "exists:mail.example.com/24", "takes no CIDR length");
  check_error("v=spf1 ptr/0 -all", "ptr/0", "takes no CIDR length");
  check_error("v=spf1 ip4", "ip4", "ip4 needs an address");
  check_error("v=spf1 -all ip6", "ip6", "ip6 needs an address");
}

TEST_CASE("parser rejects empty and invalid domain-specs", "[spf][parser]") {
  check_error("v=spf1 a:", "a:", "needs a domain");
  check_error("v=spf1 ptr:", "ptr:", "needs a domain");
  check_error("v=spf1 include: -all", "include:", "needs a domain");
  check_error("v=spf1 exists:", "exists:", "needs a domain");
  check_error("v=spf1 mx: -all", "mx:", "needs a domain");
  check_error("v=spf1 a:foo-bar -all", "a:foo-bar", "must end in a dot and a top-level label");
  check_error("v=spf1 a:museum", "a:museum", "top-level label");
  check_error("v=spf1 a:museum.", "a:museum.", "top-level label");
  check_error("v=spf1 a:111.222.33.44", "a:111.222.33.44", "all digits");
  check_error("v=spf1 mx:abc.123", "mx:abc.123", "all digits");
  check_error("v=spf1 a:example.-com", "a:example.-com", "may not begin or end with '-'");
  check_error("v=spf1 a:example.com:8080", "a:example.com:8080", "only letters, digits and '-'");
  check_error("v=spf1 a:example.com..", "a:example.com..", "top-level label is empty");
  check_error("v=spf1 a:%{d}com", "a:%{d}com", "must end in a dot");
}

TEST_CASE("parser checks addresses and CIDR lengths", "[spf][parser]") {
  check_error("v=spf1 ip4:1.2.3.4/33 -all", "ip4:1.2.3.4/33", "ip4 CIDR length 33 out of range (0-32)");
  check_error("v=spf1 ip4:1.2.3.4/032", "ip4:1.2.3.4/032", "leading zero");
  check_error("v=spf1 ip4:1.2.3.4/", "ip4:1.2.3.4/", "missing");
  check_error("v=spf1 ip4:1.2.3.4//32", "ip4:1.2.3.4//32", "one CIDR length");
  check_error("v=spf1 ip4:1.2.3", "ip4:1.2.3", "invalid IPv4 address '1.2.3'");
  check_error("v=spf1 ip4:1.2.3.4:8080", "ip4:1.2.3.4:8080", "invalid IPv4 address");
  check_error("v=spf1 ip4:1.2.03.4", "ip4:1.2.03.4", "invalid IPv4 address");
  check_error("v=spf1 ip4:1.2.3.256", "ip4:1.2.3.256", "invalid IPv4 address");
  check_error("v=spf1 ip4:::1", "ip4:::1", "invalid IPv4 address");
  check_error("v=spf1 ip6:::1.1.1.1/129", "ip6:::1.1.1.1/129", "ip6 CIDR length 129 out of range (0-128)");
  check_error("v=spf1 ip6:::1.1.1.1//33", "ip6:::1.1.1.1//33", "one CIDR length");
  check_error("v=spf1 ip6::CAFE::BABE", "ip6::CAFE::BABE", "invalid IPv6 address");
  check_error("v=spf1 ip6:192.0.2.1", "ip6:192.0.2.1", "invalid IPv6 address");
  check_error("v=spf1 a/33 -all", "a/33", "a IPv4 CIDR length 33 out of range (0-32)");
  check_error("v=spf1 mx//129 -all", "mx//129", "mx IPv6 CIDR length 129 out of range (0-128)");
  check_error("v=spf1 a/24/64 -all", "a/24/64", "'//'");
  check_error("v=spf1 a:foo.example.com/024", "a:foo.example.com/024", "leading zero");
  check_error("v=spf1 a/99999999999", "a/99999999999", "out of range");
  const Record zero = parse_ok("v=spf1 ip4:0.0.0.0/0 ip6:::/0 a/0//0");
  CHECK(mechanism_at(zero, 0).cidr4 == 0);
  CHECK(mechanism_at(zero, 1).cidr6 == 0);
  CHECK(mechanism_at(zero, 2).cidr4 == 0);
  CHECK(mechanism_at(zero, 2).cidr6 == 0);
}

TEST_CASE("parser checks modifiers", "[spf][parser]") {
  check_error("v=spf1 exp=a.example.com -all exp=b.example.com", "exp=b.example.com", "more than once");
  check_error("v=spf1 redirect=a.example.com redirect=a.example.com", "redirect=a.example.com",
              "more than once");
  check_error("v=spf1 ?all redirect=", "redirect=", "redirect= needs a domain");
  check_error("v=spf1 exp= -all", "exp=", "exp= needs a domain");
  check_error("v=spf1 exp=-all", "exp=-all", "must end in a dot");
  check_error("v=spf1 redirect=-all ?all", "redirect=-all", "must end in a dot");
  check_error("v=spf1 1up=foo", "1up=foo", "invalid modifier name '1up'");
  check_error("v=spf1 =all", "=all", "modifier name missing");
  check_error("v=spf1 -redirect=x.example.com", "-redirect=x.example.com", "takes no qualifier");
  check_error("v=spf1 -all foo=%abc", "foo=%abc", "'%' must be followed by");
}

TEST_CASE("parser checks macros", "[spf][parser]") {
  check_error("v=spf1 -exists:%(ir).sbl.example.com ?all", "-exists:%(ir).sbl.example.com",
              "'%' must be followed");
  check_error("v=spf1 exists:foo%.sbl.example.com", "exists:foo%.sbl.example.com", "'%' must be followed");
  check_error("v=spf1 a:%{a}.example.com -all", "a:%{a}.example.com", "unknown macro letter 'a'");
  check_error("v=spf1 -all exp=%{r}.example.com", "exp=%{r}.example.com", "only in explanation text");
  check_error("v=spf1 exists:%{c}.example.com", "exists:%{c}.example.com", "only in explanation text");
  check_error("v=spf1 exists:%{T}.example.com", "exists:%{T}.example.com", "only in explanation text");
  check_error("v=spf1 exists:%{d0}.example.com", "exists:%{d0}.example.com", "zero parts");
  check_error("v=spf1 exists:%{d2*}.example.com", "exists:%{d2*}.example.com", "invalid character '*'");
  check_error("v=spf1 exists:%{d.example.com", "exists:%{d.example.com", "unterminated");
  check_error("v=spf1 exists:%{}.example.com", "exists:%{}.example.com", "empty macro");
  check_error("v=spf1 x=%{t}", "x=%{t}", "only in explanation text");
}

TEST_CASE("parse errors print with a caret line under the term", "[spf][parser]") {
  const std::string text = "v=spf1 ip4:192.0.2.1/33 -all";
  CHECK(format_parse_error(text, parse_error(text)) ==
        "ip4 CIDR length 33 out of range (0-32) in 'ip4:192.0.2.1/33'\n"
        "v=spf1 ip4:192.0.2.1/33 -all\n"
        "       ^~~~~~~~~~~~~~~~");
  const std::string hosed =
      "v=spf1 a:\xEF"
      "b.example.net -all";
  CHECK(format_parse_error(hosed, parse_error(hosed)) ==
        "non-ASCII byte '\\xEF' in 'a:\\xEFb.example.net' (SPF records are ASCII only)\n"
        "v=spf1 a:\\xEFb.example.net -all\n"
        "       ^~~~~~~~~~~~~~~~~~~");
  const std::string last = "v=spf1 -all x";
  CHECK(format_parse_error(last, parse_error(last)) ==
        "unknown mechanism 'x'\n"
        "v=spf1 -all x\n"
        "            ^");
}

TEST_CASE("printer writes records that parse back to the same record", "[spf][parser]") {
  CHECK(to_string(parse_ok("V=SPF1  +A:Example.COM/24//64   MX//0 ?ptr ~exists:%{i}.x.com IP4:10.0.0.0/8 "
                           "ip6:2001:DB8::/32 ReDiReCt=x.com exp=e.%{d} moo=a:b  ")) ==
        "v=spf1 +a:Example.COM/24//64 mx//0 ?ptr ~exists:%{i}.x.com ip4:10.0.0.0/8 ip6:2001:db8::/32 "
        "redirect=x.com exp=e.%{d} moo=a:b");
  for (const char* text :
       {"v=spf1", "v=spf1 -all", "v=spf1 a/0 mx//0 ptr:x.example.com ip6:::1/128 ip4:1.2.3.4/32",
        "v=spf1 include:%{d2}._spf.example.com. exists:%{l1r-}.%{I}.x.example ~all"})
    check_round_trip(text);

  Record built;
  Mechanism mechanism;
  mechanism.kind = MechanismKind::ip6;
  mechanism.network = *net::IpAddress::parse("2001:db8::");
  mechanism.cidr6 = 48;
  built.terms.push_back(Term{mechanism, 0});
  built.terms.push_back(Term{Modifier{"redirect", "_spf.example.com"}, 0});
  CHECK(to_string(built) == "v=spf1 ip6:2001:db8::/48 redirect=_spf.example.com");
  CHECK(parse_ok(to_string(built)) == built);
}

TEST_CASE("printer round-trips every record of the suite and of realworld.zone", "[spf][parser]") {
  const std::string suite_file = test_support::suite_path();
  if (suite_file.empty() || !std::filesystem::exists(suite_file)) {
    WARN("skipped: RFC 7208 suite not found at " << suite_file << " (set SPFCTL_SPF_SUITE)");
    return;
  }
  int valid = 0;
  for (const test_support::SuiteScenario& scenario : test_support::load_suite(suite_file))
    for (const test_support::SuiteName& name : scenario.zonedata)
      for (const test_support::SuiteRecord& record : name.records) {
        std::string joined;
        for (const std::string& piece : record.strings) joined += piece;
        if (!is_spf_record(joined)) continue;
        valid += parse_record(joined).ok() ? 1 : 0;
        check_round_trip(joined);
      }
  CHECK(valid > 100);

  const std::string zone = (std::filesystem::path(suite_file).parent_path() / "realworld.zone").string();
  if (!std::filesystem::exists(zone)) {
    WARN("skipped: realworld.zone not found at " << zone);
    return;
  }
  int spf_records = 0;
  for (const auto& [owner, strings] : test_support::master_file_txt_records(zone)) {
    std::string joined;
    for (const std::string& piece : strings) joined += piece;
    if (!is_spf_record(joined)) continue;
    ++spf_records;
    INFO(owner << ": " << joined);
    CHECK(parse_record(joined).ok());
    check_round_trip(joined);
  }
  CHECK(spf_records > 20);
}

TEST_CASE("a record parsed again is shared, within a bound", "[spf][parser]") {
  const std::string text = "v=spf1 include:_spf.google.com ip4:192.0.2.0/24 -all";
  const auto first = spfctl::spf::parse_record_shared(text);
  const auto again = spfctl::spf::parse_record_shared(text);
  CHECK(first == again);  // parsed once
  REQUIRE(first->ok());
  CHECK(first->record().terms.size() == spfctl::spf::parse_record(text).record().terms.size());
  // A bad record is shared with its error.
  const auto bad = spfctl::spf::parse_record_shared("v=spf1 include -all");
  REQUIRE_FALSE(bad->ok());
  CHECK(bad->error().message == spfctl::spf::parse_record("v=spf1 include -all").error().message);
  // Texts beyond the size kept are parsed each time, never kept.
  const std::string long_text = "v=spf1 " + std::string(spfctl::spf::k_parse_cache_text_bytes, 'a') + " -all";
  CHECK(spfctl::spf::parse_record_shared(long_text) != spfctl::spf::parse_record_shared(long_text));
}
