// Lookup counts and walk bounds, as receivers keep them. A receiver stops at the 11th DNS lookup
// (RFC 7208 4.6.4), so past any limit only "over" matters: counts saturate at k_count_ceiling and
// never wrap, whatever the include graph (a diamond of 31 levels has 2^31 paths). Walks over
// include and redirect= targets are bounded in depth and in records read, so hostile DNS cannot
// make one take unbounded time or memory.
#pragma once

#include <string>

namespace spfctl::spf {

// Where counts stop growing. Far above every limit, so a saturated count is always "over".
inline constexpr int k_count_ceiling = 1'000'000;

// Include and redirect= targets nested deeper than this are not followed: every level costs a
// lookup, so such a policy is far over the limit of 10 anyway.
inline constexpr int k_max_nesting = 64;

// DNS questions one walk asks at most: the records it reads and the a, mx and exists questions of
// their terms. A receiver asks at most about 230 (10 lookups, each mx with 10 hosts, A and AAAA).
inline constexpr int k_max_questions_per_walk = 5000;

// a + b for counts (both ≥ 0), at most k_count_ceiling.
constexpr int add_counts(int a, int b) noexcept {
  if (a >= k_count_ceiling - b) return k_count_ceiling;
  return a + b;
}

// A count for people: "12", or "1000000+" for a saturated one.
std::string count_text(int count);

}  // namespace spfctl::spf
