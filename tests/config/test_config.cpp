#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <initializer_list>
#include <sstream>

#include "config/config.hpp"
#include "providers/registry.hpp"

using namespace spfctl::config;
using Catch::Contains;
using Catch::EndsWith;

namespace {

std::string fixture(const std::string& name) {
  return std::string(SPFCTL_TEST_DATA) + "/config/" + name;
}

std::vector<Diagnostic> diagnostics_of_file(const std::string& path) {
  try {
    load_config(path, {spfctl::providers::provider_problems});
  } catch (const ConfigError& error) {
    return error.diagnostics();
  }
  FAIL("expected " << path << " to be rejected");
  return {};
}

std::vector<Diagnostic> diagnostics_of(const std::string& name) {
  return diagnostics_of_file(fixture(name));
}

std::vector<Diagnostic> diagnostics_of_text(std::string_view text) {
  try {
    load_config_text(text, "test.toml", {spfctl::providers::provider_problems});
  } catch (const ConfigError& error) {
    return error.diagnostics();
  }
  FAIL("expected the configuration to be rejected:\n" << text);
  return {};
}

// A diagnostic is in `file` at line:column, and its message holds each of `words`.
void check_diagnostic(const Diagnostic& diagnostic, const std::string& file, std::uint32_t line,
                      std::uint32_t column, std::initializer_list<const char*> words) {
  INFO(diagnostic.to_string());
  CHECK_THAT(diagnostic.location.file, EndsWith(file));
  CHECK(diagnostic.location.line == line);
  CHECK(diagnostic.location.column == column);
  for (const char* word : words) CHECK_THAT(diagnostic.message, Contains(word));
}

// The fixture fails with exactly one diagnostic, at line:column, holding each of `words`.
void check_single(const std::string& name, std::uint32_t line, std::uint32_t column,
                  std::initializer_list<const char*> words) {
  const auto diagnostics = diagnostics_of(name);
  REQUIRE(diagnostics.size() == 1);
  check_diagnostic(diagnostics[0], name, line, column, words);
}

std::vector<std::string> texts(const DomainPolicy& domain) {
  std::vector<std::string> out;
  for (const SenderTerm& term : domain.terms) out.push_back(term.text());
  return out;
}

const DomainPolicy& domain_named(const Config& config, const std::string& name) {
  for (const DomainPolicy& domain : config.domains)
    if (domain.name == name) return domain;
  FAIL("no domain " << name);
  throw std::logic_error("unreachable");
}

}  // namespace

// ---- one fixture per class of error, each pointing at the offending place

TEST_CASE("a TOML syntax error is reported with toml++'s position", "[config]") {
  check_single("bad-syntax.toml", 6, 25, {"invalid TOML", "end-of-file"});
}

TEST_CASE("an unknown key is reported at the key with a suggestion", "[config]") {
  check_single("bad-unknown-key.toml", 2, 1, {"unknown key 'polcy'", "[defaults]", "did you mean 'policy'?"});
}

TEST_CASE("a value of the wrong type is reported at the value", "[config]") {
  check_single("bad-wrong-type.toml", 2, 7, {"'ttl' must be an integer, not a string"});
}

TEST_CASE("a network with host bits set suggests the network meant", "[config]") {
  check_single("bad-host-bits.toml", 3, 8,
               {"ip4 '192.0.2.1/24' has host bits set; did you mean '192.0.2.0/24'?"});
}

TEST_CASE("addresses listed under the other family are reported each", "[config]") {
  const auto diagnostics = diagnostics_of("bad-ip-family.toml");
  REQUIRE(diagnostics.size() == 2);
  check_diagnostic(diagnostics[0], "bad-ip-family.toml", 2, 24,
                   {"'2001:db8::/32' is an IPv6 network", "under ip6"});
  check_diagnostic(diagnostics[1], "bad-ip-family.toml", 3, 8,
                   {"'192.0.2.0/24' is an IPv4 network", "under ip4"});
}

TEST_CASE("prefix lengths out of range are reported", "[config]") {
  const auto diagnostics = diagnostics_of("bad-prefix.toml");
  REQUIRE(diagnostics.size() == 2);
  check_diagnostic(diagnostics[0], "bad-prefix.toml", 3, 8,
                   {"'192.0.2.0/33'", "out of range for ip4 (0-32)"});
  check_diagnostic(diagnostics[1], "bad-prefix.toml", 4, 8,
                   {"'2001:db8::/129'", "out of range for ip6 (0-128)"});
}

TEST_CASE("an unknown sender is reported at the reference with a suggestion", "[config]") {
  check_single("bad-unknown-sender.toml", 3, 32,
               {"unknown sender 'mailchimpp'", "did you mean 'mailchimp'?"});
}

TEST_CASE("an unknown template is reported at the reference with a suggestion", "[config]") {
  check_single("bad-unknown-template.toml", 6, 14,
               {"unknown template 'agency-clinet'", "did you mean 'agency-client'?"});
}

TEST_CASE("an unknown provider is reported at the reference with a suggestion", "[config]") {
  check_single("bad-unknown-provider.toml", 8, 12,
               {"unknown provider 'cloudflair'", "did you mean 'cloudflare'?"});
}

TEST_CASE("an unknown provider type is reported with a suggestion", "[config]") {
  check_single("bad-provider-type.toml", 2, 8,
               {"unknown provider type 'cloudflar'", "did you mean 'cloudflare'?"});
}

TEST_CASE("a credential written into the file is refused without repeating it", "[config]") {
  // Beside the credential: the missing token_env it should have been, and the unknown zone_id.
  const auto diagnostics = diagnostics_of("bad-secret.toml");
  REQUIRE(diagnostics.size() == 3);
  check_diagnostic(diagnostics[1], "bad-secret.toml", 3, 1,
                   {"'token'", "[providers.cloudflare]", "environment variable", "token_env"});
  try {
    load_config(fixture("bad-secret.toml"));
    FAIL("accepted");
  } catch (const ConfigError& error) {
    CHECK_THAT(error.what(), !Contains("do-not-print-this"));
  }
}

TEST_CASE("a duplicate domain names both places", "[config]") {
  check_single("bad-duplicate-domain.toml", 6, 8,
               {"domain 'example.com' is already defined at", "bad-duplicate-domain.toml:2:8"});
}

TEST_CASE("invalid domain names are reported each", "[config]") {
  const auto diagnostics = diagnostics_of("bad-domain-name.toml");
  REQUIRE(diagnostics.size() == 3);
  check_diagnostic(diagnostics[0], "bad-domain-name.toml", 2, 8, {"'-shop'", "hyphen"});
  check_diagnostic(diagnostics[1], "bad-domain-name.toml", 7, 12, {"'spf..example.net'", "empty label"});
  check_diagnostic(diagnostics[2], "bad-domain-name.toml", 7, 32, {"'192.0.2.10' is an IP address", "ip4"});
}

TEST_CASE("a pass policy is refused with the reason", "[config]") {
  check_single("bad-pass-policy.toml", 7, 10, {"policy '+all'", "every host", "\"fail\"", "\"softfail\""});
}

TEST_CASE("circular templates are reported once, naming the cycle", "[config]") {
  check_single("bad-template-cycle.toml", 6, 14, {"templates form a cycle: base -> client -> base"});
}

TEST_CASE("a lookup budget above the RFC limit is refused", "[config]") {
  check_single("bad-lookup-budget.toml", 2, 17, {"'lookup_budget' is 12", "between 1 and 10", "RFC 7208"});
}

TEST_CASE("a domain with no senders must say it sends no mail", "[config]") {
  check_single("bad-no-senders.toml", 1, 1,
               {"'example.com' lists no senders", "v=spf1 -all", "senders = []"});
  check_single("bad-no-mail-softfail.toml", 4, 10, {"sends no mail", "must be \"fail\""});
}

TEST_CASE("raw terms must be single terms and not set the policy", "[config]") {
  const auto diagnostics = diagnostics_of("bad-raw.toml");
  REQUIRE(diagnostics.size() == 2);
  check_diagnostic(diagnostics[0], "bad-raw.toml", 3, 47,
                   {"'ip4:192.0.2.1 ip4:192.0.2.2'", "single SPF term"});
  check_diagnostic(diagnostics[1], "bad-raw.toml", 3, 78, {"'~all'", "policy"});
}

TEST_CASE("a zone must contain its domain", "[config]") {
  check_single("bad-zone.toml", 3, 8, {"zone 'example.net' does not contain domain 'mail.example.com'"});
}

TEST_CASE("a catalogue sender that needs set-up says what to define", "[config]") {
  check_single("bad-hubspot.toml", 3, 12, {"'hubspot'", "spf10.hubspotemail.net", "[senders.hubspot]"});
}

TEST_CASE("every error is reported at once, in file order", "[config]") {
  const auto diagnostics = diagnostics_of("bad-many.toml");
  REQUIRE(diagnostics.size() == 6);
  check_diagnostic(diagnostics[0], "bad-many.toml", 2, 10, {"policy 'pass'"});
  check_diagnostic(diagnostics[1], "bad-many.toml", 3, 7, {"'ttl' is 5", "between 60 and 604800"});
  check_diagnostic(diagnostics[2], "bad-many.toml", 7, 8, {"'docs' must be a link"});
  check_diagnostic(diagnostics[3], "bad-many.toml", 11, 19, {"unknown sender 'sendgird'", "'sendgrid'"});
  check_diagnostic(diagnostics[4], "bad-many.toml", 12, 1, {"unknown key 'flaten'", "'flatten'"});
  check_diagnostic(diagnostics[5], "bad-many.toml", 14, 1, {"[[domain]] needs a name"});
  try {
    load_config(fixture("bad-many.toml"));
  } catch (const ConfigError& error) {
    const std::string text = error.what();
    CHECK_THAT(text, Catch::StartsWith("6 errors in the configuration:\n"));
    CHECK_THAT(text, Contains("bad-many.toml:12:1: unknown key 'flaten'"));
    CHECK(std::count(text.begin(), text.end(), '\n') == 6);
  }
}

TEST_CASE("duplicates across included files name both places", "[config]") {
  const auto diagnostics = diagnostics_of("include-dup/spfctl.toml");
  REQUIRE(diagnostics.size() == 2);
  check_diagnostic(diagnostics[0], "include-dup/clients/b.toml", 1, 10,
                   {"sender 'crm' is already defined at", "include-dup/spfctl.toml:3:10"});
  check_diagnostic(diagnostics[1], "include-dup/clients/b.toml", 5, 8,
                   {"domain 'shop.example' is already defined at", "include-dup/clients/a.toml:2:8"});
}

TEST_CASE("included files may not set defaults, and a plain include must exist", "[config]") {
  const auto diagnostics = diagnostics_of("include-defaults/spfctl.toml");
  REQUIRE(diagnostics.size() == 2);
  check_diagnostic(diagnostics[0], "include-defaults/spfctl.toml", 1, 36, {"missing.toml", "does not exist"});
  check_diagnostic(diagnostics[1], "include-defaults/clients/a.toml", 1, 2,
                   {"'defaults' may only be set in the main configuration file"});
}

TEST_CASE("an include_files pattern that matches no file is an error", "[config]") {
  // clients/a.toml exists; the pattern's typo (.tml) matches nothing.
  const auto diagnostics = diagnostics_of("include-nomatch/spfctl.toml");
  REQUIRE(diagnostics.size() == 1);
  check_diagnostic(diagnostics[0], "include-nomatch/spfctl.toml", 1, 18,
                   {"include_files pattern 'clients/*.tml' matches no file", "correct the pattern"});
}

TEST_CASE("an unknown sender that is another name for a catalogue entry suggests that entry", "[config]") {
  const auto diagnostics =
      diagnostics_of_text("[[domain]]\nname = \"example.com\"\nsenders = [\"office365\"]\n");
  REQUIRE(diagnostics.size() == 1);
  check_diagnostic(diagnostics[0], "test.toml", 3, 12,
                   {"unknown sender 'office365'", "did you mean 'microsoft365'?", "'spfctl senders'"});
}

TEST_CASE("a missing configuration file is an error, not a list of diagnostics", "[config]") {
  CHECK_THROWS_WITH(load_config(fixture("no-such-file.toml")),
                    Contains("cannot read configuration file") && Contains("no-such-file.toml"));
}

// ---- smaller cases, from text

TEST_CASE("misplaced keys get advice about TOML tables", "[config]") {
  const auto diagnostics = diagnostics_of_text(
      "policy = \"fail\"\n"
      "domains = []\n"
      "[defaults]\n"
      "include_files = [\"x/*.toml\"]\n"
      "[domain]\n"
      "name = \"example.com\"\n");
  REQUIRE(diagnostics.size() == 4);
  check_diagnostic(diagnostics[0], "test.toml", 1, 1, {"unknown top-level key 'policy'", "under [defaults]"});
  check_diagnostic(diagnostics[1], "test.toml", 2, 1, {"'domains'", "did you mean 'domain'?"});
  check_diagnostic(diagnostics[2], "test.toml", 4, 1, {"'include_files'", "before the first [table]"});
  check_diagnostic(diagnostics[3], "test.toml", 5, 1, {"array of tables", "[[domain]]"});
}

TEST_CASE("lists must be arrays of strings", "[config]") {
  const auto diagnostics = diagnostics_of_text(
      "[[domain]]\n"
      "name = \"example.com\"\n"
      "include = \"_spf.google.com\"\n"
      "ip4 = [\"192.0.2.1\", 7]\n");
  REQUIRE(diagnostics.size() == 2);
  check_diagnostic(diagnostics[0], "test.toml", 3, 11,
                   {"'include' must be an array of strings", "include = [\"_spf.google.com\"]"});
  check_diagnostic(diagnostics[1], "test.toml", 4, 21, {"entries of 'ip4' must be strings, not an integer"});
}

TEST_CASE("provider settings: *_env names a variable, values are scalars", "[config]") {
  const auto diagnostics = diagnostics_of_text(
      "[providers.pdns]\n"
      "type = \"powerdns\"\n"
      "api_url = \"http://127.0.0.1:8081\"\n"
      "api_key_env = \"not a variable name\"\n"
      "servers = [\"192.0.2.53\"]\n"
      "[[domain]]\n"
      "name = \"example.com\"\n"
      "senders = [\"mailchimp\"]\n");
  REQUIRE(diagnostics.size() == 2);
  check_diagnostic(diagnostics[0], "test.toml", 4, 15,
                   {"api_key_env in [providers.pdns]", "must name an environment variable"});
  check_diagnostic(diagnostics[1], "test.toml", 5, 11, {"'servers'", "string, number or boolean"});
}

TEST_CASE("a provider needs a type", "[config]") {
  const auto diagnostics = diagnostics_of_text(
      "[providers.pdns]\n"
      "api_key_env = \"PDNS_API_KEY\"\n"
      "[[domain]]\n"
      "name = \"example.com\"\n"
      "senders = [\"mailchimp\"]\n");
  REQUIRE(diagnostics.size() == 1);
  check_diagnostic(diagnostics[0], "test.toml", 1, 12, {"[providers.pdns] needs a type", "cloudflare"});
}

TEST_CASE("a sender must list something", "[config]") {
  const auto diagnostics = diagnostics_of_text(
      "[senders.crm]\n"
      "description = \"our CRM\"\n"
      "include = []\n"
      "[[domain]]\n"
      "name = \"example.com\"\n"
      "senders = [\"crm\"]\n");
  REQUIRE(diagnostics.size() == 2);
  check_diagnostic(diagnostics[0], "test.toml", 1, 10, {"sender 'crm' lists no include"});
  check_diagnostic(diagnostics[1], "test.toml", 6, 12, {"sender 'crm' cannot be used", "lists no terms"});
}

TEST_CASE("a self-referencing template is a cycle of one", "[config]") {
  const auto diagnostics = diagnostics_of_text(
      "[templates.base]\n"
      "templates = [\"base\"]\n"
      "senders = [\"mailchimp\"]\n"
      "[[domain]]\n"
      "name = \"example.com\"\n"
      "templates = [\"base\"]\n");
  REQUIRE(diagnostics.size() == 1);
  check_diagnostic(diagnostics[0], "test.toml", 2, 14, {"cycle: base -> base"});
}

TEST_CASE("defaults outside their ranges are refused", "[config]") {
  const auto diagnostics = diagnostics_of_text(
      "[defaults]\n"
      "void_lookup_budget = 3\n"
      "max_answer_bytes = 511\n"
      "chain_prefix = \"spf2\"\n"
      "flatten = \"partial\"\n"
      "policy = \"sofail\"\n"
      "[[domain]]\n"
      "name = \"example.com\"\n"
      "senders = [\"mailchimp\"]\n");
  REQUIRE(diagnostics.size() == 5);
  check_diagnostic(diagnostics[0], "test.toml", 2, 22, {"'void_lookup_budget' is 3", "between 0 and 2"});
  check_diagnostic(diagnostics[1], "test.toml", 3, 20,
                   {"'max_answer_bytes' is 511", "between 512 and 65535"});
  check_diagnostic(diagnostics[2], "test.toml", 4, 16, {"'spf2'", "digit"});
  check_diagnostic(diagnostics[3], "test.toml", 5, 11, {"unknown flatten mode 'partial'", "auto, full, off"});
  check_diagnostic(diagnostics[4], "test.toml", 6, 10,
                   {"unknown policy 'sofail'", "did you mean 'softfail'?"});
}

TEST_CASE("a domain whose name is refused is still checked through", "[config]") {
  const auto diagnostics = diagnostics_of_text(
      "[[domain]]\n"
      "name = \"example\"\n"
      "senders = [\"mailchimpp\"]\n"
      "ip4 = [\"192.0.2.1/24\"]\n"
      "[[domain]]\n"
      "senders = [\"sendgrid\"]\n"
      "zone = \"example..com\"\n");
  REQUIRE(diagnostics.size() == 5);
  check_diagnostic(diagnostics[0], "test.toml", 2, 8, {"'example' is not fully qualified"});
  check_diagnostic(diagnostics[1], "test.toml", 3, 12, {"unknown sender 'mailchimpp'"});
  check_diagnostic(diagnostics[2], "test.toml", 4, 8, {"host bits"});
  check_diagnostic(diagnostics[3], "test.toml", 5, 1, {"needs a name"});
  check_diagnostic(diagnostics[4], "test.toml", 7, 8, {"empty label"});
}

TEST_CASE("a domain may not include itself, and only the catalogue has set-up notes", "[config]") {
  const auto diagnostics = diagnostics_of_text(
      "[senders.self]\n"
      "include = [\"Example.com\"]\n"
      "setup = \"ask IT\"\n"
      "[[domain]]\n"
      "name = \"example.com\"\n"
      "senders = [\"self\"]\n");
  REQUIRE(diagnostics.size() == 2);
  check_diagnostic(diagnostics[0], "test.toml", 2, 12, {"'example.com' includes itself", "from sender self"});
  check_diagnostic(diagnostics[1], "test.toml", 3, 1, {"unknown key 'setup' in [senders.self]"});
}

TEST_CASE("terms: templates first, then senders, then the domain's own, without repeats", "[config]") {
  const Config config = load_config_text(
      "[senders.crm]\n"
      "include = [\"crm.example.net\"]\n"
      "ip4 = [\"198.51.100.0/24\"]\n"
      "[templates.base]\n"
      "senders = [\"mailchimp\"]\n"
      "ip4 = [\"192.0.2.0/24\"]\n"
      "[templates.client]\n"
      "templates = [\"base\"]\n"
      "mx = [\"@\"]\n"
      "[[domain]]\n"
      "name = \"Example.COM.\"\n"
      "templates = [\"client\"]\n"
      "senders = [\"crm\", \"mailchimp\"]\n"
      "a = [\"@/24\", \"mail.example.com//64\"]\n"
      "ip4 = [\"192.0.2.0/24\", \"203.0.113.5/32\"]\n"
      "raw = [\"exists:%{i}._spf.example.com\"]\n"
      "include = [\"CRM.example.net.\"]\n",
      "test.toml");
  REQUIRE(config.domains.size() == 1);
  const DomainPolicy& domain = config.domains[0];
  CHECK(domain.name == "example.com");
  CHECK(texts(domain) == std::vector<std::string>{"include:servers.mcsv.net", "ip4:192.0.2.0/24", "mx",
                                                  "include:crm.example.net", "ip4:198.51.100.0/24",
                                                  "ip4:203.0.113.5", "a/24", "a:mail.example.com//64",
                                                  "exists:%{i}._spf.example.com"});
  CHECK(domain.terms[0].origin == "sender mailchimp");
  CHECK(domain.terms[1].origin == "template base");
  CHECK(domain.terms[2].origin == "template client");
  CHECK(domain.terms[3].origin == "sender crm");
  CHECK(domain.terms[5].origin == "domain example.com");
  CHECK(domain.terms[2].kind == TermKind::mx);
  CHECK(domain.terms[2].value.empty());
  CHECK(domain.terms[5].location.to_string() == "test.toml:15:24");
  CHECK(domain.terms[0].location.file == "builtin:senders.toml");
}

TEST_CASE("settings: defaults, then templates in order, then the domain", "[config]") {
  const Config config = load_config_text(
      "[defaults]\n"
      "policy = \"softfail\"\n"
      "ttl = 900\n"
      "lookup_budget = 9\n"
      "void_lookup_budget = 1\n"
      "max_answer_bytes = 1232\n"
      "chain_prefix = \"_s\"\n"
      "[providers.cf]\n"
      "type = \"cloudflare\"\n"
      "token_env = \"CF_TOKEN\"\n"
      "[templates.one]\n"
      "ttl = 300\n"
      "flatten = \"full\"\n"
      "provider = \"cf\"\n"
      "[templates.two]\n"
      "ttl = 600\n"
      "lookup_budget = 7\n"
      "[[domain]]\n"
      "name = \"a.example\"\n"
      "templates = [\"one\", \"two\"]\n"
      "senders = [\"mailchimp\"]\n"
      "lookup_budget = 8\n"
      "[[domain]]\n"
      "name = \"b.example\"\n"
      "templates = [\"two\", \"one\"]\n"
      "senders = [\"mailchimp\"]\n"
      "policy = \"-all\"\n"
      "chain_prefix = \"_chain\"\n"
      "[[domain]]\n"
      "name = \"c.example\"\n"
      "senders = [\"mailchimp\"]\n",
      "test.toml");
  REQUIRE(config.domains.size() == 3);
  const DomainPolicy& a = config.domains[0];
  CHECK(a.ttl == 600);
  CHECK(a.flatten == FlattenMode::full);
  CHECK(a.provider == "cf");
  CHECK(a.lookup_budget == 8);
  CHECK(a.policy == spfctl::spf::Qualifier::softfail);
  CHECK(a.void_lookup_budget == 1);
  CHECK(a.max_answer_bytes == 1232);
  CHECK(a.chain_prefix == "_s");
  const DomainPolicy& b = config.domains[1];
  CHECK(b.ttl == 300);
  CHECK(b.lookup_budget == 7);
  CHECK(b.policy == spfctl::spf::Qualifier::fail);
  CHECK(b.chain_prefix == "_chain");
  const DomainPolicy& c = config.domains[2];
  CHECK(c.ttl == 900);
  CHECK(c.flatten == FlattenMode::automatic);
  CHECK(c.provider == std::string(k_builtin_provider));
  CHECK(config.providers.at("cf").settings.at("token_env").value == "CF_TOKEN");
  CHECK(config.providers.at(std::string(k_builtin_provider)).builtin);
}

TEST_CASE("a domain that sends no mail says so", "[config]") {
  const Config config = load_config_text(
      "[[domain]]\n"
      "name = \"parked.example\"\n"
      "senders = []\n",
      "test.toml");
  REQUIRE(config.domains.size() == 1);
  CHECK(config.domains[0].terms.empty());
  CHECK(config.domains[0].policy == spfctl::spf::Qualifier::fail);
}

TEST_CASE("included files: globbed in name order, merged, hashed", "[config]") {
  const Config config = load_config(fixture("include-ok/spfctl.toml"));
  REQUIRE(config.files.size() == 4);
  CHECK_THAT(config.files[1].string(), EndsWith("include-ok/clients/a.toml"));
  CHECK_THAT(config.files[2].string(), EndsWith("include-ok/clients/b.toml"));
  CHECK_THAT(config.files[3].string(), EndsWith("include-ok/senders.toml"));

  // The main file's domains first, then each included file's.
  REQUIRE(config.domains.size() == 3);
  CHECK(config.domains[0].name == "example.com");
  CHECK(config.domains[1].name == "a.example");
  CHECK(config.domains[2].name == "b.example");

  // senders.toml replaces the built-in mailchimp; the replacement keeps the catalogue's description.
  CHECK(texts(config.domains[0]) == std::vector<std::string>{"ip4:192.0.2.0/24"});
  CHECK_FALSE(config.senders.at("mailchimp").builtin);
  CHECK_THAT(config.senders.at("mailchimp").description, Contains("Mailchimp"));
  // A template from one included file uses a template of the main file and a sender of another.
  const DomainPolicy& b = domain_named(config, "b.example");
  CHECK(texts(b) == std::vector<std::string>{"ip4:192.0.2.0/24", "include:crm.example.net"});
  CHECK(b.policy == spfctl::spf::Qualifier::softfail);
  CHECK(b.ttl == 600);
  CHECK(b.provider == "zones");

  const auto& settings = config.providers.at("zones").settings;
  CHECK(settings.at("directory").value == "zones");
  CHECK(settings.at("port").value == "53");
  CHECK(settings.at("dry").value == "true");
  CHECK(settings.at("timeout").value == "2.5");
  CHECK(settings.at("port").location.line == 9);

  // The canonical bytes are every file's bytes, each after its length.
  std::string expected;
  for (const auto& path : config.files) {
    std::ifstream in(path, std::ios::binary);
    std::ostringstream bytes;
    bytes << in.rdbuf();
    expected += std::to_string(bytes.str().size()) + "\n" + bytes.str();
  }
  CHECK(config.canonical_bytes == expected);
}

TEST_CASE("config.example.toml is valid and tells its story", "[config]") {
  const Config config = load_config(std::string(SPFCTL_TEST_DATA) + "/../../config.example.toml");
  REQUIRE(config.domains.size() == 4);
  const DomainPolicy& shop = domain_named(config, "example-shop.com");
  CHECK(shop.policy == spfctl::spf::Qualifier::fail);
  CHECK(shop.provider == "local-zones");
  CHECK(texts(shop) == std::vector<std::string>{"ip4:198.51.100.0/28", "ip6:2001:db8:a9e::/48",
                                                "include:_spf.perfora.net", "include:_spf.kundenserver.de",
                                                "include:secureserver.net", "include:servers.mcsv.net"});
  const DomainPolicy& agency = domain_named(config, "example-agency.net");
  CHECK(agency.lookup_budget == 8);
  CHECK(agency.ttl == 1800);
  const auto terms = texts(agency);
  for (const char* term :
       {"include:_spf.google.com", "include:spf.protection.outlook.com", "include:sendgrid.net",
        "include:mailgun.org", "include:mail.zendesk.com", "include:_spf.salesforce.com",
        "include:amazonses.com", "ip4:203.0.113.0/26", "ip6:2001:db8:25::/64"})
    CHECK(std::find(terms.begin(), terms.end(), term) != terms.end());
  CHECK(domain_named(config, "news.example-agency.net").zone == "example-agency.net");
  CHECK(domain_named(config, "example-shop.net").terms.empty());
  CHECK(config.providers.at("godaddy").settings.at("key_env").value == "GODADDY_API_KEY");
}
