// Linking from structs: templates, senders and settings layered into DomainPolicy, with every
// reference that cannot be linked reported.
#include <catch2/catch.hpp>
#include <string>
#include <vector>

#include "config/link.hpp"

using namespace spfctl::config;
using Catch::Matchers::Contains;

namespace {

SourceLocation line(std::uint32_t n) {
  return {"t.toml", n, 1};
}

SenderTerm term(TermKind kind, const std::string& value, const std::string& origin = "t") {
  return {kind, value, origin, line(1)};
}

NameRef ref(const std::string& name, std::uint32_t at = 1) {
  return {name, line(at)};
}

// A configuration with the zone-file provider, a sender "relay" and these templates:
//   base:   policy softfail, ttl 600, ip4 192.0.2.1
//   strict: uses base; policy fail, lookup_budget 8, sender relay
Config fixture() {
  Config config;
  config.providers["zonefile"] = ProviderConfig{"zonefile", "zonefile", {}, {}, true, {}};
  config.providers["other"] = ProviderConfig{"other", "zonefile", {}, {}, false, {}};
  SenderDefinition relay;
  relay.name = "relay";
  relay.terms = {term(TermKind::ip4, "198.51.100.0/28", "sender relay")};
  config.senders["relay"] = relay;
  SenderDefinition unusable;
  unusable.name = "per-account";
  unusable.setup = "add your account's include under include = [...]";
  config.senders["per-account"] = unusable;

  TemplateDefinition base;
  base.name = "base";
  base.terms = {term(TermKind::ip4, "192.0.2.1", "template base")};
  base.overrides.policy = spfctl::spf::Qualifier::softfail;
  base.overrides.ttl = 600;
  config.templates["base"] = base;

  TemplateDefinition strict;
  strict.name = "strict";
  strict.templates = {ref("base")};
  strict.senders = {ref("relay")};
  strict.overrides.policy = spfctl::spf::Qualifier::fail;
  strict.overrides.lookup_budget = 8;
  config.templates["strict"] = strict;
  return config;
}

DomainEntry entry(const std::string& name) {
  DomainEntry e;
  e.name = name;
  e.location = line(10);
  return e;
}

std::vector<std::string> texts(const DomainPolicy& domain) {
  std::vector<std::string> out;
  for (const SenderTerm& t : domain.terms) out.push_back(t.text());
  return out;
}

std::vector<std::string> messages(const Diagnostics& diag) {
  std::vector<std::string> out;
  for (const Diagnostic& d : diag.list()) out.push_back(d.to_string());
  return out;
}

}  // namespace

TEST_CASE("settings come from defaults, then each template in order, then the domain itself",
          "[config][link]") {
  Config config = fixture();
  config.defaults.ttl = 3600;
  config.defaults.chain_prefix = "_s";
  DomainEntry domain = entry("example.com");
  domain.templates = {ref("strict")};
  domain.terms = {term(TermKind::include, "_spf.example.net", "domain example.com")};
  domain.overrides.ttl = 300;
  Diagnostics diag;
  link_domains(config, std::nullopt, {domain}, diag);
  CHECK(messages(diag) == std::vector<std::string>{});
  REQUIRE(config.domains.size() == 1);
  const DomainPolicy& linked = config.domains[0];
  CHECK(linked.policy == spfctl::spf::Qualifier::fail);  // strict over base
  CHECK(linked.ttl == 300);                              // the domain over both
  CHECK(linked.lookup_budget == 8);                      // strict
  CHECK(linked.chain_prefix == "_s");                    // defaults: no template sets it
  CHECK(linked.provider == "zonefile");
  // base's terms, then strict's senders, then the domain's own.
  CHECK(texts(linked) ==
        std::vector<std::string>{"ip4:192.0.2.1", "ip4:198.51.100.0/28", "include:_spf.example.net"});
}

TEST_CASE("a later template's settings win, and a term listed twice is kept once", "[config][link]") {
  Config config = fixture();
  DomainEntry domain = entry("example.com");
  domain.templates = {ref("strict"), ref("base")};
  Diagnostics diag;
  link_domains(config, std::nullopt, {domain}, diag);
  CHECK(messages(diag) == std::vector<std::string>{});
  REQUIRE(config.domains.size() == 1);
  CHECK(config.domains[0].policy == spfctl::spf::Qualifier::softfail);  // base, applied last
  CHECK(texts(config.domains[0]) == std::vector<std::string>{"ip4:192.0.2.1", "ip4:198.51.100.0/28"});
}

TEST_CASE("template cycles are reported once, where they close, and the domain is still linked",
          "[config][link]") {
  Config config = fixture();
  config.templates["a"] = TemplateDefinition{"a", "", {ref("b", 3)}, {}, {}, {}, line(2)};
  config.templates["b"] = TemplateDefinition{"b", "", {ref("c", 5)}, {}, {}, {}, line(4)};
  config.templates["c"] =
      TemplateDefinition{"c", "", {ref("a", 7)}, {}, {term(TermKind::ip4, "192.0.2.9")}, {}, line(6)};
  DomainEntry domain = entry("example.com");
  domain.templates = {ref("a")};
  Diagnostics diag;
  link_domains(config, std::nullopt, {domain}, diag);
  const std::vector<std::string> found = messages(diag);
  REQUIRE(found.size() == 1);
  CHECK(found[0] == "t.toml:7:1: templates form a cycle: a -> b -> c -> a; remove one of these references");
  REQUIRE(config.domains.size() == 1);
  CHECK(texts(config.domains[0]) == std::vector<std::string>{"ip4:192.0.2.9"});
}

TEST_CASE("unknown names are reported with the closest defined one", "[config][link]") {
  Config config = fixture();
  DomainEntry domain = entry("example.com");
  domain.templates = {ref("strcit", 11)};
  domain.senders = {ref("rela", 12), ref("per-account", 13)};
  domain.overrides.provider = ref("othr", 14);
  Diagnostics diag;
  link_domains(config, ref("nowhere", 2), {domain}, diag);
  const std::vector<std::string> found = messages(diag);
  REQUIRE(found.size() == 5);
  CHECK_THAT(found[0], Contains("t.toml:2:1: unknown provider 'nowhere'; define it as [providers.nowhere]"));
  CHECK(found[1] == "t.toml:11:1: unknown template 'strcit'; did you mean 'strict'?");
  CHECK(found[2] == "t.toml:12:1: unknown sender 'rela'; did you mean 'relay'? ('spfctl senders' lists the catalogue)");
  CHECK(found[3] ==
        "t.toml:13:1: sender 'per-account' cannot be used as it is: add your account's include "
        "under include = [...]");
  CHECK(found[4] == "t.toml:14:1: unknown provider 'othr'; did you mean 'other'?");
}

TEST_CASE("a domain without senders must say so, and then must fail everything", "[config][link]") {
  Config config = fixture();
  DomainEntry silent = entry("quiet.example");
  DomainEntry parked = entry("parked.example");
  parked.says_no_senders = true;
  parked.overrides.policy = spfctl::spf::Qualifier::softfail;
  parked.policy_location = line(20);
  DomainEntry looping = entry("loop.example");
  looping.terms = {term(TermKind::include, "loop.example", "domain loop.example")};
  Diagnostics diag;
  link_domains(config, std::nullopt, {silent, parked, looping}, diag);
  const std::vector<std::string> found = messages(diag);
  REQUIRE(found.size() == 3);
  CHECK_THAT(found[0], Contains("t.toml:10:1: domain 'quiet.example' lists no senders"));
  CHECK_THAT(found[1], Contains("t.toml:20:1: domain 'parked.example' sends no mail (senders = [])"));
  CHECK_THAT(found[2], Contains("domain 'loop.example' includes itself (from domain loop.example)"));
  CHECK(config.domains.size() == 3);
}
