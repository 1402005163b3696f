// Validated domain names of a client address (RFC 7208 5.5): what the ptr mechanism matches
// against and what the %{p} macro expands to.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "dns/resolver.hpp"
#include "net/ip.hpp"

namespace spfctl::spf {

struct ValidatedNames {
  dns::Status ptr_status = dns::Status::nxdomain;  // how the PTR question ended
  std::vector<std::string> names;                  // validated names, lowercase, in answer order
};

// Asks for the PTR names of `ip` (IPv4 or IPv6; pass an IPv4-mapped address unmapped) and keeps
// those among the first `max_names` whose A (IPv4) or AAAA (IPv6) records include `ip`. Names whose
// address lookup fails are skipped, as RFC 7208 5.5 says; a failed PTR question gives no names.
ValidatedNames validate_ptr_names(dns::Resolver& resolver, const net::IpAddress& ip,
                                  std::size_t max_names = 10);

// The %{p} value (RFC 7208 7.3): `domain` itself if validated, else a validated subdomain of it,
// else the first validated name, else "unknown".
std::string choose_validated_name(const std::vector<std::string>& names, std::string_view domain);

}  // namespace spfctl::spf
