#include <catch2/catch.hpp>
#include <string>

#include "dns/memory_resolver.hpp"
#include "spf/evaluator.hpp"

using namespace spfctl;
using namespace spfctl::spf;

namespace {

net::IpAddress ip(const char* text) {
  return *net::IpAddress::parse(text);
}

struct Zone {
  dns::MemoryResolver dns;

  void spf(const char* name, const char* record) { dns.add_txt(name, {record}); }

  CheckHostResult check(const char* client, const std::string& sender = "user@example.com",
                        const std::string& helo = "mta.example.org", CheckHostOptions options = {}) {
    options.timestamp = 1700000000;
    return check_host(dns, {ip(client), sender, helo, ""}, options);
  }
};

bool mentions(const std::string& text, const std::string& words) {
  return text.find(words) != std::string::npos;
}

}  // namespace

TEST_CASE("ip4 and ip6 match the client's family with their CIDR lengths", "[spf][evaluator]") {
  Zone zone;
  zone.spf("example.com", "v=spf1 ip4:192.0.2.0/24 ip6:2001:db8::/32 -all");
  CheckHostResult result = zone.check("192.0.2.77");
  CHECK(result.result == Result::pass);
  CHECK(result.mechanism == "ip4:192.0.2.0/24");
  CHECK(result.domain == "example.com");
  CHECK(result.lookups == 0);
  CHECK(zone.check("192.0.3.1").result == Result::fail);
  CHECK(zone.check("2001:db8:ffff::1").result == Result::pass);
  CHECK(zone.check("2001:db9::1").result == Result::fail);
  CHECK(zone.check("::ffff:192.0.2.1").result == Result::pass);  // IPv4-mapped: checked as IPv4
  zone.spf("v6.example.com", "v=spf1 ip6:::ffff:192.0.2.1 -all");
  CHECK(zone.check("::ffff:192.0.2.1", "u@v6.example.com").result == Result::fail);
}

TEST_CASE("a and mx use the address family of the client and dual CIDR lengths", "[spf][evaluator]") {
  Zone zone;
  zone.spf("example.com", "v=spf1 a/24//64 mx:mail.example.com -all");
  zone.dns.add_address("example.com", ip("192.0.2.1"));
  zone.dns.add_address("example.com", ip("2001:db8:1::1"));
  zone.dns.add_mx("mail.example.com", 10, "mx1.example.com");
  zone.dns.add_mx("mail.example.com", 20, "mx2.example.com");
  zone.dns.add_address("mx2.example.com", ip("198.51.100.7"));
  zone.dns.add_address("mx2.example.com", ip("2001:db8:2::7"));
  CHECK(zone.check("192.0.2.200").result == Result::pass);
  CHECK(zone.check("2001:db8:1::ffff").result == Result::pass);
  CHECK(zone.check("2001:db8:1:1::1").result == Result::fail);
  const CheckHostResult mx = zone.check("198.51.100.7");
  CHECK(mx.result == Result::pass);
  CHECK(mx.mechanism == "mx:mail.example.com");
  CHECK(mx.lookups == 2);
  CHECK(zone.check("2001:db8:2::7").result == Result::pass);
  CHECK(zone.check("198.51.100.8").result == Result::fail);
}

TEST_CASE("mx with more than 10 names is a permerror; a null MX names nobody", "[spf][evaluator]") {
  Zone zone;
  zone.spf("example.com", "v=spf1 mx -all");
  for (int i = 0; i < 11; ++i)
    zone.dns.add_mx("example.com", static_cast<std::uint16_t>(i), "mx" + std::to_string(i) + ".example.com");
  const CheckHostResult result = zone.check("192.0.2.1");
  CHECK(result.result == Result::permerror);
  CHECK(mentions(result.problem, "11 MX records (more than 10)"));
  CheckHostOptions options;
  options.mx_limit = 11;
  CHECK(zone.check("192.0.2.1", "user@example.com", "h.example", options).result == Result::fail);

  zone.spf("null.example.com", "v=spf1 mx");
  zone.dns.add_mx("null.example.com", 0, ".");
  CHECK(zone.check("192.0.2.1", "u@null.example.com").result == Result::neutral);
}

TEST_CASE("ptr matches validated names only; a failed PTR lookup does not match", "[spf][evaluator]") {
  Zone zone;
  zone.spf("example.com", "v=spf1 ptr -all");
  zone.dns.add_ptr("1.2.0.192.in-addr.arpa", "mail.example.com");
  zone.dns.add_address("mail.example.com", ip("192.0.2.1"));
  zone.dns.add_ptr("2.2.0.192.in-addr.arpa", "forged.example.com");  // no matching A record
  zone.dns.add_ptr("3.2.0.192.in-addr.arpa", "mail.example.net");
  zone.dns.add_address("mail.example.net", ip("192.0.2.3"));
  CHECK(zone.check("192.0.2.1").result == Result::pass);
  CHECK(zone.check("192.0.2.2").result == Result::fail);
  CHECK(zone.check("192.0.2.3").result == Result::fail);  // validated, but not under example.com
  zone.dns.set_failure("4.2.0.192.in-addr.arpa", dns::RrType::PTR, dns::Status::servfail);
  CHECK(zone.check("192.0.2.4").result == Result::fail);
}

TEST_CASE("exists asks for A records and fails temporarily on DNS errors", "[spf][evaluator]") {
  Zone zone;
  zone.spf("example.com", "v=spf1 exists:%{ir}.%{l}._spf.%{d} -all");
  zone.dns.add_address("1.2.0.192.user._spf.example.com", ip("127.0.0.2"));
  CHECK(zone.check("192.0.2.1").result == Result::pass);
  CHECK(zone.check("192.0.2.9").result == Result::fail);
  zone.dns.set_failure("10.2.0.192.user._spf.example.com", dns::RrType::A, dns::Status::servfail);
  const CheckHostResult result = zone.check("192.0.2.10");
  CHECK(result.result == Result::temperror);
  CHECK(mentions(result.problem, "A lookup for 10.2.0.192.user._spf.example.com failed (SERVFAIL)"));
}

TEST_CASE("include matches on pass and passes errors on", "[spf][evaluator]") {
  Zone zone;
  zone.spf("pass.example.net", "v=spf1 ip4:192.0.2.1 -all");
  zone.spf("neutral.example.net", "v=spf1 ?all");
  zone.spf("broken.example.net", "v=spf1 foo");
  zone.dns.add_txt("norecord.example.net", {"hello"});
  zone.dns.set_failure_for_missing("slow.example.net", dns::Status::timeout);
  zone.spf("a.example.com", "v=spf1 include:pass.example.net ~all");
  CHECK(zone.check("192.0.2.1", "u@a.example.com").result == Result::pass);
  CHECK(zone.check("192.0.2.2", "u@a.example.com").result == Result::softfail);  // inner fail: no match
  zone.spf("b.example.com", "v=spf1 include:neutral.example.net -all");
  CHECK(zone.check("192.0.2.1", "u@b.example.com").result == Result::fail);

  zone.spf("c.example.com", "v=spf1 include:norecord.example.net -all");
  CheckHostResult result = zone.check("192.0.2.1", "u@c.example.com");
  CHECK(result.result == Result::permerror);
  CHECK(mentions(result.problem, "include:norecord.example.net has no SPF record"));
  zone.spf("d.example.com", "v=spf1 include:broken.example.net -all");
  result = zone.check("192.0.2.1", "u@d.example.com");
  CHECK(result.result == Result::permerror);
  CHECK(mentions(result.problem, "unknown mechanism 'foo'"));
  zone.spf("e.example.com", "v=spf1 include:slow.example.net -all");
  result = zone.check("192.0.2.1", "u@e.example.com");
  CHECK(result.result == Result::temperror);
  CHECK(mentions(result.problem, "TXT lookup for slow.example.net failed (timeout"));
  zone.spf("f.example.com", "v=spf1 include:nowhere.example.net -all");
  CHECK(zone.check("192.0.2.1", "u@f.example.com").result == Result::permerror);
}

TEST_CASE("redirect applies when nothing matched and changes the current domain", "[spf][evaluator]") {
  Zone zone;
  zone.spf("example.com", "v=spf1 ip4:192.0.2.1 redirect=_spf.example.net");
  zone.spf("_spf.example.net", "v=spf1 a -all");
  zone.dns.add_address("_spf.example.net", ip("198.51.100.1"));
  CHECK(zone.check("192.0.2.1").result == Result::pass);
  const CheckHostResult redirected = zone.check("198.51.100.1");
  CHECK(redirected.result == Result::pass);  // "a" means _spf.example.net there
  CHECK(redirected.lookups == 2);
  CHECK(zone.check("198.51.100.2").result == Result::fail);

  zone.spf("all.example.com", "v=spf1 redirect=nowhere.example.net ?all");
  CHECK(zone.check("192.0.2.9", "u@all.example.com").result == Result::neutral);
  zone.spf("gone.example.com", "v=spf1 redirect=nowhere.example.net");
  const CheckHostResult gone = zone.check("192.0.2.9", "u@gone.example.com");
  CHECK(gone.result == Result::permerror);
  CHECK(mentions(gone.problem, "redirect=nowhere.example.net has no SPF record"));
}

TEST_CASE("more than 10 DNS-querying terms is a permerror, counted as evaluated", "[spf][evaluator]") {
  Zone zone;
  zone.spf("example.com", "v=spf1 a a a a a a a a a a ip4:192.0.2.1 a -all");
  zone.dns.add_address("example.com", ip("198.51.100.1"));
  const CheckHostResult at_limit = zone.check("192.0.2.1");
  CHECK(at_limit.result == Result::pass);
  CHECK(at_limit.lookups == 10);
  const CheckHostResult over = zone.check("192.0.2.2");
  CHECK(over.result == Result::permerror);
  CHECK(mentions(over.problem, "more than 10 DNS lookups"));
  CHECK(over.lookups == 11);
  CheckHostOptions options;
  options.lookup_limit = 5;
  CHECK(zone.check("192.0.2.1", "user@example.com", "h.example", options).result == Result::permerror);

  zone.spf("loop.example.com", "v=spf1 include:loop.example.com -all");
  const CheckHostResult loop = zone.check("192.0.2.1", "u@loop.example.com");
  CHECK(loop.result == Result::permerror);
  CHECK(mentions(loop.problem, "more than 10 DNS lookups"));
}

TEST_CASE("more than 2 void lookups is a permerror", "[spf][evaluator]") {
  Zone zone;
  zone.spf("example.com", "v=spf1 a:gone1.example.com mx:gone2.example.com exists:gone3.example.com -all");
  zone.dns.add_name("gone2.example.com");  // exists, no MX: NODATA is void too
  const CheckHostResult result = zone.check("192.0.2.1");
  CHECK(result.result == Result::permerror);
  CHECK(result.void_lookups == 3);
  CHECK(mentions(result.problem, "more than 2 void lookups"));
  CheckHostOptions options;
  options.void_limit = 3;
  const CheckHostResult relaxed = zone.check("192.0.2.1", "user@example.com", "h.example", options);
  CHECK(relaxed.result == Result::fail);
  CHECK(relaxed.void_lookups == 3);
}

TEST_CASE("a fail carries the exp= explanation, expanded, or the default", "[spf][evaluator]") {
  Zone zone;
  zone.spf("example.com", "v=spf1 -ip4:192.0.2.0/24 ~all exp=why.%{d}");
  zone.dns.add_txt("why.example.com", {"%{c} may not send ", "for %{o} (%{l})"});
  CheckHostResult result = zone.check("192.0.2.5");
  CHECK(result.result == Result::fail);
  CHECK(result.explanation == "192.0.2.5 may not send for example.com (user)");
  CHECK(zone.check("198.51.100.1").explanation.empty());  // softfail: no explanation

  zone.spf("bad.example.com", "v=spf1 -all exp=why.bad.example.com");
  zone.dns.add_txt("why.bad.example.com", {"The %{x}-files."});
  CheckHostOptions options;
  options.default_explanation = "not allowed for %{d}";
  result = zone.check("192.0.2.5", "u@bad.example.com", "h.example", options);
  CHECK(result.result == Result::fail);
  CHECK(result.explanation == "not allowed for bad.example.com");

  zone.spf("none.example.com", "v=spf1 -all");
  CHECK(zone.check("192.0.2.5", "u@none.example.com").explanation ==
        "none.example.com does not designate 192.0.2.5 as a permitted sender");
}

TEST_CASE("explanations come from the deciding record only", "[spf][evaluator]") {
  Zone zone;
  zone.spf("inner.example.net", "v=spf1 -all exp=inner-why.example.net");
  zone.dns.add_txt("inner-why.example.net", {"inner"});
  zone.spf("outer.example.com", "v=spf1 include:inner.example.net -all exp=outer-why.example.com");
  zone.dns.add_txt("outer-why.example.com", {"outer"});
  CHECK(zone.check("192.0.2.1", "u@outer.example.com").explanation == "outer");
  zone.spf("redirecting.example.com", "v=spf1 exp=outer-why.example.com redirect=inner.example.net");
  CHECK(zone.check("192.0.2.1", "u@redirecting.example.com").explanation == "inner");
}

TEST_CASE("%{p} is a validated name and costs one lookup", "[spf][evaluator]") {
  Zone zone;
  zone.spf("example.com", "v=spf1 exists:%{p}._allow.example.com -all");
  zone.dns.add_ptr("1.2.0.192.in-addr.arpa", "mail.example.com");
  zone.dns.add_address("mail.example.com", ip("192.0.2.1"));
  zone.dns.add_address("mail.example.com._allow.example.com", ip("127.0.0.2"));
  const CheckHostResult result = zone.check("192.0.2.1");
  CHECK(result.result == Result::pass);
  CHECK(result.lookups == 2);
  CHECK(zone.check("192.0.2.2").result == Result::fail);  // "unknown._allow.example.com"
}

TEST_CASE("the HELO identity is checked when the sender is empty", "[spf][evaluator]") {
  Zone zone;
  zone.spf("mta.example.org", "v=spf1 a -all exp=why.example.org");
  zone.dns.add_address("mta.example.org", ip("192.0.2.1"));
  zone.dns.add_txt("why.example.org", {"%{s}"});
  CHECK(zone.check("192.0.2.1", "").result == Result::pass);
  const CheckHostResult result = zone.check("192.0.2.2", "");
  CHECK(result.domain == "mta.example.org");
  CHECK(result.explanation == "postmaster@mta.example.org");
}

TEST_CASE("the checked domain may be given apart from the sender", "[spf][evaluator]") {
  Zone zone;
  zone.spf("policy.example.net", "v=spf1 exists:%{o}.%{d} -all");
  zone.dns.add_address("example.com.policy.example.net", ip("127.0.0.2"));
  const CheckHostResult result =
      check_host(zone.dns, {ip("192.0.2.1"), "user@example.com", "h.example", "policy.example.net."});
  CHECK(result.result == Result::pass);
  CHECK(result.domain == "policy.example.net");
}

TEST_CASE("domains that are no FQDN give none; records that cannot be used give errors", "[spf][evaluator]") {
  Zone zone;
  CHECK(zone.check("192.0.2.1", "u@localhost").result == Result::none);
  CHECK(zone.check("192.0.2.1", "u@a..example.com").result == Result::none);
  CHECK(zone.check("192.0.2.1", "u@[192.0.2.1]").result == Result::none);
  CHECK(zone.check("192.0.2.1", "u@" + std::string(64, 'a') + ".example.com").result == Result::none);
  const CheckHostResult missing = zone.check("192.0.2.1", "u@nowhere.example.com");
  CHECK(missing.result == Result::none);
  CHECK(missing.problem == "nowhere.example.com does not exist");

  zone.spf("two.example.com", "v=spf1 -all");
  zone.spf("two.example.com", "v=spf1 +all");
  CHECK(zone.check("192.0.2.1", "u@two.example.com").result == Result::permerror);
  zone.spf("syntax.example.com", "v=spf1 ip4:192.0.2.1 -all moo");
  const CheckHostResult syntax = zone.check("192.0.2.1", "u@syntax.example.com");
  CHECK(syntax.result == Result::permerror);
  CHECK(syntax.problem == "invalid SPF record at syntax.example.com: unknown mechanism 'moo'");
  zone.dns.add_txt("slow.example.com", {"v=spf1 -all"});
  zone.dns.set_failure("slow.example.com", dns::RrType::TXT, dns::Status::servfail);
  CHECK(zone.check("192.0.2.1", "u@slow.example.com").result == Result::temperror);
  zone.dns.add_spf("type99.example.com", {"v=spf1 -all"});  // type SPF is never consulted
  CHECK(zone.check("192.0.2.1", "u@type99.example.com").result == Result::none);
}

TEST_CASE("targets that expand to no valid name do not exist", "[spf][evaluator]") {
  Zone zone;
  zone.spf("example.com", "v=spf1 a:%{l}.example.com ?all");
  const CheckHostResult result = zone.check("192.0.2.1", std::string(64, 'x') + "@example.com");
  CHECK(result.result == Result::neutral);
  CHECK(result.void_lookups == 1);
}

TEST_CASE("CNAMEs are followed", "[spf][evaluator]") {
  Zone zone;
  zone.dns.add_cname("example.com", "spf.example.net");
  zone.spf("spf.example.net", "v=spf1 a:host.example.net -all");
  zone.dns.add_cname("host.example.net", "real.example.net");
  zone.dns.add_address("real.example.net", ip("192.0.2.1"));
  CHECK(zone.check("192.0.2.1").result == Result::pass);
}
