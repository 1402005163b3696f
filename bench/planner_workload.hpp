// The workload of spfctl_bench_planner: the client domains of a large hosting agency, generated
// deterministically. Each domain uses 2 to 7 of the built-in catalogue's senders whose records the
// shipped snapshot examples/dns/senders.zone holds (plus a HubSpot portal it also holds), some own
// IPv4/IPv6 ranges, and often its own `mx` and `a`; many such domains need more than 10 lookups, so
// the planner has to flatten. The domains' own DNS data (MX hosts, addresses, other TXT values at
// the apex) is a master file of the zone "example.".
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace spfctl::bench {

// The zone holding every generated name.
inline constexpr std::string_view k_workload_zone = "example";

// The configuration (TOML, as config::load_config_text reads it) of the first `count` domains for
// `seed`. Domain i depends only on (seed, i): the first 100 domains of a 10,000-domain workload are
// the 100 domains of a 100-domain one.
std::string workload_config(std::size_t count, std::uint64_t seed);

// The same, each domain published through provider `provider` (its [providers.NAME] is the
// caller's to add).
std::string workload_config(std::size_t count, std::uint64_t seed, std::string_view provider);

// Each of the first `count` domains' name and the TXT values its apex publishes (as in
// workload_zone()), for seeding a provider's API with the same data.
std::vector<std::pair<std::string, std::vector<std::string>>> workload_apex_txt(std::size_t count,
                                                                                std::uint64_t seed);

// The master file of the zone "example." (SOA and NS included) with the DNS data of the first
// `count` domains for `seed`, and the mail hosts they share.
std::string workload_zone(std::size_t count, std::uint64_t seed);

}  // namespace spfctl::bench
