#include <array>
#include <catch2/catch.hpp>
#include <random>
#include <string>
#include <vector>

#include "net/ip_range_map.hpp"

using spfctl::net::AddressRange;
using spfctl::net::Cidr;
using spfctl::net::Family;
using spfctl::net::IpAddress;
using spfctl::net::IpSet;
using Map = spfctl::net::IpRangeMap<std::string>;

namespace {

IpAddress ip(const char* text) {
  auto address = IpAddress::parse(text);
  REQUIRE(address);
  return *address;
}

IpSet set_of(std::initializer_list<const char*> blocks) {
  IpSet set;
  for (const char* block : blocks) {
    auto parsed = Cidr::parse(block);
    INFO(block << ": " << parsed.error);
    REQUIRE(parsed.cidr);
    set.add(*parsed.cidr);
  }
  return set;
}

// "first-last=value" per segment of one family, for readable comparisons.
std::vector<std::string> describe(const Map& map, Family family) {
  std::vector<std::string> out;
  for (const auto& segment : map.segments(family))
    out.push_back(segment.range.to_string() + "=" + segment.value);
  return out;
}

std::vector<std::string> describe(const std::vector<Map::Difference>& differences) {
  std::vector<std::string> out;
  for (const auto& d : differences) out.push_back(d.range.to_string() + " " + d.mine + "/" + d.theirs);
  return out;
}

}  // namespace

TEST_CASE("a new map gives every address the unset value", "[net][rangemap]") {
  Map map("none");
  CHECK(map.unset_value() == "none");
  CHECK(map.at(ip("0.0.0.0")) == "none");
  CHECK(map.at(ip("255.255.255.255")) == "none");
  CHECK(map.at(ip("ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff")) == "none");
  CHECK(map.segment_count() == 2);
  CHECK(describe(map, Family::v4) == std::vector<std::string>{"0.0.0.0-255.255.255.255=none"});
  CHECK(describe(map, Family::v6) ==
        std::vector<std::string>{"::-ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff=none"});
  CHECK(Map().at(ip("192.0.2.1")).empty());
}

TEST_CASE("the first assignment to an address wins", "[net][rangemap]") {
  // As an SPF record "-ip4:10.0.0.0/24 ip4:10.0.0.0/8 ip6:2001:db8::/32 ~all" is evaluated.
  Map map("none");
  map.assign_unset(set_of({"10.0.0.0/24"}), "fail");
  map.assign_unset(set_of({"10.0.0.0/8", "2001:db8::/32"}), "pass");
  map.assign_unset(IpSet::everything(), "softfail");

  CHECK(map.at(ip("10.0.0.7")) == "fail");
  CHECK(map.at(ip("10.0.1.0")) == "pass");
  CHECK(map.at(ip("10.255.255.255")) == "pass");
  CHECK(map.at(ip("11.0.0.0")) == "softfail");
  CHECK(map.at(ip("2001:db8:ffff::1")) == "pass");
  CHECK(map.at(ip("::ffff:10.0.0.7")) == "softfail");
  CHECK(describe(map, Family::v4) ==
        std::vector<std::string>{"0.0.0.0-9.255.255.255=softfail", "10.0.0.0-10.0.0.255=fail",
                                 "10.0.1.0-10.255.255.255=pass", "11.0.0.0-255.255.255.255=softfail"});
  CHECK(describe(map, Family::v6) ==
        std::vector<std::string>{"::-2001:db7:ffff:ffff:ffff:ffff:ffff:ffff=softfail",
                                 "2001:db8::-2001:db8:ffff:ffff:ffff:ffff:ffff:ffff=pass",
                                 "2001:db9::-ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff=softfail"});

  CHECK(map.ranges_with("pass") == [] {
    IpSet pass = set_of({"10.0.0.0/8", "2001:db8::/32"});
    pass.subtract(set_of({"10.0.0.0/24"}));
    return pass;
  }());
  CHECK(map.ranges_with("none").empty());
  CHECK(map.ranges_where([](const std::string& v) { return v != "softfail"; }) ==
        set_of({"10.0.0.0/8", "2001:db8::/32"}));
}

TEST_CASE("assign overwrites and update transforms", "[net][rangemap]") {
  Map map("none");
  map.assign(set_of({"10.0.0.0/8"}), "pass");
  map.assign(set_of({"10.1.0.0/16"}), "fail");
  CHECK(map.at(ip("10.1.2.3")) == "fail");
  CHECK(map.at(ip("10.2.0.0")) == "pass");
  map.update(set_of({"10.0.0.0/15"}), [](const std::string& old) { return old + "!"; });
  CHECK(describe(map, Family::v4) ==
        std::vector<std::string>{"0.0.0.0-9.255.255.255=none", "10.0.0.0-10.0.255.255=pass!",
                                 "10.1.0.0-10.1.255.255=fail!", "10.2.0.0-10.255.255.255=pass",
                                 "11.0.0.0-255.255.255.255=none"});
  Map unchanged = map;
  map.assign(IpSet{}, "fail");
  CHECK(map == unchanged);
}

TEST_CASE("equal neighbours merge so equal maps compare equal", "[net][rangemap]") {
  Map map("none");
  map.assign(set_of({"10.0.0.0/25"}), "pass");
  map.assign(set_of({"10.0.0.128/25"}), "pass");
  CHECK(describe(map, Family::v4) == std::vector<std::string>{"0.0.0.0-9.255.255.255=none",
                                                              "10.0.0.0-10.0.0.255=pass",
                                                              "10.0.1.0-255.255.255.255=none"});
  CHECK(map.segment_count() == 4);

  Map other("none");
  other.assign(set_of({"10.0.0.0/24"}), "pass");
  CHECK(map == other);
  CHECK(map.equal(other));

  map.assign(set_of({"10.0.0.0/24"}), "none");
  CHECK(map == Map("none"));
  CHECK(map.segment_count() == 2);

  // The top and bottom of each space.
  Map edges("none");
  edges.assign(
      set_of({"0.0.0.0/32", "255.255.255.255/32", "::/128", "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff/128"}),
      "pass");
  CHECK(describe(edges, Family::v4) ==
        std::vector<std::string>{"0.0.0.0=pass", "0.0.0.1-255.255.255.254=none", "255.255.255.255=pass"});
  CHECK(edges.segments(Family::v6).size() == 3);
  edges.assign(IpSet::everything(), "pass");
  CHECK(edges.segment_count() == 2);
  CHECK(edges.ranges_with("pass") == IpSet::everything());
}

TEST_CASE("differences name the ranges where two maps disagree", "[net][rangemap]") {
  Map published("none");
  published.assign_unset(set_of({"192.0.2.0/24", "2001:db8::/32"}), "pass");
  published.assign_unset(IpSet::everything(), "fail");

  Map flattened("none");
  flattened.assign_unset(set_of({"192.0.2.0/25", "2001:db8::/32"}), "pass");
  flattened.assign_unset(set_of({"198.51.100.0/24"}), "softfail");
  flattened.assign_unset(IpSet::everything(), "fail");
  flattened.assign(set_of({"ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff/128"}), "neutral");

  CHECK_FALSE(published == flattened);
  const std::vector<std::string> all{"192.0.2.128-192.0.2.255 pass/fail",
                                     "198.51.100.0-198.51.100.255 fail/softfail",
                                     "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff fail/neutral"};
  CHECK(describe(published.differences(flattened, 10)) == all);
  CHECK(describe(published.differences(flattened, 2)) ==
        std::vector<std::string>(all.begin(), all.begin() + 2));
  CHECK(published.differences(flattened, 0).empty());
  CHECK(published.differences(published, 10).empty());

  // Boundaries of the two maps that do not line up still give maximal ranges.
  Map a("none"), b("none");
  a.assign(set_of({"10.0.0.0/24"}), "x");
  b.assign(set_of({"10.0.0.128/25", "10.0.1.0/24"}), "x");
  CHECK(describe(a.differences(b, 10)) ==
        std::vector<std::string>{"10.0.0.0-10.0.0.127 x/none", "10.0.1.0-10.0.1.255 none/x"});

  // Maps with different unset values but the same contents are equal.
  Map c("none"), d("unset");
  c.assign(IpSet::everything(), "fail");
  d.assign(IpSet::everything(), "fail");
  CHECK(c == d);
}

TEST_CASE("random first-match assignments match a per-address model", "[net][rangemap]") {
  // 10.0.0.0/20, address by address; values 0 (unset) to 3.
  std::mt19937 rng(7208);
  spfctl::net::IpRangeMap<int> map, other;
  std::array<int, 4096> model{}, other_model{};
  auto address = [](unsigned offset) { return IpAddress::from_v4(0x0A000000u + offset); };

  for (int round = 0; round < 200; ++round) {
    const bool first_match = rng() % 2 == 0;
    const int value = static_cast<int>(rng() % 4);
    const bool into_other = rng() % 3 == 0;
    IpSet set;
    std::array<bool, 4096> in_set{};
    for (int blocks = static_cast<int>(rng() % 4); blocks > 0; --blocks) {
      const int prefix = 20 + static_cast<int>(rng() % 13);
      const IpAddress network = address(rng() % 4096).masked(prefix);
      set.add(network, prefix);
      for (unsigned i = 0; i < 4096; ++i) in_set[i] = in_set[i] || address(i).in_network(network, prefix);
    }
    auto& target = into_other ? other : map;
    auto& target_model = into_other ? other_model : model;
    if (first_match) {
      target.assign_unset(set, value);
    } else {
      target.assign(set, value);
    }
    for (unsigned i = 0; i < 4096; ++i)
      if (in_set[i] && (!first_match || target_model[i] == 0)) target_model[i] = value;

    INFO("round " << round);
    bool same = true;
    for (unsigned i = 0; i < 4096; ++i) {
      if (map.at(address(i)) != model[i]) {
        FAIL_CHECK("map differs at " << address(i).to_string());
        break;
      }
      same = same && model[i] == other_model[i];
    }
    CHECK(map.at(ip("9.255.255.255")) == 0);
    CHECK(map.at(ip("10.0.16.0")) == 0);

    const auto segments = map.segments(Family::v4);
    for (std::size_t i = 1; i < segments.size(); ++i) CHECK(segments[i - 1].value != segments[i].value);

    IpSet by_value[4];
    for (int v = 0; v < 4; ++v) by_value[v] = map.ranges_with(v);
    for (unsigned i = 0; i < 4096; i += 37) CHECK(by_value[model[i]].contains(address(i)));

    CHECK(map.equal(other) == same);
    const auto differences = map.differences(other, 1000);
    CHECK(differences.empty() == same);
    for (const auto& d : differences) {
      CHECK(d.mine != d.theirs);
      CHECK(map.at(d.range.first) == d.mine);
      CHECK(other.at(d.range.last) == d.theirs);
    }
    // Every differing address lies in a reported range.
    IpSet reported;
    for (const auto& d : differences) reported.add_range(d.range.first, d.range.last);
    for (unsigned i = 0; i < 4096; ++i) {
      if ((model[i] != other_model[i]) != reported.contains(address(i))) {
        FAIL_CHECK("difference at " << address(i).to_string() << " misreported");
        break;
      }
    }
  }
}
