// spfctl apply through the CLI against a real knotd taking RFC 2136 updates signed with TSIG: two
// zones applied in one run and verified over DNS, and a wrong key that fails clearly without
// showing the secret.
#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "knot_server.hpp"
#include "tests/support/served_txt.hpp"
#include "tests/support/spfctl_process.hpp"
#include "tests/support/temp_dir.hpp"

namespace {

using Catch::Contains;
using spfctl::test_support::ProcessOptions;
using spfctl::test_support::ProcessResult;
using spfctl::testing::KnotConfig;
using spfctl::testing::KnotServer;
using spfctl::testing::served_txt;
using spfctl::testing::TempDir;

const std::string k_key_name = "spfctl-apply-key";
const std::string k_secret = "c3BmY3RsLWFwcGx5LXRlc3Qta2V5LTAxMjM0NTY3ODlhYmNkZWY=";
const std::string k_wrong_secret = "d3JvbmctYXBwbHktdGVzdC1rZXktMDEyMzQ1Njc4OWFiY2RlZmc=";
const std::string k_env = "SPFCTL_TEST_APPLY_TSIG";
const std::string k_dkim = "v=DKIM1; k=rsa; p=MIGfMA0GCSqGSIb3DQEBAQUAA4GNADCBiQKBgQC";

std::string zone_text(const std::string& apex, const std::string& spf) {
  return "$ORIGIN " + apex + ".\n$TTL 3600\n@ SOA ns1 hostmaster 1 3600 600 86400 300\n@ NS ns1\n" +
         "ns1 A 192.0.2.53\n@ TXT \"" + spf + "\"\n@ TXT \"" + k_dkim + "\"\n";
}

// example.net and example.org with their SPF records and a DKIM key, updated with a TSIG key.
KnotConfig two_zones() {
  return KnotConfig()
      .zone("example.net", zone_text("example.net", "v=spf1 ip4:192.0.2.0/25 -all"))
      .zone("example.org", zone_text("example.org", "v=spf1 ip6:2001:db8:40::/48 ?all"))
      .tsig_key({k_key_name, "hmac-sha256", k_secret})
      .allow_actions("update");
}

std::string config_text(const KnotServer& knot) {
  std::string text = "[providers.knot]\ntype = \"rfc2136\"\nserver = \"" + knot.address() +
                     "\"\nkey_name = \"" + k_key_name + "\"\nkey_secret_env = \"" + k_env + "\"\n";
  text +=
      "\n[[domain]]\nname = \"example.net\"\nprovider = \"knot\"\nip4 = [\"192.0.2.0/25\", "
      "\"198.51.100.7\"]\n";
  text +=
      "\n[[domain]]\nname = \"example.org\"\nprovider = \"knot\"\nip6 = [\"2001:db8:40::/48\"]\n"
      "policy = \"softfail\"\n";
  return text;
}

ProcessResult run_apply(const TempDir& work, const std::string& secret) {
  ProcessOptions options;
  options.env = {{k_env, secret}};
  const std::string senders = std::string(SPFCTL_SOURCE_DIR) + "/examples/dns/senders.zone";
  return spfctl::test_support::run_spfctl(
      {"apply", "--auto-approve", "-c", (work.dir / "spfctl.toml").string(), "--zone", senders}, options);
}

}  // namespace

TEST_CASE("apply publishes two zones through RFC 2136 updates with TSIG, verified over DNS",
          "[integration][apply][rfc2136]") {
  KnotServer knot(two_zones());
  TempDir work("spfctl-apply-knot");
  work.write("spfctl.toml", config_text(knot));

  const ProcessResult applied = run_apply(work, k_secret);
  INFO(applied.out << applied.err);
  REQUIRE(applied.exit_code == 0);
  const std::string verified = "verified by provider and DNS at " + knot.address();
  CHECK_THAT(applied.out, Contains("example.net  applied 1 change, " + verified) &&
                              Contains("example.org  applied 1 change, " + verified) &&
                              Contains("2 domains: 2 applied, 0 in sync, 0 failed"));
  CHECK(served_txt(knot.address(), "example.net") ==
        std::vector<std::string>{k_dkim, "v=spf1 ip4:192.0.2.0/25 ip4:198.51.100.7 -all"});
  CHECK(served_txt(knot.address(), "example.org") ==
        std::vector<std::string>{k_dkim, "v=spf1 ip6:2001:db8:40::/48 ~all"});
  CHECK_THAT(applied.out + applied.err, !Contains(k_secret));

  const ProcessResult again = run_apply(work, k_secret);
  CHECK(again.exit_code == 0);
  CHECK_THAT(again.out,
             Contains("Nothing to apply.") && Contains("2 domains: 0 applied, 2 in sync, 0 failed"));
}

TEST_CASE("apply with a wrong TSIG secret fails each domain clearly and changes nothing",
          "[integration][apply][rfc2136]") {
  KnotServer knot(two_zones());
  TempDir work("spfctl-apply-knot");
  work.write("spfctl.toml", config_text(knot));

  const ProcessResult failed = run_apply(work, k_wrong_secret);
  CHECK(failed.exit_code == 1);
  CHECK_THAT(failed.out, Contains("example.net  failed: not planned: ") &&
                             Contains("2 domains: 0 applied, 0 in sync, 2 failed"));
  CHECK_THAT(failed.out, Contains("TSIG"));
  CHECK_THAT(failed.out + failed.err, !Contains(k_wrong_secret) && !Contains(k_secret));
  CHECK(served_txt(knot.address(), "example.net") ==
        std::vector<std::string>{k_dkim, "v=spf1 ip4:192.0.2.0/25 -all"});
}
