#include "http/rate_limiter.hpp"

#include <algorithm>
#include <cstdio>
#include <map>
#include <thread>

namespace spfctl::http {

RateLimiter::RateLimiter(RateLimit limit, NowFunction now, SleepUntilFunction sleep_until)
    : m_limit(limit), m_now(std::move(now)), m_sleep_until(std::move(sleep_until)) {
  m_limit.capacity = std::max<std::size_t>(m_limit.capacity, 1);
  if (!m_now) m_now = [] { return Clock::now(); };
  if (!m_sleep_until) m_sleep_until = [](Clock::time_point when) { std::this_thread::sleep_until(when); };
  m_back_at.assign(m_limit.capacity, Clock::time_point::min());
}

RateLimiter::Clock::time_point RateLimiter::acquire() {
  Clock::time_point now;
  Clock::time_point taken_at;
  {
    // The token is reserved under the lock and waited for outside it, so threads queue in order
    // and none holds the others up while it sleeps.
    std::lock_guard lock(m_mutex);
    now = m_now();
    taken_at = std::max(now, m_back_at[m_oldest]);
    m_back_at[m_oldest] = taken_at + m_limit.window;
    m_oldest = (m_oldest + 1) % m_back_at.size();
  }
  if (taken_at > now) m_sleep_until(taken_at);
  return taken_at;
}

std::shared_ptr<RateLimiter> shared_rate_limiter(std::string_view account_key, RateLimit limit) {
  static std::mutex mutex;
  static std::map<std::string, std::shared_ptr<RateLimiter>, std::less<>> limiters;
  std::lock_guard lock(mutex);
  auto found = limiters.find(account_key);
  if (found == limiters.end())
    found = limiters.emplace(std::string(account_key), std::make_shared<RateLimiter>(limit)).first;
  return found->second;
}

std::string account_key(std::string_view provider_type, std::string_view api_url,
                        std::string_view credential) {
  char fingerprint[17];
  std::snprintf(fingerprint, sizeof fingerprint, "%016zx", std::hash<std::string_view>{}(credential));
  return std::string(provider_type) + " " + std::string(api_url) + " " + fingerprint;
}

RateLimitedClient::RateLimitedClient(std::shared_ptr<HttpClient> inner, std::shared_ptr<RateLimiter> limiter)
    : m_inner(std::move(inner)), m_limiter(std::move(limiter)) {}

Response RateLimitedClient::send(const Request& request) {
  m_limiter->acquire();
  return m_inner->send(request);
}

}  // namespace spfctl::http
