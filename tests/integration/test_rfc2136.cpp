// The RFC 2136 provider against a real knotd: the provider conformance suite with a TSIG key (and
// without one), every TSIG algorithm, and the failures a user must be able to understand: a wrong
// key, an update ACL that does not allow the key, records changed since they were read, a server
// that never answers.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <catch2/catch.hpp>
#include <chrono>
#include <map>
#include <string>

#include "config/config.hpp"
#include "dns/live_resolver.hpp"
#include "dns/zone_file.hpp"
#include "error.hpp"
#include "knot_server.hpp"
#include "providers/registry.hpp"
#include "providers/rfc2136.hpp"
#include "tests/support/provider_conformance.hpp"

using spfctl::Error;
using spfctl::providers::Change;
using spfctl::providers::Provider;
using spfctl::providers::TxtValue;
using spfctl::testing::KnotConfig;
using spfctl::testing::KnotServer;
using spfctl::testing::TsigKey;

namespace {

const std::string k_zone = "example.com";
const std::string k_key_name = "spfctl-key";
const std::string k_secret = "c3BmY3RsLXJmYzIxMzYtdGVzdC1rZXktMDEyMzQ1Njc4OWFiY2RlZg==";
const std::string k_wrong_secret = "d3JvbmctcmZjMjEzNi10ZXN0LWtleS0wMTIzNDU2Nzg5YWJjZGVmZ2g=";
const std::string k_env = "SPFCTL_TEST_TSIG_SECRET";

// The conformance zone: SOA, NS, a host below the apex, and the others at the apex.
std::string zone_text() {
  std::string text =
      "$ORIGIN example.com.\n$TTL 3600\n@ SOA ns1 hostmaster 1 3600 600 86400 300\n@ NS ns1\n"
      "ns1 A 192.0.2.53\nmail A 192.0.2.25\n";
  for (const TxtValue& value : spfctl::testing::conformance_other_values())
    text += "@ TXT " + spfctl::dns::render_txt_rdata(value.strings) + "\n";
  return text;
}

struct Settings {
  std::map<std::string, std::string> values;
  std::map<std::string, std::string> environment;
};

spfctl::config::ProviderConfig provider_config(const Settings& settings) {
  spfctl::config::ProviderConfig config;
  config.name = "knot";
  config.type = "rfc2136";
  config.location = {"spfctl.toml", 10, 1};
  std::uint32_t line = 11;
  for (const auto& [key, value] : settings.values) config.settings[key] = {value, {"spfctl.toml", line++, 1}};
  return config;
}

std::unique_ptr<Provider> make_provider(const Settings& settings) {
  return spfctl::providers::create_provider(
      provider_config(settings), {.getenv = [&](const std::string& name) -> std::optional<std::string> {
        const auto it = settings.environment.find(name);
        if (it == settings.environment.end()) return std::nullopt;
        return it->second;
      }});
}

Settings keyed_settings(const KnotServer& knot, const std::string& secret = k_secret,
                        const std::string& algorithm = "hmac-sha256") {
  return {{{"server", knot.address()},
           {"key_name", k_key_name},
           {"key_algorithm", algorithm},
           {"key_secret_env", k_env}},
          {{k_env, secret}}};
}

KnotConfig keyed_knot(const std::string& algorithm = "hmac-sha256") {
  // Only `update`: the provider reads with queries, so it needs no zone transfers.
  return KnotConfig()
      .zone(k_zone, zone_text())
      .tsig_key({k_key_name, algorithm, k_secret})
      .allow_actions("update");
}

// What a set of TXT values looks like, order aside: each value's strings joined by '|'.
std::vector<std::string> canonical(const std::vector<std::vector<std::string>>& values) {
  std::vector<std::string> out;
  for (const auto& strings : values) {
    std::string text;
    for (const auto& s : strings) text += s + "|";
    out.push_back(text);
  }
  std::sort(out.begin(), out.end());
  return out;
}

// After each conformance step: what knotd serves over DNS is what list() returned.
void served_matches_list(const KnotServer& knot, Provider& provider) {
  spfctl::dns::LiveResolver resolver({{knot.address()}, 1000, 2});
  for (const std::string& name : {k_zone, "_spf1." + k_zone}) {
    INFO("name: " << name);
    const auto listed = provider.list(k_zone, {name});
    const auto served = resolver.query(name, spfctl::dns::RrType::TXT);
    if (listed.empty()) {
      CHECK(served.is_void());
      continue;
    }
    REQUIRE(served.status == spfctl::dns::Status::ok);
    std::vector<std::vector<std::string>> listed_values;
    for (const auto& value : listed.front().values) listed_values.push_back(value.strings);
    CHECK(canonical(served.txt) == canonical(listed_values));
    CHECK(served.ttl == listed.front().ttl);
  }
}

std::vector<std::string> apex_values(Provider& provider) {
  std::vector<std::string> out;
  for (const auto& set : provider.list(k_zone, {k_zone}))
    for (const auto& value : set.values) out.push_back(value.joined());
  std::sort(out.begin(), out.end());
  return out;
}

std::vector<TxtValue> others() {
  return spfctl::testing::conformance_other_values();
}

// A TCP port that accepts connections (the kernel completes them) and never answers.
class SilentTcpServer {
 public:
  SilentTcpServer() {
    m_fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t length = sizeof addr;
    REQUIRE(bind(m_fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0);
    REQUIRE(listen(m_fd, 8) == 0);
    REQUIRE(getsockname(m_fd, reinterpret_cast<sockaddr*>(&addr), &length) == 0);
    m_port = ntohs(addr.sin_port);
  }
  ~SilentTcpServer() { close(m_fd); }
  std::string address() const { return "127.0.0.1:" + std::to_string(m_port); }

 private:
  int m_fd = -1;
  std::uint16_t m_port = 0;
};

std::string error_of(const std::function<void()>& action) {
  try {
    action();
  } catch (const Error& e) {
    return e.what();
  }
  return "(no error)";
}

}  // namespace

TEST_CASE("rfc2136 passes the provider conformance suite against knotd with a TSIG key",
          "[integration][providers][rfc2136]") {
  KnotServer knot(keyed_knot());
  const auto provider = make_provider(keyed_settings(knot));
  spfctl::testing::ConformanceOptions options;
  options.after_step = [&](const std::string&, Provider& p) { served_matches_list(knot, p); };
  spfctl::testing::run_provider_conformance(*provider, k_zone, options);
}

TEST_CASE("rfc2136 passes the provider conformance suite with unsigned updates and zones given",
          "[integration][providers][rfc2136]") {
  KnotServer knot(KnotConfig().zone(k_zone, zone_text()).allow_updates());
  const auto provider =
      make_provider({{{"server", knot.address()}, {"zones", "example.org, example.com"}}, {}});
  spfctl::testing::ConformanceOptions options;
  options.after_step = [&](const std::string&, Provider& p) { served_matches_list(knot, p); };
  spfctl::testing::run_provider_conformance(*provider, k_zone, options);
}

TEST_CASE("rfc2136 signs with every TSIG algorithm knotd accepts", "[integration][providers][rfc2136]") {
  for (const char* algorithm :
       {"hmac-md5", "hmac-sha1", "hmac-sha224", "hmac-sha256", "hmac-sha384", "hmac-sha512"}) {
    INFO("algorithm: " << algorithm);
    KnotServer knot(keyed_knot(algorithm));
    const auto provider = make_provider(keyed_settings(knot, k_secret, algorithm));
    const TxtValue spf{{"v=spf1 mx -all"}};
    provider->apply(k_zone, {Change{Change::Action::create, k_zone, 600, std::nullopt, spf, others()}});
    CHECK(apex_values(*provider) ==
          std::vector<std::string>{others()[1].joined(), others()[0].joined(), spf.joined()});
  }
}

TEST_CASE("rfc2136 finds zones with SOA queries", "[integration][providers][rfc2136]") {
  KnotServer knot(keyed_knot());
  const auto provider = make_provider(keyed_settings(knot));
  CHECK(provider->zone_for("example.com") == "example.com");
  CHECK(provider->zone_for("Mail.Example.COM.") == "example.com");
  CHECK(provider->zone_for("a.b.nothing-here.example.com") == "example.com");
  const std::string message = error_of([&] { provider->zone_for("example.org"); });
  CHECK_THAT(message, Catch::Contains("rfc2136: the server at " + knot.address() +
                                      " is not authoritative for any zone containing 'example.org'"));
  CHECK_THAT(message, Catch::Contains("REFUSED"));
}

TEST_CASE("rfc2136 explains a wrong TSIG key without showing the secret",
          "[integration][providers][rfc2136]") {
  KnotServer knot(keyed_knot());
  const auto good = make_provider(keyed_settings(knot));
  const auto wrong = make_provider(keyed_settings(knot, k_wrong_secret));
  const TxtValue spf{{"v=spf1 -all"}};

  for (const std::string& message :
       {error_of([&] { wrong->list(k_zone, {k_zone}); }), error_of([&] {
          wrong->apply(k_zone, {Change{Change::Action::create, k_zone, 3600, std::nullopt, spf, others()}});
        })}) {
    CHECK_THAT(message, Catch::StartsWith("rfc2136: the server at " + knot.address() +
                                          " refused the TSIG key 'spfctl-key' (NOTAUTH, BADSIG) for zone "
                                          "'example.com': check key_name, key_algorithm and the secret in $" +
                                          k_env));
    CHECK_THAT(message, !Catch::Contains(k_wrong_secret));
    CHECK_THAT(message, !Catch::Contains(k_secret));
  }
  CHECK(apex_values(*good).size() == 2);  // nothing was written

  // A key the server does not know at all.
  Settings unknown = keyed_settings(knot);
  unknown.values["key_name"] = "other-key";
  const std::string message = error_of([&] { make_provider(unknown)->list(k_zone, {k_zone}); });
  CHECK_THAT(message, Catch::Contains("refused the TSIG key 'other-key' (NOTAUTH, BADKEY)"));
}

TEST_CASE("rfc2136 explains an update ACL that does not allow the key", "[integration][providers][rfc2136]") {
  // The zone's ACL lets the key transfer the zone, so queries signed with it are answered, but
  // not update it.
  KnotServer knot(KnotConfig()
                      .zone(k_zone, zone_text())
                      .tsig_key({k_key_name, "hmac-sha256", k_secret})
                      .allow_actions("transfer"));
  const auto provider = make_provider(keyed_settings(knot));
  CHECK(apex_values(*provider).size() == 2);
  const std::string message = error_of([&] {
    provider->apply(k_zone, {Change{Change::Action::create, k_zone, 3600, std::nullopt,
                                    TxtValue{{"v=spf1 -all"}}, others()}});
  });
  // knotd answers an update its ACL denies as it answers an unknown key: NOTAUTH with BADKEY.
  CHECK_THAT(message, Catch::StartsWith("rfc2136: the server at " + knot.address() +
                                        " refused the TSIG key 'spfctl-key' (NOTAUTH, BADKEY) for zone "
                                        "'example.com': check key_name, key_algorithm and the secret in $" +
                                        k_env + ", and that the server's ACL for the zone allows the key"));
  CHECK(apex_values(*provider).size() == 2);
}

TEST_CASE("rfc2136 refuses to write over records that changed since they were read",
          "[integration][providers][rfc2136]") {
  KnotServer knot(keyed_knot());
  const auto provider = make_provider(keyed_settings(knot));
  const TxtValue first{{"v=spf1 ip4:192.0.2.0/24 -all"}};
  const TxtValue second{{"v=spf1 ip4:198.51.100.0/24 -all"}};
  const TxtValue third{{"v=spf1 -all"}};
  provider->apply(k_zone, {Change{Change::Action::create, k_zone, 3600, std::nullopt, first, others()}});
  provider->apply(k_zone, {Change{Change::Action::update, k_zone, 3600, first, second, others()}});

  // A plan made before the second apply still believes `first` is published.
  const std::string stale = error_of([&] {
    provider->apply(k_zone, {Change{Change::Action::update, k_zone, 3600, first, third, others()}});
  });
  CHECK_THAT(stale, Catch::StartsWith("rfc2136: the TXT records at example.com in zone 'example.com' changed "
                                      "since spfctl read them (the server answered NXRRSET"));
  CHECK_THAT(stale, Catch::Contains("nothing was applied"));
  // A create where an SPF record now exists, at a name without other values.
  const std::string chain = "_spf1." + k_zone;
  provider->apply(k_zone, {Change{Change::Action::create, chain, 3600, std::nullopt, first, {}}});
  const std::string taken = error_of([&] {
    provider->apply(k_zone, {Change{Change::Action::create, chain, 3600, std::nullopt, third, {}}});
  });
  CHECK_THAT(taken, Catch::Contains("changed since spfctl read them (the server answered YXRRSET"));

  const auto sets = provider->list(k_zone, {k_zone, chain});
  REQUIRE(sets.size() == 2);
  CHECK(apex_values(*provider) ==
        std::vector<std::string>{others()[1].joined(), others()[0].joined(), second.joined()});
  CHECK(sets[1].values == std::vector<TxtValue>{first});
}

TEST_CASE("rfc2136 applies a batch atomically: a failing prerequisite leaves every change unapplied",
          "[integration][providers][rfc2136]") {
  KnotServer knot(keyed_knot());
  const auto provider = make_provider(keyed_settings(knot));
  const std::string chain = "_spf1." + k_zone;
  const TxtValue chained{{"v=spf1 ip4:203.0.113.0/24 -all"}};
  const TxtValue stale{{"v=spf1 -all"}};
  const TxtValue pointing{{"v=spf1 include:" + chain + " -all"}};
  // The chained create is fine on its own; the apex update's `before` is not published.
  const std::string message = error_of([&] {
    provider->apply(k_zone, {Change{Change::Action::create, chain, 3600, std::nullopt, chained, {}},
                             Change{Change::Action::update, k_zone, 3600, stale, pointing, others()}});
  });
  CHECK_THAT(message,
             Catch::Contains("the TXT records at _spf1.example.com, example.com in zone 'example.com'"));
  CHECK(provider->list(k_zone, {chain}).empty());
  CHECK(apex_values(*provider).size() == 2);
}

TEST_CASE("rfc2136 gives up on a server that does not answer within the timeout",
          "[integration][providers][rfc2136]") {
  SilentTcpServer silent;
  const auto provider = make_provider({{{"server", silent.address()},
                                        {"key_name", k_key_name},
                                        {"key_secret_env", k_env},
                                        {"zones", k_zone},
                                        {"timeout", "1"}},
                                       {{k_env, k_secret}}});
  const auto start = std::chrono::steady_clock::now();
  const std::string read = error_of([&] { provider->list(k_zone, {k_zone}); });
  CHECK(std::chrono::steady_clock::now() - start < std::chrono::seconds(10));
  CHECK_THAT(read, Catch::StartsWith("rfc2136: no answer from " + silent.address() +
                                     " within 1 s (the TXT query for 'example.com' in zone 'example.com')"));

  const std::string write = error_of([&] {
    provider->apply(
        k_zone, {Change{Change::Action::create, k_zone, 3600, std::nullopt, TxtValue{{"v=spf1 -all"}}, {}}});
  });
  CHECK_THAT(write,
             Catch::Contains("within 1 s (the update of zone 'example.com' with 1 change); the update may "
                             "or may not have been applied"));
  CHECK_THAT(write, !Catch::Contains(k_secret));
}

TEST_CASE("rfc2136 says when nothing listens at the server's address", "[integration][providers][rfc2136]") {
  const std::uint16_t port = spfctl::testing::free_port();
  const auto provider =
      make_provider({{{"server", "127.0.0.1:" + std::to_string(port)}, {"zones", k_zone}}, {}});
  CHECK_THAT(error_of([&] { provider->list(k_zone, {k_zone}); }),
             Catch::StartsWith("rfc2136: cannot connect to 127.0.0.1:" + std::to_string(port) +
                               " over TCP: Connection refused (the TXT query for 'example.com'"));
}
