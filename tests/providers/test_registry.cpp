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

TEST_CASE("every provider type in the table is one the configuration accepts", "[providers][registry]") {
  const auto& accepted = spfctl::config::provider_types();
  for (const ProviderType& row : provider_table())
    CHECK(std::find(accepted.begin(), accepted.end(), std::string(row.name)) != accepted.end());
}

TEST_CASE("building a provider of a type this build cannot publish to says which types it can",
          "[providers][registry]") {
  ProviderConfig other{"aws", "route53", {}, {"spfctl.toml", 12, 1}, false};
  CHECK_THROWS_WITH(create_provider(other, {"."}),
                    "spfctl.toml:12:1: provider 'aws' has type 'route53', which this build of spfctl cannot "
                    "publish to (available: zonefile, powerdns, rfc2136, cloudflare, godaddy; run 'spfctl "
                    "providers')");
  ProviderConfig pdns{"pdns", "powerdns", {}, {"spfctl.toml", 12, 1}, false};
  CHECK_THROWS_WITH(create_provider(pdns, {"."}), Catch::Contains("needs api_url"));
  ProviderConfig typo{"local", "zonefiles", {}, {"spfctl.toml", 3, 1}, false};
  CHECK_THROWS_WITH(create_provider(typo, {"."}), Catch::Contains("did you mean 'zonefile'?"));
  ProviderConfig zonefile{"zonefile", "zonefile", {}, {}, true};
  CHECK(create_provider(zonefile, {"."}) != nullptr);
}
