// IP addresses, IPv4 and IPv6, as values. Knows nothing of DNS or SPF.
#pragma once

#include <array>
#include <compare>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace spfctl::net {

enum class Family : std::uint8_t { v4, v6 };

class IpAddress {
 public:
  IpAddress() = default;  // 0.0.0.0

  // Parses dotted-quad IPv4 or RFC 4291 text IPv6 (with "::" and an embedded IPv4 tail).
  // No brackets, no zone ids, no CIDR suffix. Returns nullopt for anything else.
  static std::optional<IpAddress> parse(std::string_view text);
  static IpAddress from_v4(std::uint32_t host_order);
  static IpAddress from_v6(const std::array<std::uint8_t, 16>& bytes);

  Family family() const { return m_family; }
  bool is_v4() const { return m_family == Family::v4; }
  int bits() const { return is_v4() ? 32 : 128; }
  // Network-order bytes; an IPv4 address uses the first 4.
  const std::array<std::uint8_t, 16>& bytes() const { return m_bytes; }
  std::uint32_t v4_value() const;  // host order; only for IPv4

  // ::ffff:a.b.c.d
  bool is_v4_mapped() const;
  // The IPv4 address inside an IPv4-mapped IPv6 address; otherwise the address itself.
  IpAddress unmapped() const;

  // True when both are the same family and their first `prefix` bits are equal.
  bool in_network(const IpAddress& network, int prefix) const;
  // The address with every bit after `prefix` cleared.
  IpAddress masked(int prefix) const;

  // Canonical text: dotted quad, or RFC 5952 IPv6 (lowercase, longest zero run as "::").
  std::string to_string() const;
  // Reverse-lookup name without the trailing dot: "4.3.2.1.in-addr.arpa" or the ip6.arpa nibbles.
  std::string reverse_name() const;
  // The dot-separated form SPF macros use for %{i}: dotted quad, or 32 dot-separated nibbles for IPv6.
  std::string spf_macro_form() const;

  auto operator<=>(const IpAddress&) const = default;

 private:
  Family m_family = Family::v4;
  std::array<std::uint8_t, 16> m_bytes{};
};

}  // namespace spfctl::net
