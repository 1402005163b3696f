#include <catch2/catch.hpp>

#include "dns/message_size.hpp"

using namespace spfctl::dns;

TEST_CASE("wire name length counts length octets and the root", "[dns]") {
  CHECK(wire_name_length("example.com") == 13);
  CHECK(wire_name_length("example.com.") == 13);
  CHECK(wire_name_length("") == 1);
  CHECK(wire_name_length("a.b") == 5);
}

TEST_CASE("a TXT response is sized as it travels on the wire", "[dns]") {
  // 12 header + 13 name + 4 question = 29; one RR: 12 fixed + 1+6 + 1+4 = 24.
  CHECK(txt_response_size("example.com", {{"v=spf1", "-all"}}) == 53);
  CHECK(txt_response_size("example.com", {}) == 29);
  const std::string long_string(255, 'x');
  CHECK(txt_response_size("example.com", {{long_string}, {long_string}}) == 29 + 2 * (12 + 256));
}
