#include "bench/planner_workload.hpp"

#include <array>
#include <cstdio>
#include <stdexcept>
#include <vector>

#include "net/ip.hpp"

namespace spfctl::bench {

namespace {

// The workload's address plan leaves room for this many domains.
constexpr std::size_t k_max_domains = 100'000;
// Mail hosting companies whose two MX hosts many domains share.
constexpr std::size_t k_mail_hosts = 48;

// SplitMix64: the same numbers on every platform, unlike the standard distributions.
class Random {
 public:
  explicit Random(std::uint64_t seed) : m_state(seed) {}
  std::uint64_t next() {
    std::uint64_t z = (m_state += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
  }
  std::size_t below(std::size_t bound) { return static_cast<std::size_t>(next() % bound); }
  bool percent(std::size_t chance) { return below(100) < chance; }

 private:
  std::uint64_t m_state;
};

// Built-in senders (and one own sender, a HubSpot portal) whose whole include trees the snapshot
// holds, weighted roughly by how often domains use them. Receivers' lookups per sender: google 1,
// microsoft365 1, mailchimp 1, sendgrid 2, amazon-ses 1, mailgun 5, zendesk 1, salesforce 2 (an
// exists: that cannot be flattened), godaddy 3, ionos-legacy 2, mandrill 1, ionos 1, hubspot 1.
struct Sender {
  std::string_view name;
  std::size_t weight;
};
constexpr std::array<Sender, 13> k_senders = {{
    {"google-workspace", 30},
    {"microsoft365", 30},
    {"mailchimp", 20},
    {"sendgrid", 15},
    {"amazon-ses", 12},
    {"mailgun", 10},
    {"zendesk", 8},
    {"hubspot", 8},
    {"godaddy", 8},
    {"salesforce", 6},
    {"ionos-legacy", 6},
    {"mandrill", 6},
    {"ionos", 6},
}};

struct Domain {
  std::string name;
  std::vector<std::string_view> senders;
  std::vector<std::string> ip4;
  std::vector<std::string> ip6;
  bool a_term = false;
  bool mx_term = false;
  std::string_view policy = "fail";
  std::string_view flatten;  // empty: the default
  int lookup_budget = 0;     // 0: the default
  // Its DNS data.
  std::vector<std::string> mx_hosts;
  bool own_mx = false;
  bool has_aaaa = false;
  std::vector<std::string> other_txt;
};

std::string v4(std::uint32_t value) {
  return net::IpAddress::from_v4(value).to_string();
}

// An IPv6 address from its two 64-bit halves.
std::string v6(std::uint64_t high, std::uint64_t low) {
  std::array<std::uint8_t, 16> bytes{};
  for (int i = 0; i < 8; ++i) {
    bytes[static_cast<std::size_t>(i)] = static_cast<std::uint8_t>(high >> (56 - 8 * i));
    bytes[static_cast<std::size_t>(8 + i)] = static_cast<std::uint8_t>(low >> (56 - 8 * i));
  }
  return net::IpAddress::from_v6(bytes).to_string();
}

constexpr std::uint64_t k_doc_v6 = 0x20010db800000000ULL;  // 2001:db8::/32

std::string domain_name(std::size_t index) {
  char buffer[32];
  std::snprintf(buffer, sizeof buffer, "d%05zu.", index);
  return buffer + std::string(k_workload_zone);
}

std::string mail_host(std::size_t host, int which) {
  char buffer[48];
  std::snprintf(buffer, sizeof buffer, "mx%d.mailhost%02zu.", which, host);
  return buffer + std::string(k_workload_zone);
}

std::string token(Random& random, std::size_t length, std::string_view alphabet) {
  std::string out;
  for (std::size_t i = 0; i < length; ++i) out += alphabet[random.below(alphabet.size())];
  return out;
}

Domain make_domain(std::size_t index, std::uint64_t seed) {
  Random random(seed * 0x100000001b3ULL + index);
  Domain d;
  d.name = domain_name(index);

  const std::size_t count = 2 + random.below(6);
  std::array<bool, k_senders.size()> taken{};
  for (std::size_t n = 0; n < count; ++n) {
    std::size_t total = 0;
    for (std::size_t s = 0; s < k_senders.size(); ++s)
      if (!taken[s]) total += k_senders[s].weight;
    std::size_t pick = random.below(total);
    for (std::size_t s = 0; s < k_senders.size(); ++s) {
      if (taken[s]) continue;
      if (pick < k_senders[s].weight) {
        taken[s] = true;
        d.senders.push_back(k_senders[s].name);
        break;
      }
      pick -= k_senders[s].weight;
    }
  }

  const auto i = static_cast<std::uint32_t>(index);
  if (random.percent(50)) d.ip4.push_back(v4(0x64400000U + 16 * i) + "/28");  // in 100.64.0.0/10
  if (random.percent(25)) d.ip4.push_back(v4(0xc6120000U + i));               // in 198.18.0.0/15
  if (random.percent(30)) d.ip6.push_back(v6(k_doc_v6 | (std::uint64_t{i} << 8), 0) + "/56");
  d.mx_term = random.percent(55);
  d.a_term = random.percent(25);
  d.policy = random.percent(35) ? "softfail" : "fail";
  if (random.percent(10)) d.flatten = "full";
  if (random.percent(15)) d.lookup_budget = 9;

  d.own_mx = random.percent(35);
  if (d.own_mx) {
    d.mx_hosts.push_back("mx1." + d.name);
    if (random.percent(50)) d.mx_hosts.push_back("mx2." + d.name);
  } else {
    const std::size_t host = random.below(k_mail_hosts);
    d.mx_hosts = {mail_host(host, 1), mail_host(host, 2)};
  }
  d.has_aaaa = random.percent(50);

  constexpr std::string_view k_base64url = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
  constexpr std::string_view k_lower = "abcdefghijklmnopqrstuvwxyz0123456789";
  if (random.percent(40)) d.other_txt.push_back("google-site-verification=" + token(random, 43, k_base64url));
  if (random.percent(25)) d.other_txt.push_back("MS=ms" + token(random, 8, "0123456789"));
  if (random.percent(15)) d.other_txt.push_back("facebook-domain-verification=" + token(random, 30, k_lower));
  // The record spfctl is about to replace: not part of the apex's other TXT values.
  if (random.percent(50)) d.other_txt.push_back("v=spf1 include:_spf.google.com mx ~all");
  return d;
}

void check_count(std::size_t count) {
  if (count > k_max_domains)
    throw std::invalid_argument("the planner workload has room for at most " + std::to_string(k_max_domains) +
                                " domains");
}

std::string quoted_list(const std::vector<std::string>& values) {
  std::string out = "[";
  for (std::size_t i = 0; i < values.size(); ++i) out += (i ? ", \"" : "\"") + values[i] + "\"";
  return out + "]";
}

}  // namespace

std::string workload_config(std::size_t count, std::uint64_t seed) {
  return workload_config(count, seed, "");
}

std::string workload_config(std::size_t count, std::uint64_t seed, std::string_view provider) {
  check_count(count);
  std::string out =
      "# Generated by spfctl_bench_planner.\n"
      "[senders.hubspot]\n"
      "include = [\"7593890.spf10.hubspotemail.net\"]\n";
  for (std::size_t index = 0; index < count; ++index) {
    const Domain d = make_domain(index, seed);
    out += "\n[[domain]]\nname = \"" + d.name + "\"\n";
    if (!provider.empty()) out += "provider = \"" + std::string(provider) + "\"\n";
    out += "senders = [";
    for (std::size_t s = 0; s < d.senders.size(); ++s)
      out += (s ? ", \"" : "\"") + std::string(d.senders[s]) + "\"";
    out += "]\n";
    if (!d.ip4.empty()) out += "ip4 = " + quoted_list(d.ip4) + "\n";
    if (!d.ip6.empty()) out += "ip6 = " + quoted_list(d.ip6) + "\n";
    if (d.a_term) out += "a = [\"@\"]\n";
    if (d.mx_term) out += "mx = [\"@\"]\n";
    out += "policy = \"" + std::string(d.policy) + "\"\n";
    if (!d.flatten.empty()) out += "flatten = \"" + std::string(d.flatten) + "\"\n";
    if (d.lookup_budget != 0) out += "lookup_budget = " + std::to_string(d.lookup_budget) + "\n";
  }
  return out;
}

std::vector<std::pair<std::string, std::vector<std::string>>> workload_apex_txt(std::size_t count,
                                                                                std::uint64_t seed) {
  check_count(count);
  std::vector<std::pair<std::string, std::vector<std::string>>> out;
  for (std::size_t index = 0; index < count; ++index) {
    Domain d = make_domain(index, seed);
    out.emplace_back(std::move(d.name), std::move(d.other_txt));
  }
  return out;
}

std::string workload_zone(std::size_t count, std::uint64_t seed) {
  check_count(count);
  const std::string apex(k_workload_zone);
  std::string out = "$ORIGIN " + apex + ".\n$TTL 300\n@ SOA ns." + apex + ". hostmaster." + apex +
                    ". 1 3600 600 86400 300\n@ NS ns." + apex + ".\nns A 127.0.0.1\n";
  for (std::size_t host = 0; host < k_mail_hosts; ++host) {
    for (int which = 1; which <= 2; ++which) {
      const auto n = static_cast<std::uint32_t>(2 * host + static_cast<std::size_t>(which));
      out += mail_host(host, which) + ". A " + v4(0xc6336400U + n) + "\n";  // in 198.51.100.0/24
      out += mail_host(host, which) + ". AAAA " + v6(k_doc_v6 | 0xfe000000ULL, n) + "\n";
    }
  }
  for (std::size_t index = 0; index < count; ++index) {
    const Domain d = make_domain(index, seed);
    const auto i = static_cast<std::uint32_t>(index);
    const std::string owner = d.name + ". ";
    for (std::size_t m = 0; m < d.mx_hosts.size(); ++m)
      out += owner + "MX " + std::to_string(10 * (m + 1)) + " " + d.mx_hosts[m] + ".\n";
    out += owner + "A " + v4(0xcb007101U + i % 200) + "\n";  // shared web hosts in 203.0.113.0/24
    if (d.has_aaaa) out += owner + "AAAA " + v6(k_doc_v6 | 0xff000000ULL, i) + "\n";
    for (const std::string& txt : d.other_txt) out += owner + "TXT \"" + txt + "\"\n";
    if (d.own_mx) {
      for (std::size_t m = 0; m < d.mx_hosts.size(); ++m) {
        const auto n = static_cast<std::uint32_t>(2 * index + m);
        out += d.mx_hosts[m] + ". A " + v4(0x64700000U + n) + "\n";  // in 100.112.0.0/12
        if (d.has_aaaa) out += d.mx_hosts[m] + ". AAAA " + v6(k_doc_v6 | 0xfd000000ULL, n) + "\n";
      }
    }
  }
  return out;
}

}  // namespace spfctl::bench
