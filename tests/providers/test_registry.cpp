#include <catch2/catch.hpp>

#include "config/config.hpp"
#include "error.hpp"
#include "providers/registry.hpp"

using namespace spfctl::providers;
using spfctl::config::ProviderConfig;

TEST_CASE("the provider table lists the zonefile type with its capabilities and settings",
          "[providers][registry]") {
  const ProviderType* type = find_provider_type("zonefile");
  REQUIRE(type != nullptr);
  CHECK(type->capabilities.multi_string);
  CHECK(type->capabilities.max_string_bytes == 255);
  REQUIRE(type->settings.size() == 2);
  CHECK(type->settings.front().key == "directory");
  // Every type lists the settings the core reads for all of them.
  for (const ProviderType& row : provider_table()) CHECK(row.settings.back().key == "write_concurrency");
  CHECK(type->docs == "docs/providers/zonefile.md");
  CHECK(find_provider_type("ZoneFile") == nullptr);
  for (const ProviderType& row : provider_table()) CHECK(row.create != nullptr);
}

TEST_CASE("the table lists every adapter", "[providers][registry]") {
  for (const char* name : {"zonefile", "powerdns", "rfc2136", "cloudflare", "godaddy"})
    CHECK(find_provider_type(name) != nullptr);
  CHECK(find_provider_type("godaddy")->capabilities.min_ttl == 600);
  CHECK(find_provider_type("powerdns")->capabilities.replaces_rrset);
}

TEST_CASE("building a provider of a type this build cannot publish to says which types it can",
          "[providers][registry]") {
  const spfctl::providers::ProviderEnvironment here{.config_dir = "."};
  ProviderConfig other{"aws", "route53", {}, {"spfctl.toml", 12, 1}, false, {}};
  CHECK_THROWS_WITH(
      create_provider(other, here),
      "spfctl.toml:12:1: unknown provider type 'route53' in [providers.aws] (this build publishes "
      "to: zonefile, powerdns, rfc2136, cloudflare, godaddy; see 'spfctl providers')");
  ProviderConfig pdns{"pdns", "powerdns", {}, {"spfctl.toml", 12, 1}, false, {}};
  CHECK_THROWS_WITH(create_provider(pdns, here), Catch::Contains("needs api_url"));
  ProviderConfig typo{"local", "zonefiles", {}, {"spfctl.toml", 3, 1}, false, {}};
  CHECK_THROWS_WITH(create_provider(typo, here), Catch::Contains("did you mean 'zonefile'?"));
  ProviderConfig zonefile{"zonefile", "zonefile", {}, {}, true, {}};
  CHECK(create_provider(zonefile, here) != nullptr);
}

TEST_CASE("every provider type reports an unknown setting in one format, with its place, sending nothing",
          "[providers][registry]") {
  for (const ProviderType& type : provider_table()) {
    INFO(type.name);
    ProviderConfig config{"p", std::string(type.name), {}, {"spfctl.toml", 4, 1}, false, {}};
    config.settings["timeot"] = {"5", {"spfctl.toml", 6, 10}};
    const std::vector<spfctl::config::Diagnostic> problems = spfctl::providers::provider_problems(config);
    REQUIRE_FALSE(problems.empty());
    CHECK(problems.front().to_string().starts_with(
        "spfctl.toml:6:10: unknown setting 'timeot' in [providers.p] (type " + std::string(type.name) + ")"));
    CHECK_THAT(problems.front().message,
               Catch::Matches("unknown setting 'timeot' in \\[providers\\.p\\] \\(type [a-z0-9]+\\); "
                              "(did you mean 'timeout'\\? It takes|it takes): [a-z_, ]*write_concurrency"));
  }
}
