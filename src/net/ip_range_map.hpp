// A total map from every IPv4 and IPv6 address to a value, stored as ranges. Knows nothing of SPF:
// the SPF evaluator uses it with V = the check_host() result, walking terms in order.
//
// As in IpSet, an IPv4-mapped IPv6 address is an IPv6 address here; callers unmap first if they
// mean IPv4.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <utility>
#include <vector>

#include "net/ip_set.hpp"

namespace spfctl::net {

// V must be copyable and equality-comparable.
template <class V>
class IpRangeMap {
 public:
  // A maximal run of addresses of one family with the same value.
  struct Segment {
    AddressRange range;
    V value;
    bool operator==(const Segment&) const = default;
  };
  // A maximal run of addresses where two maps disagree, with both values.
  struct Difference {
    AddressRange range;
    V mine;
    V theirs;
    bool operator==(const Difference&) const = default;
  };

  // Every address maps to `unset`, the value assign_unset() treats as not yet decided.
  explicit IpRangeMap(V unset = V{})
      : m_unset(unset), m_v4{{std::uint32_t{0}, unset}}, m_v6{{uint128{0}, unset}} {}

  const V& unset_value() const { return m_unset; }

  // Maps every address of `set` to `value`.
  void assign(const IpSet& set, const V& value) {
    update(set, [&](const V&) { return value; });
  }
  // Maps to `value` those addresses of `set` still mapped to the unset value, leaving the others:
  // applied term by term, this gives "the first term that matches an address decides".
  void assign_unset(const IpSet& set, const V& value) {
    update(set, [&](const V& old) { return old == m_unset ? value : old; });
  }
  // Replaces the value v of every address of `set` by change(v). Linear in the number of segments
  // plus intervals of `set`; change is called once per piece, not per address.
  template <class F>
  void update(const IpSet& set, F&& change) {
    m_v4 = updated(m_v4, set.v4_intervals(), change);
    m_v6 = updated(m_v6, set.v6_intervals(), change);
  }

  const V& at(const IpAddress& address) const {
    return address.is_v4() ? value_at(m_v4, address.v4_value()) : value_at(m_v6, v6_value(address));
  }

  // The addresses whose value satisfies `predicate`.
  template <class P>
  IpSet ranges_where(P&& predicate) const {
    return IpSet::from_intervals(intervals_where(m_v4, predicate), intervals_where(m_v6, predicate));
  }
  // The addresses mapped to `value`.
  IpSet ranges_with(const V& value) const {
    return ranges_where([&](const V& v) { return v == value; });
  }

  // True when both maps give every address the same value (their unset values may differ).
  bool equal(const IpRangeMap& other) const { return m_v4 == other.m_v4 && m_v6 == other.m_v6; }
  bool operator==(const IpRangeMap& other) const { return equal(other); }

  // Up to `limit` maximal ranges where this map and `other` differ, IPv4 first, ascending.
  std::vector<Difference> differences(const IpRangeMap& other, std::size_t limit) const {
    std::vector<Difference> out;
    collect_differences(m_v4, other.m_v4, limit, out);
    collect_differences(m_v6, other.m_v6, limit, out);
    return out;
  }

  // The maximal runs of one family in ascending order; they cover the whole family's space and
  // neighbours have different values.
  std::vector<Segment> segments(Family family) const {
    return family == Family::v4 ? segments_of(m_v4) : segments_of(m_v6);
  }
  std::size_t segment_count() const { return m_v4.size() + m_v6.size(); }

 private:
  // A value from `start` to the next boundary's start minus one (or the end of the space).
  template <class T>
  struct Boundary {
    T start;
    V value;
    bool operator==(const Boundary&) const = default;
  };
  template <class T>
  using Boundaries = std::vector<Boundary<T>>;

  template <class T>
  static T last_of(const Boundaries<T>& boundaries, std::size_t i) {
    return i + 1 < boundaries.size() ? static_cast<T>(boundaries[i + 1].start - 1) : static_cast<T>(~T{0});
  }

  // Appends a run starting at `start`, merged into the previous run when the value is the same.
  template <class T>
  static void append(Boundaries<T>& out, T start, V value) {
    if (!out.empty() && out.back().value == value) return;
    out.push_back({start, std::move(value)});
  }

  template <class T, class F>
  static Boundaries<T> updated(const Boundaries<T>& boundaries, const std::vector<Interval<T>>& intervals,
                               F& change) {
    if (intervals.empty()) return boundaries;
    Boundaries<T> out;
    out.reserve(boundaries.size() + 2 * intervals.size());
    std::size_t j = 0;
    for (std::size_t i = 0; i < boundaries.size(); ++i) {
      const T last = last_of(boundaries, i);
      const V& old = boundaries[i].value;
      T from = boundaries[i].start;
      // Split this run [from, last] at the intervals of the set that meet it.
      while (true) {
        while (j < intervals.size() && intervals[j].last < from) ++j;
        if (j == intervals.size() || intervals[j].first > last) {
          append(out, from, old);
          break;
        }
        if (intervals[j].first > from) {
          append(out, from, old);
          from = intervals[j].first;
        }
        const T piece_last = std::min(intervals[j].last, last);
        append(out, from, change(old));
        if (piece_last == last) break;
        from = piece_last + 1;
      }
    }
    return out;
  }

  template <class T>
  static const V& value_at(const Boundaries<T>& boundaries, T value) {
    auto after = std::partition_point(boundaries.begin(), boundaries.end(),
                                      [&](const Boundary<T>& b) { return b.start <= value; });
    return (after - 1)->value;
  }

  template <class T, class P>
  static std::vector<Interval<T>> intervals_where(const Boundaries<T>& boundaries, P& predicate) {
    std::vector<Interval<T>> out;
    for (std::size_t i = 0; i < boundaries.size(); ++i)
      if (predicate(boundaries[i].value)) out.push_back({boundaries[i].start, last_of(boundaries, i)});
    return out;
  }

  static IpAddress to_address(std::uint32_t value) { return IpAddress::from_v4(value); }
  static IpAddress to_address(uint128 value) { return from_v6_value(value); }

  // Walks both boundary lists together. Pieces cut at every boundary of either map; since a
  // boundary always changes that map's value, consecutive differing pieces never repeat the same
  // pair of values, so each differing piece is already maximal.
  template <class T>
  static void collect_differences(const Boundaries<T>& mine, const Boundaries<T>& theirs, std::size_t limit,
                                  std::vector<Difference>& out) {
    std::size_t i = 0, j = 0;
    while (out.size() < limit) {
      const T from = std::max(mine[i].start, theirs[j].start);
      const T last = std::min(last_of(mine, i), last_of(theirs, j));
      if (!(mine[i].value == theirs[j].value))
        out.push_back({{to_address(from), to_address(last)}, mine[i].value, theirs[j].value});
      if (last == static_cast<T>(~T{0})) return;
      if (last == last_of(mine, i)) ++i;
      if (last == last_of(theirs, j)) ++j;
    }
  }

  template <class T>
  Segment segment(const Boundaries<T>& boundaries, std::size_t i) const {
    return {{to_address(boundaries[i].start), to_address(last_of(boundaries, i))}, boundaries[i].value};
  }

  template <class T>
  std::vector<Segment> segments_of(const Boundaries<T>& boundaries) const {
    std::vector<Segment> out;
    out.reserve(boundaries.size());
    for (std::size_t i = 0; i < boundaries.size(); ++i) out.push_back(segment(boundaries, i));
    return out;
  }

  V m_unset;
  Boundaries<std::uint32_t> m_v4;
  Boundaries<uint128> m_v6;
};

}  // namespace spfctl::net
