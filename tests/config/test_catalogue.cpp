#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

#include "config/config.hpp"

using namespace spfctl::config;

namespace {

// An empty configuration but for one domain: the catalogue as every load sees it.
Config catalogue_config() {
  return load_config_text("[[domain]]\nname = \"example.com\"\nsenders = []\n", "catalogue-test.toml");
}

std::vector<std::string> includes_of(const SenderDefinition& sender) {
  std::vector<std::string> out;
  for (const SenderTerm& term : sender.terms)
    if (term.kind == TermKind::include) out.push_back(term.value);
  return out;
}

// The owner names of the shared real-world zone, lowercase, without the trailing dot.
std::set<std::string> realworld_owners() {
  const auto path = std::filesystem::path(SPFCTL_DEFAULT_SPF_SUITE).parent_path() / "realworld.zone";
  std::ifstream in(path);
  REQUIRE(in);
  std::set<std::string> owners;
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty() || line[0] == ';' || line[0] == '$' || line[0] == ' ' || line[0] == '\t') continue;
    std::istringstream words(line);
    std::string owner;
    words >> owner;
    if (!owner.empty() && owner.back() == '.') owner.pop_back();
    owners.insert(owner);
  }
  return owners;
}

}  // namespace

TEST_CASE("the built-in catalogue loads and documents every sender", "[config][catalogue]") {
  const Config config = catalogue_config();
  std::size_t builtin = 0;
  for (const auto& [name, sender] : config.senders) {
    INFO(name);
    CHECK(sender.builtin);
    CHECK(sender.name == name);
    CHECK_FALSE(sender.description.empty());
    CHECK(sender.docs.starts_with("https://"));
    CHECK((sender.terms.empty() != sender.setup.empty()));
    CHECK(sender.location.file == "builtin:senders.toml");
    for (const SenderTerm& term : sender.terms) CHECK(term.origin == "sender " + name);
    ++builtin;
  }
  CHECK(builtin >= 20);
}

TEST_CASE("the catalogue holds what the common senders document", "[config][catalogue]") {
  const Config config = catalogue_config();
  const std::vector<std::pair<std::string, std::vector<std::string>>> expected = {
      {"google-workspace", {"_spf.google.com"}},
      {"microsoft365", {"spf.protection.outlook.com"}},
      {"mailchimp", {"servers.mcsv.net"}},
      {"mandrill", {"spf.mandrillapp.com"}},
      {"sendgrid", {"sendgrid.net"}},
      {"amazon-ses", {"amazonses.com"}},
      {"mailgun", {"mailgun.org"}},
      {"postmark", {"spf.mtasv.net"}},
      {"zendesk", {"mail.zendesk.com"}},
      {"salesforce", {"_spf.salesforce.com"}},
      {"godaddy", {"secureserver.net"}},
      {"ionos", {"_spf-eu.ionos.com"}},
      {"ionos-legacy", {"_spf.perfora.net", "_spf.kundenserver.de"}},
      {"zoho", {"zohomail.com"}},
      {"fastmail", {"spf.messagingengine.com"}},
      {"brevo", {"spf.sendinblue.com"}},
      {"sparkpost", {"_spf.sparkpostmail.com"}},
      {"mailjet", {"spf.mailjet.com"}},
  };
  for (const auto& [name, includes] : expected) {
    INFO(name);
    REQUIRE(config.senders.contains(name));
    CHECK(includes_of(config.senders.at(name)) == includes);
  }
  const SenderDefinition& hubspot = config.senders.at("hubspot");
  CHECK(hubspot.terms.empty());
  CHECK_THAT(hubspot.setup, Catch::Contains("[senders.hubspot]"));
}

TEST_CASE("catalogue includes of senders in the real-world zone are published there", "[config][catalogue]") {
  // These resolve offline from the shared zone, so examples built on them can be planned offline.
  const std::set<std::string> owners = realworld_owners();
  REQUIRE(owners.contains("_spf.google.com"));
  const Config config = catalogue_config();
  for (const char* name :
       {"google-workspace", "microsoft365", "mailchimp", "mandrill", "sendgrid", "amazon-ses", "mailgun",
        "zendesk", "salesforce", "godaddy", "ionos", "ionos-legacy"}) {
    for (const std::string& include : includes_of(config.senders.at(name))) {
      INFO(name << " includes " << include);
      CHECK(owners.contains(include));
    }
  }
}
