#include <catch2/catch.hpp>
#include <chrono>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "config/config.hpp"
#include "error.hpp"
#include "http/curl_client.hpp"
#include "plan/diff.hpp"
#include "providers/godaddy.hpp"
#include "providers/registry.hpp"
#include "tests/support/godaddy_fake.hpp"
#include "tests/support/provider_conformance.hpp"
#include "tests/support/provider_testing.hpp"

using namespace spfctl;
using namespace std::chrono_literals;
using Catch::Matchers::Contains;
using providers::Change;
using providers::TxtValue;
using testing::GoDaddyFake;
using Fault = GoDaddyFake::Fault;
using Record = GoDaddyFake::Record;
using std::chrono::milliseconds;

namespace {

const std::string k_zone = "example.com";
const std::string k_chain = "_spf1.example.com";

config::ProviderConfig provider_config(const std::map<std::string, std::string>& settings) {
  return testing::provider_config("gd", "godaddy", settings);
}

using testing::CannedClient;

// A fake account holding example.com, whose apex has the conformance suite's other values (with a
// TTL of their own), and a provider pointed at it.
struct Harness {
  GoDaddyFake fake;
  std::map<std::string, std::string> variables{{"GD_KEY", fake.key()}, {"GD_SECRET", fake.secret()}};
  std::vector<milliseconds> sleeps;
  std::vector<Record> others;

  Harness() {
    fake.add_domain(k_zone);
    fake.add_domain("example.org");
    fake.add_record(k_zone, "@", "192.0.2.1", 600, "A");
    for (const auto& value : testing::conformance_other_values()) {
      fake.add_record(k_zone, "@", value.joined(), 1800);
      others.push_back({"TXT", "@", value.joined(), 1800});
    }
  }

  providers::ProviderEnvironment environment(milliseconds timeout = 5s) {
    providers::ProviderEnvironment out;
    out.getenv = [this](const std::string& name) -> std::optional<std::string> {
      auto found = variables.find(name);
      if (found == variables.end()) return std::nullopt;
      return found->second;
    };
    out.http = std::make_shared<http::CurlHttpClient>(http::CurlOptions{1000ms, timeout, ""});
    out.sleep = [this](milliseconds delay) { sleeps.push_back(delay); };
    out.rate_limiter = std::make_shared<http::RateLimiter>(http::RateLimit{100000, 1ms});
    return out;
  }

  std::unique_ptr<providers::Provider> provider(milliseconds timeout = 5s) {
    return providers::create_provider(
        provider_config({{"key_env", "GD_KEY"}, {"secret_env", "GD_SECRET"}, {"api_url", fake.api_url()}}),
        environment(timeout));
  }

  std::vector<std::string> data(const std::string& name) const {
    std::vector<std::string> out;
    for (const auto& record : fake.records(k_zone, name)) out.push_back(record.data);
    return out;
  }

  std::vector<std::string> writes(std::size_t from = 0) const {
    std::vector<std::string> out;
    const auto requests = fake.server().requests();
    for (std::size_t i = from; i < requests.size(); ++i)
      if (requests[i].method != "GET") out.push_back(requests[i].method + " " + requests[i].path);
    return out;
  }
};

std::string error_of(const std::function<void()>& action) {
  try {
    action();
  } catch (const Error& error) {
    return error.what();
  }
  FAIL("no spfctl::Error was thrown");
  return {};
}

}  // namespace

TEST_CASE("godaddy: the provider conformance suite", "[providers][godaddy]") {
  Harness harness;
  auto provider = harness.provider();
  testing::ConformanceOptions options;
  options.after_step = [&](const std::string& step, providers::Provider&) {
    INFO("after step: " << step);
    // The other values keep their data and TTL, and the apex's A record is untouched.
    const auto apex = harness.fake.records(k_zone, "@");
    for (const auto& other : harness.others) CHECK(std::find(apex.begin(), apex.end(), other) != apex.end());
    CHECK(harness.fake.records(k_zone, "@", "A") == std::vector<Record>{{"A", "@", "192.0.2.1", 600}});
  };
  testing::run_provider_conformance(*provider, k_zone, options);
  CHECK(harness.sleeps.empty());
}

TEST_CASE("godaddy: the account's domains are listed once, page by page, whatever the number of names",
          "[providers][godaddy]") {
  Harness harness;
  for (int i = 0; i < 5; ++i) harness.fake.add_domain("client" + std::to_string(i) + ".example");
  harness.fake.set_max_per_page(3);  // 7 domains: pages of 3, 3 and 1, then an empty one
  auto provider = harness.provider();
  const std::size_t from = harness.fake.server().requests().size();
  CHECK(testing::wrong_zones_of_many(*provider) == std::vector<std::string>{});
  CHECK_THROWS_WITH(provider->zone_for("example.net"), Contains("no domain of the GoDaddy account holds"));
  const std::vector<std::string> calls = harness.fake.server().targets(from);
  CHECK(calls == std::vector<std::string>{"GET /v1/domains?limit=1000",
                                          "GET /v1/domains?limit=1000&marker=client2.example",
                                          "GET /v1/domains?limit=1000&marker=example.com",
                                          "GET /v1/domains?limit=1000&marker=example.org"});
}

TEST_CASE("godaddy: a domain's TXT records are listed at once, 500 a page", "[providers][godaddy][reads]") {
  Harness harness;
  for (int i = 0; i < 600; ++i)
    harness.fake.add_record(k_zone, "host" + std::to_string(i), "v=spf1 -all", 900);
  harness.fake.add_record(k_zone, "_spf1", "v=spf1 ip4:192.0.2.0/24 -all");
  auto provider = harness.provider();
  const std::size_t from = harness.fake.server().requests().size();
  const auto sets = provider->list_zone(k_zone);
  REQUIRE(sets);
  CHECK(sets->size() == 602);  // the apex, _spf1 and the 600 hosts; the A record is not read
  std::map<std::string, std::vector<std::string>> values;
  for (const auto& set : *sets)
    for (const auto& value : set.values) values[set.name].push_back(value.joined());
  CHECK(values.at(k_chain) == std::vector<std::string>{"v=spf1 ip4:192.0.2.0/24 -all"});
  CHECK(values.at("host599.example.com") == std::vector<std::string>{"v=spf1 -all"});
  // The apex as list() reads it.
  const auto apex = provider->list(k_zone, {k_zone});
  REQUIRE(apex.size() == 1);
  const auto listed =
      std::find_if(sets->begin(), sets->end(), [](const auto& set) { return set.name == k_zone; });
  REQUIRE(listed != sets->end());
  CHECK(listed->values == apex[0].values);
  CHECK(listed->ttl == apex[0].ttl);
  CHECK(harness.fake.server().targets(from) ==
        std::vector<std::string>{"GET /v1/domains/example.com/records/TXT?offset=0&limit=500",
                                 "GET /v1/domains/example.com/records/TXT?offset=500&limit=500",
                                 "GET /v1/domains/example.com/records/TXT/@"});
}

TEST_CASE("godaddy: a write replaces all values at the name, so the others are written back",
          "[providers][godaddy]") {
  Harness harness;
  auto provider = harness.provider();
  const TxtValue spf{{"v=spf1 include:_spf1.example.com -all"}};
  const TxtValue chained{{"v=spf1 ip4:192.0.2.0/24 -all"}};
  const auto others = testing::conformance_other_values();

  provider->apply(k_zone, {Change{Change::Action::create, k_chain, 3600, std::nullopt, chained, {}},
                           Change{Change::Action::create, k_zone, 3600, std::nullopt, spf, others}});
  CHECK(harness.writes() == std::vector<std::string>{"PUT /v1/domains/example.com/records/TXT/_spf1",
                                                     "PUT /v1/domains/example.com/records/TXT/@"});
  // The PUT at the apex carried the other values, with their own TTLs, and the new one.
  const auto put = harness.fake.server().requests().back();
  CHECK(nlohmann::json::parse(put.body) == nlohmann::json::parse(R"([
    {"data": "google-site-verification=3kq1dI4xN3W0vOfPzT0bq8bm3e0fJt7Zbq9W2aJmX0E", "ttl": 1800},
    {"data": "MS=ms48223017", "ttl": 1800},
    {"data": "v=spf1 include:_spf1.example.com -all", "ttl": 3600}])"));
  std::vector<Record> apex = harness.others;
  apex.push_back({"TXT", "@", spf.joined(), 3600});
  CHECK(harness.fake.records(k_zone, "@") == apex);

  // Deleting the SPF value where others remain writes the others back; deleting the last value at
  // a name deletes the name's TXT records.
  const std::size_t from = harness.fake.server().request_count();
  provider->apply(k_zone, {Change{Change::Action::remove, k_zone, 3600, spf, std::nullopt, others},
                           Change{Change::Action::remove, k_chain, 3600, chained, std::nullopt, {}}});
  CHECK(harness.writes(from) == std::vector<std::string>{"PUT /v1/domains/example.com/records/TXT/@",
                                                         "DELETE /v1/domains/example.com/records/TXT/_spf1"});
  CHECK(harness.fake.records(k_zone, "@") == harness.others);
  CHECK(harness.fake.records(k_zone, "_spf1").empty());
}

TEST_CASE("godaddy: long data is read back as 255-byte strings", "[providers][godaddy]") {
  Harness harness;
  const std::string long_text = "v=spf1 " + std::string(300, 'a') + " -all";
  harness.fake.add_record(k_zone, "_spf1", long_text, 600);
  auto provider = harness.provider();
  const auto sets = provider->list(k_zone, {k_chain, "_spf2.example.com"});
  REQUIRE(sets.size() == 1);
  CHECK(sets[0].name == k_chain);
  CHECK(sets[0].ttl == 600);
  REQUIRE(sets[0].values.size() == 1);
  CHECK(sets[0].values[0].strings.size() == 2);
  CHECK(sets[0].values[0].strings[0].size() == 255);
  CHECK(sets[0].values[0].joined() == long_text);
}

TEST_CASE("godaddy: a 429 storm is waited out as retryAfterSec asks", "[providers][godaddy]") {
  Harness harness;
  auto provider = harness.provider();
  harness.fake.inject(Fault::answer(429).with_retry_after(3), 5);
  const TxtValue spf{{"v=spf1 -all"}};
  provider->apply(k_zone, {Change{Change::Action::create, k_chain, 3600, std::nullopt, spf, {}}});
  CHECK(harness.sleeps == std::vector<milliseconds>(5, 3s));
  CHECK(harness.data("_spf1") == std::vector<std::string>{"v=spf1 -all"});
}

TEST_CASE("godaddy: server errors on writes are retried until the write goes through",
          "[providers][godaddy]") {
  Harness harness;
  auto provider = harness.provider();
  harness.fake.inject(Fault::answer(500).on_writes(), 2);
  const TxtValue spf{{"v=spf1 -all"}};
  provider->apply(k_zone, {Change{Change::Action::create, k_chain, 3600, std::nullopt, spf, {}}});
  CHECK(harness.sleeps.size() == 2);
  CHECK(harness.data("_spf1") == std::vector<std::string>{"v=spf1 -all"});
  CHECK(harness.writes().size() == 3);
}

TEST_CASE("godaddy: a slow API is reported as a timeout", "[providers][godaddy]") {
  Harness harness;
  harness.fake.inject(Fault::slow(300ms), 6);
  auto provider = harness.provider(80ms);
  const std::string message = error_of([&] { provider->list(k_zone, {k_zone}); });
  CHECK_THAT(message,
             Contains("godaddy provider 'gd': domain example.com: reading the TXT records at example.com"));
  CHECK_THAT(message, Contains("failed: timeout"));
  CHECK_THAT(message, Contains("(after 6 attempts)"));
}

TEST_CASE("godaddy: plans with values up to 512 bytes, however they are split, are publishable",
          "[providers][godaddy]") {
  const auto plan = [](std::vector<std::string> strings) {
    plan::DomainPlan out;
    out.domain = k_zone;
    out.records.push_back({k_zone, std::move(strings)});
    return out;
  };
  const auto& capabilities = providers::godaddy_capabilities();
  CHECK(plan::check_capabilities(plan({std::string(255, 'a'), std::string(200, 'b')}), 600, capabilities) ==
        "");
  CHECK(plan::check_capabilities(plan({std::string(512, 'a')}), 600, capabilities) == "");
  CHECK_THAT(
      plan::check_capabilities(plan({std::string(255, 'a'), std::string(258, 'b')}), 600, capabilities),
      Contains("has 513 bytes; the provider stores at most 512"));
  CHECK_THAT(plan::check_capabilities(plan({"v=spf1 -all"}), 300, capabilities), Contains("ttl 300"));
}

TEST_CASE("godaddy: the timeout setting bounds each request", "[providers][godaddy]") {
  Harness harness;
  auto environment = harness.environment();
  environment.http = nullptr;  // the adapter's own libcurl client, with the setting's timeout
  const auto provider = [&](const std::string& timeout) {
    return providers::create_provider(provider_config({{"key_env", "GD_KEY"},
                                                       {"secret_env", "GD_SECRET"},
                                                       {"api_url", harness.fake.api_url()},
                                                       {"timeout", timeout}}),
                                      environment);
  };
  harness.fake.inject(Fault::slow(250ms), 1);
  CHECK(provider("2")->list(k_zone, {k_zone}).size() == 1);  // slow, but within the timeout

  harness.fake.inject(Fault::slow(600ms), 6);
  const std::string message = error_of([&] { provider("0.2")->list(k_zone, {k_zone}); });
  CHECK_THAT(message, Contains("reading the TXT records at example.com") && Contains("failed: timeout") &&
                          Contains("(after 6 attempts)"));
}

TEST_CASE("godaddy: an account without API access is told why", "[providers][godaddy]") {
  Harness harness;
  harness.fake.set_access_denied(true);
  auto provider = harness.provider();
  const std::string message = error_of([&] { provider->zone_for(k_zone); });
  CHECK_THAT(message, Contains("godaddy provider 'gd'"));
  CHECK_THAT(message, Contains("403 forbidden: Authenticated user is not allowed access (ACCESS_DENIED)"));
  CHECK_THAT(message, Contains("fewer than 10 domains"));
  CHECK_THAT(message, Contains("Discount Domain Club or Pro plan"));
  CHECK_THAT(message, Contains("GD_KEY"));
}

TEST_CASE("godaddy: refused credentials are explained without showing them", "[providers][godaddy]") {
  Harness harness;
  const std::string key = "dLP4x8k2_Fq7yTTvEb3WkYnw";
  const std::string secret = "Hq2xW9sKe1mZ0";
  harness.variables["GD_KEY"] = key;
  harness.variables["GD_SECRET"] = secret;
  auto provider = harness.provider();
  std::string message = error_of([&] { provider->list(k_zone, {k_zone}); });
  CHECK_THAT(message, Contains("domain example.com"));
  CHECK_THAT(message,
             Contains("401 unauthorized: Unable to authenticate the request (UNABLE_TO_AUTHENTICATE)"));
  CHECK_THAT(message, Contains("GD_KEY and GD_SECRET"));
  CHECK(message.find(key) == std::string::npos);
  CHECK(message.find(secret) == std::string::npos);

  // An API message that echoes the credentials has them hidden.
  harness.fake.inject(Fault::answer(401).with_body(
      R"({"code":"MALFORMED_CREDENTIALS","message":"Bad sso-key )" + key + ":" + secret + "\"}"));
  message = error_of([&] { provider->zone_for(k_zone); });
  CHECK_THAT(message, Contains("Bad sso-key [redacted]"));
  CHECK(message.find(key) == std::string::npos);
  CHECK(message.find(secret) == std::string::npos);
}

TEST_CASE("godaddy: domains are found by walking up the name", "[providers][godaddy]") {
  Harness harness;
  auto provider = harness.provider();
  CHECK(provider->zone_for("_spf1.Mail.Example.com.") == k_zone);
  CHECK(provider->zone_for("example.org") == "example.org");
  std::string message = error_of([&] { provider->zone_for("www.example.net"); });
  CHECK_THAT(message,
             Contains("no domain of the GoDaddy account holds 'www.example.net' (asked for www.example.net, "
                      "example.net)"));
  message = error_of([&] { provider->list("example.net", {"example.net"}); });
  CHECK_THAT(message,
             Contains("404 not found: The given domain is not registered, or does not have a zone file "
                      "(UNKNOWN_DOMAIN)"));
  CHECK_THAT(message, Contains("GoDaddy does not host its DNS"));
}

TEST_CASE("godaddy: a refused value is reported with the API's fields", "[providers][godaddy]") {
  Harness harness;
  harness.fake.set_max_data_bytes(512);
  auto provider = harness.provider();
  const TxtValue spf{{"v=spf1 " + std::string(520, 'a') + " -all"}};
  const std::string message = error_of([&] {
    provider->apply(k_zone, {Change{Change::Action::create, k_zone, 3600, std::nullopt, spf,
                                    testing::conformance_other_values()}});
  });
  CHECK_THAT(message,
             Contains("godaddy provider 'gd': domain example.com: creating the SPF value at example.com"));
  CHECK_THAT(message, Contains("422 unprocessable content: Request body doesn't fulfill schema"));
  CHECK_THAT(message, Contains("(INVALID_BODY); records[2].data: is longer than 512 characters"));
  CHECK(harness.fake.records(k_zone, "@") == harness.others);

  const std::string low_ttl = error_of([&] {
    provider->apply(
        k_zone, {Change{Change::Action::create, k_chain, 300, std::nullopt, TxtValue{{"v=spf1 -all"}}, {}}});
  });
  CHECK_THAT(low_ttl, Contains("records[0].ttl: must be at least 600"));
  CHECK(provider->capabilities().min_ttl == 600);
}

TEST_CASE("godaddy: applying nothing, or what is published already, writes nothing", "[providers][godaddy]") {
  Harness harness;
  harness.fake.add_record(k_zone, "@", "v=spf1 -all", 3600);
  auto provider = harness.provider();
  provider->apply(k_zone, {});
  CHECK(harness.fake.server().request_count() == 0);

  provider->apply(
      k_zone, {Change{Change::Action::create, k_zone, 3600, std::nullopt, TxtValue{{"v=spf1 -all"}}, {}},
               Change{Change::Action::remove, k_chain, 3600, TxtValue{{"v=spf1 a -all"}}, std::nullopt, {}}});
  CHECK(harness.fake.server().request_count() == 2);
  CHECK(harness.writes().empty());
}

TEST_CASE("godaddy: a plan that no longer matches what is published is refused", "[providers][godaddy]") {
  Harness harness;
  harness.fake.add_record(k_zone, "@", "v=spf1 a -all", 3600);
  auto provider = harness.provider();
  std::string message = error_of([&] {
    provider->apply(k_zone, {Change{Change::Action::update,
                                    k_zone,
                                    3600,
                                    TxtValue{{"v=spf1 mx -all"}},
                                    TxtValue{{"v=spf1 -all"}},
                                    {}}});
  });
  CHECK_THAT(message, Contains("'v=spf1 mx -all', is no longer published there; run spfctl plan again"));
  message = error_of([&] {
    provider->apply(
        k_zone, {Change{Change::Action::create, k_zone, 3600, std::nullopt, TxtValue{{"v=spf1 -all"}}, {}}});
  });
  CHECK_THAT(message, Contains("an SPF value is already there ('v=spf1 a -all')"));
  CHECK(harness.writes().empty());
}

TEST_CASE("godaddy: requests take their turn from the account's rate limiter", "[providers][godaddy]") {
  Harness harness;
  using Clock = http::RateLimiter::Clock;
  Clock::time_point now{};
  std::vector<Clock::time_point> waits;
  auto environment = harness.environment();
  environment.rate_limiter = std::make_shared<http::RateLimiter>(
      http::RateLimit{2, 60s}, [&] { return now; },
      [&](Clock::time_point until) {
        waits.push_back(until);
        now = until;
      });
  auto provider = providers::create_provider(
      provider_config(
          {{"key_env", "GD_KEY"}, {"secret_env", "GD_SECRET"}, {"api_url", harness.fake.api_url()}}),
      environment);
  provider->list(k_zone, {k_zone, k_chain, "_spf2.example.com"});
  CHECK(harness.fake.server().request_count() == 3);
  CHECK(waits == std::vector<Clock::time_point>{Clock::time_point{} + 60s});
}

TEST_CASE("godaddy: settings and credentials are checked before any request", "[providers][godaddy]") {
  Harness harness;
  const auto message = [&](std::map<std::string, std::string> settings) {
    return error_of(
        [&] { providers::create_provider(provider_config(std::move(settings)), harness.environment()); });
  };
  CHECK_THAT(message({{"key_env", "GD_KEY"}}),
             Contains("spfctl.toml:7:1: [providers.gd] (type godaddy) needs secret_env: "));
  CHECK_THAT(message({{"key_env", "GD_KEY"}, {"secret_env", "GD_SECRET"}, {"environment", "test"}}),
             Contains("environment in [providers.gd] is 'test'; use \"production\" or \"ote\""));
  CHECK_THAT(message({{"key_env", "GD_KEY"},
                      {"secret_env", "GD_SECRET"},
                      {"environment", "ote"},
                      {"api_url", "https://api.example.com"}}),
             Contains("environment in [providers.gd] is set with api_url too: keep one"));
  CHECK_THAT(
      message({{"key_env", "GD_KEY"}, {"secret_env", "GD_SECRET"}, {"colour", "blue"}}),
      Contains("unknown setting 'colour' in [providers.gd] (type godaddy); it takes: key_env, secret_env, "
               "environment, api_url, timeout, plan_reads, plan_reads_server, write_concurrency"));
  for (const char* timeout : {"0", "301", "soon", "-5"})
    CHECK_THAT(message({{"key_env", "GD_KEY"}, {"secret_env", "GD_SECRET"}, {"timeout", timeout}}),
               Contains("spfctl.toml:10:1: timeout in [providers.gd] must be a number of seconds above 0 and "
                        "at most 300 (such as 30, or \"2.5\" for a fraction), not '" +
                        std::string(timeout) + "'"));
  for (const char* timeout : {"1", "0.5", "300"})
    CHECK_NOTHROW(providers::create_provider(
        provider_config({{"key_env", "GD_KEY"}, {"secret_env", "GD_SECRET"}, {"timeout", timeout}}),
        harness.environment()));
  CHECK_THAT(
      message({{"key_env", "GD_KEY"}, {"secret_env", "GD_NO_SECRET"}}),
      Contains(
          "the environment variable GD_NO_SECRET named by secret_env in [providers.gd] is not set or empty: "
          "export it with the API key's secret"));
  CHECK(harness.fake.server().request_count() == 0);

  // Production by default, OTE on request (answered here by a stand-in transport).
  for (const auto& [environment_name, base] :
       std::vector<std::pair<std::string, std::string>>{{"", "https://api.godaddy.com"},
                                                        {"production", "https://api.godaddy.com"},
                                                        {"ote", "https://api.ote-godaddy.com"}}) {
    auto canned = std::make_shared<CannedClient>(200, "[]");
    auto environment = harness.environment();
    environment.http = canned;
    std::map<std::string, std::string> settings{{"key_env", "GD_KEY"}, {"secret_env", "GD_SECRET"}};
    if (!environment_name.empty()) settings["environment"] = environment_name;
    auto provider = providers::create_provider(provider_config(settings), environment);
    CHECK(provider->list(k_zone, {k_chain}).empty());
    REQUIRE(canned->urls.size() == 1);
    CHECK(canned->urls[0] == base + "/v1/domains/example.com/records/TXT/_spf1");
  }
}
