// The PowerDNS adapter against a real pdns_server: the provider conformance suite, with what the
// server answers over DNS compared after every step with what the adapter lists, and the failures
// a user meets (a wrong key, a zone the server does not have, a record the server refuses), whose
// messages must never show a key.
#include <httplib.h>

#include <algorithm>
#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "config/config.hpp"
#include "dns/live_resolver.hpp"
#include "error.hpp"
#include "pdns_server.hpp"
#include "providers/powerdns.hpp"
#include "providers/registry.hpp"
#include "tests/support/provider_conformance.hpp"

using nlohmann::json;
using spfctl::providers::Change;
using spfctl::providers::Provider;
using spfctl::providers::TxtValue;
using spfctl::testing::PdnsConfig;
using spfctl::testing::PdnsServer;

namespace {

const std::string k_zone = "example.com";
const std::string k_key_env = "SPFCTL_TEST_PDNS_KEY";

// example.com with the conformance suite's other TXT values at its apex, and a zone below it.
PdnsConfig conformance_zones() {
  PdnsConfig config;
  config.zone(k_zone).zone("sub." + k_zone);
  for (const TxtValue& value : spfctl::testing::conformance_other_values())
    config.record(k_zone, k_zone, "TXT", 3600, "\"" + value.joined() + "\"");
  return config;
}

// A provider built from configuration as spfctl builds it, with `key` in the named variable and
// the default HTTP stack.
std::unique_ptr<Provider> make_provider(const PdnsServer& pdns, const std::string& key) {
  spfctl::config::ProviderConfig config;
  config.name = "pdns";
  config.type = "powerdns";
  config.location = {"spfctl.toml", 1, 1};
  config.settings["api_url"] = {pdns.api_url(), {"spfctl.toml", 3, 11}};
  config.settings["api_key_env"] = {k_key_env, {"spfctl.toml", 4, 15}};
  spfctl::providers::ProviderEnvironment environment;
  environment.getenv = [key](const std::string& name) -> std::optional<std::string> {
    if (name == k_key_env) return key;
    return std::nullopt;
  };
  return spfctl::providers::create_provider(config, environment);
}

// The TXT values at a name in a form that compares as DNS does: RRsets are unordered.
std::vector<std::vector<std::string>> sorted(std::vector<std::vector<std::string>> values) {
  std::sort(values.begin(), values.end());
  return values;
}

// After each conformance step: what pdns_server answers over DNS is what list() returns.
void check_served(spfctl::dns::LiveResolver& resolver, const std::string& step, Provider& provider) {
  INFO("after step: " << step);
  const std::vector<std::string> names = {k_zone, "_spf1." + k_zone};
  const auto sets = provider.list(k_zone, names);
  for (const std::string& name : names) {
    INFO("name: " << name);
    const auto answer = resolver.query(name, spfctl::dns::RrType::TXT);
    const auto set = std::find_if(sets.begin(), sets.end(), [&](const auto& s) { return s.name == name; });
    if (set == sets.end()) {
      CHECK(answer.is_void());
      continue;
    }
    REQUIRE(answer.status == spfctl::dns::Status::ok);
    std::vector<std::vector<std::string>> listed;
    for (const TxtValue& value : set->values) listed.push_back(value.strings);
    CHECK(sorted(answer.txt) == sorted(listed));
    CHECK(answer.ttl == set->ttl);
  }
}

std::string error_text(const std::function<void()>& action) {
  try {
    action();
  } catch (const spfctl::Error& e) {
    return e.what();
  }
  FAIL("no spfctl::Error was thrown");
  return {};
}

}  // namespace

TEST_CASE("the powerdns adapter passes the provider conformance suite against pdns_server",
          "[integration][powerdns]") {
  PdnsServer pdns(conformance_zones());
  auto provider = make_provider(pdns, pdns.api_key());
  spfctl::dns::LiveResolver resolver({{pdns.address()}, 1000, 2});

  CHECK(provider->zone_for("mail.sub." + k_zone) == "sub." + k_zone);
  spfctl::testing::ConformanceOptions options;
  options.after_step = [&](const std::string& step, Provider& p) { check_served(resolver, step, p); };
  spfctl::testing::run_provider_conformance(*provider, k_zone, options);
}

TEST_CASE("the powerdns adapter keeps disabled TXT records, which only the zone GET shows",
          "[integration][powerdns]") {
  PdnsServer pdns(conformance_zones());
  httplib::Client api("127.0.0.1", pdns.web_port());
  const httplib::Headers key = {{"X-API-Key", pdns.api_key()}};
  const std::string zone_path = "/api/v1/servers/localhost/zones/" + k_zone + ".";
  json records = json::array({{{"content", "\"parked verification\""}, {"disabled", true}}});
  for (const TxtValue& value : spfctl::testing::conformance_other_values())
    records.push_back({{"content", "\"" + value.joined() + "\""}, {"disabled", false}});
  const json seed = {{"rrsets",
                      {{{"name", k_zone + "."},
                        {"type", "TXT"},
                        {"ttl", 3600},
                        {"changetype", "REPLACE"},
                        {"records", records}}}}};
  const auto seeded = api.Patch(zone_path.c_str(), key, seed.dump(), "application/json");
  REQUIRE(seeded);
  REQUIRE(seeded->status == 204);

  auto provider = make_provider(pdns, pdns.api_key());
  const auto others = spfctl::testing::conformance_other_values();
  const TxtValue spf{{"v=spf1 ip4:192.0.2.0/24 -all"}};
  provider->apply(k_zone, {Change{Change::Action::create, k_zone, 3600, std::nullopt, spf, others}});
  provider->apply(k_zone, {Change{Change::Action::remove, k_zone, 3600, spf, std::nullopt, others}});

  const auto zone = api.Get(zone_path.c_str(), key);
  REQUIRE(zone);
  REQUIRE(zone->status == 200);
  const json body = json::parse(zone->body);
  std::vector<std::pair<std::string, bool>> apex;
  for (const json& rrset : body["rrsets"])
    if (rrset["name"] == k_zone + "." && rrset["type"] == "TXT")
      for (const json& r : rrset["records"]) apex.emplace_back(r["content"], r["disabled"]);
  std::sort(apex.begin(), apex.end());
  CHECK(apex == std::vector<std::pair<std::string, bool>>{
                    {"\"MS=ms48223017\"", false},
                    {"\"google-site-verification=3kq1dI4xN3W0vOfPzT0bq8bm3e0fJt7Zbq9W2aJmX0E\"", false},
                    {"\"parked verification\"", true}});
}

TEST_CASE("a wrong powerdns API key is an authentication error that shows no key",
          "[integration][powerdns]") {
  PdnsServer pdns(conformance_zones());
  const std::string wrong = "wrong-" + pdns.api_key().substr(0, 12);
  auto provider = make_provider(pdns, wrong);
  const std::string message = error_text([&] { provider->zone_for(k_zone); });
  CHECK_THAT(message, Catch::StartsWith("powerdns: GET " + pdns.api_url()) &&
                          Catch::Contains("401 unauthorized") && Catch::Contains(k_key_env));
  CHECK_THAT(message, !Catch::Contains(wrong) && !Catch::Contains(pdns.api_key()));
}

TEST_CASE("a zone pdns_server does not serve is a clear error", "[integration][powerdns]") {
  PdnsServer pdns(conformance_zones());
  auto provider = make_provider(pdns, pdns.api_key());
  const std::string for_name = error_text([&] { provider->zone_for("mail.example.org"); });
  CHECK_THAT(for_name, Catch::Contains("serves no zone containing \"mail.example.org\""));
  const std::string for_list = error_text([&] { provider->list("example.org", {"example.org"}); });
  CHECK_THAT(for_list, Catch::Contains("serves no zone \"example.org\"") &&
                           Catch::Contains("pdnsutil create-zone example.org"));
  for (const std::string& message : {for_name, for_list})
    CHECK_THAT(message, !Catch::Contains(pdns.api_key()));
}

TEST_CASE("a change pdns_server refuses applies nothing and says why, without the key",
          "[integration][powerdns]") {
  PdnsServer pdns(conformance_zones());
  auto provider = make_provider(pdns, pdns.api_key());
  const auto others = spfctl::testing::conformance_other_values();
  const TxtValue spf{{"v=spf1 -all"}};
  // A label longer than 63 bytes is not a DNS name; the good change in the same PATCH is not applied.
  const std::string bad_name = std::string(64, 'x') + "." + k_zone;
  const std::string message = error_text([&] {
    provider->apply(k_zone, {Change{Change::Action::create, k_zone, 3600, std::nullopt, spf, others},
                             Change{Change::Action::create, bad_name, 3600, std::nullopt, spf, {}}});
  });
  CHECK_THAT(message,
             Catch::StartsWith("powerdns: zone example.com: none of the 2 changes were applied: PATCH") &&
                 Catch::Contains("answered 4"));
  CHECK_THAT(message, !Catch::Contains(pdns.api_key()));
  const auto sets = provider->list(k_zone, {k_zone});
  REQUIRE(sets.size() == 1);
  CHECK(sets[0].values.size() == others.size());
}
