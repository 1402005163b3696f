#include "providers/registry.hpp"

#include <algorithm>
#include <string>

#include "config/config.hpp"
#include "error.hpp"
#include "providers/cloudflare.hpp"
#include "providers/godaddy.hpp"
#include "providers/powerdns.hpp"
#include "providers/rfc2136.hpp"
#include "providers/zonefile.hpp"
#include "util/text.hpp"

namespace spfctl::providers {

namespace {

constexpr int k_max_write_concurrency = 16;

// Settings every provider type takes, read by the core; listed with each type's own.
std::vector<SettingInfo> with_common(std::vector<SettingInfo> settings) {
  settings.push_back({"write_concurrency",
                      "zones apply writes at once through this provider, 1 to 16 (default: the type's, 1 for "
                      "powerdns, 4 for the others)"});
  return settings;
}

// The API adapters read credentials from the process environment and reach the real network.
template <std::unique_ptr<Provider> (*make)(const config::ProviderConfig&, const ProviderEnvironment&)>
std::unique_ptr<Provider> with_process_environment(const config::ProviderConfig& config,
                                                   const ProviderContext&) {
  return make(config, ProviderEnvironment{});
}

}  // namespace

const std::vector<ProviderType>& provider_table() {
  static const std::vector<ProviderType> table = {
      {"zonefile",
       "RFC 1035 master files in a directory, one <zone>.zone per zone (BIND, knotd, NSD); built in",
       zone_file_capabilities(),
       with_common({{"directory",
                     "directory of the zone files, relative to the configuration file (default \"zones\")"}}),
       "docs/providers/zonefile.md", ZoneFileProvider::create},
      {"powerdns", "PowerDNS Authoritative through its HTTP API; one atomic PATCH per zone",
       powerdns_capabilities(),
       with_common(
           {{"api_url", "the webserver's base URL, e.g. http://127.0.0.1:8081 (https unless loopback)", true},
            {"server_id", "the server id in API paths (default \"localhost\")"},
            {"api_key_env", "name of the environment variable holding the API key", true},
            {"dns_server", "ADDR[:PORT] where pdns_server answers DNS; apply asks it to verify (optional)"},
            {"timeout", "seconds one API request may take, above 0 and at most 300 (default 60)"}}),
       "docs/providers/powerdns.md", with_process_environment<make_powerdns>},
      {"rfc2136",
       "any primary server accepting RFC 2136 dynamic updates with TSIG (knotd, BIND, PowerDNS...)",
       rfc2136_capabilities(),
       with_common({{"server", "ADDR[:PORT] of the primary server", true},
                    {"key_name", "TSIG key name"},
                    {"key_algorithm", "hmac-sha256 (default), hmac-sha1/224/384/512, hmac-md5"},
                    {"key_secret_env", "name of the environment variable holding the base64 TSIG secret"},
                    {"zones", "comma-separated zone apexes served (default: found by SOA queries)"},
                    {"timeout", "seconds to wait for the server (default 10)"}}),
       "docs/providers/rfc2136.md", with_process_environment<make_rfc2136>},
      {"cloudflare", "Cloudflare DNS through API v4, with an API token", cloudflare_capabilities(),
       with_common({{"token_env", "name of the environment variable holding the API token", true},
                    {"api_url", "API base URL (default https://api.cloudflare.com/client/v4)"},
                    {"timeout", "seconds one API request may take, above 0 and at most 300 (default 60)"}}),
       "docs/providers/cloudflare.md", with_process_environment<make_cloudflare>},
      {"godaddy", "GoDaddy DNS through the Domains API v1, with a key and secret", godaddy_capabilities(),
       with_common({{"key_env", "name of the environment variable holding the API key", true},
                    {"secret_env", "name of the environment variable holding the API secret", true},
                    {"environment", "\"production\" (default) or \"ote\", GoDaddy's test environment"},
                    {"api_url", "API base URL (default https://api.godaddy.com)"},
                    {"timeout", "seconds one API request may take, above 0 and at most 300 (default 60)"}}),
       "docs/providers/godaddy.md", with_process_environment<make_godaddy>},
  };
  return table;
}

int write_concurrency(const config::ProviderConfig& config) {
  const ProviderType* type = find_provider_type(config.type);
  const auto found = config.settings.find("write_concurrency");
  if (found == config.settings.end()) return type ? type->capabilities.write_concurrency : 1;
  const std::string& text = found->second.value;
  int value = 0;
  const bool digits =
      !text.empty() && text.size() <= 2 && text.find_first_not_of("0123456789") == std::string::npos;
  if (digits) value = std::stoi(text);
  if (value < 1 || value > k_max_write_concurrency)
    throw Error(found->second.location.to_string() + ": write_concurrency in [providers." + config.name +
                "] is '" + text + "'; it must be a whole number from 1 to " +
                std::to_string(k_max_write_concurrency) + " (zones written at once)");
  return value;
}

const ProviderType* find_provider_type(std::string_view type) {
  const auto& table = provider_table();
  const auto it =
      std::find_if(table.begin(), table.end(), [&](const ProviderType& t) { return t.name == type; });
  return it == table.end() ? nullptr : &*it;
}

std::unique_ptr<Provider> create_provider(const config::ProviderConfig& config,
                                          const ProviderContext& context) {
  if (const ProviderType* type = find_provider_type(config.type)) {
    config::ProviderConfig own = config;
    own.settings.erase("write_concurrency");
    return type->create(own, context);
  }
  std::vector<std::string> available;
  for (const ProviderType& type : provider_table()) available.emplace_back(type.name);
  std::string list;
  for (const std::string& name : available) list += (list.empty() ? "" : ", ") + name;
  const std::string where = config.location.line ? config.location.to_string() + ": " : "";
  const std::string match = util::closest_match(config.type, available);
  throw Error(where + "provider '" + config.name + "' has type '" + config.type +
              "', which this build of spfctl cannot publish to" +
              (match.empty() ? "" : "; did you mean '" + match + "'?") + " (available: " + list +
              "; run 'spfctl providers')");
}

}  // namespace spfctl::providers
