// The GoDaddy adapter: TXT records of domains whose DNS GoDaddy hosts, through the Domains API v1
// (https://api.godaddy.com), authenticated with a key and secret ("Authorization: sso-key K:S").
//
// Settings of [providers.NAME] with type = "godaddy":
//   key_env      the environment variable holding the API key (required)
//   secret_env   the environment variable holding the API secret (required)
//   environment  "production" (default, https://api.godaddy.com) or "ote", GoDaddy's test
//                environment (https://api.ote-godaddy.com), whose keys are separate
//   api_url      the API base URL, instead of environment; http only for loopback hosts
//   timeout      seconds one request may take in all, whole or decimal, above 0 and at most 300
//                (default 60); connecting may take at most 10 of them
//
// GoDaddy writes all TXT values at a name at once: PUT .../records/TXT/{name} replaces every one of
// them. So each change reads the values at its name first and writes them all back, the other values
// unchanged (data and TTL as read), with the SPF value created, replaced or left out; when no value
// would remain, the name's TXT records are deleted instead. A value is one data string, which
// GoDaddy splits into 255-byte character-strings itself when it serves it; list() reports it cut the
// same way.
#pragma once

#include <chrono>
#include <memory>
#include <string_view>
#include <vector>

#include "http/rate_limiter.hpp"
#include "providers/provider.hpp"
#include "providers/settings.hpp"

namespace spfctl::providers {

inline constexpr std::string_view k_godaddy_api_url = "https://api.godaddy.com";
inline constexpr std::string_view k_godaddy_ote_api_url = "https://api.ote-godaddy.com";

// GoDaddy's documented quota: 60 requests a minute per API key.
inline constexpr http::RateLimit k_godaddy_rate_limit{60, std::chrono::minutes(1)};

const Capabilities& godaddy_capabilities();

// Settings that conflict: api_url and environment both set.
std::vector<SettingProblem> check_godaddy_settings(const ProviderSettings& settings);

// The adapter for checked `settings` (type "godaddy"). Throws spfctl::Error when the key or secret
// variable is unset or empty. Sends nothing.
std::unique_ptr<Provider> make_godaddy(const ProviderSettings& settings,
                                       const ProviderEnvironment& environment);

}  // namespace spfctl::providers
