#include "providers/registry.hpp"

#include <algorithm>
#include <string>

#include "config/checks.hpp"
#include "config/config.hpp"
#include "error.hpp"
#include "providers/zonefile.hpp"

namespace spfctl::providers {

const std::vector<ProviderType>& provider_table() {
  static const std::vector<ProviderType> table = {
      {"zonefile",
       "RFC 1035 master files in a directory, one <zone>.zone per zone (BIND, knotd, NSD); built in",
       zone_file_capabilities(),
       {{"directory", "directory of the zone files, relative to the configuration file (default \"zones\")"}},
       "docs/providers/zonefile.md",
       ZoneFileProvider::create},
  };
  return table;
}

const ProviderType* find_provider_type(std::string_view type) {
  const auto& table = provider_table();
  const auto it =
      std::find_if(table.begin(), table.end(), [&](const ProviderType& t) { return t.name == type; });
  return it == table.end() ? nullptr : &*it;
}

std::unique_ptr<Provider> create_provider(const config::ProviderConfig& config,
                                          const ProviderContext& context) {
  if (const ProviderType* type = find_provider_type(config.type)) return type->create(config, context);
  std::vector<std::string> available;
  for (const ProviderType& type : provider_table()) available.emplace_back(type.name);
  std::string list;
  for (const std::string& name : available) list += (list.empty() ? "" : ", ") + name;
  const std::string where = config.location.line ? config.location.to_string() + ": " : "";
  const std::string match = config::closest_match(config.type, available);
  throw Error(where + "provider '" + config.name + "' has type '" + config.type +
              "', which this build of spfctl cannot publish to" +
              (match.empty() ? "" : "; did you mean '" + match + "'?") + " (available: " + list +
              "; run 'spfctl providers')");
}

}  // namespace spfctl::providers
