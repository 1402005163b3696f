#include "http/retry.hpp"

#include <curl/curl.h>

#include <algorithm>
#include <charconv>
#include <random>
#include <string>
#include <thread>

namespace spfctl::http {

namespace {

using std::chrono::milliseconds;

// Longer than any wait budget; keeps arithmetic on absurd Retry-After values from overflowing.
constexpr milliseconds k_longest_hint = std::chrono::hours(24 * 365);

void real_sleep(milliseconds delay) {
  std::this_thread::sleep_for(delay);
}

milliseconds full_jitter(milliseconds cap) {
  thread_local std::mt19937_64 engine{std::random_device{}()};
  std::uniform_int_distribution<milliseconds::rep> pick(0, cap.count());
  return milliseconds(pick(engine));
}

std::string_view trim(std::string_view text) {
  while (!text.empty() && (text.front() == ' ' || text.front() == '\t')) text.remove_prefix(1);
  while (!text.empty() && (text.back() == ' ' || text.back() == '\t')) text.remove_suffix(1);
  return text;
}

}  // namespace

std::optional<milliseconds> parse_retry_after(std::string_view value,
                                              std::chrono::system_clock::time_point now) {
  value = trim(value);
  if (value.empty()) return std::nullopt;
  if (std::ranges::all_of(value, [](char c) { return c >= '0' && c <= '9'; })) {
    std::uint64_t seconds = 0;
    auto [end, error] = std::from_chars(value.data(), value.data() + value.size(), seconds);
    if (error == std::errc::result_out_of_range ||
        seconds > static_cast<std::uint64_t>(
                      std::chrono::duration_cast<std::chrono::seconds>(k_longest_hint).count()))
      return k_longest_hint;
    return std::chrono::seconds(seconds);
  }
  std::string date(value);
  const time_t when = curl_getdate(date.c_str(), nullptr);
  if (when == -1) return std::nullopt;
  // Compared in seconds before any conversion: a date past 2262 or before 1678 does not fit the
  // clock's nanoseconds.
  const time_t today = std::chrono::system_clock::to_time_t(now);
  const auto longest = std::chrono::duration_cast<std::chrono::seconds>(k_longest_hint).count();
  if (when <= today) return milliseconds(0);
  if (when - today >= longest) return k_longest_hint;
  return std::chrono::seconds(when - today);
}

bool is_retryable(const Request& request, const Response& response) {
  switch (response.transport_error) {
    case TransportError::none:
      if (response.status == 429) return true;
      if (response.status == 500 || response.status == 502 || response.status == 503 ||
          response.status == 504)
        return is_idempotent(request.method) || request.idempotent;
      return false;
    case TransportError::resolve:
    case TransportError::connect:
    case TransportError::timeout:
    case TransportError::io:
      return is_idempotent(request.method) || request.idempotent || !response.request_sent;
    case TransportError::tls:
    case TransportError::other:
      return false;
  }
  return false;
}

RetryingClient::RetryingClient(std::shared_ptr<HttpClient> inner, RetryOptions options)
    : m_inner(std::move(inner)), m_options(std::move(options)) {
  if (!m_options.sleep) m_options.sleep = real_sleep;
  if (!m_options.jitter) m_options.jitter = full_jitter;
  if (!m_options.now) m_options.now = [] { return std::chrono::system_clock::now(); };
  m_options.max_attempts = std::max(m_options.max_attempts, 1);
}

milliseconds RetryingClient::next_delay(const Response& response, int attempt) const {
  std::optional<milliseconds> hint;
  if (auto header = response.header("Retry-After")) hint = parse_retry_after(*header, m_options.now());
  if (m_options.retry_hint) {
    if (auto from_body = m_options.retry_hint(response))
      hint = std::max(hint.value_or(milliseconds(0)), *from_body);
  }
  if (hint) return std::clamp(*hint, milliseconds(0), k_longest_hint);

  // Doubling from base_delay, capped, then a uniformly random part of it: clients that failed
  // together do not come back together.
  milliseconds cap = std::min(m_options.base_delay, m_options.max_delay);
  for (int i = 1; i < attempt && cap < m_options.max_delay; ++i) cap = std::min(cap * 2, m_options.max_delay);
  return std::clamp(m_options.jitter(cap), milliseconds(0), cap);
}

Response RetryingClient::send(const Request& request) {
  milliseconds waited(0);
  for (int attempt = 1;; ++attempt) {
    Response response = m_inner->send(request);
    response.attempts = attempt;
    if (attempt >= m_options.max_attempts || !is_retryable(request, response)) return response;
    milliseconds delay = next_delay(response, attempt);
    if (waited + delay > m_options.max_total_wait) return response;
    if (m_options.on_retry) m_options.on_retry(request, response, delay);
    m_options.sleep(delay);
    waited += delay;
  }
}

}  // namespace spfctl::http
