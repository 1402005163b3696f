#include <catch2/catch.hpp>

#include "config/checks.hpp"

using namespace spfctl::config;
using spfctl::net::Family;

namespace {

// The error text of a refused value, or a note that it was accepted.
std::string error_of(const Checked& checked) {
  return checked.ok() ? "accepted as " + checked.value : checked.error;
}

}  // namespace

TEST_CASE("domain names are normalized and checked label by label", "[config][checks]") {
  CHECK(check_domain_name("Example.COM.").value == "example.com");
  CHECK(check_domain_name("_spf.google.com").value == "_spf.google.com");
  CHECK(check_domain_name("xn--bcher-kva.example").ok());
  CHECK_THAT(error_of(check_domain_name("example")), Catch::Contains("not fully qualified"));
  CHECK_THAT(error_of(check_domain_name("a..example.com")), Catch::Contains("empty label"));
  CHECK_THAT(error_of(check_domain_name(".example.com")), Catch::Contains("empty label"));
  CHECK_THAT(error_of(check_domain_name("shop-.example.com")),
             Catch::Contains("'shop-'") && Catch::Contains("hyphen"));
  CHECK_THAT(error_of(check_domain_name("sh op.example.com")), Catch::Contains("may only hold"));
  CHECK_THAT(error_of(check_domain_name("bücher.example")), Catch::Contains("punycode"));
  CHECK_THAT(error_of(check_domain_name("192.0.2.10")), Catch::Contains("list it under ip4"));
  CHECK_THAT(error_of(check_domain_name("2001:db8::1")), Catch::Contains("list it under ip6"));
  CHECK_THAT(error_of(check_domain_name("example.123")), Catch::Contains("all-numeric"));
  CHECK(check_domain_name(std::string(63, 'a') + ".example").ok());
  CHECK_THAT(error_of(check_domain_name(std::string(64, 'a') + ".example")),
             Catch::Contains("longer than 63"));
  std::string long_name;
  for (int i = 0; i < 4; ++i) long_name += std::string(62, 'a') + ".";
  long_name += "com";  // 255 characters
  CHECK_THAT(error_of(check_domain_name(long_name)), Catch::Contains("longer than 253"));
}

TEST_CASE("include targets may be macro strings", "[config][checks]") {
  CHECK(check_domain_spec("%{i}._spf.mta.salesforce.com").value == "%{i}._spf.mta.salesforce.com");
  CHECK_FALSE(check_domain_spec("%{i} .example.com").ok());
  CHECK(check_domain_spec("SPF.Example.com").value == "spf.example.com");
}

TEST_CASE("networks are canonical, of the right family, without host bits", "[config][checks]") {
  CHECK(check_network("192.0.2.0/24", Family::v4).value == "192.0.2.0/24");
  CHECK(check_network("192.0.2.7", Family::v4).value == "192.0.2.7");
  CHECK(check_network("192.0.2.7/32", Family::v4).value == "192.0.2.7");
  CHECK(check_network("2001:DB8:0::/32", Family::v6).value == "2001:db8::/32");
  CHECK(check_network("2001:db8::1/128", Family::v6).value == "2001:db8::1");
  CHECK(error_of(check_network("192.0.2.1/24", Family::v4)) ==
        "ip4 '192.0.2.1/24' has host bits set; did you mean '192.0.2.0/24'?");
  CHECK(error_of(check_network("2001:db8::1/64", Family::v6)) ==
        "ip6 '2001:db8::1/64' has host bits set; did you mean '2001:db8::/64'?");
  CHECK(error_of(check_network("2001:db8::/32", Family::v4)) ==
        "'2001:db8::/32' is an IPv6 network; list it under ip6");
  CHECK(error_of(check_network("192.0.2.1", Family::v6)) ==
        "'192.0.2.1' is an IPv4 address; list it under ip4");
  CHECK_THAT(error_of(check_network("192.0.2.0/33", Family::v4)),
             Catch::Contains("out of range for ip4 (0-32)"));
  CHECK_THAT(error_of(check_network("192.0.2.0/", Family::v4)), Catch::Contains("out of range"));
  CHECK_THAT(error_of(check_network("192.0.2.0/+8", Family::v4)), Catch::Contains("out of range"));
  CHECK_THAT(error_of(check_network("2001:db8::/129", Family::v6)),
             Catch::Contains("out of range for ip6 (0-128)"));
  CHECK_THAT(error_of(check_network("0.0.0.0/0", Family::v4)), Catch::Contains("too much of the internet"));
  CHECK(check_network("10.0.0.0/8", Family::v4).ok());
  CHECK_THAT(error_of(check_network("2000::/3", Family::v6)), Catch::Contains("too much"));
  CHECK_THAT(error_of(check_network("mail.example.com", Family::v4)),
             Catch::Contains("is not an IPv4 address or network"));
}

TEST_CASE("a and mx entries take a host, '@' and prefix lengths", "[config][checks]") {
  CHECK(check_host_spec("@").value == "");
  CHECK(check_host_spec("@/24").value == "/24");
  CHECK(check_host_spec("@//64").value == "//64");
  CHECK(check_host_spec("Mail.Example.com").value == "mail.example.com");
  CHECK(check_host_spec("mail.example.com/24//64").value == "mail.example.com/24//64");
  CHECK_THAT(error_of(check_host_spec("mail.example.com/33")), Catch::Contains("ip4 prefix length"));
  CHECK_THAT(error_of(check_host_spec("mail.example.com//200")), Catch::Contains("ip6 prefix length"));
  CHECK_THAT(error_of(check_host_spec("mail.example.com/0")), Catch::Contains("too much"));
  CHECK_THAT(error_of(check_host_spec("/24")), Catch::Contains("names no host"));
  CHECK_THAT(error_of(check_host_spec("mail")), Catch::Contains("not fully qualified"));
}

TEST_CASE("raw terms are single terms other than all and redirect", "[config][checks]") {
  CHECK(check_raw_term("exists:%{i}._spf.mta.salesforce.com").ok());
  CHECK(check_raw_term("-ip4:192.0.2.66").ok());
  CHECK_THAT(error_of(check_raw_term("ip4:192.0.2.1 ip4:192.0.2.2")), Catch::Contains("single SPF term"));
  CHECK_THAT(error_of(check_raw_term("-all")), Catch::Contains("policy"));
  CHECK_THAT(error_of(check_raw_term("ALL")), Catch::Contains("policy"));
  CHECK_THAT(error_of(check_raw_term("redirect=_spf.example.com")), Catch::Contains("include:"));
  CHECK_THAT(error_of(check_raw_term("v=spf1")), Catch::Contains("v=spf1"));
  CHECK_FALSE(check_raw_term("").ok());
}

TEST_CASE("the chain prefix keeps the appended number unambiguous", "[config][checks]") {
  CHECK(check_chain_prefix("_SPF").value == "_spf");
  CHECK(check_chain_prefix("spf-chain").ok());
  CHECK_THAT(error_of(check_chain_prefix("spf1")), Catch::Contains("end with a digit"));
  CHECK_THAT(error_of(check_chain_prefix("-spf")), Catch::Contains("start with a hyphen"));
  CHECK_THAT(error_of(check_chain_prefix("_spf.x")), Catch::Contains("may only hold"));
  CHECK_FALSE(check_chain_prefix("").ok());
  CHECK_FALSE(check_chain_prefix(std::string(61, 's')).ok());
}

TEST_CASE("credential keys are told apart from keys that point at credentials", "[config][checks]") {
  for (const char* key : {"token", "api_key", "apikey", "secret", "password", "tsig_secret", "api-token",
                          "key", "Client_Secret", "credentials"})
    CHECK(looks_like_secret(key));
  for (const char* key : {"token_env", "api_key_env", "key_file", "tsig_key_name", "directory", "api_url",
                          "server_id", "zone_id", "port", "keyring"})
    CHECK_FALSE(looks_like_secret(key));
  CHECK(is_env_var_name("CLOUDFLARE_API_TOKEN"));
  CHECK(is_env_var_name("_x1"));
  CHECK_FALSE(is_env_var_name("1X"));
  CHECK_FALSE(is_env_var_name("abc-def"));
  CHECK_FALSE(is_env_var_name(""));
}

TEST_CASE("timeouts are whole or decimal seconds above 0 and at most 300", "[config][checks]") {
  using std::chrono::milliseconds;
  CHECK(check_timeout_seconds("10").value == milliseconds(10'000));
  CHECK(check_timeout_seconds("2.5").value == milliseconds(2'500));
  CHECK(check_timeout_seconds("0.001").value == milliseconds(1));
  CHECK(check_timeout_seconds("300").value == milliseconds(300'000));
  CHECK(check_timeout_seconds("300.0").value == milliseconds(300'000));
  CHECK(check_timeout_seconds("007").value == milliseconds(7'000));
  for (const char* bad : {"0", "0.0", "0.0004", "300.001", "301", "1000000000", "-1", "+1", "1e2", "ten", "",
                          ".5", "5.", "1.2.3", " 1", "1 ", "inf", "nan", "0x10"}) {
    const CheckedTimeout checked = check_timeout_seconds(bad);
    CHECK_FALSE(checked.ok());
    CHECK(checked.error ==
          "must be a number of seconds above 0 and at most 300 (such as 30, or \"2.5\" for a "
          "fraction), not '" +
              std::string(bad) + "'");
  }
}
