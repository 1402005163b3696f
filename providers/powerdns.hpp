// PowerDNS Authoritative (4.x) through its HTTP API v1: zones are listed from
// {api_url}/api/v1/servers/{server_id}/zones, TXT RRsets read with a zone GET and written with one
// PATCH per zone (REPLACE or DELETE of the whole TXT RRset at a name), authenticated by X-API-Key.
//
// PowerDNS stores an RRset, not single records, so a write replaces every TXT value at the name.
// apply() therefore reads the zone first and writes back every TXT value it finds at each name
// (disabled records included, verbatim) with only the SPF value exchanged; one PATCH is one
// database transaction in PowerDNS, so the changes of a zone appear together or not at all. The
// key is read from the environment variable the configuration names, and never appears in a
// message. The user-facing page is docs/providers/powerdns.md.
#pragma once

#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "http/client.hpp"
#include "http/redact.hpp"
#include "providers/provider.hpp"
#include "providers/settings.hpp"

namespace spfctl::providers {

struct PowerDnsOptions {
  std::string api_url;  // the webserver's base URL, e.g. "http://127.0.0.1:8081", no trailing slash
  std::string server_id = "localhost";
  std::string api_key;
  std::string api_key_env;                 // the variable the key came from, named in authentication errors
  std::shared_ptr<http::HttpClient> http;  // sends every request; required
  std::optional<std::string> dns_server;   // `dns_server`: where the zones answer over DNS, "ADDR:PORT"
};

class PowerDnsProvider : public Provider {
 public:
  // Throws std::invalid_argument when `options.http` is null.
  explicit PowerDnsProvider(PowerDnsOptions options);

  // min_ttl 1, strings up to 255 bytes, several per value, one PATCH per zone, and writes that
  // replace the whole TXT RRset at a name.
  const Capabilities& capabilities() const override;

  // The longest zone the server serves that contains `name` (case-insensitive, trailing dot
  // optional). The zone list is read once per provider object. Throws spfctl::Error when no zone
  // contains the name or the API fails.
  std::string zone_for(std::string_view name) override;

  // One filtered zone GET per name (rrset_name, rrset_type=TXT); names are matched again on this
  // side, so a server that ignores the filter still gives the right answer. Only enabled records
  // count (disabled ones are not served). Strings longer than 255 bytes in the stored content are
  // split at 255, as PowerDNS serves them. `ids` stay empty: PowerDNS records have none.
  std::vector<TxtRecordSet> list(std::string_view zone, const std::vector<std::string>& names) override;

  // Reads the whole zone, then sends one PATCH holding one RRset per changed name: the TXT values
  // published there, minus each change's `before`, plus its `after`, in change order, with the TTL
  // of the name's last change (one RRset has one TTL); DELETE when nothing would be left. Throws
  // spfctl::Error, with nothing applied, when a `before` is no longer published, when a create
  // finds another SPF value already at its name, when a name is outside `zone`, or when the API
  // refuses the PATCH. An empty `changes` sends nothing.
  void apply(std::string_view zone, const std::vector<Change>& changes) override;

  std::optional<std::string> dns_server() const override { return m_options.dns_server; }

 private:
  struct Zone {
    std::string name;  // lowercase, no trailing dot
    std::string id;    // the API's zone id
  };

  const std::vector<Zone>& zones();
  const Zone& served_zone(std::string_view zone);
  std::string zone_url(const Zone& zone) const;
  http::Response send(http::Request request) const;
  [[noreturn]] void fail(std::string_view context, const http::Request& request,
                         const http::Response& response) const;

  PowerDnsOptions m_options;
  http::Redactor m_redactor;
  std::mutex m_zones_mutex;
  std::optional<std::vector<Zone>> m_zones;
};

const Capabilities& powerdns_capabilities();

// The PowerDNS provider for checked `settings` (type "powerdns"): api_url (a trailing /api/v1 is
// dropped), server_id (default "localhost"), api_key_env, dns_server, timeout (used only when
// `environment.http` is empty). Throws spfctl::Error when the key variable is unset or empty
// (naming it, never showing a value).
std::unique_ptr<Provider> make_powerdns(const ProviderSettings& settings,
                                        const ProviderEnvironment& environment);

// The API's record content for a TXT value: each string in double quotes, separated by one space;
// '"' and '\' escaped with a backslash, and every byte outside printable ASCII written as \DDD (so
// any bytes survive JSON). Strings longer than 255 bytes are split into 255-byte strings.
std::string powerdns_txt_content(const TxtValue& value);

// The TXT value of API record content: quoted strings with \X and \DDD escapes, or unquoted words,
// separated by blanks; strings longer than 255 bytes are split at 255 as they are served. nullopt
// for content that is not well formed (an unterminated quote, a \DDD above 255, a trailing '\').
std::optional<TxtValue> parse_powerdns_txt_content(std::string_view content);

}  // namespace spfctl::providers
