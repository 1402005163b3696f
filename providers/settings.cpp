#include "providers/settings.hpp"

#include <algorithm>
#include <sstream>

#include "config/checks.hpp"
#include "config/config.hpp"
#include "dns/live_resolver.hpp"
#include "error.hpp"
#include "http/curl_client.hpp"
#include "util/text.hpp"

namespace spfctl::providers {

namespace {

// What is wrong with `value` for a setting of `info` ("" when nothing); `normalized` gets the
// value to keep.
std::string value_problem(const SettingInfo& info, const std::string& value, std::string& normalized) {
  normalized = value;
  switch (info.type) {
    case SettingType::text:
      return {};
    case SettingType::name:
      if (value.empty() || value.find('/') != std::string::npos)
        return "must be a name such as \"localhost\", not " + util::quoted(value);
      return {};
    case SettingType::path:
      if (value.empty()) return "is empty: name a file or directory";
      return {};
    case SettingType::whole_number: {
      const bool digits = !value.empty() && value.size() <= 9 &&
                          std::all_of(value.begin(), value.end(), [](char c) { return util::is_digit(c); });
      const std::int64_t n = digits ? std::stoll(value) : -1;
      if (!digits || n < info.min || n > info.max)
        return "is " + util::quoted(value) + "; it must be a whole number from " + std::to_string(info.min) +
               " to " + std::to_string(info.max);
      return {};
    }
    case SettingType::seconds: {
      const config::CheckedTimeout checked = config::check_timeout_seconds(value);
      return checked.ok() ? std::string() : checked.error;
    }
    case SettingType::api_url:
      while (normalized.ends_with('/')) normalized.pop_back();
      try {
        http::check_api_url(normalized);
      } catch (const Error& e) {
        return std::string(": ") + e.what();
      }
      return {};
    case SettingType::env_name:
      if (!config::is_env_var_name(value))
        return "must name an environment variable (letters, digits and underscores), not hold the credential "
               "itself";
      return {};
    case SettingType::address:
      try {
        normalized = dns::parse_server_address(value).to_string();
      } catch (const Error& e) {
        return std::string(": ") + e.what();
      }
      return {};
    case SettingType::zone_list: {
      std::string list = value;
      std::replace(list.begin(), list.end(), ',', ' ');
      std::istringstream words(list);
      std::vector<std::string> zones;
      for (std::string zone; words >> zone;) {
        const config::Checked checked = config::check_domain_name(zone);
        if (!checked.ok()) return ": " + checked.error;
        if (std::find(zones.begin(), zones.end(), checked.value) == zones.end())
          zones.push_back(checked.value);
      }
      if (zones.empty())
        return "lists no zone: write the zone apexes separated by commas, or leave it out to have them found";
      normalized = util::joined(zones, ",");
      return {};
    }
    case SettingType::choice:
      if (std::find(info.choices.begin(), info.choices.end(), value) == info.choices.end()) {
        std::string list;
        for (std::string_view choice : info.choices)
          list += (list.empty() ? "" : " or ") + util::quoted(choice, '"');
        return "is " + util::quoted(value) + "; use " + list;
      }
      return {};
  }
  return {};
}

}  // namespace

bool ProviderSettings::has(std::string_view key) const {
  return values.find(key) != values.end();
}

std::string ProviderSettings::text(std::string_view key, std::string_view fallback) const {
  const auto it = values.find(key);
  return it == values.end() ? std::string(fallback) : it->second.text;
}

std::int64_t ProviderSettings::number(std::string_view key, std::int64_t fallback) const {
  const auto it = values.find(key);
  return it == values.end() ? fallback : std::stoll(it->second.text);
}

std::chrono::milliseconds ProviderSettings::seconds(std::string_view key,
                                                    std::chrono::milliseconds fallback) const {
  const auto it = values.find(key);
  return it == values.end() ? fallback : config::check_timeout_seconds(it->second.text).value;
}

namespace {

struct Checked {
  ProviderSettings settings;
  std::vector<config::Diagnostic> problems;
};

Checked check_settings(const config::ProviderConfig& config, const std::vector<SettingInfo>& infos,
                       std::vector<SettingProblem> (*check)(const ProviderSettings&)) {
  ProviderSettings settings;
  settings.name = config.name;
  settings.type = config.type;
  settings.location = config.location;
  const std::string table = settings.table();
  std::vector<config::Diagnostic> problems;
  std::vector<std::string> keys;
  for (const SettingInfo& info : infos) keys.emplace_back(info.key);

  for (const auto& [key, setting] : config.settings) {
    const std::string& name = key;  // a structured binding cannot be captured before C++20 in clang 14
    const auto info =
        std::find_if(infos.begin(), infos.end(), [&](const SettingInfo& i) { return i.key == name; });
    if (info == infos.end()) {
      const std::string match = util::closest_match(key, keys);
      problems.push_back(
          {setting.key_location.file.empty() ? setting.location : setting.key_location,
           "unknown setting " + util::quoted(key) + " in " + table + " (type " + config.type + ")" +
               (match.empty() ? "; it takes: " : "; did you mean " + util::quoted(match) + "? It takes: ") +
               util::joined(keys)});
      continue;
    }
    std::string normalized;
    if (const std::string what = value_problem(*info, setting.value, normalized); !what.empty()) {
      problems.push_back(
          {setting.location, key + " in " + table + (what.starts_with(":") ? "" : " ") + what});
      // Kept as written, so the adapter's check sees the key as set; the settings are not used.
      settings.values[key] = {setting.value, setting.location, info->holds};
      continue;
    }
    settings.values[key] = {normalized, setting.location, info->holds};
  }
  for (const SettingInfo& info : infos)
    if (info.required && !config.settings.contains(std::string(info.key)))
      problems.push_back({config.location, table + " (type " + config.type + ") needs " +
                                               std::string(info.key) + ": " + std::string(info.description)});
  if (check)
    for (const SettingProblem& problem : check(settings)) {
      const auto it = settings.values.find(problem.key);
      problems.push_back({it == settings.values.end() ? config.location : it->second.location,
                          (problem.key.empty() ? table : problem.key + " in " + table) +
                              (problem.message.starts_with(":") ? "" : " ") + problem.message});
    }
  return {std::move(settings), std::move(problems)};
}

}  // namespace

std::vector<SettingProblem> plan_reads_problems(const ProviderSettings& settings) {
  if (settings.has("plan_reads_server") && settings.text("plan_reads", "api") != "dns")
    return {{"plan_reads_server", "is only used with plan_reads = \"dns\": set that too, or remove it"}};
  return {};
}

std::vector<config::Diagnostic> setting_problems(
    const config::ProviderConfig& config, const std::vector<SettingInfo>& infos,
    std::vector<SettingProblem> (*check)(const ProviderSettings&)) {
  return check_settings(config, infos, check).problems;
}

ProviderSettings read_settings(const config::ProviderConfig& config, const std::vector<SettingInfo>& infos,
                               std::vector<SettingProblem> (*check)(const ProviderSettings&)) {
  Checked checked = check_settings(config, infos, check);
  if (!checked.problems.empty()) throw config::ConfigError(std::move(checked.problems));
  return std::move(checked.settings);
}

}  // namespace spfctl::providers
