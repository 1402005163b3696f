// The Cloudflare adapter: TXT records of Cloudflare zones through the API v4
// (https://api.cloudflare.com/client/v4), authenticated with an API token ("Authorization: Bearer").
//
// Settings of [providers.NAME] with type = "cloudflare":
//   token_env  the environment variable holding the API token (required); the token needs
//              Zone:Read and DNS:Edit for the zones spfctl manages
//   api_url    the API base URL (default https://api.cloudflare.com/client/v4); http only for
//              loopback hosts
//   timeout    seconds one request may take in all, whole or decimal, above 0 and at most 300
//              (default 60); connecting may take at most 10 of them
//
// Cloudflare keeps each TXT value as a record of its own, with its own id and TTL. spfctl touches
// only the record holding the SPF value it manages; a record set's TTL, as list() reports it, is the
// TTL of its SPF value (without one, the lowest). Content is written as quoted character-strings of
// at most 255 bytes ("part1" "part2") and read back quoted or not.
//
// Several changes go in one batch call (POST .../dns_records/batch) only when Cloudflare's fixed
// execution order inside a batch (deletes, then patches, then puts, then posts) is the order the
// changes were given in; otherwise they are sent one by one, in the order given. Cloudflare applies
// a batch in one transaction but propagates its records one by one, so an order that would expose an
// invalid state (a record including a name not yet created) is never left to the batch.
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "http/client.hpp"
#include "http/rate_limiter.hpp"
#include "providers/provider.hpp"
#include "providers/settings.hpp"

namespace spfctl::providers {

inline constexpr std::string_view k_cloudflare_api_url = "https://api.cloudflare.com/client/v4";

// Cloudflare's documented quota: 1200 requests per 5 minutes per user.
inline constexpr http::RateLimit k_cloudflare_rate_limit{1200, std::chrono::minutes(5)};

const Capabilities& cloudflare_capabilities();

// The adapter for checked `settings` (type "cloudflare"). Throws spfctl::Error when the token
// variable is unset or empty. Sends nothing.
std::unique_ptr<Provider> make_cloudflare(const ProviderSettings& settings,
                                          const ProviderEnvironment& environment);

// The TXT content spfctl writes for `value`: each character-string quoted, separated by one space,
// with '"' and '\' escaped and bytes that are not printable ASCII or valid UTF-8 written as \DDD.
std::string cloudflare_content(const TxtValue& value);

// The value Cloudflare content holds: quoted character-strings as a zone file would read them
// (\X and \DDD escapes), or, for unquoted content, the text itself, cut into strings of 255 bytes.
TxtValue parse_cloudflare_content(std::string_view content);

}  // namespace spfctl::providers
