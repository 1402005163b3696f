// A decorator that asks the resolver it wraps each (name, type) question once per run. Every
// domain of a run shares one CachingResolver, so the run sees one consistent snapshot of DNS:
// failures (SERVFAIL, timeouts) are kept as well as answers, and TTLs are ignored.
#pragma once

#include <atomic>
#include <cstdint>
#include <future>
#include <map>
#include <mutex>
#include <string>
#include <utility>

#include "dns/resolver.hpp"

namespace spfctl::dns {

// Counts the questions caching resolvers pass on (their misses) for this thread while it lives: the
// questions one piece of work caused, exact when other threads ask through the same cache at once
// (a question counts once, for the thread that asked it first; waiting for it counts nothing).
// Tallies nest: a question counts in the innermost.
class QuestionTally {
 public:
  QuestionTally();
  ~QuestionTally();
  QuestionTally(const QuestionTally&) = delete;
  QuestionTally& operator=(const QuestionTally&) = delete;

  std::uint64_t count() const { return m_count; }

 private:
  friend class CachingResolver;
  std::uint64_t m_count = 0;
  QuestionTally* m_outer;
};

class CachingResolver : public Resolver {
 public:
  // `inner` must outlive this resolver.
  explicit CachingResolver(Resolver& inner) : m_inner(inner) {}

  // The first asker of a (normalized name, type) question asks `inner`; everyone else, including
  // threads asking while that question is still in flight, waits for and shares its answer. An
  // exception thrown by `inner` is shared the same way.
  Answer query(std::string_view name, RrType type) override;
  // The same for many questions: those not yet asked go to `inner` together (Resolver::query_all);
  // `sent` (when given) says, for each question, whether this call asked it of `inner`.
  std::vector<Answer> query_all(const std::vector<std::pair<std::string, RrType>>& questions) override {
    return query_all(questions, nullptr);
  }
  std::vector<Answer> query_all(const std::vector<std::pair<std::string, RrType>>& questions,
                                std::vector<bool>* sent);
  // Drops the answer to (name, type) when it is a failure (servfail, timeout), so the next asker
  // asks again: for answers asked ahead in a burst, which a busy server may have dropped.
  void forget_failure(std::string_view name, RrType type);
  // The questions `inner` sent to its source.
  std::uint64_t queries_sent() const override { return m_inner.queries_sent(); }

  // Questions answered from the cache (or by waiting for the same question in flight).
  std::uint64_t hits() const { return m_hits.load(); }
  // Questions passed to `inner`.
  std::uint64_t misses() const { return m_misses.load(); }

 private:
  Resolver& m_inner;
  std::mutex m_mutex;
  std::map<std::pair<std::string, RrType>, std::shared_future<Answer>> m_answers;
  std::atomic<std::uint64_t> m_hits{0};
  std::atomic<std::uint64_t> m_misses{0};
};

}  // namespace spfctl::dns
