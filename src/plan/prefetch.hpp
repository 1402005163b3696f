// Asking ahead. A domain's senders form a tree of DNS names (includes within includes, MX hosts and
// their addresses), and the planner walks it one question at a time: behind a 30 ms round trip, a
// domain whose tree is 17 questions deep waits half a second. Before planning, prefetch() asks
// every question of every domain's tree that is known without a client's address (no macros, no
// ptr), breadth-first: all questions of one level together (dns::CachingResolver::query_all), the
// next level from their answers. The planner then finds the answers in the run's cache, so a run
// waits about one round trip per level of the deepest tree, not one per question.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "dns/caching_resolver.hpp"
#include "spf/record.hpp"

namespace spfctl::plan {

// One domain's records to walk: the record its configuration intends and those published now (the
// safety check evaluates those too).
struct PrefetchTarget {
  std::string domain;                // lowercase: the <domain> of a and mx without a domain-spec
  std::vector<spf::Record> records;  // walked with `domain` as their domain
};

// Levels walked at most, and questions asked at most per target (on average over all targets):
// hostile DNS cannot make the walk go on for ever. What is not asked ahead, the planner asks.
inline constexpr int k_prefetch_levels = 12;
inline constexpr std::size_t k_prefetch_questions_per_target = 64;

// Asks the questions of every target's tree through `cache`. Returns, for each target, the
// questions sent on its behalf (each counted for the first target that needed it; questions
// already in the cache are not counted).
std::vector<std::uint64_t> prefetch(dns::CachingResolver& cache, const std::vector<PrefetchTarget>& targets);

}  // namespace spfctl::plan
