#include "spf/ptr.hpp"

#include <algorithm>

namespace spfctl::spf {

ValidatedNames validate_ptr_names(dns::Resolver& resolver, const net::IpAddress& ip, std::size_t max_names) {
  ValidatedNames result;
  const dns::Answer ptr = resolver.query(ip.reverse_name(), dns::RrType::PTR);
  result.ptr_status = ptr.status;
  if (ptr.status != dns::Status::ok) return result;
  const dns::RrType type = ip.is_v4() ? dns::RrType::A : dns::RrType::AAAA;
  const std::size_t count = std::min(max_names, ptr.names.size());
  for (std::size_t i = 0; i < count; ++i) {
    const std::string name = dns::normalize_name(ptr.names[i]);
    if (name.empty()) continue;
    const dns::Answer addresses = resolver.query(name, type);
    if (std::find(addresses.addresses.begin(), addresses.addresses.end(), ip) != addresses.addresses.end())
      result.names.push_back(name);
  }
  return result;
}

std::string choose_validated_name(const std::vector<std::string>& names, std::string_view domain) {
  const std::string wanted = dns::normalize_name(domain);
  for (const std::string& name : names)
    if (name == wanted) return name;
  for (const std::string& name : names)
    if (dns::in_zone(dns::normalize_name(name), wanted)) return name;
  return names.empty() ? "unknown" : names.front();
}

}  // namespace spfctl::spf
