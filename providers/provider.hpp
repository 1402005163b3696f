// What every adapter shares: the core's record types and Provider interface (src/publish), and the
// environment an adapter is built in. An adapter translates records and calls its API; it never
// parses configuration, diffs or flattens (the core does, once, for every adapter).
#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "publish/provider.hpp"
#include "publish/records.hpp"

namespace spfctl::http {
class HttpClient;
class RateLimiter;
struct Request;
struct Response;
}  // namespace spfctl::http

namespace spfctl::providers {

// The record types and the interface live in the core (src/publish); adapters use these names.
using publish::Capabilities;
using publish::Change;
using publish::Failure;
using publish::Provider;
using publish::ProviderError;
using publish::to_string;
using publish::TxtRecordSet;
using publish::TxtValue;

class ProviderSettings;

// Why an HTTP API call that did not succeed failed, after the client's retries: refused (401, 403),
// transient (408, 429, 5xx, or no answer to a read), unknown_outcome (a write sent without an
// answer), failed (any other status).
Failure failure_of(const http::Request& request, const http::Response& response);

// What an adapter takes from the process around it; every member may be left empty for the real
// thing. Tests fill it in to reach fakes instantly and deterministically.
struct ProviderEnvironment {
  // Reads an environment variable: nullopt when unset. Empty: std::getenv.
  std::function<std::optional<std::string>(const std::string& name)> getenv{};
  // The transport under the adapter's retrying and rate limiting. Empty: a CurlHttpClient with its
  // default timeouts.
  std::shared_ptr<http::HttpClient> http{};
  // Waits between retries. Empty: std::this_thread::sleep_for.
  std::function<void(std::chrono::milliseconds)> sleep{};
  // The request quota. Empty: the limiter shared by every client of the same account
  // (http::shared_rate_limiter), at the provider's documented limit.
  std::shared_ptr<http::RateLimiter> rate_limiter{};

  // The directory of the main configuration file: relative paths in settings are relative to it.
  std::filesystem::path config_dir{};

  // The variable's value through `getenv`; "" when unset.
  std::string read(const std::string& name) const;
  // The credential in the environment variable that setting `key` (an env_name setting) names.
  // Throws spfctl::Error when it is unset or empty: "FILE:LINE:COL: the environment variable X named
  // by KEY in [providers.NAME] is not set or empty: export it with <what it holds>".
  std::string secret(const ProviderSettings& settings, std::string_view key) const;
};

}  // namespace spfctl::providers
