// Keeping credentials out of everything spfctl prints or logs. Provider adapters hold API tokens
// read from the environment; every message built from a request or a response (errors, -v traces)
// goes through a Redactor that knows those tokens, so a token echoed back by an API, placed in a
// URL, or sent in a header is shown as "[redacted]".
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "http/client.hpp"

namespace spfctl::http {

inline constexpr std::string_view k_redacted = "[redacted]";

// True for header and query-parameter names that carry credentials: ASCII case-insensitively, the
// name contains "auth", "key", "token", "secret", "password", "passwd", "cookie", "signature" or
// "credential" (so Authorization, X-Auth-Key, X-API-Key, api_token, client_secret, ...).
// Errs on the side of hiding.
bool is_secret_name(std::string_view name);

// The URL with the values of secret-named query parameters (see is_secret_name) and the password
// of any user:password@ part replaced by "[redacted]". Text that is not a URL comes back unchanged.
std::string redact_url(std::string_view url);

class Redactor {
 public:
  Redactor() = default;
  explicit Redactor(const std::vector<std::string>& secrets);

  // Adds a secret to hide. Its percent-encoded and JSON-escaped spellings are hidden too, where they
  // differ. Empty strings are ignored.
  void add_secret(std::string_view secret);

  // `text` with every occurrence of every secret replaced by "[redacted]" (longer secrets first, so
  // a secret that contains another is replaced whole).
  std::string redact(std::string_view text) const;

  // redact_url() and then redact().
  std::string redact_url(std::string_view url) const;

  // A request as text for -v traces: "METHOD URL", one "Name: value" line per header (values of
  // secret-named headers replaced), a blank line and the body; all of it redacted.
  std::string describe(const Request& request) const;

 private:
  std::vector<std::string> m_secrets;  // longest first
};

// The one-line error an adapter shows for a call that did not succeed, already redacted:
//   cloudflare: PATCH https://api.cloudflare.com/client/v4/zones/z1 answered 403 forbidden: bad token
//   godaddy: GET https://api.godaddy.com/v1/domains failed: connection failed: Connection refused
//     (after 4 attempts)
// `provider` names the adapter; `api_message` is the API's own explanation, extracted from the body
// by the caller (empty: none). The URL's secret query values are hidden, the API message is put on
// one line and cut to 300 bytes. "(after N attempts)" is added when the response took more than
// one attempt (see RetryingClient).
std::string http_error_message(const Redactor& redactor, std::string_view provider, const Request& request,
                               const Response& response, std::string_view api_message = {});

// The standard reason phrase of an HTTP status, lowercase ("forbidden", "too many requests"), or
// empty for a status this table does not know.
std::string_view reason_phrase(int status);

}  // namespace spfctl::http
