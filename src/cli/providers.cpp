// spfctl providers: the provider types this build can publish to, with their capabilities and
// settings.
#include <iostream>
#include <nlohmann/json.hpp>

#include "cli/commands.hpp"
#include "cli/context.hpp"
#include "providers/registry.hpp"

namespace spfctl::cli {

namespace {

std::string capability_line(const publish::Capabilities& c) {
  std::string line = "TTL " + std::to_string(c.min_ttl) + "-" + std::to_string(c.max_ttl) +
                     " s, strings up to " + std::to_string(c.max_string_bytes) + " bytes, values up to " +
                     std::to_string(c.max_value_bytes) + " bytes";
  line += c.multi_string ? ", several strings per value" : ", one string per value";
  if (c.batch) line += ", applies a zone's changes at once";
  if (c.replaces_rrset) line += ", writes whole TXT sets";
  return line;
}

void print_text(std::ostream& out, const Style& style) {
  bool first = true;
  for (const providers::ProviderType& type : providers::provider_table()) {
    if (!first) out << "\n";
    first = false;
    out << style.bold(type.name) << "  " << type.summary << "\n";
    out << "  can      " << capability_line(type.capabilities) << "\n";
    for (const providers::SettingInfo& setting : type.settings)
      out << "  setting  " << setting.key << (setting.required ? " (required)" : "") << ": "
          << setting.description << "\n";
    out << "  docs     " << type.docs << "\n";
  }
}

nlohmann::ordered_json table_json() {
  nlohmann::ordered_json list = nlohmann::ordered_json::array();
  for (const providers::ProviderType& type : providers::provider_table()) {
    const publish::Capabilities& c = type.capabilities;
    nlohmann::ordered_json settings = nlohmann::ordered_json::array();
    for (const providers::SettingInfo& s : type.settings)
      settings.push_back({{"key", s.key}, {"description", s.description}, {"required", s.required}});
    list.push_back({{"type", type.name},
                    {"summary", type.summary},
                    {"capabilities",
                     {{"min_ttl", c.min_ttl},
                      {"max_ttl", c.max_ttl},
                      {"max_string_bytes", c.max_string_bytes},
                      {"max_value_bytes", c.max_value_bytes},
                      {"multi_string", c.multi_string},
                      {"batch", c.batch},
                      {"replaces_rrset", c.replaces_rrset}}},
                    {"settings", settings},
                    {"docs", type.docs}});
  }
  return {{"providers", list}};
}

}  // namespace

int run_providers(const GlobalOptions& globals) {
  if (globals.json) {
    std::cout << table_json().dump(2) << "\n";
  } else {
    print_text(std::cout, Style(globals));
  }
  return 0;
}

}  // namespace spfctl::cli
