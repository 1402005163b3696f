// The interface between spfctl's core and a DNS host. An adapter translates records and calls its
// API; it never parses configuration, diffs or flattens (the core does, once, for every adapter).
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

namespace spfctl::http {
class HttpClient;
class RateLimiter;
}  // namespace spfctl::http

namespace spfctl::providers {

// One TXT value as published: its character-strings, each at most 255 bytes.
struct TxtValue {
  std::vector<std::string> strings;
  std::string joined() const;  // as receivers read it: the strings with no separator
  bool operator==(const TxtValue&) const = default;
};

// The TXT records at one name.
struct TxtRecordSet {
  std::string name;  // lowercase, no trailing dot
  std::uint32_t ttl = 0;
  std::vector<TxtValue> values;
  std::vector<std::string> ids;  // the provider's ids, parallel to `values` (empty where it has none)
};

// What a provider can and cannot store; checked while planning, before any API call.
struct Capabilities {
  std::uint32_t min_ttl = 1;
  std::uint32_t max_ttl = 2147483647;
  std::size_t max_string_bytes = 255;   // longest character-string it accepts
  std::size_t max_value_bytes = 65535;  // longest TXT value (all strings of one record)
  bool multi_string = true;             // stores a value as several strings
  bool batch = false;                   // applies several changes in one call
  bool replaces_rrset = false;          // a write replaces every TXT value at the name
  // Zones apply writes at once through one provider of this type unless its write_concurrency
  // setting says otherwise: what the host takes safely (a sqlite3-backed PowerDNS, one writer).
  int write_concurrency = 4;
};

// One change to the SPF value at one name. `others` are the other TXT values at that name as they
// were read: an adapter whose API writes whole RRsets writes them back unchanged, and no adapter
// ever changes them.
struct Change {
  enum class Action : std::uint8_t { create, update, remove };
  Action action = Action::create;
  std::string name;
  std::uint32_t ttl = 0;
  std::optional<TxtValue> before;  // update, remove: the SPF value being replaced
  std::optional<TxtValue> after;   // create, update: the SPF value to publish
  std::vector<TxtValue> others;
};
std::string_view to_string(Change::Action action);  // "create", "update", "delete"

class ProviderSettings;

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

// Calls for different zones may run on different threads at once; adapters guard what they share.
class Provider {
 public:
  virtual ~Provider() = default;

  virtual const Capabilities& capabilities() const = 0;

  // The zone that holds `name` at this provider (its apex, lowercase). Throws spfctl::Error when
  // the provider serves no zone containing it.
  virtual std::string zone_for(std::string_view name) = 0;

  // The TXT record sets at `names` (all inside `zone`). A name without TXT records has no entry.
  // Throws spfctl::Error naming the provider, the zone and the API's message on failure.
  virtual std::vector<TxtRecordSet> list(std::string_view zone, const std::vector<std::string>& names) = 0;

  // Applies `changes` in the order given, each completely before the next. On failure throws
  // spfctl::Error saying which change failed; the changes before it stay applied (apply again
  // converges, since the plan is recomputed from what is then published).
  virtual void apply(std::string_view zone, const std::vector<Change>& changes) = 0;

  // A server that answers authoritatively for the provider's zones, "ADDR:PORT", which apply asks
  // over DNS to check what it published; nullopt when the provider names none.
  virtual std::optional<std::string> dns_server() const { return std::nullopt; }
};

}  // namespace spfctl::providers
