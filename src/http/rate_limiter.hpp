// Staying under a provider's request quota (GoDaddy: 60 requests a minute; Cloudflare: 1200 per
// 5 minutes) when many threads work for one account.
//
// The limiter is a bucket of `capacity` tokens; sending takes one, and a token taken at time t
// comes back to the bucket at t + window. So no span of `window` ever holds more than `capacity`
// sends. (A bucket refilled continuously at capacity/window would let up to 2*capacity-1 through in
// one window after an idle spell, which a strict per-window quota rejects.) Waiting threads are
// served in the order they asked.
#pragma once

#include <chrono>
#include <cstddef>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "http/client.hpp"

namespace spfctl::http {

struct RateLimit {
  std::size_t capacity = 1;                // requests ...
  std::chrono::milliseconds window{1000};  // ... per this span
  bool operator==(const RateLimit&) const = default;
};

class RateLimiter {
 public:
  using Clock = std::chrono::steady_clock;
  using NowFunction = std::function<Clock::time_point()>;
  using SleepUntilFunction = std::function<void(Clock::time_point)>;

  // `now` and `sleep_until` are test seams; empty means the steady clock and
  // std::this_thread::sleep_until. A capacity of 0 is taken as 1.
  explicit RateLimiter(RateLimit limit, NowFunction now = {}, SleepUntilFunction sleep_until = {});

  // Takes a token, waiting (outside any lock) until one is back in the bucket. Returns the time the
  // token was taken at. Thread-safe.
  Clock::time_point acquire();

  const RateLimit& limit() const { return m_limit; }

 private:
  RateLimit m_limit;
  NowFunction m_now;
  SleepUntilFunction m_sleep_until;
  std::mutex m_mutex;
  // When each token is back, in the order they were taken; m_oldest indexes the earliest. The
  // times never decrease around the ring, because each taken token is due back one window after a
  // time at least as late as the previous one.
  std::vector<Clock::time_point> m_back_at;
  std::size_t m_oldest = 0;
};

// The limiter every client of one account shares: the first call for `account_key` creates it with
// `limit`; later calls with the same key get that same limiter (and its limit), whatever `limit`
// they pass. Thread-safe. Limiters live until the process ends.
std::shared_ptr<RateLimiter> shared_rate_limiter(std::string_view account_key, RateLimit limit);

// A key naming one account for shared_rate_limiter(): "<provider type> <api url> <fingerprint>",
// where the fingerprint is a hash of `credential` (the token or key id), so that two tokens for one
// API get separate limiters and the key itself shows no secret.
std::string account_key(std::string_view provider_type, std::string_view api_url,
                        std::string_view credential);

// Takes a token from the limiter before each send. Put it inside a RetryingClient so every retry
// takes a token too.
class RateLimitedClient : public HttpClient {
 public:
  RateLimitedClient(std::shared_ptr<HttpClient> inner, std::shared_ptr<RateLimiter> limiter);

  Response send(const Request& request) override;

 private:
  std::shared_ptr<HttpClient> m_inner;
  std::shared_ptr<RateLimiter> m_limiter;
};

}  // namespace spfctl::http
