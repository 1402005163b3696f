// Asking a domain's sender tree ahead, level by level (src/plan/prefetch.hpp): every question the
// planner then asks is answered from the cache, each level is one batch, macros and ptr are left to
// the planner, and a hostile tree is walked only so far.
#include <catch2/catch.hpp>
#include <string>
#include <vector>

#include "dns/caching_resolver.hpp"
#include "dns/memory_resolver.hpp"
#include "plan/policy_map.hpp"
#include "plan/prefetch.hpp"
#include "spf/parser.hpp"

using namespace spfctl;
using dns::RrType;

namespace {

class BatchCounter : public dns::Resolver {
 public:
  explicit BatchCounter(dns::Resolver& inner) : m_inner(inner) {}
  dns::Answer query(std::string_view name, RrType type) override {
    ++single;
    return m_inner.query(name, type);
  }
  std::uint64_t queries_sent() const override { return m_inner.queries_sent(); }
  std::vector<dns::Answer> query_all(const std::vector<std::pair<std::string, RrType>>& questions) override {
    batches.push_back(questions.size());
    std::vector<dns::Answer> out;
    for (const auto& [name, type] : questions) out.push_back(m_inner.query(name, type));
    return out;
  }
  std::vector<std::size_t> batches;
  int single = 0;

 private:
  dns::Resolver& m_inner;
};

spf::Record record(const std::string& text) {
  return spf::parse_record(text).record();
}

void add_senders(dns::MemoryResolver& memory) {
  memory.add_txt("_spf.sender.test", {"v=spf1 include:_a.sender.test include:_b.sender.test -all"});
  memory.add_txt("_a.sender.test", {"v=spf1 ip4:192.0.2.0/24 include:_deep.sender.test -all"});
  memory.add_txt("_b.sender.test", {"v=spf1 a:out.sender.test -all"});
  memory.add_txt("_deep.sender.test", {"v=spf1 ip4:198.51.100.0/24 exists:%{i}.x.sender.test -all"});
  memory.add_address("out.sender.test", *net::IpAddress::parse("203.0.113.9"));
  memory.add_mx("example.com", 10, "mx1.example.com");
  memory.add_address("mx1.example.com", *net::IpAddress::parse("203.0.113.25"));
}

}  // namespace

TEST_CASE("prefetch asks a domain's sender tree level by level, then planning asks nothing",
          "[plan][prefetch]") {
  dns::MemoryResolver memory;
  add_senders(memory);
  BatchCounter counter(memory);
  dns::CachingResolver cache(counter);
  const std::vector<plan::PrefetchTarget> targets = {
      {"example.com", {record("v=spf1 include:_spf.sender.test mx -all")}},
      {"example.org",
       {record("v=spf1 include:_spf.sender.test ip4:192.0.2.7 -all"),
        record("v=spf1 ptr include:%{d}.macro.test -all")}}};
  const std::vector<std::uint64_t> counts = plan::prefetch(cache, targets);
  // Level 1: _spf TXT, example.com MX; 2: _a, _b TXT, mx1 A and AAAA; 3: _deep TXT, out A and AAAA.
  CHECK(counter.batches == std::vector<std::size_t>{2, 4, 3});
  CHECK(counter.single == 0);
  // Each question counted once, for the first domain that needed it.
  CHECK(counts == std::vector<std::uint64_t>{9, 0});

  // The planner's own walk finds every answer in the cache.
  plan::PolicyMapper mapper(cache);
  const std::uint64_t misses = cache.misses();
  CHECK(mapper.evaluate(record("v=spf1 include:_spf.sender.test mx -all"), "example.com").ok());
  CHECK(cache.misses() == misses);
  CHECK(counter.single == 0);
}

TEST_CASE("prefetch stops at its level and question limits on a hostile tree", "[plan][prefetch]") {
  dns::MemoryResolver memory;
  // Each record includes two more names: the tree doubles at every level.
  for (int level = 0; level < 20; ++level)
    for (int i = 0; i < (1 << std::min(level, 10)); ++i) {
      const std::string name = "n" + std::to_string(level) + "-" + std::to_string(i) + ".evil.test";
      memory.add_txt(name, {"v=spf1 include:n" + std::to_string(level + 1) + "-" + std::to_string(2 * i) +
                            ".evil.test include:n" + std::to_string(level + 1) + "-" +
                            std::to_string(2 * i + 1) + ".evil.test -all"});
    }
  BatchCounter counter(memory);
  dns::CachingResolver cache(counter);
  const std::vector<std::uint64_t> counts =
      plan::prefetch(cache, {{"example.com", {record("v=spf1 include:n0-0.evil.test -all")}}});
  CHECK(counts.at(0) <= plan::k_prefetch_questions_per_target);
  CHECK(counter.batches.size() <= static_cast<std::size_t>(plan::k_prefetch_levels));
}
