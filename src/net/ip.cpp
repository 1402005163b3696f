#include "net/ip.hpp"

#include <arpa/inet.h>

#include <cstring>

namespace spfctl::net {

std::optional<IpAddress> IpAddress::parse(std::string_view text) {
  // inet_pton needs a NUL-terminated string; addresses are short.
  if (text.empty() || text.size() > 45) return std::nullopt;
  char buffer[46];
  std::memcpy(buffer, text.data(), text.size());
  buffer[text.size()] = '\0';
  IpAddress address;
  if (text.find(':') == std::string_view::npos) {
    if (inet_pton(AF_INET, buffer, address.m_bytes.data()) != 1) return std::nullopt;
    address.m_family = Family::v4;
  } else {
    if (inet_pton(AF_INET6, buffer, address.m_bytes.data()) != 1) return std::nullopt;
    address.m_family = Family::v6;
  }
  return address;
}

IpAddress IpAddress::from_v4(std::uint32_t host_order) {
  IpAddress address;
  address.m_bytes[0] = static_cast<std::uint8_t>(host_order >> 24);
  address.m_bytes[1] = static_cast<std::uint8_t>(host_order >> 16);
  address.m_bytes[2] = static_cast<std::uint8_t>(host_order >> 8);
  address.m_bytes[3] = static_cast<std::uint8_t>(host_order);
  return address;
}

IpAddress IpAddress::from_v6(const std::array<std::uint8_t, 16>& bytes) {
  IpAddress address;
  address.m_family = Family::v6;
  address.m_bytes = bytes;
  return address;
}

std::uint32_t IpAddress::v4_value() const {
  return (std::uint32_t{m_bytes[0]} << 24) | (std::uint32_t{m_bytes[1]} << 16) |
         (std::uint32_t{m_bytes[2]} << 8) | std::uint32_t{m_bytes[3]};
}

bool IpAddress::is_v4_mapped() const {
  if (is_v4()) return false;
  for (int i = 0; i < 10; ++i)
    if (m_bytes[i] != 0) return false;
  return m_bytes[10] == 0xff && m_bytes[11] == 0xff;
}

IpAddress IpAddress::unmapped() const {
  if (!is_v4_mapped()) return *this;
  IpAddress address;
  for (int i = 0; i < 4; ++i) address.m_bytes[i] = m_bytes[12 + i];
  return address;
}

bool IpAddress::in_network(const IpAddress& network, int prefix) const {
  if (m_family != network.m_family || prefix < 0 || prefix > bits()) return false;
  return masked(prefix) == network.masked(prefix);
}

IpAddress IpAddress::masked(int prefix) const {
  IpAddress result = *this;
  for (int i = 0; i < 16; ++i) {
    const int keep = prefix - i * 8;
    if (keep >= 8) continue;
    result.m_bytes[i] = keep <= 0 ? 0 : static_cast<std::uint8_t>(m_bytes[i] & (0xff << (8 - keep)));
  }
  return result;
}

std::string IpAddress::to_string() const {
  char buffer[INET6_ADDRSTRLEN];
  inet_ntop(is_v4() ? AF_INET : AF_INET6, m_bytes.data(), buffer, sizeof buffer);
  return buffer;
}

namespace {
constexpr char k_hex[] = "0123456789abcdef";
}

std::string IpAddress::spf_macro_form() const {
  if (is_v4()) return to_string();
  std::string out;
  for (int i = 0; i < 16; ++i) {
    if (i) out += '.';
    out += k_hex[m_bytes[i] >> 4];
    out += '.';
    out += k_hex[m_bytes[i] & 0xf];
  }
  return out;
}

std::string IpAddress::reverse_name() const {
  std::string out;
  if (is_v4()) {
    for (int i = 3; i >= 0; --i) out += std::to_string(m_bytes[i]) + '.';
    return out + "in-addr.arpa";
  }
  for (int i = 15; i >= 0; --i) {
    out += k_hex[m_bytes[i] & 0xf];
    out += '.';
    out += k_hex[m_bytes[i] >> 4];
    out += '.';
  }
  return out + "ip6.arpa";
}

}  // namespace spfctl::net
