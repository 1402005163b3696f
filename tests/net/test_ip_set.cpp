#include <bitset>
#include <catch2/catch.hpp>
#include <functional>
#include <random>
#include <string>
#include <vector>

#include "net/ip_set.hpp"

using spfctl::net::Cidr;
using spfctl::net::IpAddress;
using spfctl::net::IpSet;
using spfctl::net::uint128;

namespace Catch {
template <>
struct StringMaker<IpSet> {
  static std::string convert(const IpSet& set) {
    std::string out = "{";
    for (const Cidr& cidr : set.to_cidrs()) out += " " + cidr.to_string();
    return out + " }";
  }
};
}  // namespace Catch

namespace {

IpAddress ip(const char* text) {
  auto address = IpAddress::parse(text);
  REQUIRE(address);
  return *address;
}

Cidr cidr(const char* text) {
  auto parsed = Cidr::parse(text);
  INFO(text << ": " << parsed.error);
  REQUIRE(parsed.cidr);
  return *parsed.cidr;
}

IpSet set_of(std::initializer_list<const char*> blocks) {
  IpSet set;
  for (const char* block : blocks) set.add(cidr(block));
  return set;
}

std::vector<std::string> cidr_strings(const IpSet& set) {
  std::vector<std::string> out;
  for (const Cidr& block : set.to_cidrs()) out.push_back(block.to_string());
  return out;
}

}  // namespace

TEST_CASE("Cidr parses networks and single addresses", "[net][ipset]") {
  CHECK(cidr("192.0.2.0/24") == Cidr{ip("192.0.2.0"), 24});
  CHECK(cidr("2001:DB8::/32").to_string() == "2001:db8::/32");
  CHECK(cidr("192.0.2.7") == Cidr{ip("192.0.2.7"), 32});
  CHECK(cidr("2001:db8::7") == Cidr{ip("2001:db8::7"), 128});
  CHECK(cidr("0.0.0.0/0").prefix == 0);
  CHECK(cidr("::/0").to_string() == "::/0");
  CHECK(cidr("::ffff:192.0.2.0/120").network.is_v4_mapped());
}

TEST_CASE("Cidr reports host bits, bad prefixes and bad addresses", "[net][ipset]") {
  auto host_bits = Cidr::parse("192.0.2.1/24");
  CHECK_FALSE(host_bits.cidr);
  CHECK(host_bits.error == "'192.0.2.1/24' has host bits set; did you mean '192.0.2.0/24'?");
  REQUIRE(host_bits.suggestion);
  CHECK(*host_bits.suggestion == Cidr{ip("192.0.2.0"), 24});

  auto host_bits6 = Cidr::parse("2001:db8::1/64");
  CHECK(host_bits6.error == "'2001:db8::1/64' has host bits set; did you mean '2001:db8::/64'?");

  auto too_long = Cidr::parse("10.0.0.0/33");
  CHECK_FALSE(too_long.cidr);
  CHECK_FALSE(too_long.suggestion);
  CHECK(too_long.error == "prefix 33 is out of range for IPv4 (0-32)");
  CHECK(Cidr::parse("2001:db8::/129").error == "prefix 129 is out of range for IPv6 (0-128)");
  CHECK(Cidr::parse("10.0.0.0/4096").error == "prefix 4096 is out of range for IPv4 (0-32)");

  for (const char* bad_prefix :
       {"10.0.0.0/", "10.0.0.0/024", "10.0.0.0/-1", "10.0.0.0/+8", "10.0.0.0/8/8", "10.0.0.0/ 8"}) {
    INFO(bad_prefix);
    auto parsed = Cidr::parse(bad_prefix);
    CHECK_FALSE(parsed.cidr);
    CHECK(parsed.error.rfind("prefix '", 0) == 0);
  }
  CHECK(Cidr::parse("10.0.0.256/24").error == "'10.0.0.256' is not an IPv4 or IPv6 address");
  CHECK(Cidr::parse("/24").error == "'' is not an IPv4 or IPv6 address");
  CHECK_FALSE(Cidr::parse("").cidr);
}

TEST_CASE("Cidr ranges reach the top of the space", "[net][ipset]") {
  CHECK(cidr("0.0.0.0/0").range().to_string() == "0.0.0.0-255.255.255.255");
  CHECK(cidr("255.255.255.255/32").range().to_string() == "255.255.255.255");
  CHECK(cidr("::/0").range().last == ip("ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff"));
  CHECK(cidr("2001:db8::/63").range().to_string() == "2001:db8::-2001:db8:0:1:ffff:ffff:ffff:ffff");
}

TEST_CASE("IPv6 addresses convert to integers and back", "[net][ipset]") {
  const uint128 value = spfctl::net::v6_value(ip("2001:db8::1:0:0:2"));
  CHECK(static_cast<std::uint64_t>(value >> 64) == 0x20010db800000000u);
  CHECK(static_cast<std::uint64_t>(value) == 0x0001000000000002u);
  CHECK(spfctl::net::from_v6_value(value) == ip("2001:db8::1:0:0:2"));
}

TEST_CASE("adjacent and overlapping blocks merge", "[net][ipset]") {
  CHECK(cidr_strings(set_of({"192.0.2.0/25", "192.0.2.128/25"})) == std::vector<std::string>{"192.0.2.0/24"});
  CHECK(cidr_strings(set_of({"192.0.2.128/25", "192.0.2.0/25"})) == std::vector<std::string>{"192.0.2.0/24"});
  CHECK(cidr_strings(set_of({"10.0.0.0/8", "10.1.0.0/16", "10.255.255.255/32"})) ==
        std::vector<std::string>{"10.0.0.0/8"});
  // Adjacent but not aligned: one interval, two blocks.
  CHECK(cidr_strings(set_of({"10.0.0.128/25", "10.0.1.0/25"})) ==
        std::vector<std::string>{"10.0.0.128/25", "10.0.1.0/25"});
  CHECK(set_of({"10.0.0.128/25", "10.0.1.0/25"}).v4_intervals().size() == 1);
  // A block that bridges two others joins all three.
  IpSet bridged = set_of({"10.0.0.0/26", "10.0.0.128/26", "10.0.0.64/26"});
  CHECK(bridged.v4_intervals().size() == 1);
  CHECK(cidr_strings(bridged) == std::vector<std::string>{"10.0.0.0/25", "10.0.0.128/26"});
  // Host bits are ignored when adding, as in SPF's ip4:192.0.2.1/24.
  IpSet masked;
  masked.add(ip("192.0.2.77"), 24);
  CHECK(masked == set_of({"192.0.2.0/24"}));
}

TEST_CASE("ranges decompose into the fewest aligned blocks", "[net][ipset]") {
  IpSet set;
  set.add_range(ip("10.0.0.1"), ip("10.0.0.6"));
  CHECK(cidr_strings(set) ==
        std::vector<std::string>{"10.0.0.1/32", "10.0.0.2/31", "10.0.0.4/31", "10.0.0.6/32"});
  IpSet v6;
  v6.add_range(ip("2001:db8::1"), ip("2001:db8::6"));
  CHECK(cidr_strings(v6) ==
        std::vector<std::string>{"2001:db8::1/128", "2001:db8::2/127", "2001:db8::4/127", "2001:db8::6/128"});
  CHECK_THROWS_AS(set.add_range(ip("10.0.0.6"), ip("10.0.0.1")), std::invalid_argument);
  CHECK_THROWS_AS(set.add_range(ip("10.0.0.1"), ip("::1")), std::invalid_argument);
  CHECK_THROWS_AS(set.add(ip("10.0.0.0"), 33), std::invalid_argument);
  CHECK_THROWS_AS(set.add(ip("::"), -1), std::invalid_argument);
}

TEST_CASE("IPv4 first, then IPv6, each ascending", "[net][ipset]") {
  IpSet set = set_of({"2001:db8::/32", "198.51.100.0/24", "::1", "192.0.2.0/24"});
  CHECK(cidr_strings(set) ==
        std::vector<std::string>{"192.0.2.0/24", "198.51.100.0/24", "::1/128", "2001:db8::/32"});
  CHECK(IpSet::of(set.to_cidrs()) == set);
}

TEST_CASE("the whole space and its top address", "[net][ipset]") {
  IpSet all4 = set_of({"0.0.0.0/0"});
  CHECK(cidr_strings(all4) == std::vector<std::string>{"0.0.0.0/0"});
  CHECK(all4.v4_size() == (std::uint64_t{1} << 32));
  CHECK(all4.contains(ip("255.255.255.255")));
  CHECK(all4.contains(ip("0.0.0.0")));
  CHECK_FALSE(all4.contains(ip("::")));

  IpSet top = set_of({"255.255.255.255/32"});
  CHECK(top.contains(ip("255.255.255.255")));
  CHECK_FALSE(top.contains(ip("255.255.255.254")));
  top.add(cidr("255.255.255.254/32"));
  CHECK(cidr_strings(top) == std::vector<std::string>{"255.255.255.254/31"});
  top.add(cidr("255.255.255.255/32"));
  CHECK(top.v4_intervals().size() == 1);

  IpSet all_but_top = all4;
  all_but_top.subtract(set_of({"255.255.255.255/32"}));
  auto blocks = all_but_top.to_cidrs();
  REQUIRE(blocks.size() == 32);
  CHECK(blocks.front().to_string() == "0.0.0.0/1");
  CHECK(blocks[1].to_string() == "128.0.0.0/2");
  CHECK(blocks.back().to_string() == "255.255.255.254/32");
  CHECK(all_but_top.v4_size() == (std::uint64_t{1} << 32) - 1);
  all_but_top.add(set_of({"255.255.255.255/32"}));
  CHECK(all_but_top == all4);

  IpSet all6 = set_of({"::/0"});
  CHECK(cidr_strings(all6) == std::vector<std::string>{"::/0"});
  CHECK(all6.contains(ip("ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff")));
  CHECK(all6.v6_size() == ~uint128{0});
  IpSet top6 = set_of({"ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff/128"});
  CHECK(cidr_strings(top6) == std::vector<std::string>{"ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff/128"});
  CHECK(top6.v6_size() == 1);
  IpSet all6_but_top = all6;
  all6_but_top.subtract(top6);
  CHECK(all6_but_top.to_cidrs().size() == 128);
  CHECK(all6_but_top.v6_size() == ~uint128{0});
  all6_but_top.intersect(top6);
  CHECK(all6_but_top.empty());

  IpSet everything = IpSet::everything();
  CHECK(everything == set_of({"0.0.0.0/0", "::/0"}));
  CHECK(everything.contains(set_of({"10.0.0.0/8", "2001:db8::/32"})));
}

TEST_CASE("subtraction splits a block", "[net][ipset]") {
  IpSet set = set_of({"10.0.0.0/24"});
  set.subtract(set_of({"10.0.0.128/26"}));
  CHECK(cidr_strings(set) == std::vector<std::string>{"10.0.0.0/25", "10.0.0.192/26"});
  set.subtract(set_of({"10.0.0.5/32"}));
  CHECK(set.v4_intervals().size() == 3);
  CHECK_FALSE(set.contains(ip("10.0.0.5")));
  CHECK(set.contains(ip("10.0.0.4")));
  CHECK(set.contains(ip("10.0.0.6")));
  // One subtracted block spanning several intervals, and one reaching past the end.
  set.subtract(set_of({"10.0.0.0/25", "10.0.0.192/26", "0.0.0.0/0"}));
  CHECK(set.empty());
  // Subtracting from nothing and subtracting nothing.
  IpSet none;
  none.subtract(set_of({"10.0.0.0/8"}));
  CHECK(none.empty());
  IpSet kept = set_of({"10.0.0.0/8"});
  kept.subtract(IpSet{});
  CHECK(kept == set_of({"10.0.0.0/8"}));
}

TEST_CASE("intersection and containment", "[net][ipset]") {
  IpSet a = set_of({"10.0.0.0/24", "10.0.2.0/24", "2001:db8::/48"});
  IpSet b = set_of({"10.0.0.128/25", "10.0.1.0/24", "10.0.2.0/30", "2001:db8:0:8000::/49", "192.0.2.0/24"});
  IpSet both = a;
  both.intersect(b);
  CHECK(cidr_strings(both) ==
        std::vector<std::string>{"10.0.0.128/25", "10.0.2.0/30", "2001:db8:0:8000::/49"});
  CHECK(a.contains(both));
  CHECK(b.contains(both));
  CHECK_FALSE(a.contains(b));
  CHECK(a.contains(IpSet{}));
}

TEST_CASE("IPv6 intervals across the 64-bit halves", "[net][ipset]") {
  IpSet set = set_of({"2001:db8::ffff:ffff:ffff:ffff/128", "2001:db8:0:1::/128"});
  CHECK(set.v6_intervals().size() == 1);
  CHECK(set.v6_size() == 2);
  CHECK(cidr_strings(set) ==
        std::vector<std::string>{"2001:db8::ffff:ffff:ffff:ffff/128", "2001:db8:0:1::/128"});
  CHECK(cidr_strings(set_of({"2001:db8::/64", "2001:db8:0:1::/64"})) ==
        std::vector<std::string>{"2001:db8::/63"});
  CHECK(cidr_strings(set_of({"2001:db8::8000:0:0:0/65", "2001:db8:0:1::/65"})) ==
        std::vector<std::string>{"2001:db8:0:0:8000::/65", "2001:db8:0:1::/65"});

  IpSet wide;
  wide.add_range(ip("2001:db8::ffff:ffff:ffff:fff0"), ip("2001:db8:0:1::f"));
  CHECK(cidr_strings(wide) ==
        std::vector<std::string>{"2001:db8::ffff:ffff:ffff:fff0/124", "2001:db8:0:1::/124"});
  CHECK(wide.contains(ip("2001:db8::ffff:ffff:ffff:ffff")));
  CHECK(wide.contains(ip("2001:db8:0:1::")));
  CHECK_FALSE(wide.contains(ip("2001:db8:0:1::10")));
  wide.subtract(set_of({"2001:db8::ffff:ffff:ffff:ffff/128"}));
  CHECK(wide.v6_intervals().size() == 2);
  CHECK(wide.contains(ip("2001:db8::ffff:ffff:ffff:fffe")));
  CHECK_FALSE(wide.contains(ip("2001:db8::ffff:ffff:ffff:ffff")));
}

TEST_CASE("IPv4-mapped IPv6 addresses stay IPv6", "[net][ipset]") {
  IpSet v4 = set_of({"192.0.2.0/24"});
  CHECK_FALSE(v4.contains(ip("::ffff:192.0.2.1")));
  CHECK(v4.contains(ip("::ffff:192.0.2.1").unmapped()));
  IpSet mapped = set_of({"::ffff:192.0.2.0/120"});
  CHECK(mapped.contains(ip("::ffff:192.0.2.1")));
  CHECK_FALSE(mapped.contains(ip("192.0.2.1")));
}

namespace {

// A 4096-address window of one family, checked one address at a time against a bitset.
struct Window {
  std::function<IpAddress(unsigned)> address;  // offset 0..4095 to address
  int min_prefix;                              // random blocks are at least this long
  std::vector<IpAddress> outside;              // addresses just around the window
  // The window's aligned halves no block may span: one 4096 block, or two 2048 blocks.
  unsigned aligned_size;
};

using Model = std::bitset<4096>;

// The fewest CIDR blocks covering exactly the model's addresses in [offset, offset + size), a
// naturally aligned block of the window: computed from the binary tree of blocks, independently
// of the greedy decomposition.
std::size_t minimal_blocks(const Model& model, unsigned offset, unsigned size) {
  bool all = true, none = true;
  for (unsigned i = offset; i < offset + size; ++i) {
    all = all && model[i];
    none = none && !model[i];
  }
  if (all) return 1;
  if (none) return 0;
  return minimal_blocks(model, offset, size / 2) + minimal_blocks(model, offset + size / 2, size / 2);
}

void check_against_model(const Window& window, const IpSet& set, const Model& model) {
  for (unsigned i = 0; i < 4096; ++i) {
    if (set.contains(window.address(i)) != model[i]) {
      FAIL_CHECK("address " << window.address(i).to_string() << " should be " << (model[i] ? "in" : "out"));
      return;
    }
  }
  for (const IpAddress& address : window.outside) CHECK_FALSE(set.contains(address));

  const std::vector<Cidr> blocks = set.to_cidrs();
  CHECK(IpSet::of(blocks) == set);
  IpSet re_added;
  for (const Cidr& block : blocks) re_added.add(block);
  CHECK(re_added == set);

  std::size_t expected = 0;
  for (unsigned offset = 0; offset < 4096; offset += window.aligned_size)
    expected += minimal_blocks(model, offset, window.aligned_size);
  CHECK(blocks.size() == expected);

  for (std::size_t i = 0; i < blocks.size(); ++i) {
    CHECK(blocks[i].network.masked(blocks[i].prefix) == blocks[i].network);
    if (i == 0) continue;
    const Cidr& before = blocks[i - 1];
    const Cidr& after = blocks[i];
    CHECK(before.range().last < after.range().first);
    // Mergeable: same length, siblings under one shorter prefix.
    const bool siblings = before.prefix == after.prefix && before.prefix > 0 &&
                          before.network.masked(before.prefix - 1) == after.network.masked(after.prefix - 1);
    CHECK_FALSE(siblings);
  }
}

void run_property_test(const Window& window, unsigned seed) {
  std::mt19937 rng(seed);
  auto random_block = [&](IpSet& set, Model& model) {
    const unsigned offset = rng() % 4096;
    const int prefix = std::uniform_int_distribution<int>(window.min_prefix, window.address(0).bits())(rng);
    const IpAddress network = window.address(offset).masked(prefix);
    set.add(network, prefix);
    for (unsigned i = 0; i < 4096; ++i)
      if (window.address(i).in_network(network, prefix)) model.set(i);
  };
  auto random_set = [&](IpSet& set, Model& model) {
    const int count = std::uniform_int_distribution<int>(0, 6)(rng);
    for (int i = 0; i < count; ++i) random_block(set, model);
  };

  IpSet set;
  Model model;
  for (int round = 0; round < 300; ++round) {
    IpSet other;
    Model other_model;
    random_set(other, other_model);
    switch (rng() % 4) {
      case 0:
      case 1:
        set.add(other);
        model |= other_model;
        break;
      case 2:
        set.subtract(other);
        model &= ~other_model;
        break;
      default:
        // Intersecting with a random small set would soon empty everything; intersect with its
        // complement inside the window instead, which exercises the same code.
        IpSet complement;
        Model complement_model = ~other_model;
        for (unsigned i = 0; i < 4096; ++i)
          if (complement_model[i]) complement.add(window.address(i));
        set.intersect(complement);
        model &= complement_model;
        break;
    }
    INFO("round " << round);
    check_against_model(window, set, model);
  }
}

}  // namespace

TEST_CASE("random unions, subtractions and intersections match a per-address model", "[net][ipset]") {
  SECTION("IPv4 inside 10.0.0.0/20") {
    Window window{[](unsigned offset) { return IpAddress::from_v4(0x0A000000u + offset); },
                  20,
                  {ip("9.255.255.255"), ip("10.0.16.0"), ip("::a00:1")},
                  4096};
    run_property_test(window, 7208);
  }
  SECTION("IPv6 across the 64-bit halves") {
    const uint128 base = spfctl::net::v6_value(ip("2001:db8::ffff:ffff:ffff:f800"));
    Window window{[base](unsigned offset) { return spfctl::net::from_v6_value(base + offset); },
                  117,
                  {ip("2001:db8::ffff:ffff:ffff:f7ff"), ip("2001:db8:0:1::800"), ip("10.0.0.1")},
                  2048};
    run_property_test(window, 4408);
  }
}
