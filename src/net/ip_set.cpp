#include "net/ip_set.hpp"

#include <algorithm>
#include <bit>
#include <charconv>
#include <stdexcept>
#include <utility>

namespace spfctl::net {

namespace {

template <class T>
constexpr T k_all_ones = static_cast<T>(~T{0});

template <class T>
constexpr int k_width = sizeof(T) * 8;

int count_trailing_zeros(std::uint32_t value) {
  return std::countr_zero(value);
}
int count_trailing_zeros(uint128 value) {
  const auto low = static_cast<std::uint64_t>(value);
  if (low != 0) return std::countr_zero(low);
  return 64 + std::countr_zero(static_cast<std::uint64_t>(value >> 64));
}

// Precondition: value != 0.
int floor_log2(std::uint32_t value) {
  return std::bit_width(value) - 1;
}
int floor_log2(uint128 value) {
  const auto high = static_cast<std::uint64_t>(value >> 64);
  if (high != 0) return 64 + std::bit_width(high) - 1;
  return std::bit_width(static_cast<std::uint64_t>(value)) - 1;
}

// The addresses after the first `prefix` bits, as a mask; prefix in 0..width.
template <class T>
T host_mask(int prefix) {
  if (prefix == 0) return k_all_ones<T>;
  return static_cast<T>((T{1} << (k_width<T> - prefix)) - 1);
}

template <class T>
Interval<T> block(T network, int prefix) {
  const T mask = host_mask<T>(prefix);
  return {static_cast<T>(network & ~mask), static_cast<T>(network | mask)};
}

// True when `next` (which does not start before `previous`) overlaps or directly follows it.
// Written as `next.first - 1 <= previous.last` so that nothing overflows at the top of the space.
template <class T>
bool joins(const Interval<T>& previous, const Interval<T>& next) {
  return next.first == 0 || next.first - 1 <= previous.last;
}

template <class T>
void normalize(std::vector<Interval<T>>& intervals) {
  std::sort(intervals.begin(), intervals.end(),
            [](const Interval<T>& a, const Interval<T>& b) { return a.first < b.first; });
  std::size_t kept = 0;
  for (std::size_t i = 0; i < intervals.size(); ++i) {
    if (kept > 0 && joins(intervals[kept - 1], intervals[i])) {
      intervals[kept - 1].last = std::max(intervals[kept - 1].last, intervals[i].last);
    } else {
      intervals[kept++] = intervals[i];
    }
  }
  intervals.resize(kept);
}

template <class T>
void insert(std::vector<Interval<T>>& intervals, Interval<T> added) {
  // [begin, end) are the intervals that overlap or touch `added`.
  auto begin = std::partition_point(intervals.begin(), intervals.end(), [&](const Interval<T>& x) {
    return added.first != 0 && x.last < added.first - 1;
  });
  auto end = std::partition_point(begin, intervals.end(), [&](const Interval<T>& x) {
    return added.last == k_all_ones<T> || x.first <= added.last + 1;
  });
  if (begin == end) {
    intervals.insert(begin, added);
    return;
  }
  begin->first = std::min(begin->first, added.first);
  begin->last = std::max((end - 1)->last, added.last);
  intervals.erase(begin + 1, end);
}

template <class T>
std::vector<Interval<T>> unite(const std::vector<Interval<T>>& a, const std::vector<Interval<T>>& b) {
  std::vector<Interval<T>> out;
  out.reserve(a.size() + b.size());
  std::size_t i = 0, j = 0;
  while (i < a.size() || j < b.size()) {
    const bool take_a = j == b.size() || (i < a.size() && a[i].first <= b[j].first);
    const Interval<T>& next = take_a ? a[i++] : b[j++];
    if (!out.empty() && joins(out.back(), next)) {
      out.back().last = std::max(out.back().last, next.last);
    } else {
      out.push_back(next);
    }
  }
  return out;
}

template <class T>
std::vector<Interval<T>> difference(const std::vector<Interval<T>>& a, const std::vector<Interval<T>>& b) {
  std::vector<Interval<T>> out;
  std::size_t j = 0;
  for (const Interval<T>& x : a) {
    while (j < b.size() && b[j].last < x.first) ++j;
    T from = x.first;
    bool covered_to_end = false;
    // b[j] may reach into the next interval of `a`, so it stays the starting point for that one.
    for (; j < b.size() && b[j].first <= x.last; ++j) {
      if (b[j].first > from) out.push_back({from, static_cast<T>(b[j].first - 1)});
      if (b[j].last >= x.last) {
        covered_to_end = true;
        break;
      }
      from = b[j].last + 1;
    }
    if (!covered_to_end) out.push_back({from, x.last});
  }
  return out;
}

// Pieces of an intersection of two canonical sets are never adjacent: two adjacent addresses both
// in a and in b lie in one interval of each, hence in one piece.
template <class T>
std::vector<Interval<T>> intersection(const std::vector<Interval<T>>& a, const std::vector<Interval<T>>& b) {
  std::vector<Interval<T>> out;
  std::size_t i = 0, j = 0;
  while (i < a.size() && j < b.size()) {
    const T first = std::max(a[i].first, b[j].first);
    const T last = std::min(a[i].last, b[j].last);
    if (first <= last) out.push_back({first, last});
    if (a[i].last < b[j].last) {
      ++i;
    } else {
      ++j;
    }
  }
  return out;
}

template <class T>
bool contains_value(const std::vector<Interval<T>>& intervals, T value) {
  auto after = std::partition_point(intervals.begin(), intervals.end(),
                                    [&](const Interval<T>& x) { return x.first <= value; });
  return after != intervals.begin() && (after - 1)->last >= value;
}

template <class T>
bool contains_all(const std::vector<Interval<T>>& outer, const std::vector<Interval<T>>& inner) {
  for (const Interval<T>& x : inner) {
    auto after = std::partition_point(outer.begin(), outer.end(),
                                      [&](const Interval<T>& y) { return y.first <= x.first; });
    if (after == outer.begin() || (after - 1)->last < x.last) return false;
  }
  return true;
}

IpAddress to_address(std::uint32_t value) {
  return IpAddress::from_v4(value);
}
IpAddress to_address(uint128 value) {
  return from_v6_value(value);
}

// The greedy decomposition: at each step take the largest aligned block that starts at `from` and
// stays inside the interval. It is minimal for one interval, and canonical intervals never share a
// block, so it is minimal for the set.
template <class T>
void append_cidrs(const std::vector<Interval<T>>& intervals, std::vector<Cidr>& out) {
  for (const Interval<T>& x : intervals) {
    T from = x.first;
    while (true) {
      const T span = x.last - from;  // the number of addresses left, minus one
      int size_log2 = span == k_all_ones<T> ? k_width<T> : floor_log2(static_cast<T>(span + 1));
      if (from != 0) size_log2 = std::min(size_log2, count_trailing_zeros(from));
      out.push_back(Cidr{to_address(from), k_width<T> - size_log2});
      if (size_log2 == k_width<T>) break;
      const T block_last = from + static_cast<T>((T{1} << size_log2) - 1);
      if (block_last == x.last) break;
      from = block_last + 1;
    }
  }
}

int max_prefix(Family family) {
  return family == Family::v4 ? 32 : 128;
}

bool parse_prefix(std::string_view text, int& prefix) {
  if (text.empty() || (text.size() > 1 && text[0] == '0')) return false;
  for (char c : text)
    if (c < '0' || c > '9') return false;
  // More digits than any prefix has: report it as out of range rather than as not a number.
  if (text.size() > 3) {
    prefix = 1000;
    return true;
  }
  std::from_chars(text.data(), text.data() + text.size(), prefix);
  return true;
}

}  // namespace

uint128 v6_value(const IpAddress& address) {
  uint128 value = 0;
  for (std::uint8_t byte : address.bytes()) value = (value << 8) | byte;
  return value;
}

IpAddress from_v6_value(uint128 value) {
  std::array<std::uint8_t, 16> bytes{};
  for (int i = 15; i >= 0; --i) {
    bytes[i] = static_cast<std::uint8_t>(value);
    value >>= 8;
  }
  return IpAddress::from_v6(bytes);
}

std::string AddressRange::to_string() const {
  if (first == last) return first.to_string();
  return first.to_string() + "-" + last.to_string();
}

CidrParse Cidr::parse(std::string_view text) {
  CidrParse result;
  const auto slash = text.find('/');
  const std::string_view address_text = text.substr(0, slash);
  const auto address = IpAddress::parse(address_text);
  if (!address) {
    result.error = "'" + std::string(address_text) + "' is not an IPv4 or IPv6 address";
    return result;
  }
  int prefix = address->bits();
  if (slash != std::string_view::npos) {
    const std::string_view prefix_text = text.substr(slash + 1);
    if (!parse_prefix(prefix_text, prefix)) {
      result.error = "prefix '" + std::string(prefix_text) +
                     "' is not a decimal number (write it without leading zeros, e.g. '/24')";
      return result;
    }
    if (prefix > address->bits()) {
      const std::string family = address->is_v4() ? "IPv4" : "IPv6";
      result.error = "prefix " + std::string(prefix_text) + " is out of range for " + family + " (0-" +
                     std::to_string(address->bits()) + ")";
      return result;
    }
  }
  const Cidr cidr{*address, prefix};
  if (address->masked(prefix) != *address) {
    result.suggestion = Cidr{address->masked(prefix), prefix};
    result.error = "'" + std::string(text) + "' has host bits set; did you mean '" +
                   result.suggestion->to_string() + "'?";
    return result;
  }
  result.cidr = cidr;
  return result;
}

std::string Cidr::to_string() const {
  return network.to_string() + "/" + std::to_string(prefix);
}

AddressRange Cidr::range() const {
  if (network.is_v4()) {
    const Interval4 x = block(network.v4_value(), prefix);
    return {IpAddress::from_v4(x.first), IpAddress::from_v4(x.last)};
  }
  const Interval6 x = block(v6_value(network), prefix);
  return {from_v6_value(x.first), from_v6_value(x.last)};
}

IpSet IpSet::everything() {
  IpSet set;
  set.m_v4.push_back({0, k_all_ones<std::uint32_t>});
  set.m_v6.push_back({0, k_all_ones<uint128>});
  return set;
}

IpSet IpSet::of(const std::vector<Cidr>& cidrs) {
  std::vector<Interval4> v4;
  std::vector<Interval6> v6;
  for (const Cidr& cidr : cidrs) {
    if (cidr.prefix < 0 || cidr.prefix > max_prefix(cidr.network.family()))
      throw std::invalid_argument("IpSet::of: prefix out of range in " + cidr.to_string());
    if (cidr.network.is_v4()) {
      v4.push_back(block(cidr.network.v4_value(), cidr.prefix));
    } else {
      v6.push_back(block(v6_value(cidr.network), cidr.prefix));
    }
  }
  return from_intervals(std::move(v4), std::move(v6));
}

IpSet IpSet::from_intervals(std::vector<Interval4> v4, std::vector<Interval6> v6) {
  for (const Interval4& x : v4)
    if (x.first > x.last) throw std::invalid_argument("IpSet::from_intervals: IPv4 interval reversed");
  for (const Interval6& x : v6)
    if (x.first > x.last) throw std::invalid_argument("IpSet::from_intervals: IPv6 interval reversed");
  normalize(v4);
  normalize(v6);
  IpSet set;
  set.m_v4 = std::move(v4);
  set.m_v6 = std::move(v6);
  return set;
}

void IpSet::add(const IpAddress& network, int prefix) {
  if (prefix < 0 || prefix > network.bits())
    throw std::invalid_argument("IpSet::add: prefix " + std::to_string(prefix) + " out of range for " +
                                network.to_string());
  if (network.is_v4()) {
    insert(m_v4, block(network.v4_value(), prefix));
  } else {
    insert(m_v6, block(v6_value(network), prefix));
  }
}

void IpSet::add_range(const IpAddress& first, const IpAddress& last) {
  if (first.family() != last.family() || last < first)
    throw std::invalid_argument("IpSet::add_range: bad range " + first.to_string() + "-" + last.to_string());
  if (first.is_v4()) {
    insert(m_v4, {first.v4_value(), last.v4_value()});
  } else {
    insert(m_v6, {v6_value(first), v6_value(last)});
  }
}

void IpSet::add(const IpSet& other) {
  m_v4 = unite(m_v4, other.m_v4);
  m_v6 = unite(m_v6, other.m_v6);
}

void IpSet::subtract(const IpSet& other) {
  m_v4 = difference(m_v4, other.m_v4);
  m_v6 = difference(m_v6, other.m_v6);
}

void IpSet::intersect(const IpSet& other) {
  m_v4 = intersection(m_v4, other.m_v4);
  m_v6 = intersection(m_v6, other.m_v6);
}

bool IpSet::contains(const IpAddress& address) const {
  if (address.is_v4()) return contains_value(m_v4, address.v4_value());
  return contains_value(m_v6, v6_value(address));
}

bool IpSet::contains(const IpSet& other) const {
  return contains_all(m_v4, other.m_v4) && contains_all(m_v6, other.m_v6);
}

std::uint64_t IpSet::v4_size() const {
  std::uint64_t size = 0;
  for (const Interval4& x : m_v4) size += std::uint64_t{x.last} - x.first + 1;
  return size;
}

uint128 IpSet::v6_size() const {
  uint128 size = 0;
  for (const Interval6& x : m_v6) {
    const uint128 count_minus_one = x.last - x.first;
    if (count_minus_one == k_all_ones<uint128> || k_all_ones<uint128> - size <= count_minus_one)
      return k_all_ones<uint128>;
    size += count_minus_one + 1;
  }
  return size;
}

std::vector<Cidr> IpSet::to_cidrs() const {
  std::vector<Cidr> out;
  append_cidrs(m_v4, out);
  append_cidrs(m_v6, out);
  return out;
}

}  // namespace spfctl::net
