// Sending again what failed for a passing reason: rate limiting (429), a server or gateway error
// (500, 502, 503, 504), or a transport failure (DNS, connect, timeout, broken connection), with
// exponential backoff and full jitter, honouring the server's own Retry-After.
//
// The rule for what is sent again (is_retryable):
//   - 429: always. The server refused the request without acting on it.
//   - 500, 502, 503, 504, a timeout or a broken connection: only for idempotent methods (GET, PUT,
//     DELETE) and requests marked idempotent (Request::idempotent). A POST or PATCH may have been
//     carried out before the failure; sending it again could create a record twice.
//   - host not resolved, connection refused, or a timeout before any byte was sent
//     (Response::request_sent false): any method, since the server never saw the request.
//   - TLS failures and everything else (4xx, other transport errors): never; they do not pass.
// Attempts are bounded (max_attempts) and so is the time spent sleeping (max_total_wait): when the
// next wait would pass that bound, the last response is returned at once. The returned response
// says how many attempts it took (Response::attempts).
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string_view>

#include "http/client.hpp"

namespace spfctl::http {

struct RetryOptions {
  int max_attempts = 4;  // sends in all, the first one included
  std::chrono::milliseconds base_delay{500};
  // Caps spfctl's own backoff; a server's Retry-After is bounded only by max_total_wait.
  std::chrono::milliseconds max_delay{30'000};
  std::chrono::milliseconds max_total_wait{120'000};  // all waits of one send() together

  // Reads a retry delay from a response, for APIs that put it in the body (GoDaddy's JSON
  // "retryAfterSec"); nullopt when it finds none. When both this and a Retry-After header give a
  // delay, the longer one is used.
  std::function<std::optional<std::chrono::milliseconds>(const Response&)> retry_hint;
  // Told before each wait, e.g. for a -v line ("429, retrying in 2 s").
  std::function<void(const Request&, const Response&, std::chrono::milliseconds delay)> on_retry;

  // Test seams; empty means the real thing.
  std::function<void(std::chrono::milliseconds)> sleep;  // default: std::this_thread::sleep_for
  // The wait for a backoff step whose cap is `cap`: default uniform in [0, cap] ("full jitter").
  std::function<std::chrono::milliseconds(std::chrono::milliseconds cap)> jitter;
  std::function<std::chrono::system_clock::time_point()> now;  // for Retry-After dates
};

// The delay a Retry-After value asks for: delta-seconds ("120") or an HTTP-date
// ("Wed, 21 Oct 2015 07:28:00 GMT", also the obsolete RFC 850 and asctime forms), measured from
// `now`; a date in the past gives zero. nullopt for anything else.
std::optional<std::chrono::milliseconds> parse_retry_after(std::string_view value,
                                                           std::chrono::system_clock::time_point now);

// The rule at the top of this file: may `request`, answered by `response`, be sent again?
bool is_retryable(const Request& request, const Response& response);

class RetryingClient : public HttpClient {
 public:
  explicit RetryingClient(std::shared_ptr<HttpClient> inner, RetryOptions options = {});

  // Sends through the inner client until the response is not retryable, max_attempts is reached,
  // or the next wait would exceed max_total_wait; returns the last response with `attempts` set.
  // Thread-safe if the inner client and the option callbacks are.
  Response send(const Request& request) override;

 private:
  std::chrono::milliseconds next_delay(const Response& response, int attempt) const;

  std::shared_ptr<HttpClient> m_inner;
  RetryOptions m_options;
};

}  // namespace spfctl::http
