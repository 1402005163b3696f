// Answers of the wrong shape from each HTTP adapter's API, through the HTTP client seam: every one
// is an spfctl::Error naming the provider, the zone or request, and the field, never a JSON
// library exception (which would end the whole run as an internal error).
#include <catch2/catch.hpp>
#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "error.hpp"
#include "http/client.hpp"
#include "http/rate_limiter.hpp"
#include "providers/cloudflare.hpp"
#include "providers/godaddy.hpp"
#include "providers/powerdns.hpp"
#include "providers/registry.hpp"
#include "tests/support/provider_testing.hpp"

using namespace spfctl;
using Catch::Contains;
using std::chrono::milliseconds;

namespace {

// Answers requests with the given bodies in turn (status 200), the last one for every request after.
class ScriptedClient : public http::HttpClient {
 public:
  explicit ScriptedClient(std::vector<std::string> bodies) : m_bodies(std::move(bodies)) {}
  http::Response send(const http::Request&) override {
    http::Response response;
    response.status = 200;
    response.body = m_bodies[std::min(m_sent++, m_bodies.size() - 1)];
    return response;
  }

 private:
  std::vector<std::string> m_bodies;
  std::size_t m_sent = 0;
};

providers::ProviderEnvironment environment(std::vector<std::string> bodies) {
  providers::ProviderEnvironment out;
  out.getenv = [](const std::string&) -> std::optional<std::string> { return "secret-value"; };
  out.http = std::make_shared<ScriptedClient>(std::move(bodies));
  out.sleep = [](milliseconds) {};
  out.rate_limiter = std::make_shared<http::RateLimiter>(http::RateLimit{1000, milliseconds(1)});
  return out;
}

std::unique_ptr<providers::Provider> cloudflare(std::vector<std::string> bodies) {
  return providers::create_provider(testing::provider_config("cf", "cloudflare", {{"token_env", "T"}}),
                                    environment(std::move(bodies)));
}

std::unique_ptr<providers::Provider> godaddy(std::vector<std::string> bodies) {
  return providers::create_provider(
      testing::provider_config("gd", "godaddy", {{"key_env", "K"}, {"secret_env", "S"}}),
      environment(std::move(bodies)));
}

std::unique_ptr<providers::Provider> powerdns(std::vector<std::string> bodies) {
  return providers::create_provider(
      testing::provider_config("pdns", "powerdns", {{"api_url", "http://127.0.0.1:1"}, {"api_key_env", "P"}}),
      environment(std::move(bodies)));
}

const std::string k_zone_list = R"({"success":true,"result":[{"name":"example.com","id":"z1"}]})";

// The records answer of Cloudflare with `entry` as its one record.
std::string cloudflare_records(const std::string& entry, const std::string& info = "") {
  return R"({"success":true,"result":[)" + entry + "]" + info + "}";
}

}  // namespace

TEST_CASE("cloudflare: answers of the wrong shape are errors naming the field", "[providers][malformed]") {
  CHECK_THROWS_MATCHES(
      cloudflare({R"({"success":"yes","result":[]})"})->zone_for("example.com"), Error,
      Catch::Matchers::Message(
          "cloudflare provider 'cf': finding the zone of example.com: the answer has success as a "
          "string where true or false belongs; the API answered in a shape spfctl does not "
          "know, so nothing was done for this zone"));
  CHECK_THROWS_WITH(
      cloudflare({R"({"success":true,"result":[{"name":7,"id":"z"}]})"})->zone_for("example.com"),
      Contains("result[0].name as a number where a string belongs"));
  CHECK_THROWS_WITH(
      cloudflare({R"({"success":true,"result":{"name":"x"}})"})->zone_for("example.com"),
      Contains("cloudflare provider 'cf'") && Contains("result as an object where an array belongs"));

  auto list = [](const std::string& records) {
    return cloudflare({k_zone_list, records})->list("example.com", {"example.com"});
  };
  const std::string record = R"("type":"TXT","name":"example.com","id":"r1","content":"\"v=spf1 -all\"")";
  CHECK_NOTHROW(list(cloudflare_records("{" + record + R"(,"ttl":300})")));
  CHECK_THROWS_WITH(list(cloudflare_records("{" + record + R"(,"ttl":"300"})")),
                    Contains("zone example.com: reading the TXT records at example.com: the answer has "
                             "result[0].ttl as a string where a whole number from 1 to 2147483647 belongs"));
  CHECK_THROWS_WITH(list(cloudflare_records("{" + record + R"(,"ttl":1e30})")),
                    Contains("result[0].ttl as 1e+30 where a whole number from 1 to 2147483647 belongs"));
  CHECK_THROWS_WITH(
      list(cloudflare_records("{" + record + R"(,"ttl":300})", R"(,"result_info":{"total_pages":1e30})")),
      Contains("result_info.total_pages as 1e+30 where a whole number"));
  CHECK_THROWS_WITH(list(cloudflare_records(R"({"type":"TXT","name":"example.com","id":"r1","content":5})")),
                    Contains("result[0].content as a number where a string belongs"));
  CHECK_THROWS_WITH(list(cloudflare_records("[1]")), Contains("result[0] as something other than a record"));
  CHECK_THROWS_WITH(
      list(R"({"success":true,"result":[{"type":"TXT","name":"example.com","id":"r1","content":"x",)"
           R"("ttl":1e400}]})"),
      Contains("cloudflare provider 'cf'"));
}

TEST_CASE("godaddy: answers of the wrong shape are errors naming the field", "[providers][malformed]") {
  auto list = [](const std::string& records) {
    return godaddy({records})->list("example.com", {"example.com"});
  };
  CHECK_NOTHROW(list(R"([{"type":"TXT","name":"@","data":"v=spf1 -all","ttl":600}])"));
  CHECK_THROWS_WITH(list(R"([{"type":"TXT","name":"@","data":42,"ttl":600}])"),
                    Contains("godaddy provider 'gd': domain example.com") &&
                        Contains("the answer has [0].data as a number where a string belongs"));
  CHECK_THROWS_WITH(list(R"([{"type":"TXT","name":"@","data":"v=spf1 -all","ttl":-5}])"),
                    Contains("[0].ttl as -5 where a whole number from 0 to 2147483647 belongs"));
  CHECK_THROWS_WITH(list(R"([{"type":["TXT"],"data":"x"}])"),
                    Contains("[0].type as an array where a string belongs"));
  CHECK_THROWS_WITH(list(R"(["TXT"])"), Contains("[0] as something other than a record"));
}

TEST_CASE("powerdns: answers of the wrong shape are errors naming the field", "[providers][malformed]") {
  const std::string zones = R"([{"name":"example.com.","id":"example.com."}])";
  auto list = [&](const std::string& zone) {
    return powerdns({zones, zone})->list("example.com", {"example.com"});
  };
  CHECK_NOTHROW(list(R"({"rrsets":[{"type":"TXT","name":"example.com.","ttl":300,)"
                     R"("records":[{"content":"\"v=spf1 -all\"","disabled":false}]}]})"));
  CHECK_THROWS_WITH(list(R"({"rrsets":[1]})"),
                    Contains("powerdns") && Contains("rrsets[0] as something other than an RRset"));
  CHECK_THROWS_WITH(list(R"({"rrsets":[{"type":"TXT","name":"example.com.","ttl":"300","records":[]}]})"),
                    Contains("rrsets[0].ttl as a string where a whole number from 0 to 2147483647 belongs"));
  CHECK_THROWS_WITH(
      list(R"({"rrsets":[{"type":"TXT","name":"example.com.","ttl":300,"records":[{"content":"x",)"
           R"("disabled":"no"}]}]})"),
      Contains("rrsets[0].records[0].disabled as a string where true or false belongs"));
  CHECK_THROWS_WITH(powerdns({R"([{"name":7,"id":"x"}])"})->zone_for("example.com"),
                    Contains("listing zones: the answer has [0].name as a number where a string belongs"));
  CHECK_THROWS_WITH(powerdns({R"([{"name":"example.com.","id":["x"]}])"})->zone_for("example.com"),
                    Contains("[0].id as an array where a string belongs"));
}
