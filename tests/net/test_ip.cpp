#include <catch2/catch.hpp>

#include "net/ip.hpp"

using spfctl::net::IpAddress;

TEST_CASE("IPv4 addresses parse and print", "[net]") {
  auto a = IpAddress::parse("192.0.2.10");
  REQUIRE(a);
  CHECK(a->is_v4());
  CHECK(a->to_string() == "192.0.2.10");
  CHECK(a->v4_value() == 0xC000020Au);
  CHECK_FALSE(IpAddress::parse("192.0.2"));
  CHECK_FALSE(IpAddress::parse("192.0.2.256"));
  CHECK_FALSE(IpAddress::parse("192.0.2.1/24"));
  CHECK_FALSE(IpAddress::parse(""));
}

TEST_CASE("IPv6 addresses parse and print canonically", "[net]") {
  auto a = IpAddress::parse("2001:DB8:0:0:0:0:0:1");
  REQUIRE(a);
  CHECK_FALSE(a->is_v4());
  CHECK(a->to_string() == "2001:db8::1");
  CHECK_FALSE(IpAddress::parse("2001:db8:::1"));
  CHECK_FALSE(IpAddress::parse("[2001:db8::1]"));
}

TEST_CASE("IPv4-mapped IPv6 addresses unmap to IPv4", "[net]") {
  auto a = IpAddress::parse("::ffff:1.2.3.4");
  REQUIRE(a);
  CHECK(a->is_v4_mapped());
  CHECK(a->unmapped() == *IpAddress::parse("1.2.3.4"));
  CHECK_FALSE(IpAddress::parse("::1")->is_v4_mapped());
}

TEST_CASE("network membership compares the prefix bits of one family", "[net]") {
  auto net = *IpAddress::parse("10.1.0.0");
  CHECK(IpAddress::parse("10.1.200.3")->in_network(net, 16));
  CHECK_FALSE(IpAddress::parse("10.2.0.1")->in_network(net, 16));
  CHECK(IpAddress::parse("10.2.0.1")->in_network(net, 0));
  CHECK_FALSE(IpAddress::parse("::ffff:10.1.0.1")->in_network(net, 16));
  auto net6 = *IpAddress::parse("2001:db8::");
  CHECK(IpAddress::parse("2001:db8:ffff::1")->in_network(net6, 32));
  CHECK_FALSE(IpAddress::parse("2001:db9::1")->in_network(net6, 32));
  CHECK(IpAddress::parse("10.1.2.3")->masked(20).to_string() == "10.1.0.0");
}

TEST_CASE("reverse and macro forms", "[net]") {
  CHECK(IpAddress::parse("192.0.2.10")->reverse_name() == "10.2.0.192.in-addr.arpa");
  auto v6 = *IpAddress::parse("2001:db8::cb01");
  CHECK(v6.spf_macro_form() == "2.0.0.1.0.d.b.8.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.c.b.0.1");
  CHECK(v6.reverse_name() == "1.0.b.c.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2.ip6.arpa");
}
