#include <catch2/catch.hpp>

#include "dns/live_resolver.hpp"
#include "error.hpp"

using namespace spfctl::dns;
using spfctl::Error;
using spfctl::net::IpAddress;

TEST_CASE("resolver addresses parse with and without ports, IPv4 and IPv6", "[dns][live]") {
  CHECK(parse_server_address("192.0.2.53") == ServerAddress{*IpAddress::parse("192.0.2.53"), 53});
  CHECK(parse_server_address("127.0.0.1:5353") == ServerAddress{*IpAddress::parse("127.0.0.1"), 5353});
  CHECK(parse_server_address("2001:db8::53") == ServerAddress{*IpAddress::parse("2001:db8::53"), 53});
  CHECK(parse_server_address("::1") == ServerAddress{*IpAddress::parse("::1"), 53});
  CHECK(parse_server_address("[2001:db8::53]:5353") ==
        ServerAddress{*IpAddress::parse("2001:db8::53"), 5353});
  CHECK(parse_server_address("[::1]") == ServerAddress{*IpAddress::parse("::1"), 53});
  CHECK(parse_server_address("127.0.0.1:5353").to_string() == "127.0.0.1:5353");
  CHECK(parse_server_address("2001:DB8::53").to_string() == "[2001:db8::53]:53");
}

TEST_CASE("invalid resolver addresses are errors that show the accepted forms", "[dns][live]") {
  using Catch::Matchers::StartsWith;
  for (const char* bad : {"", "dns.example.com", "192.0.2", "192.0.2.1:", "[2001:db8::1", "[192.0.2.1]:53",
                          "[::1]53", "1.2.3.4.5"}) {
    INFO(bad);
    CHECK_THROWS_AS(parse_server_address(bad), Error);
  }
  CHECK_THROWS_WITH(parse_server_address("resolver.example"),
                    StartsWith("invalid resolver address 'resolver.example' (write an IP address with an "
                               "optional port: 192.0.2.53, 192.0.2.53:5353"));
  CHECK_THROWS_WITH(
      parse_server_address("127.0.0.1:70000"),
      "invalid port '70000' in resolver address '127.0.0.1:70000' (write a number from 1 to 65535)");
  CHECK_THROWS_WITH(parse_server_address("[::1]:0"), StartsWith("invalid port '0'"));
  CHECK_THROWS_WITH(parse_server_address("127.0.0.1:53x"), StartsWith("invalid port '53x'"));
}

TEST_CASE("live resolver options are checked before anything starts", "[dns][live]") {
  CHECK_THROWS_WITH(LiveResolver({{"127.0.0.1:53", "bogus"}, 1000, 2}),
                    Catch::Matchers::StartsWith("invalid resolver address 'bogus'"));
  CHECK_THROWS_WITH(LiveResolver({{}, 0, 2}), Catch::Matchers::StartsWith("invalid resolver timeout 0 ms"));
  CHECK_THROWS_WITH(LiveResolver({{}, 1000, 0}), Catch::Matchers::StartsWith("invalid resolver tries 0"));
  // Starting and stopping without a question leaves nothing behind.
  LiveResolver idle({{"127.0.0.1:53", "[::1]:53"}, 1000, 1});
  CHECK(idle.queries_sent() == 0);
}
