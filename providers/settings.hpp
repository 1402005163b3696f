// A provider type's settings, declared once in its registry row, and the one reader that checks a
// [providers.NAME] table against them. Adapters receive the checked, typed ProviderSettings, never
// the configuration itself.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "config/diagnostics.hpp"

namespace spfctl::config {
struct ProviderConfig;
}

namespace spfctl::providers {

enum class SettingType : std::uint8_t {
  text,          // any string
  name,          // a non-empty string without '/' (a path segment: server_id)
  path,          // a non-empty file or directory path
  whole_number,  // an integer from SettingInfo::min to max
  seconds,       // a duration: above 0, at most config::k_max_timeout_seconds, "2.5" allowed
  api_url,       // https (http to loopback only); trailing '/' dropped
  env_name,      // *_env: the name of the environment variable holding a credential
  address,       // ADDR[:PORT] of a DNS server
  choice,        // one of SettingInfo::choices
  zone_list,     // zone apexes separated by commas or spaces; kept lowercase, comma-separated, no repeats
};

// One setting of a provider type: what `spfctl providers` and the docs show, and what the reader
// checks.
struct SettingInfo {
  std::string_view key;
  SettingType type = SettingType::text;
  std::string_view description;  // one line, with the default when there is one
  bool required = false;
  std::int64_t min = 0;  // whole_number
  std::int64_t max = 0;
  std::vector<std::string_view> choices{};  // choice
  // env_name: what the variable holds, for the message when it is unset ("a Cloudflare API token
  // with the permissions Zone:Read and DNS:Edit").
  std::string_view holds = {};
};

// The checked settings of one provider. Values are as the reader normalized them (an api_url
// without its trailing '/', an address as ADDR:PORT).
class ProviderSettings {
 public:
  std::string name;  // the [providers.NAME] key
  std::string type;  // its type

  // Whether the table sets `key`.
  bool has(std::string_view key) const;
  // The value of `key`; `fallback` when it is not set.
  std::string text(std::string_view key, std::string_view fallback = "") const;
  std::int64_t number(std::string_view key, std::int64_t fallback) const;
  std::chrono::milliseconds seconds(std::string_view key, std::chrono::milliseconds fallback) const;

  // "[providers.NAME]", for messages.
  std::string table() const { return "[providers." + name + "]"; }

  // Set by the reader.
  struct Value {
    std::string text;
    config::SourceLocation location;
    std::string_view holds{};  // SettingInfo::holds, for an env_name setting
  };
  std::map<std::string, Value, std::less<>> values;
  config::SourceLocation location;  // the table's header
};

// A problem an adapter finds in a combination of checked settings: the key it is about (empty:
// the table), and what is wrong, as "needs key_name too: ...".
struct SettingProblem {
  std::string key;
  std::string message;
};

// Reads `config` against `infos` (its type's registry row), then runs the adapter's own checks of
// combinations (`check`, may be null). `check` sees every key the table sets, a value that failed
// its type's check as written (so it reads values with has() and text() only). Every problem is reported,
// each as "FILE:LINE:COL: <key> in [providers.NAME]: <what>" or, for unknown and missing keys, "unknown
// setting 'k' in [providers.NAME] (type T); did you mean 'x'? ..." and
// "[providers.NAME] (type T) needs <key>: <description>". Throws config::ConfigError listing them.
ProviderSettings read_settings(const config::ProviderConfig& config, const std::vector<SettingInfo>& infos,
                               std::vector<SettingProblem> (*check)(const ProviderSettings&) = nullptr);

// plan_reads_server without plan_reads = "dns": for the adapters that take plan_reads (their check).
std::vector<SettingProblem> plan_reads_problems(const ProviderSettings& settings);

// The diagnostics read_settings() would throw, without throwing: what the configuration loader
// reports beside its own.
std::vector<config::Diagnostic> setting_problems(
    const config::ProviderConfig& config, const std::vector<SettingInfo>& infos,
    std::vector<SettingProblem> (*check)(const ProviderSettings&));

}  // namespace spfctl::providers
