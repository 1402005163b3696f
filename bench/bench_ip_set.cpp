// Micro-benchmarks for the address algebra the planner runs for every domain.
#include <benchmark/benchmark.h>

#include <algorithm>
#include <array>
#include <cstddef>
#include <random>
#include <string>
#include <vector>

#include "net/ip_range_map.hpp"
#include "net/ip_set.hpp"

namespace {

using spfctl::net::Cidr;
using spfctl::net::IpAddress;
using spfctl::net::IpRangeMap;
using spfctl::net::IpSet;

// Random blocks of a published-record shape: mostly /16 to /32 IPv4, a quarter /32 to /64 IPv6.
std::vector<Cidr> random_cidrs(std::size_t count, unsigned seed) {
  std::mt19937_64 rng(seed);
  std::vector<Cidr> out;
  out.reserve(count);
  for (std::size_t i = 0; i < count; ++i) {
    if (rng() % 4 == 0) {
      std::array<std::uint8_t, 16> bytes{};
      for (auto& byte : bytes) byte = static_cast<std::uint8_t>(rng());
      const int prefix = 32 + static_cast<int>(rng() % 33);
      const IpAddress address = IpAddress::from_v6(bytes);
      out.push_back({address.masked(prefix), prefix});
    } else {
      const int prefix = 16 + static_cast<int>(rng() % 17);
      const IpAddress address = IpAddress::from_v4(static_cast<std::uint32_t>(rng()));
      out.push_back({address.masked(prefix), prefix});
    }
  }
  return out;
}

void add_one_by_one(benchmark::State& state) {
  const auto cidrs = random_cidrs(static_cast<std::size_t>(state.range(0)), 1);
  for (auto _ : state) {
    IpSet set;
    for (const Cidr& cidr : cidrs) set.add(cidr);
    benchmark::DoNotOptimize(set);
  }
  state.SetItemsProcessed(state.iterations() * state.range(0));
}
BENCHMARK(add_one_by_one)->Range(16, 16384);

void build_at_once(benchmark::State& state) {
  const auto cidrs = random_cidrs(static_cast<std::size_t>(state.range(0)), 1);
  for (auto _ : state) benchmark::DoNotOptimize(IpSet::of(cidrs));
  state.SetItemsProcessed(state.iterations() * state.range(0));
}
BENCHMARK(build_at_once)->Range(16, 16384);

void union_subtract_intersect(benchmark::State& state) {
  const IpSet a = IpSet::of(random_cidrs(static_cast<std::size_t>(state.range(0)), 1));
  const IpSet b = IpSet::of(random_cidrs(static_cast<std::size_t>(state.range(0)), 2));
  for (auto _ : state) {
    IpSet both = a;
    both.add(b);
    IpSet only_a = a;
    only_a.subtract(b);
    IpSet common = a;
    common.intersect(b);
    benchmark::DoNotOptimize(both);
    benchmark::DoNotOptimize(only_a);
    benchmark::DoNotOptimize(common);
  }
}
BENCHMARK(union_subtract_intersect)->Range(16, 16384);

void to_cidrs(benchmark::State& state) {
  IpSet set = IpSet::of(random_cidrs(static_cast<std::size_t>(state.range(0)), 1));
  set.subtract(IpSet::of(random_cidrs(static_cast<std::size_t>(state.range(0)), 2)));
  for (auto _ : state) benchmark::DoNotOptimize(set.to_cidrs());
}
BENCHMARK(to_cidrs)->Range(16, 16384);

// A policy of 20 terms evaluated first-match-wins, compared with the same policy built again.
void first_match_policy(benchmark::State& state) {
  const auto cidrs = random_cidrs(static_cast<std::size_t>(state.range(0)), 1);
  std::vector<IpSet> terms;
  const std::size_t per_term = cidrs.size() / 20 + 1;
  for (std::size_t i = 0; i < cidrs.size(); i += per_term)
    terms.push_back(IpSet::of(std::vector<Cidr>(
        cidrs.begin() + static_cast<std::ptrdiff_t>(i),
        cidrs.begin() + static_cast<std::ptrdiff_t>(std::min(i + per_term, cidrs.size())))));
  auto evaluate = [&] {
    IpRangeMap<int> map(0);
    for (std::size_t i = 0; i < terms.size(); ++i) map.assign_unset(terms[i], 1 + static_cast<int>(i % 3));
    map.assign_unset(IpSet::everything(), 4);
    return map;
  };
  const IpRangeMap<int> reference = evaluate();
  for (auto _ : state) {
    const IpRangeMap<int> map = evaluate();
    benchmark::DoNotOptimize(map.equal(reference));
    benchmark::DoNotOptimize(map.ranges_with(1));
  }
}
BENCHMARK(first_match_policy)->Range(16, 16384);

}  // namespace
