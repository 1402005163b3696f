// The provider types spfctl can publish to: one explicit table, one row per adapter. Adding an
// adapter means adding its .hpp/.cpp pair and one row in registry.cpp.
#pragma once

#include <filesystem>
#include <memory>
#include <string_view>
#include <vector>

#include "providers/provider.hpp"

namespace spfctl::config {
struct ProviderConfig;
}

namespace spfctl::providers {

// What an adapter may need besides its own settings.
struct ProviderContext {
  // The directory of the main configuration file: relative paths in settings are relative to it.
  std::filesystem::path config_dir;
};

// One setting of a provider type, for `spfctl providers` and the docs.
struct SettingInfo {
  std::string_view key;
  std::string_view description;  // one line, with the default when there is one
  bool required = false;
};

struct ProviderType {
  std::string_view name;     // the `type` in [providers.NAME]
  std::string_view summary;  // one line
  Capabilities capabilities;
  std::vector<SettingInfo> settings;
  std::string_view docs;  // the documentation page, relative to the source tree
  // Builds the adapter from its validated-by-config table. Throws spfctl::Error, naming the
  // provider and the setting, when a setting is missing or wrong.
  std::unique_ptr<Provider> (*create)(const config::ProviderConfig& config, const ProviderContext& context);
};

// Every provider type this build of spfctl can publish to, in the order `spfctl providers` lists them.
const std::vector<ProviderType>& provider_table();

// The row for `type`, or nullptr.
const ProviderType* find_provider_type(std::string_view type);

// Builds the provider `config` describes. Throws spfctl::Error for a type this build cannot publish
// to (with the closest available type when one is close) and for the adapter's own setting errors.
// The settings every type takes (k_common_settings) are read by the core, not the adapter.
std::unique_ptr<Provider> create_provider(const config::ProviderConfig& config,
                                          const ProviderContext& context);

// How many zones apply writes at once through the provider `config` describes: its
// write_concurrency setting (1 to 16), else its type's Capabilities::write_concurrency. Throws
// spfctl::Error naming the setting's place for another value.
int write_concurrency(const config::ProviderConfig& config);

}  // namespace spfctl::providers
