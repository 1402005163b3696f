// Sets of IP addresses over both families, and CIDR blocks. Knows nothing of DNS or SPF.
//
// IPv4 and IPv6 are separate spaces here: an IPv4-mapped IPv6 address (::ffff:a.b.c.d) is an IPv6
// address and is never unmapped by these types. Callers that treat a mapped client as IPv4 (SPF
// does, RFC 7208 5) call IpAddress::unmapped() before asking.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "net/ip.hpp"

namespace spfctl::net {

__extension__ typedef unsigned __int128 uint128;

// An IPv6 address as a 128-bit integer (the first byte most significant). Precondition: IPv6.
uint128 v6_value(const IpAddress& address);
// The IPv6 address whose integer value is `value`.
IpAddress from_v6_value(uint128 value);

// A closed interval [first, last] of addresses of one family, as integers; first <= last.
template <class T>
struct Interval {
  T first;
  T last;
  bool operator==(const Interval&) const = default;
};
using Interval4 = Interval<std::uint32_t>;
using Interval6 = Interval<uint128>;

// A closed range of addresses of one family, for messages and iteration.
struct AddressRange {
  IpAddress first;
  IpAddress last;

  // "192.0.2.1" for a single address, otherwise "192.0.2.1-192.0.2.6".
  std::string to_string() const;
  bool operator==(const AddressRange&) const = default;
};

struct CidrParse;

// A CIDR block: `network` with its first `prefix` bits significant. A plain value: nothing stops a
// Cidr from having host bits set, but Cidr::parse never produces one and IpSet ignores them.
struct Cidr {
  IpAddress network;
  int prefix = 0;

  // Parses "192.0.2.0/24" or "2001:db8::/32"; an address without "/" is a single host (/32 or
  // /128). The prefix is decimal without leading zeros. Text with bits set after the prefix is an
  // error whose `suggestion` holds the network it was probably meant to be.
  static CidrParse parse(std::string_view text);

  // "192.0.2.0/24", with the address in canonical form.
  std::string to_string() const;
  // The first and last address of the block (host bits of `network` ignored).
  AddressRange range() const;

  // Orders IPv4 before IPv6, then by network, then by prefix.
  auto operator<=>(const Cidr&) const = default;
};

struct CidrParse {
  std::optional<Cidr> cidr;  // set when the text is a valid block
  // Otherwise a user-facing message, e.g. "prefix 33 is out of range for IPv4 (0-32)".
  std::string error;
  // Set only when the text parsed but has host bits set: the block with them cleared.
  std::optional<Cidr> suggestion;
};

// A set of IPv4 and IPv6 addresses, stored per family as sorted, disjoint, non-adjacent closed
// intervals, so that two sets holding the same addresses compare equal. Operations between sets
// are linear in the number of intervals; adding one block is a binary search plus one vector
// insertion or erasure.
class IpSet {
 public:
  IpSet() = default;

  // Every IPv4 and every IPv6 address.
  static IpSet everything();
  // The set of exactly these blocks, built in O(n log n).
  static IpSet of(const std::vector<Cidr>& cidrs);
  // The set of these intervals, which may be unsorted, overlap or touch.
  static IpSet from_intervals(std::vector<Interval4> v4, std::vector<Interval6> v6);

  // Adds the block `network`/`prefix`; bits of `network` after the prefix are ignored, as SPF's
  // ip4:192.0.2.1/24 means 192.0.2.0/24. Throws std::invalid_argument if `prefix` is outside
  // 0..32 (IPv4) or 0..128 (IPv6): callers validate user input first.
  void add(const IpAddress& network, int prefix);
  void add(const Cidr& cidr) { add(cidr.network, cidr.prefix); }
  void add(const IpAddress& address) { add(address, address.bits()); }
  // Adds every address from `first` to `last`. Throws std::invalid_argument if they differ in
  // family or first > last.
  void add_range(const IpAddress& first, const IpAddress& last);
  void add(const IpSet& other);
  // Removes every address of `other`.
  void subtract(const IpSet& other);
  // Keeps only the addresses also in `other`.
  void intersect(const IpSet& other);

  bool contains(const IpAddress& address) const;
  // True when every address of `other` is in this set.
  bool contains(const IpSet& other) const;
  bool empty() const { return m_v4.empty() && m_v6.empty(); }

  // The number of IPv4 addresses (up to 2^32).
  std::uint64_t v4_size() const;
  // The number of IPv6 addresses, saturating: the whole IPv6 space (2^128) reports 2^128 - 1.
  uint128 v6_size() const;

  // The fewest CIDR blocks whose union is exactly this set, IPv4 first then IPv6, each ascending.
  // No two of them overlap or could be merged into one block.
  std::vector<Cidr> to_cidrs() const;

  // The intervals themselves, ascending, disjoint and non-adjacent.
  const std::vector<Interval4>& v4_intervals() const { return m_v4; }
  const std::vector<Interval6>& v6_intervals() const { return m_v6; }

  bool operator==(const IpSet&) const = default;

 private:
  std::vector<Interval4> m_v4;
  std::vector<Interval6> m_v6;
};

}  // namespace spfctl::net
