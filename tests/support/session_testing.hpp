// A run of spfctl built in-process: a configuration file and a senders zone in a temporary
// directory, the Cloudflare or GoDaddy fake as the domains' provider, and a cli::Session built with
// an environment that reaches the fake (credentials, instant retries, no quota). Tests of planning
// (src/cli/plan_run) and of apply's preparation (src/apply/prepare) run on it under the sanitizers,
// without starting spfctl.
#pragma once

#include <atomic>
#include <chrono>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "cli/plan_run.hpp"
#include "http/curl_client.hpp"
#include "http/rate_limiter.hpp"
#include "providers/provider.hpp"
#include "tests/support/cloudflare_fake.hpp"
#include "tests/support/godaddy_fake.hpp"
#include "tests/support/temp_dir.hpp"

namespace spfctl::testing {

// The record published at example.com before spfctl runs, and a site verification beside it.
inline const std::string k_old_spf = "v=spf1 ip4:198.51.100.1 -all";
inline const std::string k_verification = "google-site-verification=Fa9kQ2x7Lm";

// What the two accounts share: the fake, what it publishes now, and the requests it received.
template <class Fake>
struct FakeAccount {
  Fake fake;

  TxtState txt_now(const std::string& domain) const { return fake.txt_now(domain); }
  std::size_t requests() const { return fake.server().requests().size(); }
  std::size_t writes() const {
    std::size_t count = 0;
    for (const auto& request : fake.server().requests()) count += request.method != "GET";
    return count;
  }
};

// What differs between the two fakes, behind one shape.
struct CloudflareAccount : FakeAccount<CloudflareFake> {
  static constexpr const char* type = "cloudflare";

  std::string settings() const {
    return "api_url = \"" + fake.api_url() + "\"\ntoken_env = \"SPFCTL_TEST_CF_TOKEN\"\n";
  }
  std::map<std::string, std::string> variables() const { return {{"SPFCTL_TEST_CF_TOKEN", fake.token()}}; }
  void add_domain(const std::string& domain) { fake.add_zone(domain); }
  // `name` is a full name inside `domain`.
  void add_txt(const std::string& domain, const std::string& name, const std::string& value) {
    fake.add_record(domain, name, "\"" + value + "\"");
  }
};

struct GoDaddyAccount : FakeAccount<GoDaddyFake> {
  static constexpr const char* type = "godaddy";

  std::string settings() const {
    return "api_url = \"" + fake.api_url() +
           "\"\nkey_env = \"SPFCTL_TEST_GD_KEY\"\nsecret_env = \"SPFCTL_TEST_GD_SECRET\"\n";
  }
  std::map<std::string, std::string> variables() const {
    return {{"SPFCTL_TEST_GD_KEY", fake.key()}, {"SPFCTL_TEST_GD_SECRET", fake.secret()}};
  }
  void add_domain(const std::string& domain) { fake.add_domain(domain); }
  void add_txt(const std::string& domain, const std::string& name, const std::string& value) {
    const std::string relative = name == domain ? "@" : name.substr(0, name.size() - domain.size() - 1);
    fake.add_record(domain, relative, value);
  }
};

// One account at `Account`'s provider holding example.com (its SPF record, k_old_spf unless said
// otherwise, and a verification),
// a senders zone answering _spf.senders.test, and a configuration whose [[domain]] blocks are
// `domains` (provider "dns" is the fake).
template <class Account>
struct Workspace {
  Account account;
  TempDir dir{"spfctl-session"};
  cli::GlobalOptions globals;
  std::map<std::string, std::string> variables = account.variables();
  std::atomic<int> retries{0};  // requests the HTTP client sent again (at once: no waiting here)
  std::string provider_settings;  // more settings of [providers.dns], e.g. plan_reads = "dns"

  // A [[domain]] at the fake: the senders zone's include and one address of its own.
  static std::string domain_block(const std::string& name, const std::string& extra = "") {
    return "[[domain]]\nname = \"" + name +
           "\"\nprovider = \"dns\"\ninclude = [\"_spf.senders.test\"]\nip4 = [\"198.51.100.1\"]\n" + extra +
           "\n";
  }

  explicit Workspace(const std::string& domains = domain_block("example.com"),
                     const std::string& apex_spf = k_old_spf) {
    account.add_domain("example.com");
    account.add_txt("example.com", "example.com", apex_spf);
    account.add_txt("example.com", "example.com", k_verification);
    globals.zones = {dir.write("senders.zone",
                               "$ORIGIN senders.test.\n$TTL 300\n"
                               "@ IN SOA ns.senders.test. hostmaster.senders.test. 1 3600 600 86400 300\n"
                               "@ IN NS ns.senders.test.\n"
                               "_spf IN TXT \"v=spf1 ip4:203.0.113.0/25 ip4:203.0.113.128/25 -all\"\n")};
    write_config(domains);
  }

  // Rewrites the configuration: the fake's provider block and `domains`.
  void write_config(const std::string& domains) {
    globals.config =
        dir.write("spfctl.toml", "[providers.dns]\ntype = \"" + std::string(Account::type) + "\"\n" +
                                     account.settings() + provider_settings + "\n" + domains);
  }

  // A zone file answering for `zone` as its nameservers would (the run reads it with --zone):
  // the SOA, NS, and `txt` (name -> values).
  void serve_zone(const std::string& zone, const std::map<std::string, std::vector<std::string>>& txt) {
    std::string text = "$ORIGIN " + zone + ".\n$TTL 3600\n@ IN SOA ns." + zone + ". hostmaster." + zone +
                       ". 1 3600 600 86400 300\n@ IN NS ns." + zone + ".\n";
    for (const auto& [name, values] : txt)
      for (const std::string& value : values) text += name + ". IN TXT \"" + value + "\"\n";
    globals.zones.push_back(dir.write(zone + ".zone", text));
  }

  providers::ProviderEnvironment environment() {
    providers::ProviderEnvironment out;
    out.getenv = [this](const std::string& name) -> std::optional<std::string> {
      const auto found = variables.find(name);
      if (found == variables.end()) return std::nullopt;
      return found->second;
    };
    using namespace std::chrono_literals;
    out.http = std::make_shared<http::CurlHttpClient>(http::CurlOptions{1000ms, 5000ms, ""});
    out.sleep = [this](std::chrono::milliseconds) { ++retries; };  // domains are read from many threads
    out.rate_limiter =
        std::make_shared<http::RateLimiter>(http::RateLimit{100000, std::chrono::milliseconds(1)});
    return out;
  }

  std::unique_ptr<cli::Session> session() { return std::make_unique<cli::Session>(globals, environment()); }
};

}  // namespace spfctl::testing
