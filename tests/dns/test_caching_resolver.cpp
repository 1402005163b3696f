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

namespace {

// Records the batches query_all() passes on.
class BatchRecorder : public Resolver {
 public:
  explicit BatchRecorder(Resolver& inner) : m_inner(inner) {}
  Answer query(std::string_view name, RrType type) override { return m_inner.query(name, type); }
  std::uint64_t queries_sent() const override { return m_inner.queries_sent(); }
  std::vector<Answer> query_all(const std::vector<std::pair<std::string, RrType>>& questions) override {
    batches.push_back(questions);
    return Resolver::query_all(questions);
  }
  std::vector<std::vector<std::pair<std::string, RrType>>> batches;

 private:
  Resolver& m_inner;
};

}  // namespace

TEST_CASE("caching resolver passes on only the questions of a batch it has not asked", "[dns][cache]") {
  MemoryResolver memory;
  memory.add_txt("a.example", {"v=spf1 -all"});
  memory.add_address("b.example", *spfctl::net::IpAddress::parse("192.0.2.1"));
  BatchRecorder recorder(memory);
  CachingResolver cache(recorder);
  CHECK(cache.query("a.example", RrType::TXT).status == Status::ok);
  std::vector<bool> sent;
  const std::vector<Answer> answers = cache.query_all({{"A.example.", RrType::TXT},
                                                       {"b.example", RrType::A},
                                                       {"b.example", RrType::A},
                                                       {"c.example", RrType::MX}},
                                                      &sent);
  REQUIRE(answers.size() == 4);
  CHECK(answers[0].txt == std::vector<std::vector<std::string>>{{"v=spf1 -all"}});
  CHECK(answers[1].addresses.size() == 1);
  CHECK(answers[2].addresses == answers[1].addresses);
  CHECK(answers[3].status == Status::nxdomain);
  CHECK(sent == std::vector<bool>{false, true, false, true});
  REQUIRE(recorder.batches.size() == 1);
  CHECK(recorder.batches[0] ==
        std::vector<std::pair<std::string, RrType>>{{"b.example", RrType::A}, {"c.example", RrType::MX}});
  CHECK(cache.misses() == 3);
  CHECK(cache.hits() == 2);
}

TEST_CASE("caching resolver forgets a failure when asked to, and nothing else", "[dns][cache]") {
  MemoryResolver memory;
  memory.add_txt("ok.example", {"v=spf1 -all"});
  CachingResolver cache(memory);
  SlowResolver throwing(memory, std::chrono::milliseconds(0));
  CachingResolver failing(throwing);
  // An exception from the inner resolver is a failure too: forgotten, then asked again.
  CHECK_THROWS(failing.query("throws.example", RrType::TXT));
  failing.forget_failure("throws.example", RrType::TXT);
  CHECK_THROWS(failing.query("throws.example", RrType::TXT));
  CHECK(failing.misses() == 2);
  // A SERVFAIL is forgotten; a good answer is kept.
  memory.set_failure("bad.example", RrType::TXT, Status::servfail);
  CHECK(cache.query("bad.example", RrType::TXT).status == Status::servfail);
  cache.forget_failure("bad.example", RrType::TXT);
  CHECK(cache.query("bad.example", RrType::TXT).status == Status::servfail);
  CHECK(cache.misses() == 2);
  CHECK(cache.query("ok.example", RrType::TXT).status == Status::ok);
  cache.forget_failure("ok.example", RrType::TXT);
  CHECK(cache.query("ok.example", RrType::TXT).status == Status::ok);
  CHECK(cache.misses() == 3);
}
