#include "dns/memory_resolver.hpp"

#include <algorithm>
#include <limits>
#include <set>

namespace spfctl::dns {

MemoryResolver::Node& MemoryResolver::node(std::string_view name, RrType type, std::uint32_t ttl) {
  Node& n = m_nodes[normalize_name(name)];
  auto [it, inserted] = n.ttls.try_emplace(type, ttl);
  if (!inserted) it->second = std::min(it->second, ttl);
  return n;
}

void MemoryResolver::add_txt(std::string_view name, std::vector<std::string> strings, std::uint32_t ttl) {
  std::lock_guard lock(m_mutex);
  node(name, RrType::TXT, ttl).txt.push_back(std::move(strings));
}

void MemoryResolver::add_spf(std::string_view name, std::vector<std::string> strings, std::uint32_t ttl) {
  std::lock_guard lock(m_mutex);
  node(name, RrType::SPF, ttl).spf.push_back(std::move(strings));
}

void MemoryResolver::add_address(std::string_view name, const net::IpAddress& address, std::uint32_t ttl) {
  std::lock_guard lock(m_mutex);
  Node& n = node(name, address.is_v4() ? RrType::A : RrType::AAAA, ttl);
  (address.is_v4() ? n.a : n.aaaa).push_back(address);
}

void MemoryResolver::add_mx(std::string_view name, std::uint16_t preference, std::string_view exchange,
                            std::uint32_t ttl) {
  std::lock_guard lock(m_mutex);
  node(name, RrType::MX, ttl).mx.push_back({preference, normalize_name(exchange)});
}

void MemoryResolver::add_ptr(std::string_view name, std::string_view target, std::uint32_t ttl) {
  std::lock_guard lock(m_mutex);
  node(name, RrType::PTR, ttl).ptr.push_back(normalize_name(target));
}

void MemoryResolver::add_cname(std::string_view name, std::string_view target, std::uint32_t ttl) {
  std::lock_guard lock(m_mutex);
  node(name, RrType::CNAME, ttl).cname = normalize_name(target);
}

void MemoryResolver::add_name(std::string_view name) {
  std::lock_guard lock(m_mutex);
  m_nodes[normalize_name(name)];
}

void MemoryResolver::set_failure(std::string_view name, RrType type, Status status) {
  std::lock_guard lock(m_mutex);
  m_nodes[normalize_name(name)].failures[type] = status;
}

void MemoryResolver::set_failure_for_missing(std::string_view name, Status status) {
  std::lock_guard lock(m_mutex);
  m_nodes[normalize_name(name)].missing_failure = status;
}

Answer MemoryResolver::query(std::string_view name, RrType type) {
  ++m_queries;
  std::lock_guard lock(m_mutex);
  std::string current = normalize_name(name);
  Answer answer;
  std::uint32_t chain_ttl = std::numeric_limits<std::uint32_t>::max();  // of the CNAMEs followed
  std::set<std::string> chain{current};
  for (std::size_t followed = 0;; ++followed) {
    auto it = m_nodes.find(current);
    if (it == m_nodes.end()) {
      answer.status = Status::nxdomain;
      return answer;
    }
    const Node& n = it->second;
    if (auto failure = n.failures.find(type); failure != n.failures.end()) {
      answer.status = failure->second;
      answer.detail =
          std::string(to_string(failure->second)) + " for " + current + "/" + std::string(to_string(type));
      return answer;
    }
    if (!n.cname.empty() && type != RrType::CNAME) {
      chain_ttl = std::min(chain_ttl, n.ttls.at(RrType::CNAME));
      current = n.cname;
      const bool loops = !chain.insert(current).second;
      if (loops || followed + 1 > k_max_cname_chain) {
        answer.status = Status::servfail;
        answer.detail = normalize_name(name) + "/" + std::string(to_string(type)) + ": CNAME chain " +
                        (loops ? "loops" : "too long") + " at " + current;
        return answer;
      }
      continue;
    }
    switch (type) {
      case RrType::TXT:
        answer.txt = n.txt;
        break;
      case RrType::SPF:
        answer.txt = n.spf;
        break;
      case RrType::A:
        answer.addresses = n.a;
        break;
      case RrType::AAAA:
        answer.addresses = n.aaaa;
        break;
      case RrType::MX:
        answer.mx = n.mx;
        break;
      case RrType::PTR:
        answer.names = n.ptr;
        break;
      case RrType::CNAME:
        if (!n.cname.empty()) answer.names = {n.cname};
        break;
      case RrType::NS:
      case RrType::SOA:
        break;
    }
    const bool empty =
        answer.txt.empty() && answer.addresses.empty() && answer.mx.empty() && answer.names.empty();
    if (empty && n.missing_failure) {
      answer.status = *n.missing_failure;
      answer.detail =
          std::string(to_string(*n.missing_failure)) + " for " + current + "/" + std::string(to_string(type));
      return answer;
    }
    answer.status = empty ? Status::nodata : Status::ok;
    if (!empty) answer.ttl = std::min(chain_ttl, n.ttls.at(type));
    return answer;
  }
}

}  // namespace spfctl::dns
