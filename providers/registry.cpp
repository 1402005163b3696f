#include "providers/registry.hpp"

#include <algorithm>
#include <string>

#include "config/config.hpp"
#include "dns/live_resolver.hpp"
#include "error.hpp"
#include "providers/cloudflare.hpp"
#include "providers/godaddy.hpp"
#include "providers/powerdns.hpp"
#include "providers/rfc2136.hpp"
#include "providers/zonefile.hpp"
#include "util/text.hpp"

namespace spfctl::providers {

namespace {

constexpr std::int64_t k_max_write_concurrency = 16;

const SettingInfo k_timeout{"timeout", SettingType::seconds,
                            "seconds one API request may take, above 0 and at most 300 (default 60)"};

// Settings every provider type takes, read by the core; listed with each type's own.
std::vector<SettingInfo> with_common(std::vector<SettingInfo> settings) {
  settings.push_back({"write_concurrency", SettingType::whole_number,
                      "zones apply writes at once through this provider, 1 to 16 (default: the type's, 1 for "
                      "powerdns, 4 for the others)",
                      false, 1, k_max_write_concurrency});
  return settings;
}

// Settings of the API adapters whose plans may read from DNS instead (src/plan/live_reads.hpp).
std::vector<SettingInfo> with_plan_reads(std::vector<SettingInfo> settings) {
  settings.push_back(
      {"plan_reads",
       SettingType::choice,
       "where plan reads the published TXT records: \"api\" (default: one request per zone) or "
       "\"dns\" (the zone's nameservers, asked directly: no API request)",
       false,
       0,
       0,
       {"api", "dns"}});
  settings.push_back(
      {"plan_reads_server", SettingType::address,
       "ADDR[:PORT] asked with plan_reads = \"dns\" instead of the zone's NS records (optional)"});
  return settings;
}

std::vector<std::string> type_names() {
  std::vector<std::string> names;
  for (const ProviderType& type : provider_table()) names.emplace_back(type.name);
  return names;
}

}  // namespace

const std::vector<ProviderType>& provider_table() {
  static const std::vector<ProviderType> table = {
      {"zonefile",
       "RFC 1035 master files in a directory, one <zone>.zone per zone (BIND, knotd, NSD); built in",
       zone_file_capabilities(),
       with_common({{"directory", SettingType::path,
                     "directory of the zone files, relative to the configuration file (default \"zones\")"}}),
       "docs/providers/zonefile.md", nullptr, make_zone_file, std::nullopt},
      {"powerdns", "PowerDNS Authoritative through its HTTP API; one atomic PATCH per zone",
       powerdns_capabilities(),
       with_common({{"api_url", SettingType::api_url,
                     "the webserver's base URL, e.g. http://127.0.0.1:8081 (https unless loopback)", true},
                    {"server_id", SettingType::name, "the server id in API paths (default \"localhost\")"},
                    {"api_key_env",
                     SettingType::env_name,
                     "name of the environment variable holding the API key",
                     true,
                     0,
                     0,
                     {},
                     "the api-key set in pdns.conf"},
                    {"dns_server", SettingType::address,
                     "ADDR[:PORT] where pdns_server answers DNS; apply asks it to verify (optional)"},
                    k_timeout}),
       "docs/providers/powerdns.md", nullptr, make_powerdns, std::nullopt},
      {"rfc2136",
       "any primary server accepting RFC 2136 dynamic updates with TSIG (knotd, BIND, PowerDNS...)",
       rfc2136_capabilities(),
       with_common(
           {{"server", SettingType::address, "ADDR[:PORT] of the primary server", true},
            {"key_name", SettingType::text, "TSIG key name"},
            {"key_algorithm", SettingType::text, "hmac-sha256 (default), hmac-sha1/224/384/512, hmac-md5"},
            {"key_secret_env",
             SettingType::env_name,
             "name of the environment variable holding the base64 TSIG secret",
             false,
             0,
             0,
             {},
             "the TSIG key's base64 secret"},
            {"zones", SettingType::zone_list,
             "comma-separated zone apexes served (default: found by SOA queries)"},
            {"timeout", SettingType::seconds, "seconds to wait for the server (default 10)"}}),
       "docs/providers/rfc2136.md", check_rfc2136_settings, make_rfc2136, std::nullopt},
      {"cloudflare", "Cloudflare DNS through API v4, with an API token", cloudflare_capabilities(),
       with_common(with_plan_reads(
           {{"token_env",
             SettingType::env_name,
             "name of the environment variable holding the API token",
             true,
             0,
             0,
             {},
             "a Cloudflare API token with the permissions Zone:Read and DNS:Edit"},
            {"api_url", SettingType::api_url, "API base URL (default https://api.cloudflare.com/client/v4)"},
            k_timeout})),
       "docs/providers/cloudflare.md", plan_reads_problems, make_cloudflare, k_cloudflare_rate_limit},
      {"godaddy", "GoDaddy DNS through the Domains API v1, with a key and secret", godaddy_capabilities(),
       with_common(with_plan_reads(
           {{"key_env",
             SettingType::env_name,
             "name of the environment variable holding the API key",
             true,
             0,
             0,
             {},
             "the API key from developer.godaddy.com"},
            {"secret_env",
             SettingType::env_name,
             "name of the environment variable holding the API secret",
             true,
             0,
             0,
             {},
             "the API key's secret from developer.godaddy.com"},
            {"environment",
             SettingType::choice,
             "\"production\" (default) or \"ote\", GoDaddy's test environment",
             false,
             0,
             0,
             {"production", "ote"}},
            {"api_url", SettingType::api_url, "API base URL (default https://api.godaddy.com)"},
            k_timeout})),
       "docs/providers/godaddy.md", check_godaddy_settings, make_godaddy, k_godaddy_rate_limit},
  };
  return table;
}

const ProviderType* find_provider_type(std::string_view type) {
  const auto& table = provider_table();
  const auto it =
      std::find_if(table.begin(), table.end(), [&](const ProviderType& t) { return t.name == type; });
  return it == table.end() ? nullptr : &*it;
}

std::vector<config::Diagnostic> provider_problems(const config::ProviderConfig& config) {
  const std::string table = "[providers." + config.name + "]";
  if (config.type.empty())
    return {{config.location, table + " needs a type: one of " + util::joined(type_names())}};
  const ProviderType* type = find_provider_type(config.type);
  if (!type) {
    const std::string match = util::closest_match(config.type, type_names());
    return {{config.type_location.file.empty() ? config.location : config.type_location,
             "unknown provider type " + util::quoted(config.type) + " in " + table +
                 (match.empty() ? "" : "; did you mean " + util::quoted(match) + "?") +
                 " (this build publishes to: " + util::joined(type_names()) + "; see 'spfctl providers')"}};
  }
  return setting_problems(config, type->settings, type->check);
}

std::unique_ptr<Provider> create_provider(const config::ProviderConfig& config,
                                          const ProviderEnvironment& environment) {
  if (std::vector<config::Diagnostic> problems = provider_problems(config); !problems.empty())
    throw config::ConfigError(std::move(problems));
  const ProviderType& type = *find_provider_type(config.type);
  return type.create(read_settings(config, type.settings, type.check), environment);
}

int write_concurrency(const config::ProviderConfig& config) {
  const ProviderType* type = find_provider_type(config.type);
  const auto found = config.settings.find("write_concurrency");
  if (found == config.settings.end()) return type ? type->capabilities.write_concurrency : 1;
  return std::stoi(found->second.value);  // checked to be 1 to 16 when the configuration was loaded
}

PlanReads plan_reads(const config::ProviderConfig& config) {
  PlanReads reads;
  const auto mode = config.settings.find("plan_reads");
  reads.dns = mode != config.settings.end() && mode->second.value == "dns";
  // Read as the settings reader normalizes an address: checked when the configuration was loaded.
  if (const auto server = config.settings.find("plan_reads_server");
      reads.dns && server != config.settings.end())
    reads.servers.push_back(dns::parse_server_address(server->second.value).to_string());
  return reads;
}

}  // namespace spfctl::providers
