#include <algorithm>
#include <catch2/catch.hpp>
#include <chrono>
#include <map>
#include <mutex>
#include <thread>

#include "http/rate_limiter.hpp"

using namespace spfctl::http;
using namespace std::chrono_literals;
using Clock = RateLimiter::Clock;

namespace {

// A clock that moves only when someone sleeps: sleeping until t moves it to t (if later).
struct FakeClock {
  std::mutex mutex;
  Clock::time_point now{};
  std::vector<Clock::time_point> sleeps;

  RateLimiter::NowFunction now_function() {
    return [this] {
      std::lock_guard lock(mutex);
      return now;
    };
  }
  RateLimiter::SleepUntilFunction sleep_function() {
    return [this](Clock::time_point until) {
      std::lock_guard lock(mutex);
      sleeps.push_back(until);
      now = std::max(now, until);
    };
  }
};

// The most tokens taken within any half-open span [t, t + window).
std::size_t busiest_window(std::vector<Clock::time_point> taken, std::chrono::milliseconds window) {
  std::ranges::sort(taken);
  std::size_t most = 0;
  for (std::size_t i = 0; i < taken.size(); ++i) {
    auto end =
        std::lower_bound(taken.begin() + static_cast<std::ptrdiff_t>(i), taken.end(), taken[i] + window);
    most = std::max(most, static_cast<std::size_t>(end - (taken.begin() + static_cast<std::ptrdiff_t>(i))));
  }
  return most;
}

class CountingClient : public HttpClient {
 public:
  Response send(const Request&) override {
    ++sends;
    Response response;
    response.status = 200;
    return response;
  }
  int sends = 0;
};

}  // namespace

TEST_CASE("concurrent acquires are spread over windows, never more than capacity in one", "[http][rate]") {
  FakeClock clock;
  RateLimiter limiter({5, 60s}, clock.now_function(), clock.sleep_function());
  std::mutex mutex;
  std::vector<Clock::time_point> taken;
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t)
    threads.emplace_back([&] {
      for (int i = 0; i < 3; ++i) {
        Clock::time_point at = limiter.acquire();
        std::lock_guard lock(mutex);
        taken.push_back(at);
      }
    });
  for (auto& thread : threads) thread.join();

  REQUIRE(taken.size() == 12);
  std::map<std::chrono::seconds::rep, int> per_window;
  for (auto at : taken)
    ++per_window[std::chrono::duration_cast<std::chrono::seconds>(at.time_since_epoch()).count()];
  CHECK(per_window == std::map<std::chrono::seconds::rep, int>{{0, 5}, {60, 5}, {120, 2}});
  CHECK(busiest_window(taken, 60s) == 5);
  // Only those that found no token waited (a thread may find the clock already moved on by another).
  CHECK_FALSE(clock.sleeps.empty());
  for (auto until : clock.sleeps)
    CHECK((until == Clock::time_point{} + 60s || until == Clock::time_point{} + 120s));
}

TEST_CASE("a token comes back one window after it was taken", "[http][rate]") {
  FakeClock clock;
  RateLimiter limiter({2, 10s}, clock.now_function(), clock.sleep_function());
  CHECK(limiter.acquire() == Clock::time_point{});
  clock.now += 4s;
  CHECK(limiter.acquire() == Clock::time_point{} + 4s);
  // Both tokens out: the first is back at 10 s, the second at 14 s.
  CHECK(limiter.acquire() == Clock::time_point{} + 10s);
  CHECK(limiter.acquire() == Clock::time_point{} + 14s);
  clock.now += 100s;
  CHECK(limiter.acquire() == clock.now);
  CHECK(clock.sleeps == std::vector<Clock::time_point>{Clock::time_point{} + 10s, Clock::time_point{} + 14s});
}

TEST_CASE("the real clock blocks until a token is back", "[http][rate]") {
  RateLimiter limiter({3, 60ms});
  auto started = Clock::now();
  for (int i = 0; i < 7; ++i) limiter.acquire();
  auto elapsed = Clock::now() - started;
  CHECK(elapsed >= 120ms);
  CHECK(elapsed < 10s);  // it does come back; generous for a loaded machine
}

TEST_CASE("a rate-limited client takes a token before each send", "[http][rate]") {
  FakeClock clock;
  auto limiter =
      std::make_shared<RateLimiter>(RateLimit{2, 1s}, clock.now_function(), clock.sleep_function());
  auto inner = std::make_shared<CountingClient>();
  RateLimitedClient client(inner, limiter);
  for (int i = 0; i < 5; ++i)
    CHECK(client.send({Method::get, "https://api.example.com/", {}, ""}).status == 200);
  CHECK(inner->sends == 5);
  // Sends at 0 s, 0 s, then 1 s (waited for), 1 s (the clock is already there), 2 s (waited for).
  CHECK(clock.sleeps == std::vector<Clock::time_point>{Clock::time_point{} + 1s, Clock::time_point{} + 2s});
}

TEST_CASE("clients of one account share one limiter", "[http][rate]") {
  std::string cf_a = account_key("cloudflare", "https://api.cloudflare.com/client/v4", "token-a-123456");
  std::string cf_b = account_key("cloudflare", "https://api.cloudflare.com/client/v4", "token-b-123456");
  CHECK(cf_a != cf_b);
  CHECK(cf_a == account_key("cloudflare", "https://api.cloudflare.com/client/v4", "token-a-123456"));
  CHECK(cf_a.find("token-a") == std::string::npos);

  auto first = shared_rate_limiter(cf_a, {1200, 300s});
  auto again = shared_rate_limiter(cf_a, {1, 1s});
  auto other = shared_rate_limiter(cf_b, {1200, 300s});
  CHECK(first == again);
  CHECK(again->limit() == RateLimit{1200, 300s});
  CHECK(first != other);
}
