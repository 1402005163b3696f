#include <atomic>
#include <catch2/catch.hpp>
#include <chrono>
#include <map>
#include <stdexcept>
#include <thread>
#include <vector>

#include "dns/caching_resolver.hpp"
#include "dns/memory_resolver.hpp"

using namespace spfctl::dns;

namespace {

// Answers from a MemoryResolver after a delay, counting how many askers are inside at once.
class SlowResolver : public Resolver {
 public:
  explicit SlowResolver(Resolver& inner, std::chrono::milliseconds delay) : m_inner(inner), m_delay(delay) {}

  Answer query(std::string_view name, RrType type) override {
    const int now = ++m_inside;
    int seen = m_max_inside.load();
    while (now > seen && !m_max_inside.compare_exchange_weak(seen, now)) {
    }
    std::this_thread::sleep_for(m_delay);
    --m_inside;
    if (name == "throws.example") throw std::logic_error("inner failure");
    return m_inner.query(name, type);
  }
  std::uint64_t queries_sent() const override { return m_inner.queries_sent(); }
  int max_inside() const { return m_max_inside.load(); }

 private:
  Resolver& m_inner;
  std::chrono::milliseconds m_delay;
  std::atomic<int> m_inside{0};
  std::atomic<int> m_max_inside{0};
};

}  // namespace

TEST_CASE("caching resolver asks each normalized question once and counts hits and misses", "[dns][cache]") {
  MemoryResolver memory;
  memory.add_txt("example.com", {"v=spf1 -all"});
  CachingResolver cache(memory);

  CHECK(cache.query("example.com", RrType::TXT).txt ==
        std::vector<std::vector<std::string>>{{"v=spf1 -all"}});
  CHECK(cache.query("EXAMPLE.com.", RrType::TXT).status == Status::ok);
  CHECK(cache.query("example.com", RrType::A).status == Status::nodata);
  CHECK(cache.query("nothere.example.com", RrType::TXT).status == Status::nxdomain);
  CHECK(cache.query("nothere.example.com", RrType::TXT).status == Status::nxdomain);
  CHECK(memory.queries_sent() == 3);
  CHECK(cache.queries_sent() == 3);
  CHECK(cache.misses() == 3);
  CHECK(cache.hits() == 2);
}

TEST_CASE("caching resolver keeps failures and void answers for the rest of the run", "[dns][cache]") {
  MemoryResolver memory;
  memory.set_failure("flaky.example", RrType::TXT, Status::servfail);
  CachingResolver cache(memory);
  CHECK(cache.query("flaky.example", RrType::TXT).status == Status::servfail);
  CHECK(cache.query("later.example", RrType::TXT).status == Status::nxdomain);
  // Data appearing at the source during the run does not change the run's snapshot.
  memory.add_txt("later.example", {"v=spf1 -all"});
  CHECK(cache.query("later.example", RrType::TXT).status == Status::nxdomain);
  CHECK(cache.query("flaky.example", RrType::TXT).status == Status::servfail);
  CHECK(memory.queries_sent() == 2);
  CHECK(memory.query("later.example", RrType::TXT).status == Status::ok);
}

TEST_CASE("caching resolver lets many threads share one question in flight", "[dns][cache]") {
  MemoryResolver memory;
  memory.add_txt("shared.example", {"v=spf1 ip4:192.0.2.0/24 -all"});
  for (int i = 0; i < 4; ++i) memory.add_txt("name" + std::to_string(i) + ".example", {std::to_string(i)});
  SlowResolver slow(memory, std::chrono::milliseconds(200));
  CachingResolver cache(slow);

  constexpr int k_threads = 32;
  std::vector<std::thread> threads;
  std::vector<Answer> answers(k_threads);
  std::atomic<bool> go{false};
  for (int i = 0; i < k_threads; ++i) {
    threads.emplace_back([&, i] {
      while (!go.load()) std::this_thread::yield();
      // Half ask the same question; the rest spread over four others.
      const std::string name =
          i % 2 == 0 ? "shared.example" : "name" + std::to_string(i / 2 % 4) + ".example";
      answers[static_cast<std::size_t>(i)] = cache.query(name, RrType::TXT);
    });
  }
  go = true;
  for (auto& t : threads) t.join();

  CHECK(memory.queries_sent() == 5);
  CHECK(cache.misses() == 5);
  CHECK(cache.hits() == k_threads - 5);
  // The five distinct questions ran side by side, not one after another.
  CHECK(slow.max_inside() == 5);
  for (int i = 0; i < k_threads; i += 2)
    CHECK(answers[static_cast<std::size_t>(i)].txt ==
          std::vector<std::vector<std::string>>{{"v=spf1 ip4:192.0.2.0/24 -all"}});
  for (int i = 1; i < k_threads; i += 2)
    CHECK(answers[static_cast<std::size_t>(i)].txt ==
          std::vector<std::vector<std::string>>{{std::to_string(i / 2 % 4)}});
}

TEST_CASE("caching resolver shares an exception of the inner resolver with every waiter", "[dns][cache]") {
  MemoryResolver memory;
  SlowResolver slow(memory, std::chrono::milliseconds(100));
  CachingResolver cache(slow);
  std::atomic<int> thrown{0};
  std::vector<std::thread> threads;
  for (int i = 0; i < 4; ++i) {
    threads.emplace_back([&] {
      try {
        cache.query("throws.example", RrType::TXT);
      } catch (const std::logic_error&) {
        ++thrown;
      }
    });
  }
  for (auto& t : threads) t.join();
  CHECK(thrown == 4);
  CHECK(cache.misses() == 1);
}
