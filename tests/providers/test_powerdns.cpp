// The PowerDNS adapter against an in-process fake of the API: what it sends, how it reads answers,
// and its errors. The real pdns_server is exercised by tests/integration/test_powerdns.cpp.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <chrono>
#include <nlohmann/json.hpp>
#include <thread>

#include "config/config.hpp"
#include "error.hpp"
#include "http/curl_client.hpp"
#include "providers/powerdns.hpp"
#include "providers/registry.hpp"
#include "tests/support/http_fake.hpp"

using nlohmann::json;
using spfctl::Error;
using spfctl::providers::Change;
using spfctl::providers::parse_powerdns_txt_content;
using spfctl::providers::powerdns_txt_content;
using spfctl::providers::PowerDnsOptions;
using spfctl::providers::PowerDnsProvider;
using spfctl::providers::ProviderEnvironment;
using spfctl::providers::TxtValue;
using spfctl::testing::FakeHttpServer;
using spfctl::testing::RecordedRequest;

namespace {

const std::string k_key = "pdns-k3y-Zx81";
const std::string k_zones_path = "/api/v1/servers/localhost/zones";

// Zones as GET /zones lists them; the third has an id that is not its name.
const char* const k_zone_list = R"([
  {"id": "example.com.", "name": "example.com.", "kind": "Native"},
  {"id": "sub.example.com.", "name": "Sub.Example.com.", "kind": "Native"},
  {"id": "=2Fodd.", "name": "other.org.", "kind": "Native"}
])";

json txt_rrset(const std::string& name, int ttl, const std::vector<std::pair<std::string, bool>>& records) {
  json out = {{"name", name}, {"type", "TXT"}, {"ttl", ttl}, {"comments", json::array()}};
  out["records"] = json::array();
  for (const auto& [content, disabled] : records)
    out["records"].push_back({{"content", content}, {"disabled", disabled}});
  return out;
}

json zone_body(const std::string& name, json rrsets) {
  return {{"id", name}, {"name", name}, {"kind", "Native"}, {"rrsets", std::move(rrsets)}};
}

// The apex of example.com as the fake serves it: two other values, one SPF value, one disabled
// record, and a non-TXT RRset; _spf1 holds nothing.
json example_zone() {
  return zone_body(
      "example.com.",
      {{{"name", "example.com."},
        {"type", "SOA"},
        {"ttl", 3600},
        {"records", {{{"content", "a.example.com. h.example.com. 1 2 3 4 5"}, {"disabled", false}}}}},
       txt_rrset("example.com.", 3600,
                 {{"\"google-site-verification=abc\"", false},
                  {"\"MS=ms1\"", false},
                  {"\"v=spf1 ip4:192.0.2.0/24 -all\"", false},
                  {"\"old verification\"", true}}),
       txt_rrset("www.example.com.", 300, {{"\"hello\"", false}})});
}

struct Fake {
  FakeHttpServer server;
  json zone = example_zone();
  int patch_status = 204;
  std::string patch_body;                    // the answer to a PATCH
  std::chrono::milliseconds patch_delay{0};  // how long a PATCH takes to be answered

  Fake() {
    server.get(k_zones_path, [](const httplib::Request&, httplib::Response& res) {
      res.set_content(k_zone_list, "application/json");
    });
    server.get(k_zones_path + "/(.+)", [this](const httplib::Request& req, httplib::Response& res) {
      if (req.matches[1] != "example.com.") {
        res.status = 404;
        res.set_content("Not Found", "text/plain");
        return;
      }
      json answer = zone;
      if (req.has_param("rrset_name")) {
        json kept = json::array();
        for (const json& rrset : zone["rrsets"])
          if (rrset["name"] == req.get_param_value("rrset_name") &&
              (!req.has_param("rrset_type") || rrset["type"] == req.get_param_value("rrset_type"))) {
            json copy = rrset;
            // As PowerDNS 4.7 does: a filtered GET leaves disabled records out.
            json enabled = json::array();
            for (const json& r : copy["records"])
              if (!r["disabled"].get<bool>()) enabled.push_back(r);
            copy["records"] = enabled;
            kept.push_back(copy);
          }
        answer["rrsets"] = kept;
      }
      res.set_content(answer.dump(), "application/json");
    });
    server.patch(k_zones_path + "/(.+)", [this](const httplib::Request&, httplib::Response& res) {
      std::this_thread::sleep_for(patch_delay);
      res.status = patch_status;
      if (!patch_body.empty()) res.set_content(patch_body, "application/json");
    });
    server.start();
  }

  PowerDnsProvider provider() {
    return PowerDnsProvider(PowerDnsOptions{server.base_url(), "localhost", k_key, "PDNS_API_KEY",
                                            std::make_shared<spfctl::http::CurlHttpClient>(), std::nullopt});
  }

  std::vector<RecordedRequest> of(const std::string& method) const {
    std::vector<RecordedRequest> out;
    for (const auto& r : server.requests())
      if (r.method == method) out.push_back(r);
    return out;
  }
};

std::string error_text(const std::function<void()>& action) {
  try {
    action();
  } catch (const Error& e) {
    return e.what();
  }
  FAIL("no spfctl::Error was thrown");
  return {};
}

const json* find_rrset(const json& patch, const std::string& name) {
  for (const json& rrset : patch["rrsets"])
    if (rrset["name"] == name) return &rrset;
  return nullptr;
}

std::vector<std::string> contents(const json& rrset, bool disabled) {
  std::vector<std::string> out;
  for (const json& r : rrset["records"])
    if (r["disabled"].get<bool>() == disabled) out.push_back(r["content"].get<std::string>());
  return out;
}

const std::vector<TxtValue> k_others = {{{"google-site-verification=abc"}}, {{"MS=ms1"}}};
const TxtValue k_spf{{"v=spf1 ip4:192.0.2.0/24 -all"}};

// A port on 127.0.0.1 that nothing listens on.
int unused_port() {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  REQUIRE(fd >= 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  REQUIRE(::bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) == 0);
  socklen_t length = sizeof address;
  REQUIRE(::getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length) == 0);
  ::close(fd);
  return ntohs(address.sin_port);
}

spfctl::config::ProviderConfig provider_config(std::map<std::string, std::string> settings) {
  spfctl::config::ProviderConfig config;
  config.name = "pdns";
  config.type = "powerdns";
  config.location = {"spfctl.toml", 3, 1};
  std::uint32_t line = 4;
  for (auto& [key, value] : settings) config.settings[key] = {std::move(value), {"spfctl.toml", line++, 7}};
  return config;
}

}  // namespace

TEST_CASE("powerdns TXT content is quoted strings with escapes for quotes, backslashes and other bytes",
          "[providers][powerdns]") {
  CHECK(powerdns_txt_content({{"v=spf1 -all"}}) == R"("v=spf1 -all")");
  CHECK(powerdns_txt_content({{"a", "b c"}}) == R"("a" "b c")");
  CHECK(powerdns_txt_content({{"say \"hi\" a\\b"}}) == R"("say \"hi\" a\\b")");
  CHECK(powerdns_txt_content({{"caf\xc3\xa9\ttab"}}) == R"("caf\195\169\009tab")");
  CHECK(powerdns_txt_content({{std::string(300, 'x')}}) ==
        "\"" + std::string(255, 'x') + "\" \"" + std::string(45, 'x') + "\"");
  CHECK(powerdns_txt_content({{""}}) == R"("")");
}

TEST_CASE("powerdns TXT content is read back into its character-strings", "[providers][powerdns]") {
  CHECK(parse_powerdns_txt_content(R"("v=spf1 -all")") == TxtValue{{"v=spf1 -all"}});
  CHECK(parse_powerdns_txt_content(R"("one" "two")") == TxtValue{{"one", "two"}});
  CHECK(parse_powerdns_txt_content("  \"one\"\t\"two\"  ") == TxtValue{{"one", "two"}});
  CHECK(parse_powerdns_txt_content(R"("say \"hi\" a\\b")") == TxtValue{{"say \"hi\" a\\b"}});
  CHECK(parse_powerdns_txt_content(R"("caf\195\169")") == TxtValue{{"caf\xc3\xa9"}});
  CHECK(parse_powerdns_txt_content("\"caf\xc3\xa9\"") == TxtValue{{"caf\xc3\xa9"}});
  CHECK(parse_powerdns_txt_content(R"("bs\x" "\12x")") == TxtValue{{"bsx", "12x"}});
  CHECK(parse_powerdns_txt_content("bare words") == TxtValue{{"bare", "words"}});
  CHECK(parse_powerdns_txt_content(R"("")") == TxtValue{{""}});
  // PowerDNS stores one long string as given and serves it split at 255 bytes.
  CHECK(parse_powerdns_txt_content("\"" + std::string(336, 'a') + "\"") ==
        TxtValue{{std::string(255, 'a'), std::string(81, 'a')}});

  CHECK_FALSE(parse_powerdns_txt_content(R"("unterminated)"));
  CHECK_FALSE(parse_powerdns_txt_content(R"("trailing\)"));
  CHECK_FALSE(parse_powerdns_txt_content(R"("\256")"));
  CHECK_FALSE(parse_powerdns_txt_content(""));
  CHECK_FALSE(parse_powerdns_txt_content("   "));
}

TEST_CASE("every byte survives powerdns TXT content both ways", "[providers][powerdns]") {
  std::string all;
  for (int c = 0; c < 256; ++c) all += static_cast<char>(c);
  const TxtValue value{{all.substr(0, 200), all.substr(200)}};
  const std::string content = powerdns_txt_content(value);
  for (unsigned char c : content) CHECK((c >= 0x20 && c < 0x7f));
  CHECK(parse_powerdns_txt_content(content) == value);
}

TEST_CASE("powerdns zone_for picks the longest served zone and lists zones once", "[providers][powerdns]") {
  Fake fake;
  auto provider = fake.provider();
  CHECK(provider.zone_for("example.com") == "example.com");
  CHECK(provider.zone_for("Mail.Example.COM.") == "example.com");
  CHECK(provider.zone_for("sub.example.com") == "sub.example.com");
  CHECK(provider.zone_for("_spf1.deep.sub.example.com") == "sub.example.com");
  CHECK(provider.zone_for("other.org") == "other.org");
  const std::string missing = error_text([&] { provider.zone_for("notexample.com"); });
  CHECK_THAT(missing, Catch::Contains("powerdns") && Catch::Contains("\"notexample.com\"") &&
                          Catch::Contains("pdnsutil create-zone"));
  const auto gets = fake.of("GET");
  REQUIRE(gets.size() == 1);
  CHECK(gets[0].path == k_zones_path);
  CHECK(gets[0].header("X-API-Key") == k_key);
}

TEST_CASE("powerdns list reads the enabled TXT records at each name with a filtered GET",
          "[providers][powerdns]") {
  Fake fake;
  auto provider = fake.provider();
  const auto sets = provider.list("example.com", {"example.com", "_spf1.example.com", "www.example.com"});
  REQUIRE(sets.size() == 2);
  CHECK(sets[0].name == "example.com");
  CHECK(sets[0].ttl == 3600);
  CHECK(sets[0].values == std::vector<TxtValue>{k_others[0], k_others[1], k_spf});
  CHECK(sets[0].ids.empty());
  CHECK(sets[1].name == "www.example.com");
  CHECK(sets[1].ttl == 300);

  const auto gets = fake.of("GET");
  REQUIRE(gets.size() == 4);  // the zone list, then one per name
  CHECK(gets[1].target == k_zones_path + "/example.com.?rrset_name=example.com.&rrset_type=TXT");
  CHECK(gets[2].target == k_zones_path + "/example.com.?rrset_name=_spf1.example.com.&rrset_type=TXT");
  for (const auto& get : gets) CHECK(get.header("X-API-Key") == k_key);
}

TEST_CASE("powerdns list keeps to the names asked for when the server ignores the filter",
          "[providers][powerdns]") {
  FakeHttpServer server;
  server.get(k_zones_path, [](const httplib::Request&, httplib::Response& res) {
    res.set_content(k_zone_list, "application/json");
  });
  server.get(k_zones_path + "/example.com.", [](const httplib::Request&, httplib::Response& res) {
    res.set_content(example_zone().dump(), "application/json");
  });
  server.start();
  PowerDnsProvider provider({server.base_url(), "localhost", k_key, "",
                             std::make_shared<spfctl::http::CurlHttpClient>(), std::nullopt});
  const auto sets = provider.list("example.com", {"EXAMPLE.com."});
  REQUIRE(sets.size() == 1);
  CHECK(sets[0].name == "example.com");
  CHECK(sets[0].values.size() == 3);  // the disabled record is not served, so not listed
  CHECK(provider.list("example.com", {"nothing.example.com"}).empty());
}

TEST_CASE("powerdns apply sends one PATCH per zone that keeps the other TXT values",
          "[providers][powerdns]") {
  Fake fake;
  auto provider = fake.provider();
  const TxtValue chained{{std::string(250, 'a'), "b -all"}};
  const TxtValue pointing{{"v=spf1 include:_spf1.example.com -all"}};
  provider.apply("example.com",
                 {Change{Change::Action::create, "_spf1.example.com", 600, std::nullopt, chained, {}},
                  Change{Change::Action::update, "example.com", 600, k_spf, pointing, k_others}});

  REQUIRE(fake.of("PATCH").size() == 1);
  const auto patch = fake.of("PATCH")[0];
  CHECK(patch.path == k_zones_path + "/example.com.");
  CHECK(patch.header("X-API-Key") == k_key);
  CHECK(patch.header("Content-Type") == "application/json");
  const json body = json::parse(patch.body);
  REQUIRE(body["rrsets"].size() == 2);
  // In change order: the chained record before the apex that points at it.
  CHECK(body["rrsets"][0]["name"] == "_spf1.example.com.");
  CHECK(body["rrsets"][1]["name"] == "example.com.");
  const json& chain = body["rrsets"][0];
  CHECK(chain["changetype"] == "REPLACE");
  CHECK(chain["type"] == "TXT");
  CHECK(chain["ttl"] == 600);
  CHECK(contents(chain, false) == std::vector<std::string>{"\"" + std::string(250, 'a') + "\" \"b -all\""});
  const json& apex = body["rrsets"][1];
  CHECK(apex["changetype"] == "REPLACE");
  CHECK(apex["ttl"] == 600);
  CHECK(contents(apex, false) == std::vector<std::string>{"\"google-site-verification=abc\"", "\"MS=ms1\"",
                                                          "\"v=spf1 include:_spf1.example.com -all\""});
  // Only the unfiltered zone GET shows disabled records; they are written back as they were.
  CHECK(contents(apex, true) == std::vector<std::string>{"\"old verification\""});
  const auto gets = fake.of("GET");
  REQUIRE(gets.size() == 2);
  CHECK(gets[1].target == k_zones_path + "/example.com.");
}

TEST_CASE("powerdns apply deletes an RRset only when no other value is left", "[providers][powerdns]") {
  Fake fake;
  fake.zone["rrsets"].push_back(
      txt_rrset("_spf1.example.com.", 3600, {{"\"v=spf1 ip4:198.51.100.0/24 -all\"", false}}));
  auto provider = fake.provider();
  provider.apply("example.com",
                 {Change{Change::Action::remove, "example.com", 3600, k_spf, std::nullopt, k_others},
                  Change{Change::Action::remove,
                         "_spf1.example.com",
                         3600,
                         TxtValue{{"v=spf1 ip4:198.51.100.0/24 -all"}},
                         std::nullopt,
                         {}}});
  REQUIRE(fake.of("PATCH").size() == 1);
  const json body = json::parse(fake.of("PATCH")[0].body);
  const json* apex = find_rrset(body, "example.com.");
  const json* chain = find_rrset(body, "_spf1.example.com.");
  REQUIRE(apex);
  REQUIRE(chain);
  CHECK((*apex)["changetype"] == "REPLACE");
  CHECK(contents(*apex, false) == std::vector<std::string>{"\"google-site-verification=abc\"", "\"MS=ms1\""});
  CHECK((*chain)["changetype"] == "DELETE");
  CHECK_FALSE(chain->contains("records"));
}

TEST_CASE("powerdns apply merges several changes at one name into one RRset", "[providers][powerdns]") {
  Fake fake;
  fake.zone["rrsets"][1]["records"].push_back({{"content", "\"v=spf1 mx -all\""}, {"disabled", false}});
  auto provider = fake.provider();
  const TxtValue replacement{{"v=spf1 a -all"}};
  provider.apply("example.com",
                 {Change{Change::Action::update, "example.com", 900, k_spf, replacement, k_others},
                  Change{Change::Action::remove, "example.com", 900, TxtValue{{"v=spf1 mx -all"}},
                         std::nullopt, k_others}});
  const json body = json::parse(fake.of("PATCH").at(0).body);
  REQUIRE(body["rrsets"].size() == 1);
  CHECK(contents(body["rrsets"][0], false) ==
        std::vector<std::string>{"\"google-site-verification=abc\"", "\"MS=ms1\"", "\"v=spf1 a -all\""});
}

TEST_CASE("powerdns apply refuses, sending nothing, when the zone changed since it was read",
          "[providers][powerdns]") {
  Fake fake;
  auto provider = fake.provider();
  const TxtValue other_spf{{"v=spf1 mx -all"}};
  SECTION("the value to replace is gone") {
    const std::string message = error_text([&] {
      provider.apply("example.com",
                     {Change{Change::Action::update, "example.com", 3600, other_spf, k_spf, k_others}});
    });
    CHECK_THAT(message, Catch::Contains("zone example.com") && Catch::Contains("\"v=spf1 mx -all\"") &&
                            Catch::Contains("no longer published") && Catch::Contains("nothing was applied"));
  }
  SECTION("a create finds another SPF value") {
    const std::string message = error_text([&] {
      provider.apply("example.com", {Change{Change::Action::create, "example.com", 3600, std::nullopt,
                                            other_spf, k_others}});
    });
    CHECK_THAT(message, Catch::Contains("already holds the SPF value") && Catch::Contains(k_spf.joined()));
  }
  SECTION("a name outside the zone") {
    const std::string message = error_text([&] {
      provider.apply("example.com",
                     {Change{Change::Action::create, "example.org", 3600, std::nullopt, other_spf, {}}});
    });
    CHECK_THAT(message, Catch::Contains("\"example.org\" is not in this zone"));
  }
  CHECK(fake.of("PATCH").empty());
}

TEST_CASE("powerdns apply with no changes sends nothing", "[providers][powerdns]") {
  Fake fake;
  auto provider = fake.provider();
  provider.apply("example.com", {});
  CHECK(fake.server.request_count() == 0);
}

TEST_CASE("powerdns errors name the zone and the API's message, never the key", "[providers][powerdns]") {
  Fake fake;
  auto provider = fake.provider();
  SECTION("a refused PATCH") {
    fake.patch_status = 422;
    fake.patch_body = json{{"error", "Record example.com./TXT: bad content (key " + k_key + ")"}}.dump();
    const std::string message = error_text([&] {
      provider.apply("example.com",
                     {Change{Change::Action::update, "example.com", 3600, k_spf, k_spf, k_others}});
    });
    CHECK_THAT(message,
               Catch::StartsWith("powerdns: zone example.com: none of the 1 change was applied: PATCH") &&
                   Catch::Contains("422") && Catch::Contains("bad content") && Catch::Contains("[redacted]"));
    CHECK_THAT(message, !Catch::Contains(k_key));
  }
  SECTION("a zone the server does not serve") {
    const std::string message = error_text([&] { provider.list("example.net", {"example.net"}); });
    CHECK_THAT(message, Catch::Contains("serves no zone \"example.net\""));
    CHECK_THAT(message, !Catch::Contains(k_key));
  }
  SECTION("a zone deleted after it was listed") {
    const std::string message = error_text([&] { provider.list("other.org", {"other.org"}); });
    CHECK_THAT(message, Catch::StartsWith("powerdns: zone other.org: GET") &&
                            Catch::Contains("/zones/=2Fodd.") && Catch::Contains("404") &&
                            Catch::Contains("Not Found"));
  }
}

TEST_CASE("powerdns authentication and connection failures say what to check", "[providers][powerdns]") {
  SECTION("401") {
    FakeHttpServer server;
    server.get(k_zones_path, [](const httplib::Request&, httplib::Response& res) {
      res.status = 401;
      res.set_content("Unauthorized", "text/plain");
    });
    server.start();
    PowerDnsProvider provider({server.base_url(), "localhost", k_key, "PDNS_API_KEY",
                               std::make_shared<spfctl::http::CurlHttpClient>(), std::nullopt});
    const std::string message = error_text([&] { provider.zone_for("example.com"); });
    CHECK_THAT(message, Catch::StartsWith("powerdns: GET") && Catch::Contains("401 unauthorized") &&
                            Catch::Contains("PDNS_API_KEY"));
    CHECK_THAT(message, !Catch::Contains(k_key));
  }
  SECTION("nothing listening") {
    PowerDnsProvider provider({"http://127.0.0.1:" + std::to_string(unused_port()), "localhost", k_key, "",
                               std::make_shared<spfctl::http::CurlHttpClient>(), std::nullopt});
    const std::string message = error_text([&] { provider.zone_for("example.com"); });
    CHECK_THAT(message, Catch::Contains("connection failed") && Catch::Contains("is pdns_server running"));
  }
  SECTION("an answer that is not JSON") {
    FakeHttpServer server;
    server.get(k_zones_path, [](const httplib::Request&, httplib::Response& res) {
      res.set_content("<html>a proxy</html>", "text/html");
    });
    server.start();
    PowerDnsProvider provider({server.base_url(), "localhost", k_key, "",
                               std::make_shared<spfctl::http::CurlHttpClient>(), std::nullopt});
    CHECK_THAT(error_text([&] { provider.zone_for("example.com"); }), Catch::Contains("not JSON"));
  }
}

TEST_CASE("make_powerdns reads its settings and the key from the named variable", "[providers][powerdns]") {
  Fake fake;
  ProviderEnvironment environment;
  std::string asked;
  environment.getenv = [&](const std::string& name) -> std::optional<std::string> {
    asked = name;
    if (name == "MY_PDNS_KEY") return k_key;
    return std::nullopt;
  };
  environment.http = std::make_shared<spfctl::http::CurlHttpClient>();
  auto provider = spfctl::providers::create_provider(
      provider_config({{"api_url", fake.server.base_url() + "/api/v1/"}, {"api_key_env", "MY_PDNS_KEY"}}),
      environment);
  CHECK(asked == "MY_PDNS_KEY");
  CHECK(provider->capabilities().batch);
  CHECK(provider->capabilities().replaces_rrset);
  CHECK(provider->capabilities().multi_string);
  CHECK(provider->capabilities().min_ttl == 1);
  CHECK(provider->zone_for("www.example.com") == "example.com");
  REQUIRE(fake.server.request_count() == 1);
  CHECK(fake.server.requests()[0].path == k_zones_path);
  CHECK(fake.server.requests()[0].header("X-API-Key") == k_key);
}

TEST_CASE("make_powerdns uses server_id in every URL", "[providers][powerdns]") {
  FakeHttpServer server;
  server.get("/api/v1/servers/ns-east/zones", [](const httplib::Request&, httplib::Response& res) {
    res.set_content(k_zone_list, "application/json");
  });
  server.start();
  ProviderEnvironment environment{[](const std::string&) -> std::optional<std::string> { return k_key; },
                                  std::make_shared<spfctl::http::CurlHttpClient>()};
  auto provider = spfctl::providers::create_provider(
      provider_config({{"api_url", server.base_url()}, {"server_id", "ns-east"}, {"api_key_env", "K"}}),
      environment);
  CHECK(provider->zone_for("example.com") == "example.com");
}

TEST_CASE("make_powerdns reports every bad setting with its place", "[providers][powerdns]") {
  ProviderEnvironment environment{[](const std::string&) -> std::optional<std::string> { return k_key; },
                                  nullptr};
  SECTION("missing settings and an unknown one") {
    try {
      spfctl::providers::create_provider(provider_config({{"api_ur", "http://127.0.0.1:8081"}}), environment);
      FAIL("no ConfigError");
    } catch (const spfctl::config::ConfigError& e) {
      const std::string text = e.what();
      CHECK_THAT(text,
                 Catch::Contains("spfctl.toml:4:7: unknown setting 'api_ur'") &&
                     Catch::Contains("did you mean 'api_url'") &&
                     Catch::Contains("spfctl.toml:3:1: [providers.pdns] (type powerdns) needs api_url") &&
                     Catch::Contains("needs api_key_env"));
      CHECK(e.diagnostics().size() == 3);
    }
  }
  SECTION("plain http to a remote host") {
    const std::string message = error_text([&] {
      spfctl::providers::create_provider(
          provider_config({{"api_url", "http://pdns.example.com:8081"}, {"api_key_env", "K"}}), environment);
    });
    CHECK_THAT(message, Catch::Contains("spfctl.toml:5:7: api_url in [providers.pdns]"));
  }
  SECTION("a timeout out of range or not a number") {
    for (const char* timeout : {"0", "301", "2s"}) {
      const std::string message = error_text([&] {
        spfctl::providers::create_provider(
            provider_config(
                {{"api_url", "https://pdns.example.com"}, {"api_key_env", "K"}, {"timeout", timeout}}),
            environment);
      });
      CHECK_THAT(message, Catch::Contains("spfctl.toml:6:7: timeout in [providers.pdns] must be a number of "
                                          "seconds above 0 and at most 300") &&
                              Catch::Contains("not '" + std::string(timeout) + "'"));
    }
    CHECK_NOTHROW(spfctl::providers::create_provider(
        provider_config({{"api_url", "https://pdns.example.com"}, {"api_key_env", "K"}, {"timeout", "7.5"}}),
        environment));
  }
  SECTION("a server_id that is not a name") {
    const std::string message = error_text([&] {
      spfctl::providers::create_provider(
          provider_config(
              {{"api_url", "https://pdns.example.com"}, {"api_key_env", "K"}, {"server_id", "a/b"}}),
          environment);
    });
    CHECK_THAT(message,
               Catch::Contains("spfctl.toml:6:7: server_id in [providers.pdns]") && Catch::Contains("'a/b'"));
  }
}

TEST_CASE("make_powerdns bounds each request by its timeout setting", "[providers][powerdns]") {
  using namespace std::chrono_literals;
  Fake fake;
  fake.patch_delay = 700ms;
  const ProviderEnvironment environment{
      [](const std::string&) -> std::optional<std::string> { return k_key; }, nullptr};
  const auto provider = [&](const std::string& timeout) {
    return spfctl::providers::create_provider(
        provider_config({{"api_url", fake.server.base_url()}, {"api_key_env", "K"}, {"timeout", timeout}}),
        environment);
  };
  const std::vector<Change> changes = {
      Change{Change::Action::update, "example.com", 600, k_spf, TxtValue{{"v=spf1 -all"}}, k_others}};
  // Each attempt ends at the timeout. The PATCH REPLACEs whole RRsets, so sending it again after a
  // timeout is safe: it is retried, and the apply fails once the attempts are spent.
  const std::string message = error_text([&] { provider("0.25")->apply("example.com", changes); });
  CHECK_THAT(message, Catch::Contains("attempts failed (an earlier one may have applied the changes)") &&
                          Catch::Contains("PATCH " + fake.server.base_url()) &&
                          Catch::Contains("failed: timeout"));
  const std::size_t attempts = fake.of("PATCH").size();
  CHECK(attempts > 1);
  CHECK_NOTHROW(provider("3")->apply("example.com", changes));
  CHECK(fake.of("PATCH").size() == attempts + 1);
}

TEST_CASE("make_powerdns names the key's variable when it is unset or empty, never a value",
          "[providers][powerdns]") {
  const auto config =
      provider_config({{"api_url", "http://127.0.0.1:8081"}, {"api_key_env", "PDNS_API_KEY"}});
  ProviderEnvironment unset{[](const std::string&) -> std::optional<std::string> { return std::nullopt; },
                            nullptr};
  CHECK_THAT(
      error_text([&] { spfctl::providers::create_provider(config, unset); }),
      Catch::Contains("spfctl.toml:4:7: the environment variable PDNS_API_KEY named by api_key_env in "
                      "[providers.pdns] is not set or empty: export it with the api-key set in pdns.conf"));
  ProviderEnvironment empty{[](const std::string&) -> std::optional<std::string> { return ""; }, nullptr};
  CHECK_THAT(error_text([&] { spfctl::providers::create_provider(config, empty); }),
             Catch::Contains("PDNS_API_KEY") && Catch::Contains("is not set or empty"));
}
