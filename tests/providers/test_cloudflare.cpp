#include <catch2/catch.hpp>
#include <chrono>
#include <map>
#include <mutex>
#include <string>
#include <vector>

#include "config/config.hpp"
#include "error.hpp"
#include "http/curl_client.hpp"
#include "providers/cloudflare.hpp"
#include "providers/registry.hpp"
#include "tests/support/cloudflare_fake.hpp"
#include "tests/support/provider_conformance.hpp"
#include "tests/support/provider_testing.hpp"

using namespace spfctl;
using namespace std::chrono_literals;
using Catch::Matchers::Contains;
using providers::Change;
using providers::TxtValue;
using std::chrono::milliseconds;
using testing::CloudflareFake;

namespace {

const std::string k_zone = "example.com";
const std::string k_chain = "_spf1.example.com";

config::ProviderConfig provider_config(const std::map<std::string, std::string>& settings) {
  return testing::provider_config("cf", "cloudflare", settings);
}

using testing::CannedClient;

// A fake holding example.com, whose apex has the conformance suite's other values (one stored
// quoted, one not, as the dashboard may leave them), and a provider pointed at it.
struct Harness {
  CloudflareFake fake;
  std::vector<std::string> other_ids;
  std::map<std::string, std::string> variables{{"CF_API_TOKEN", fake.token()}};
  std::vector<milliseconds> sleeps;

  Harness() {
    fake.add_zone(k_zone);
    fake.add_zone("example.org");
    const auto others = testing::conformance_other_values();
    other_ids.push_back(fake.add_record(k_zone, k_zone, "\"" + others[0].joined() + "\""));
    other_ids.push_back(fake.add_record(k_zone, k_zone, others[1].joined(), 1));
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
        provider_config({{"token_env", "CF_API_TOKEN"}, {"api_url", fake.api_url()}}), environment(timeout));
  }

  std::vector<std::string> contents(const std::string& name) const {
    std::vector<std::string> out;
    for (const auto& record : fake.records(k_zone, name)) out.push_back(record.content);
    return out;
  }

  // "METHOD path" of each request after the first `from`.
  std::vector<std::string> calls(std::size_t from = 0) const {
    std::vector<std::string> out;
    const auto requests = fake.server().requests();
    for (std::size_t i = from; i < requests.size(); ++i)
      out.push_back(requests[i].method + " " + requests[i].path);
    return out;
  }

  std::size_t writes(std::size_t from = 0) const {
    std::size_t count = 0;
    for (const auto& call : calls(from))
      if (!call.starts_with("GET ")) ++count;
    return count;
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

std::size_t spf_count(const std::vector<CloudflareFake::Record>& records) {
  return static_cast<std::size_t>(std::count_if(records.begin(), records.end(), [](const auto& r) {
    return providers::parse_cloudflare_content(r.content).joined().starts_with("v=spf1");
  }));
}

}  // namespace

TEST_CASE("cloudflare: the account's zones are listed once, page by page, whatever the number of domains",
          "[providers][cloudflare]") {
  Harness harness;
  for (int i = 0; i < 5; ++i) harness.fake.add_zone("client" + std::to_string(i) + ".example");
  harness.fake.set_max_per_page(3);  // 7 zones: three pages
  auto provider = harness.provider();
  const std::size_t from = harness.fake.server().requests().size();
  CHECK(testing::wrong_zones_of_many(*provider) == std::vector<std::string>{});
  CHECK_THROWS_WITH(provider->zone_for("example.net"), Contains("no zone holds 'example.net'"));
  const std::vector<std::string> listings = harness.fake.server().targets(from);
  CHECK(listings == std::vector<std::string>{"GET /client/v4/zones?per_page=50&page=1",
                                             "GET /client/v4/zones?per_page=50&page=2",
                                             "GET /client/v4/zones?per_page=50&page=3"});
  CHECK(harness.calls(from).size() == 3);
}

TEST_CASE("cloudflare: a zone's TXT records are listed at once, page by page",
          "[providers][cloudflare][reads]") {
  Harness harness;
  harness.fake.add_record(k_zone, k_chain, "\"v=spf1 ip4:192.0.2.0/24 -all\"");
  harness.fake.add_record(k_zone, "sub.example.com", "\"v=spf1 -all\"");
  harness.fake.set_max_per_page(2);
  auto provider = harness.provider();
  const std::size_t from = harness.fake.server().requests().size();
  const auto sets = provider->list_zone(k_zone);
  REQUIRE(sets);
  std::map<std::string, std::size_t> values;
  for (const auto& set : *sets) values[set.name] = set.values.size();
  CHECK(values == std::map<std::string, std::size_t>{{k_zone, testing::conformance_other_values().size()},
                                                     {k_chain, 1},
                                                     {"sub.example.com", 1}});
  // The same sets list() gives name by name, ids included.
  for (const auto& set : *sets) {
    const auto one = provider->list(k_zone, {set.name});
    REQUIRE(one.size() == 1);
    CHECK(one[0].values == set.values);
    CHECK(one[0].ids == set.ids);
    CHECK(one[0].ttl == set.ttl);
  }
  const std::vector<std::string> targets = harness.fake.server().targets(from);
  // The account's zones, then the zone's TXT records a page at a time.
  REQUIRE(targets.size() >= 3);
  CHECK_THAT(targets[0], Contains("/zones?per_page=50&page=1"));
  CHECK_THAT(targets[1], Contains("/dns_records?type=TXT&per_page=5000&page=1"));
  CHECK_THAT(targets[2], Contains("/dns_records?type=TXT&per_page=5000&page=2"));
}

TEST_CASE("cloudflare: the provider conformance suite", "[providers][cloudflare]") {
  Harness harness;
  harness.fake.set_max_per_page(2);  // the apex holds three records during the suite: two pages
  const auto others_before = harness.fake.records(k_zone, k_zone);
  auto provider = harness.provider();
  testing::ConformanceOptions options;
  options.after_step = [&](const std::string& step, providers::Provider&) {
    INFO("after step: " << step);
    // The other records are untouched: same ids, content and TTLs.
    const auto apex = harness.fake.records(k_zone, k_zone);
    for (const auto& other : others_before) CHECK(std::find(apex.begin(), apex.end(), other) != apex.end());
    CHECK(spf_count(apex) <= 1);
    CHECK(spf_count(harness.fake.records(k_zone, k_chain)) <= 1);
  };
  testing::run_provider_conformance(*provider, k_zone, options);
  CHECK(harness.sleeps.empty());
}

TEST_CASE("cloudflare: content is written quoted and read back quoted or not", "[providers][cloudflare]") {
  using providers::cloudflare_content;
  using providers::parse_cloudflare_content;
  CHECK(cloudflare_content({{"v=spf1 -all"}}) == "\"v=spf1 -all\"");
  CHECK(cloudflare_content({{"v=spf1 a", " -all"}}) == "\"v=spf1 a\" \" -all\"");
  CHECK(cloudflare_content({{"say \"hi\" \\ caf\xc3\xa9"}}) == "\"say \\\"hi\\\" \\\\ caf\xc3\xa9\"");
  // A byte that is not valid UTF-8, and a control character, as \DDD.
  CHECK(cloudflare_content({{"a\xff"
                             "b\x01"}}) == "\"a\\255b\\001\"");
  // A string over 255 bytes is cut into strings of 255.
  const std::string long_string(300, 'x');
  CHECK(cloudflare_content({{long_string}}) ==
        "\"" + std::string(255, 'x') + "\" \"" + std::string(45, 'x') + "\"");

  CHECK(parse_cloudflare_content("\"v=spf1 a\" \" -all\"").strings ==
        std::vector<std::string>{"v=spf1 a", " -all"});
  CHECK(parse_cloudflare_content("\"a\\\"b\\\\c\\255\\065\"").strings ==
        std::vector<std::string>{"a\"b\\c\xff"
                                 "A"});
  CHECK(parse_cloudflare_content("v=spf1 -all").strings == std::vector<std::string>{"v=spf1 -all"});
  // Not wholly quoted strings: the text itself, as Cloudflare serves unquoted content.
  CHECK(parse_cloudflare_content("\"half\" open \"").strings == std::vector<std::string>{"\"half\" open \""});
  const auto cut = parse_cloudflare_content(long_string);
  CHECK(cut.strings == std::vector<std::string>{std::string(255, 'x'), std::string(45, 'x')});
  for (const TxtValue& value :
       {TxtValue{{"v=spf1 exp=x \"q\" b\\s caf\xc3\xa9 \x7f\xc3"}}, TxtValue{{"a", "b", ""}}})
    CHECK(parse_cloudflare_content(cloudflare_content(value)) == value);
}

TEST_CASE("cloudflare: records spread over several pages are all found", "[providers][cloudflare]") {
  Harness harness;
  harness.fake.set_max_per_page(2);
  for (int i = 0; i < 3; ++i)
    harness.fake.add_record(k_zone, k_zone, "\"verification-" + std::to_string(i) + "\"");
  harness.fake.add_record(k_zone, k_zone, "\"v=spf1 -all\"", 600);
  auto provider = harness.provider();
  const auto sets = provider->list(k_zone, {k_zone});
  REQUIRE(sets.size() == 1);
  CHECK(sets[0].values.size() == 6);
  CHECK(sets[0].ids.size() == 6);
  CHECK(sets[0].ttl == 600);  // the SPF value's
  CHECK(std::count(sets[0].values.begin(), sets[0].values.end(), TxtValue{{"v=spf1 -all"}}) == 1);
  std::vector<std::string> pages;
  for (const auto& request : harness.fake.server().requests())
    if (request.path.ends_with("/dns_records"))
      pages.push_back(request.target.substr(request.target.find("&page=") + 1));
  CHECK(pages == std::vector<std::string>{"page=1", "page=2", "page=3"});
}

TEST_CASE("cloudflare: changes go in one batch only when the batch's own order is theirs",
          "[providers][cloudflare]") {
  Harness harness;
  const TxtValue apex{{"v=spf1 include:_spf1.example.com include:_spf2.example.com -all"}};
  const TxtValue one{{"v=spf1 ip4:192.0.2.0/24 -all"}};
  const TxtValue two{{"v=spf1 ip4:198.51.100.0/24 -all"}};
  harness.fake.add_record(k_zone, k_zone, providers::cloudflare_content(apex));
  harness.fake.add_record(k_zone, "_spf1.example.com", providers::cloudflare_content(one));
  harness.fake.add_record(k_zone, "_spf2.example.com", providers::cloudflare_content(two));
  auto provider = harness.provider();
  const auto others = testing::conformance_other_values();

  SECTION("updates of several names: one batch") {
    const TxtValue one_new{{"v=spf1 ip4:192.0.2.0/25 -all"}};
    const TxtValue two_new{{"v=spf1 ip4:198.51.100.0/25 -all"}};
    const std::size_t from = harness.fake.server().request_count();
    provider->apply(k_zone, {Change{Change::Action::update, "_spf1.example.com", 3600, one, one_new, {}},
                             Change{Change::Action::update, "_spf2.example.com", 3600, two, two_new, {}}});
    CHECK(harness.writes(from) == 1);
    const auto calls = harness.calls(from);
    CHECK(calls.back().starts_with("POST "));
    CHECK(calls.back().ends_with("/dns_records/batch"));
    CHECK(harness.contents("_spf1.example.com") ==
          std::vector<std::string>{providers::cloudflare_content(one_new)});
    CHECK(harness.contents("_spf2.example.com") ==
          std::vector<std::string>{providers::cloudflare_content(two_new)});
  }

  SECTION("a batch whose answer was lost: read back, and finished one by one") {
    const TxtValue one_new{{"v=spf1 ip4:192.0.2.0/25 -all"}};
    const TxtValue two_new{{"v=spf1 ip4:198.51.100.0/25 -all"}};
    const bool carried_out = GENERATE(true, false);
    auto fault = CloudflareFake::Fault::answer(502).on_writes();
    harness.fake.inject(carried_out ? fault.carried_out() : fault);
    const std::size_t from = harness.fake.server().request_count();
    provider->apply(k_zone, {Change{Change::Action::update, "_spf1.example.com", 3600, one, one_new, {}},
                             Change{Change::Action::update, "_spf2.example.com", 3600, two, two_new, {}}});
    CHECK(harness.writes(from) == (carried_out ? 1u : 3u));
    CHECK(harness.contents("_spf1.example.com") ==
          std::vector<std::string>{providers::cloudflare_content(one_new)});
    CHECK(harness.contents("_spf2.example.com") ==
          std::vector<std::string>{providers::cloudflare_content(two_new)});
  }

  SECTION("a new chained record, then the apex pointing at it: one by one, in that order") {
    const TxtValue three{{"v=spf1 ip4:203.0.113.0/24 -all"}};
    const TxtValue apex_new{
        {"v=spf1 include:_spf1.example.com include:_spf2.example.com include:_spf3.example.com -all"}};
    const std::size_t from = harness.fake.server().request_count();
    provider->apply(k_zone,
                    {Change{Change::Action::create, "_spf3.example.com", 3600, std::nullopt, three, {}},
                     Change{Change::Action::update, k_zone, 3600, apex, apex_new, others}});
    std::vector<std::string> writes;
    for (const auto& call : harness.calls(from))
      if (!call.starts_with("GET ")) writes.push_back(call.substr(0, call.find(' ')));
    CHECK(writes == std::vector<std::string>{"POST", "PUT"});
    CHECK(harness.contents("_spf3.example.com") ==
          std::vector<std::string>{providers::cloudflare_content(three)});
  }

  SECTION("the apex, then deleting what it stopped including: one by one, in that order") {
    const TxtValue apex_new{{"v=spf1 include:_spf1.example.com -all"}};
    const std::size_t from = harness.fake.server().request_count();
    provider->apply(k_zone,
                    {Change{Change::Action::update, k_zone, 3600, apex, apex_new, others},
                     Change{Change::Action::remove, "_spf2.example.com", 3600, two, std::nullopt, {}}});
    std::vector<std::string> writes;
    for (const auto& call : harness.calls(from))
      if (!call.starts_with("GET ")) writes.push_back(call.substr(0, call.find(' ')));
    CHECK(writes == std::vector<std::string>{"PUT", "DELETE"});
    CHECK(harness.fake.records(k_zone, "_spf2.example.com").empty());
  }
}

TEST_CASE("cloudflare: a 429 storm is waited out as Retry-After asks", "[providers][cloudflare]") {
  Harness harness;
  auto provider = harness.provider();
  harness.fake.inject(CloudflareFake::Fault::answer(429).with_retry_after(7), 4);
  const TxtValue spf{{"v=spf1 -all"}};
  provider->apply(k_zone, {Change{Change::Action::create, k_zone, 3600, std::nullopt, spf, {}}});
  CHECK(harness.sleeps == std::vector<milliseconds>(4, 7s));
  CHECK(spf_count(harness.fake.records(k_zone, k_zone)) == 1);
}

TEST_CASE("cloudflare: server errors on writes are retried until the write goes through",
          "[providers][cloudflare]") {
  Harness harness;
  const TxtValue old_value{{"v=spf1 a -all"}};
  const TxtValue new_value{{"v=spf1 mx -all"}};
  harness.fake.add_record(k_zone, k_zone, providers::cloudflare_content(old_value));
  auto provider = harness.provider();

  SECTION("an update (PUT, idempotent) is sent again") {
    harness.fake.inject(CloudflareFake::Fault::answer(500).on_writes(), 2);
    provider->apply(k_zone, {Change{Change::Action::update, k_zone, 3600, old_value, new_value, {}}});
    CHECK(harness.sleeps.size() == 2);
  }
  SECTION("a create whose answer was lost is read back, not made twice") {
    harness.fake.inject(CloudflareFake::Fault::answer(502).on_writes().carried_out());
    provider->apply(k_zone, {Change{Change::Action::create, k_chain, 3600, std::nullopt, new_value, {}}});
    CHECK(harness.contents(k_chain) == std::vector<std::string>{providers::cloudflare_content(new_value)});
    provider->apply(k_zone, {Change{Change::Action::update, k_zone, 3600, old_value, new_value, {}}});
  }
  SECTION("a create that failed before being carried out is sent again") {
    harness.fake.inject(CloudflareFake::Fault::answer(503).on_writes());
    provider->apply(k_zone, {Change{Change::Action::create, k_chain, 3600, std::nullopt, new_value, {}}});
    CHECK(harness.contents(k_chain) == std::vector<std::string>{providers::cloudflare_content(new_value)});
    provider->apply(k_zone, {Change{Change::Action::update, k_zone, 3600, old_value, new_value, {}}});
  }
  SECTION("a create refused as a duplicate, because it is there already, has converged") {
    harness.fake.inject(
        CloudflareFake::Fault::answer(400)
            .with_body(
                R"({"success":false,"errors":[{"code":81058,"message":"An identical record already exists."}]})")
            .on_writes()
            .carried_out());
    provider->apply(k_zone, {Change{Change::Action::create, k_chain, 3600, std::nullopt, new_value, {}}});
    CHECK(harness.contents(k_chain) == std::vector<std::string>{providers::cloudflare_content(new_value)});
    provider->apply(k_zone, {Change{Change::Action::update, k_zone, 3600, old_value, new_value, {}}});
  }
  CHECK(harness.contents(k_zone).back() == providers::cloudflare_content(new_value));
  CHECK(spf_count(harness.fake.records(k_zone, k_zone)) == 1);
}

TEST_CASE("cloudflare: a server error that does not pass is reported with the change",
          "[providers][cloudflare]") {
  Harness harness;
  auto provider = harness.provider();
  harness.fake.inject(CloudflareFake::Fault::answer(500).on_writes(), 20);
  const TxtValue spf{{"v=spf1 -all"}};
  const std::string message = error_of([&] {
    provider->apply(k_zone, {Change{Change::Action::create, k_zone, 3600, std::nullopt, spf, {}}});
  });
  CHECK_THAT(message,
             Contains("cloudflare provider 'cf': zone example.com: creating the SPF value at example.com"));
  CHECK_THAT(message, Contains("answered 500 internal server error"));
  CHECK(spf_count(harness.fake.records(k_zone, k_zone)) == 0);
}

TEST_CASE("cloudflare: a slow API is reported as a timeout", "[providers][cloudflare]") {
  Harness harness;
  harness.fake.inject(CloudflareFake::Fault::slow(300ms), 6);
  auto provider = harness.provider(80ms);
  const std::string message = error_of([&] { provider->list(k_zone, {k_zone}); });
  CHECK_THAT(message, Contains("cloudflare provider 'cf'"));
  CHECK_THAT(message, Contains("example.com"));
  CHECK_THAT(message, Contains("failed: timeout"));
  CHECK_THAT(message, Contains("(after 6 attempts)"));
}

TEST_CASE("cloudflare: the timeout setting bounds each request", "[providers][cloudflare]") {
  Harness harness;
  auto environment = harness.environment();
  environment.http = nullptr;  // the adapter's own libcurl client, with the setting's timeout
  const auto provider = [&](const std::string& timeout) {
    return providers::create_provider(
        provider_config(
            {{"token_env", "CF_API_TOKEN"}, {"api_url", harness.fake.api_url()}, {"timeout", timeout}}),
        environment);
  };
  harness.fake.inject(CloudflareFake::Fault::slow(250ms), 1);
  CHECK(provider("2")->zone_for("example.com") == "example.com");  // slow, but within the timeout

  harness.fake.inject(CloudflareFake::Fault::slow(600ms), 6);
  const std::string message = error_of([&] { provider("0.2")->zone_for("example.com"); });
  CHECK_THAT(message, Contains("finding the zone of example.com") && Contains("failed: timeout") &&
                          Contains("(after 6 attempts)"));
}

TEST_CASE("cloudflare: a refused token is explained without showing it", "[providers][cloudflare]") {
  Harness harness;
  const std::string wrong = "wrong-token-Zq81xTy5";
  harness.variables["CF_API_TOKEN"] = wrong;
  auto provider = harness.provider();
  std::string message = error_of([&] { provider->list(k_zone, {k_zone}); });
  CHECK_THAT(message, Contains("cloudflare provider 'cf'"));
  CHECK_THAT(message, Contains("example.com"));
  CHECK_THAT(message, Contains("403 forbidden: Authentication error (code 10000)"));
  CHECK_THAT(message, Contains("CF_API_TOKEN"));
  CHECK_THAT(message, Contains("Zone:Read and DNS:Edit"));
  CHECK(message.find(wrong) == std::string::npos);

  // An API message that echoes the token has it hidden.
  harness.fake.inject(CloudflareFake::Fault::answer(400).with_body(
      R"({"success":false,"errors":[{"code":6111,"message":"Invalid format for Authorization header: Bearer )" +
      wrong + R"("}]})"));
  message = error_of([&] { provider->zone_for(k_zone); });
  CHECK_THAT(message, Contains("Invalid format for Authorization header: Bearer [redacted]"));
  CHECK(message.find(wrong) == std::string::npos);
}

TEST_CASE("cloudflare: applying nothing, or what is published already, writes nothing",
          "[providers][cloudflare]") {
  Harness harness;
  const TxtValue spf{{"v=spf1 -all"}};
  harness.fake.add_record(k_zone, k_zone, providers::cloudflare_content(spf), 3600);
  auto provider = harness.provider();
  provider->apply(k_zone, {});
  CHECK(harness.fake.server().request_count() == 0);

  provider->apply(k_zone, {Change{Change::Action::create, k_zone, 3600, std::nullopt, spf, {}},
                           Change{Change::Action::remove, k_chain, 3600, spf, std::nullopt, {}}});
  CHECK(harness.fake.server().request_count() > 0);
  CHECK(harness.writes() == 0);
}

TEST_CASE("cloudflare: a plan that no longer matches what is published is refused",
          "[providers][cloudflare]") {
  Harness harness;
  harness.fake.add_record(k_zone, k_zone, "\"v=spf1 a -all\"");
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
  CHECK(harness.writes() == 0);
}

TEST_CASE("cloudflare: a second change at one name waits for the first", "[providers][cloudflare]") {
  Harness harness;
  const TxtValue first{{"v=spf1 a -all"}};
  const TxtValue second{{"v=spf1 mx -all"}};
  harness.fake.add_record(k_zone, k_zone, providers::cloudflare_content(first));
  harness.fake.add_record(k_zone, k_zone, providers::cloudflare_content(second));
  auto provider = harness.provider();
  const TxtValue wanted{{"v=spf1 a mx -all"}};
  provider->apply(k_zone, {Change{Change::Action::remove, k_zone, 3600, first, std::nullopt, {}},
                           Change{Change::Action::remove, k_zone, 3600, second, std::nullopt, {}},
                           Change{Change::Action::create, k_zone, 3600, std::nullopt, wanted, {}}});
  const auto apex = harness.fake.records(k_zone, k_zone);
  CHECK(spf_count(apex) == 1);
  CHECK(apex.back().content == providers::cloudflare_content(wanted));
  CHECK(apex.size() == 3);
}

TEST_CASE("cloudflare: an update keeps the record's comment", "[providers][cloudflare]") {
  Harness harness;
  const TxtValue old_value{{"v=spf1 a -all"}};
  const std::string id = harness.fake.add_record(k_zone, k_zone, providers::cloudflare_content(old_value));
  harness.fake.set_comment(k_zone, id, "managed by spfctl");
  auto provider = harness.provider();
  provider->apply(k_zone,
                  {Change{Change::Action::update, k_zone, 900, old_value, TxtValue{{"v=spf1 -all"}}, {}}});
  const auto records = harness.fake.records(k_zone, k_zone);
  const auto updated =
      std::find_if(records.begin(), records.end(), [&](const auto& r) { return r.id == id; });
  REQUIRE(updated != records.end());
  CHECK(updated->content == "\"v=spf1 -all\"");
  CHECK(updated->ttl == 900);
  CHECK(updated->comment == "managed by spfctl");
}

TEST_CASE("cloudflare: zones are found by walking up the name", "[providers][cloudflare]") {
  Harness harness;
  auto provider = harness.provider();
  CHECK(provider->zone_for("_spf2.Mail.Example.COM.") == k_zone);
  CHECK(provider->zone_for("example.org") == "example.org");
  const std::string message = error_of([&] { provider->zone_for("www.example.net"); });
  CHECK_THAT(message, Contains("no zone holds 'www.example.net' (asked for www.example.net, example.net)"));
  CHECK_THAT(message, Contains("CF_API_TOKEN"));
}

TEST_CASE("cloudflare: settings and credentials are checked before any request", "[providers][cloudflare]") {
  Harness harness;
  const auto message = [&](std::map<std::string, std::string> settings) {
    return error_of(
        [&] { providers::create_provider(provider_config(std::move(settings)), harness.environment()); });
  };
  CHECK_THAT(message({}), Contains("spfctl.toml:7:1: [providers.cf] (type cloudflare) needs token_env: "));
  CHECK_THAT(
      message({{"token_env", "CF_API_TOKEN"}, {"tokn_env", "X"}}),
      Contains("unknown setting 'tokn_env' in [providers.cf] (type cloudflare); did you mean 'token_env'?"));
  CHECK_THAT(message({{"token_env", "CF_API_TOKEN"}, {"colour", "blue"}}),
             Contains("unknown setting 'colour' in [providers.cf] (type cloudflare); it takes: token_env, "
                      "api_url, timeout, plan_reads, plan_reads_server, "
                      "write_concurrency"));
  for (const char* timeout : {"0", "300.5", "1m", ""})
    CHECK_THAT(
        message({{"token_env", "CF_API_TOKEN"}, {"timeout", timeout}}),
        Contains("spfctl.toml:8:1: timeout in [providers.cf] must be a number of seconds above 0 and at "
                 "most 300 (such as 30, or \"2.5\" for a fraction), not '" +
                 std::string(timeout) + "'"));
  CHECK_THAT(message({{"token_env", "CF_API_TOKEN"}, {"api_url", "http://api.example.com/v4"}}),
             Contains("spfctl.toml:8:1: api_url in [providers.cf]"));
  CHECK_THAT(message({{"token_env", "CF_TOKEN_NOT_SET"}}),
             Contains("spfctl.toml:8:1: the environment variable CF_TOKEN_NOT_SET named by token_env in "
                      "[providers.cf] is "
                      "not set or empty: export it with a Cloudflare API token"));
  harness.variables["CF_EMPTY"] = "";
  CHECK_THAT(message({{"token_env", "CF_EMPTY"}}),
             Contains("CF_EMPTY named by token_env in [providers.cf] is not set or empty"));
  CHECK(harness.fake.server().request_count() == 0);

  // Without api_url, the real API (answered here by a stand-in transport).
  auto canned = std::make_shared<CannedClient>(200, R"({"success":true,"errors":[],"result":[]})");
  auto environment = harness.environment();
  environment.http = canned;
  auto provider = providers::create_provider(provider_config({{"token_env", "CF_API_TOKEN"}}), environment);
  CHECK_THROWS_AS(provider->zone_for("example.com"), Error);
  REQUIRE(canned->urls.size() == 1);
  CHECK(canned->urls[0] == "https://api.cloudflare.com/client/v4/zones?per_page=50&page=1");
  const auto& capabilities = provider->capabilities();
  CHECK(capabilities.min_ttl == 60);
  CHECK(capabilities.batch);
  CHECK(capabilities.multi_string);
  CHECK_FALSE(capabilities.replaces_rrset);
}
