// The one HTTP client interface spfctl's provider adapters talk through. Knows nothing of SPF or
// DNS. `HttpClient` is abstract so it can be mocked out for tests; the real one is CurlHttpClient,
// and RetryingClient / RateLimitedClient decorate any implementation.
//
// Failures come back in two kinds that callers must not confuse:
//   - the server answered: `Response::status` is the HTTP status (any, including 4xx/5xx);
//   - no HTTP answer at all (connection refused, DNS failure, TLS failure, timeout, broken
//     connection): `Response::transport_error` is not `none`, `status` is 0 and
//     `transport_message` says what failed.
// send() throws spfctl::Error only for requests that must never be attempted (e.g. plain http to
// a remote host); it never throws for network failures.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace spfctl::http {

enum class Method : std::uint8_t { get, post, put, patch, delete_ };

// "GET", "POST", "PUT", "PATCH", "DELETE".
std::string_view to_string(Method method);

// True for the methods RFC 9110 calls idempotent (GET, PUT, DELETE): sending them twice has the
// effect of sending them once, so a retry after an ambiguous failure is safe. POST and PATCH are not.
bool is_idempotent(Method method);

struct Header {
  std::string name;
  std::string value;
  bool operator==(const Header&) const = default;
};

// In the order they are sent or were received; names keep their spelling, lookups ignore case.
using Headers = std::vector<Header>;

// The value of the first header named `name` (ASCII case-insensitive), or nullopt.
std::optional<std::string_view> find_header(const Headers& headers, std::string_view name);

struct Request {
  Method method = Method::get;
  std::string url;  // absolute: https://host[:port]/path[?query]
  Headers headers;
  std::string body;  // sent as is; set Content-Type in `headers`
  // Sending this request twice has the effect of sending it once, whatever its method says (a
  // PowerDNS PATCH that REPLACEs or DELETEs whole RRsets): retried like a PUT after a 5xx or a lost
  // connection.
  bool idempotent = false;
};

enum class TransportError : std::uint8_t {
  none,     // the server answered; see `status`
  resolve,  // the host name did not resolve
  connect,  // no connection: refused, unreachable, network down
  tls,      // TLS handshake or certificate verification failed
  timeout,  // the connect or the total timeout expired
  io,       // the connection broke while sending or receiving
  other,    // anything else the transport reports (bad URL, out of memory, ...)
};

// Short lowercase words for messages: "host name not resolved", "connection failed", "tls failure",
// "timeout", "connection broken", "transport failure" ("no error" for none).
std::string_view to_string(TransportError error);

struct Response {
  int status = 0;  // HTTP status; 0 when transport_error is set
  Headers headers;
  std::string body;

  TransportError transport_error = TransportError::none;
  std::string transport_message;  // what the transport said, for messages; empty on an answer
  // False only when the transport is sure no byte of the request reached the server (failed to
  // resolve, connect or complete TLS, or timed out before sending): then even a non-idempotent
  // request may be sent again.
  bool request_sent = true;
  // How many times the request was sent to get this response (set by RetryingClient).
  int attempts = 1;

  bool transport_failed() const { return transport_error != TransportError::none; }
  // A 2xx answer.
  bool ok() const { return !transport_failed() && status >= 200 && status < 300; }
  std::optional<std::string_view> header(std::string_view name) const { return find_header(headers, name); }

  static Response transport_failure(TransportError error, std::string message, bool request_sent);
};

class HttpClient {
 public:
  virtual ~HttpClient() = default;

  // Sends one request and waits for the whole response. Never throws for network failures or HTTP
  // error statuses: they come back in the response (see the top of this file). Throws spfctl::Error
  // for a request that is refused before any connection (e.g. a URL that must be https).
  // Implementations are thread-safe: many threads may send at once through one client.
  virtual Response send(const Request& request) = 0;
};

// Percent-encodes `text` for a URL path segment or query value: RFC 3986 unreserved characters and
// those in `also_keep` stay as they are.
std::string url_encode(std::string_view text, std::string_view also_keep = "");

}  // namespace spfctl::http
