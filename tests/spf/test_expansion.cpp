// The expansion tree over an in-memory DNS: lookup counting as receivers count (nested includes,
// redirect, a/mx/exists/ptr, macros counted but not followed, loops), void lookups, and each
// class of problem `check` reports.
#include <algorithm>
#include <catch2/catch.hpp>
#include <string>

#include "dns/memory_resolver.hpp"
#include "spf/expansion.hpp"

using namespace spfctl;
using spf::Severity;

namespace {

net::IpAddress ip(const char* text) {
  return *net::IpAddress::parse(text);
}

// The problems' messages, for failure output and matching.
std::string messages(const spf::ExpansionTree& expansion) {
  std::string text;
  for (const spf::Problem& p : expansion.problems)
    text += std::string(spf::to_string(p.severity)) + " [" + p.domain + "] " + p.message + "\n";
  return text;
}

// The problems whose message holds `part`.
std::vector<spf::Problem> find(const spf::ExpansionTree& expansion, const std::string& part) {
  std::vector<spf::Problem> found;
  for (const spf::Problem& p : expansion.problems)
    if (p.message.find(part) != std::string::npos) found.push_back(p);
  return found;
}

const spf::TermLookups& term(const spf::ExpansionNode& node, const std::string& text) {
  for (const spf::TermLookups& t : node.terms)
    if (t.text == text) return t;
  FAIL("no term " << text << " at " << node.domain);
  throw std::logic_error("unreachable");
}

const spf::ExpansionNode& target(const spf::ExpansionNode& node, const std::string& text) {
  const spf::TermLookups& t = term(node, text);
  REQUIRE(t.child);
  return node.children.at(*t.child);
}

}  // namespace

TEST_CASE("expansion counts nested includes, a, mx and ip terms as receivers do", "[spf][expansion]") {
  dns::MemoryResolver dns;
  dns.add_txt("example.com", {"v=spf1 mx include:_spf.esp.test ip4:192.0.2.0/24 -all"});
  dns.add_mx("example.com", 10, "mail.example.com");
  dns.add_address("mail.example.com", ip("192.0.2.25"));
  dns.add_txt("_spf.esp.test", {"v=spf1 include:eu.esp.test include:us.esp.test ~all"});
  dns.add_txt("eu.esp.test", {"v=spf1 include:relay.eu.esp.test -all"});
  dns.add_txt("relay.eu.esp.test", {"v=spf1 a:relay.esp.test ip6:2001:db8::/32 -all"});
  dns.add_address("relay.esp.test", ip("198.51.100.7"));
  dns.add_txt("us.esp.test", {"v=spf1 ip4:203.0.113.0/24 -all"});

  const spf::ExpansionTree expansion = spf::expand(dns, "Example.COM.");
  INFO(messages(expansion));
  CHECK(expansion.healthy());
  CHECK_FALSE(expansion.incomplete);
  const spf::ExpansionNode& root = expansion.root;
  CHECK(root.domain == "example.com");
  CHECK(root.record_text == "v=spf1 mx include:_spf.esp.test ip4:192.0.2.0/24 -all");
  CHECK(root.own_lookups == 2);
  CHECK(root.lookups == 6);
  CHECK(root.void_lookups == 0);
  REQUIRE(root.terms.size() == 2);
  CHECK(root.terms[0].text == "mx");
  CHECK(root.terms[0].lookups == 1);
  CHECK_FALSE(root.terms[0].child);
  CHECK(root.terms[1].text == "include:_spf.esp.test");
  CHECK(root.terms[1].lookups == 5);

  const spf::ExpansionNode& esp = target(root, "include:_spf.esp.test");
  CHECK(esp.via == "include:_spf.esp.test");
  CHECK(esp.lookups == 4);
  CHECK(term(esp, "include:eu.esp.test").lookups == 3);
  CHECK(term(esp, "include:us.esp.test").lookups == 1);
  const spf::ExpansionNode& eu = target(esp, "include:eu.esp.test");
  const spf::ExpansionNode& relay = target(eu, "include:relay.eu.esp.test");
  CHECK(term(relay, "a:relay.esp.test").lookups == 1);
  CHECK(relay.lookups == 1);
}

TEST_CASE("expansion counts redirect= and ignores it beside all", "[spf][expansion]") {
  dns::MemoryResolver dns;
  dns.add_txt("example.com", {"v=spf1 ip4:192.0.2.1 redirect=_spf.example.com"});
  dns.add_txt("_spf.example.com", {"v=spf1 include:esp.test -all"});
  dns.add_txt("esp.test", {"v=spf1 ip4:198.51.100.0/24 -all"});
  dns.add_txt("all.example.com", {"v=spf1 -all redirect=_spf.example.com"});

  const spf::ExpansionTree redirected = spf::expand(dns, "example.com");
  INFO(messages(redirected));
  CHECK(redirected.healthy());
  CHECK(redirected.root.lookups == 2);
  REQUIRE(redirected.root.terms.size() == 1);
  CHECK(redirected.root.terms[0].text == "redirect=_spf.example.com");
  CHECK(redirected.root.terms[0].lookups == 2);

  const spf::ExpansionTree ignored = spf::expand(dns, "all.example.com");
  CHECK(ignored.root.lookups == 0);
  CHECK(ignored.root.terms.empty());
  CHECK(find(ignored, "is never used because the record has an 'all' term").size() == 1);
}

TEST_CASE("expansion counts exists and ptr, and macro targets without following them", "[spf][expansion]") {
  dns::MemoryResolver dns;
  dns.add_txt("example.com",
              {"v=spf1 exists:ok.example.com include:%{d}.esp.test a:%{i}.rbl.test redirect=%{o}._spf.test"});
  dns.add_address("ok.example.com", ip("127.0.0.2"));

  const spf::ExpansionTree expansion = spf::expand(dns, "example.com");
  INFO(messages(expansion));
  const spf::ExpansionNode& root = expansion.root;
  CHECK(root.lookups == 4);
  REQUIRE(root.terms.size() == 4);
  CHECK_FALSE(root.terms[0].macro);
  for (std::size_t i = 1; i < 4; ++i) {
    CHECK(root.terms[i].macro);
    CHECK(root.terms[i].lookups == 1);
    CHECK_FALSE(root.terms[i].child);
  }
  CHECK(root.children.empty());
  // One TXT question for the record and one A question for exists: macro targets are not asked.
  CHECK(dns.queries_sent() == 2);

  dns::MemoryResolver ptr_dns;
  ptr_dns.add_txt("example.org", {"v=spf1 ptr ptr:example.net -all"});
  const spf::ExpansionTree ptr = spf::expand(ptr_dns, "example.org");
  CHECK(ptr.root.lookups == 2);
  CHECK(find(ptr, "uses ptr, which RFC 7208 5.5 says not to use").size() == 2);
  CHECK(ptr.problems.front().severity == Severity::warning);
  CHECK_FALSE(ptr.healthy());
}

TEST_CASE("expansion counts an include reached twice twice, and cuts include loops", "[spf][expansion]") {
  dns::MemoryResolver dns;
  dns.add_txt("diamond.test", {"v=spf1 include:left.test include:right.test -all"});
  dns.add_txt("left.test", {"v=spf1 include:shared.test -all"});
  dns.add_txt("right.test", {"v=spf1 include:shared.test -all"});
  dns.add_txt("shared.test", {"v=spf1 a:mail.shared.test -all"});
  dns.add_address("mail.shared.test", ip("192.0.2.9"));
  const spf::ExpansionTree diamond = spf::expand(dns, "diamond.test");
  INFO(messages(diamond));
  CHECK(diamond.healthy());
  CHECK(diamond.root.lookups == 6);

  dns.add_txt("loop.test", {"v=spf1 include:back.test -all"});
  dns.add_txt("back.test", {"v=spf1 ip4:192.0.2.1 include:loop.test -all"});
  const spf::ExpansionTree loop = spf::expand(dns, "loop.test");
  const auto loops = find(loop, "'include:loop.test' at back.test loops back to loop.test");
  REQUIRE(loops.size() == 1);
  CHECK(loops[0].severity == Severity::error);
  CHECK(loops[0].domain == "back.test");
  const spf::ExpansionNode& back = target(loop.root, "include:back.test");
  CHECK(term(back, "include:loop.test").loop);
  CHECK_FALSE(term(back, "include:loop.test").child);
  CHECK(loop.root.lookups == 2);

  dns.add_txt("self.test", {"v=spf1 redirect=self.test"});
  const spf::ExpansionTree self = spf::expand(dns, "self.test");
  CHECK(find(self, "'redirect=self.test' at self.test loops back to self.test").size() == 1);
}

TEST_CASE("expansion flags more than 10 lookups in the whole tree, and not 10", "[spf][expansion]") {
  dns::MemoryResolver dns;
  std::string ten = "v=spf1";
  for (int i = 1; i <= 5; ++i) {
    const std::string name = "s" + std::to_string(i) + ".esp.test";
    ten += " include:" + name;
    dns.add_txt(name, {"v=spf1 include:inner" + std::to_string(i) + ".esp.test -all"});
    dns.add_txt("inner" + std::to_string(i) + ".esp.test",
                {"v=spf1 ip4:192.0.2." + std::to_string(i) + " -all"});
  }
  dns.add_txt("ten.test", {ten + " -all"});
  dns.add_txt("eleven.test", {ten + " mx -all"});
  dns.add_mx("eleven.test", 10, "mail.eleven.test");

  const spf::ExpansionTree at_limit = spf::expand(dns, "ten.test");
  INFO(messages(at_limit));
  CHECK(at_limit.root.lookups == 10);
  CHECK(at_limit.healthy());

  const spf::ExpansionTree over = spf::expand(dns, "eleven.test");
  CHECK(over.root.lookups == 11);
  REQUIRE_FALSE(over.healthy());
  CHECK(over.problems.front().message.starts_with("11 DNS lookups, over RFC 7208's limit of 10"));
  CHECK(over.problems.front().severity == Severity::error);

  spf::ExpandOptions budget;
  budget.lookup_limit = 8;
  CHECK(spf::expand(dns, "ten.test", budget).problems.front().message.starts_with("10 DNS lookups, over"));
}

TEST_CASE("expansion counts void lookups and flags more than 2", "[spf][expansion]") {
  dns::MemoryResolver dns;
  dns.add_name("empty.test");  // exists, no records: NODATA
  dns.add_txt("two.test", {"v=spf1 a:gone.test mx:empty.test ip4:192.0.2.0/24 -all"});
  dns.add_txt("three.test", {"v=spf1 a:gone.test mx:empty.test exists:nothing.test include:two.test -all"});

  const spf::ExpansionTree two = spf::expand(dns, "two.test");
  INFO(messages(two));
  CHECK(two.root.void_lookups == 2);
  CHECK(term(two.root, "a:gone.test").void_lookups == 1);
  CHECK(find(two, "void lookups, over").empty());
  CHECK(find(two, "gone.test has no A or AAAA record").size() == 1);
  CHECK(find(two, "empty.test has no MX record").size() == 1);

  const spf::ExpansionTree three = spf::expand(dns, "three.test");
  CHECK(three.root.void_lookups == 5);
  CHECK(term(three.root, "exists:nothing.test").void_lookups == 1);
  CHECK(term(three.root, "include:two.test").void_lookups == 2);
  REQUIRE(!three.problems.empty());
  CHECK(three.problems.front().message.starts_with("5 void lookups, over RFC 7208's limit of 2"));

  // An include of a name that does not exist is void too.
  dns.add_txt("inc.test", {"v=spf1 include:nx1.test include:nx2.test include:nx3.test -all"});
  const spf::ExpansionTree includes = spf::expand(dns, "inc.test");
  CHECK(includes.root.void_lookups == 3);
  CHECK(find(includes, "3 void lookups, over").size() == 1);
}

TEST_CASE("expansion reports missing, duplicate and unusable include targets", "[spf][expansion]") {
  dns::MemoryResolver dns;
  dns.add_txt("example.com", {"v=spf1 include:gone.test include:nospf.test include:twice.test -all"});
  dns.add_txt("nospf.test", {"google-site-verification=abc"});
  dns.add_txt("twice.test", {"v=spf1 -all"});
  dns.add_txt("twice.test", {"v=spf1 ~all"});

  const spf::ExpansionTree expansion = spf::expand(dns, "example.com");
  INFO(messages(expansion));
  CHECK(expansion.root.lookups == 3);
  const auto gone =
      find(expansion, "'include:gone.test' at example.com: gone.test does not exist (NXDOMAIN)");
  REQUIRE(gone.size() == 1);
  CHECK(gone[0].severity == Severity::error);
  CHECK(gone[0].message.ends_with("receivers return permerror"));
  CHECK(find(expansion, "'include:nospf.test' at example.com: nospf.test has no SPF record").size() == 1);
  CHECK(find(expansion, "'include:twice.test' at example.com: 2 SPF records at twice.test").size() == 1);
  CHECK(target(expansion.root, "include:gone.test").selection == spf::Selection::none);
  CHECK(target(expansion.root, "include:twice.test").spf_records.size() == 2);
}

TEST_CASE("expansion reports the root's own record problems", "[spf][expansion]") {
  dns::MemoryResolver dns;
  dns.add_txt("several.test", {"v=spf1 -all"});
  dns.add_txt("several.test", {"v=spf1 mx -all"});
  dns.add_txt("several.test", {"MS=ms1234"});
  dns.add_txt("none.test", {"MS=ms1234"});
  dns.add_txt("bad.test", {"v=spf1 ip4:192.0.2.1/33 -all"});
  dns.add_txt("noall.test", {"v=spf1 ip4:192.0.2.1"});

  const spf::ExpansionTree several = spf::expand(dns, "several.test");
  CHECK(several.root.selection == spf::Selection::multiple);
  CHECK(several.root.spf_records == std::vector<std::string>{"v=spf1 -all", "v=spf1 mx -all"});
  CHECK(find(several, "2 SPF records at several.test: receivers return permerror").size() == 1);

  CHECK(find(spf::expand(dns, "none.test"), "no SPF record at none.test").size() == 1);
  CHECK(find(spf::expand(dns, "nx.test"), "nx.test does not exist (NXDOMAIN)").size() == 1);

  const spf::ExpansionTree bad = spf::expand(dns, "bad.test");
  REQUIRE(bad.problems.size() == 1);
  CHECK(bad.root.parse_error);
  CHECK(bad.problems[0].message.starts_with(
      "the SPF record at bad.test does not parse, receivers return permerror"));
  CHECK(bad.problems[0].message.find("^~~") != std::string::npos);

  const spf::ExpansionTree noall = spf::expand(dns, "noall.test");
  CHECK(find(noall, "has no 'all' term").size() == 1);
}

TEST_CASE("expansion flags +all anywhere and ?all where it ends the policy", "[spf][expansion]") {
  dns::MemoryResolver dns;
  dns.add_txt("plus.test", {"v=spf1 ip4:192.0.2.0/24 +all"});
  dns.add_txt("bare.test", {"v=spf1 all"});
  dns.add_txt("neutral.test", {"v=spf1 include:esp.test ?all"});
  dns.add_txt("esp.test", {"v=spf1 ip4:198.51.100.0/24 ?all"});
  dns.add_txt("redirected.test", {"v=spf1 redirect=neutral.test"});
  dns.add_txt("evil.test", {"v=spf1 include:plus.test -all"});

  const auto plus = find(spf::expand(dns, "plus.test"), "'+all' at plus.test authorises every address");
  REQUIRE(plus.size() == 1);
  CHECK(plus[0].severity == Severity::error);
  CHECK(find(spf::expand(dns, "bare.test"), "'all' at bare.test authorises every address").size() == 1);
  CHECK(find(spf::expand(dns, "evil.test"), "'+all' at plus.test").size() == 1);

  const spf::ExpansionTree neutral = spf::expand(dns, "neutral.test");
  INFO(messages(neutral));
  const auto question = find(neutral, "gives unlisted senders neutral");
  REQUIRE(question.size() == 1);  // not for esp.test's ?all: an included neutral only fails to match
  CHECK(question[0].domain == "neutral.test");
  CHECK(question[0].severity == Severity::warning);
  CHECK(find(spf::expand(dns, "redirected.test"), "'?all' at neutral.test gives unlisted senders neutral")
            .size() == 1);
}

TEST_CASE("expansion checks string and answer sizes", "[spf][expansion]") {
  dns::MemoryResolver dns;
  const std::string long_record = "v=spf1 ip4:192.0.2.1 " + std::string(280, 'x') + "=y -all";
  dns.add_txt("long.test", {long_record});
  const spf::ExpansionTree long_string = spf::expand(dns, "long.test");
  const auto strings = find(long_string, "a TXT string at long.test is 308 bytes; DNS allows 255 per string");
  REQUIRE(strings.size() == 1);
  CHECK(strings[0].severity == Severity::error);

  dns.add_txt("big.test", {"v=spf1 -all"});
  dns.add_txt("big.test", {"verification=" + std::string(200, 'a')});
  dns.add_txt("big.test", {"verification=" + std::string(200, 'b')});
  dns.add_txt("big.test", {"verification=" + std::string(100, 'c')});
  const spf::ExpansionTree big = spf::expand(dns, "big.test");
  // Header 12; question 10 + 4; four answers of 12 octets each before their rdata; rdata of one
  // length octet per string plus the strings (11, 213, 213, 113).
  CHECK(big.root.response_size == 12 + 14 + 4 * 12 + 12 + 214 + 214 + 114);
  const auto answer = find(big, "the TXT answer at big.test is 628 bytes, over 512");
  REQUIRE(answer.size() == 1);
  CHECK(answer[0].severity == Severity::warning);
  CHECK(big.root.string_count() == 1);

  // Only answers the domain's owner publishes are reported: not those of included senders.
  dns.add_txt("uses-big.test", {"v=spf1 include:big.test include:_spf.uses-big.test -all"});
  dns.add_txt("_spf.uses-big.test", {"v=spf1 ip4:192.0.2.1 -all"});
  dns.add_txt("_spf.uses-big.test", {"verification=" + std::string(240, 'd'), std::string(250, 'e')});
  const spf::ExpansionTree uses = spf::expand(dns, "uses-big.test");
  INFO(messages(uses));
  CHECK(find(uses, "the TXT answer at big.test").empty());
  CHECK(find(uses, "the TXT answer at _spf.uses-big.test is").size() == 1);

  spf::ExpandOptions roomy;
  roomy.max_answer_bytes = 1232;
  CHECK(spf::expand(dns, "big.test", roomy).healthy());
}

TEST_CASE("expansion reports failed lookups as temperror and marks the tree incomplete", "[spf][expansion]") {
  dns::MemoryResolver dns;
  dns.add_txt("example.com", {"v=spf1 include:flaky.test a:slow.test -all"});
  dns.set_failure("flaky.test", dns::RrType::TXT, dns::Status::servfail);
  dns.set_failure("slow.test", dns::RrType::A, dns::Status::timeout);
  dns.add_address("slow.test", ip("2001:db8::1"));
  const spf::ExpansionTree expansion = spf::expand(dns, "example.com");
  INFO(messages(expansion));
  CHECK(expansion.incomplete);
  CHECK(find(expansion,
             "TXT lookup for flaky.test failed (SERVFAIL for flaky.test/TXT): receivers return temperror")
            .size() == 1);
  CHECK(
      find(expansion, "'a:slow.test' at example.com: A lookup for slow.test failed (timeout for slow.test/A)")
          .size() == 1);
  CHECK(target(expansion.root, "include:flaky.test").selection == spf::Selection::failed);
}

TEST_CASE("expansion flags an MX set over 10 names", "[spf][expansion]") {
  dns::MemoryResolver dns;
  dns.add_txt("example.com", {"v=spf1 mx -all"});
  for (int i = 0; i < 11; ++i) dns.add_mx("example.com", 10, "mx" + std::to_string(i) + ".example.com");
  const auto over = find(spf::expand(dns, "example.com"), "has 11 MX names, over RFC 7208's limit of 10");
  REQUIRE(over.size() == 1);
  CHECK(over[0].severity == Severity::error);
}
