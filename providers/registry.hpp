// The provider types spfctl can publish to: one explicit table, one row per adapter. Adding an
// adapter means adding its .hpp/.cpp pair and one row in registry.cpp: its capabilities, its
// settings (the only list of them: the reader checks tables against it, `spfctl providers` shows
// it), its checks of combinations of settings, and the function that builds it.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "config/diagnostics.hpp"
#include "http/rate_limiter.hpp"
#include "providers/provider.hpp"
#include "providers/settings.hpp"

namespace spfctl::config {
struct ProviderConfig;
}

namespace spfctl::providers {

struct ProviderType {
  std::string_view name;     // the `type` in [providers.NAME]
  std::string_view summary;  // one line
  Capabilities capabilities;
  std::vector<SettingInfo> settings;
  std::string_view docs;  // the documentation page, relative to the source tree
  // Problems in combinations of settings the reader checked one by one; may be null.
  std::vector<SettingProblem> (*check)(const ProviderSettings& settings);
  // Builds the adapter from its checked settings. Throws spfctl::Error for what only building can
  // find (a credential variable that is unset). Sends nothing.
  std::unique_ptr<Provider> (*create)(const ProviderSettings& settings,
                                      const ProviderEnvironment& environment);
  // The API's documented request quota per account, when it has one: what plan's reads cost in time.
  std::optional<http::RateLimit> quota;
};

// Every provider type this build of spfctl can publish to, in the order `spfctl providers` lists them.
const std::vector<ProviderType>& provider_table();

// The row for `type`, or nullptr.
const ProviderType* find_provider_type(std::string_view type);

// Every problem of `config`: no type or one this build cannot publish to (with the closest known),
// and its settings' (read_settings). What the configuration loader reports with its own problems,
// before any DNS question or API request.
std::vector<config::Diagnostic> provider_problems(const config::ProviderConfig& config);

// Builds the provider `config` describes. Throws config::ConfigError for the problems
// provider_problems() finds, and spfctl::Error for what building finds.
std::unique_ptr<Provider> create_provider(const config::ProviderConfig& config,
                                          const ProviderEnvironment& environment = {});

// How many zones apply writes at once through the provider `config` describes: its
// write_concurrency setting, else its type's Capabilities::write_concurrency.
int write_concurrency(const config::ProviderConfig& config);

// Where plan reads the published TXT records of the provider `config` describes: its plan_reads
// setting ("dns": from the zones' nameservers, or the plan_reads_server) or, by default and for the
// types without it, through the provider.
struct PlanReads {
  bool dns = false;
  std::vector<std::string> servers;  // plan_reads_server, as ADDR:PORT
};
PlanReads plan_reads(const config::ProviderConfig& config);

}  // namespace spfctl::providers
