// The provider API fakes' request hook and journal of published TXT states (tests/support/
// api_fake.hpp), checked with plain HTTP requests: apply's fault tests rely on the journal holding
// exactly what receivers could have seen, and on the hook seeing each request before it is served.
#include <httplib.h>

#include <atomic>
#include <catch2/catch.hpp>
#include <mutex>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "tests/support/cloudflare_fake.hpp"
#include "tests/support/godaddy_fake.hpp"
#include "tests/support/spf_state_check.hpp"

using spfctl::testing::ApiFault;
using spfctl::testing::CloudflareFake;
using spfctl::testing::GoDaddyFake;
using spfctl::testing::published_state_problems;
using spfctl::testing::TxtState;
using json = nlohmann::json;

namespace {

struct CloudflareClient {
  CloudflareFake& fake;
  httplib::Client http{fake.server().base_url()};
  std::string records;

  CloudflareClient(CloudflareFake& f, const std::string& zone_id)
      : fake(f), records("/client/v4/zones/" + zone_id + "/dns_records") {
    http.set_bearer_token_auth(fake.token());
  }

  int post(const std::string& path, const json& body) {
    auto res = http.Post(path.c_str(), body.dump(), "application/json");
    return res ? res->status : -1;
  }
  int del(const std::string& path) {
    auto res = http.Delete(path.c_str());
    return res ? res->status : -1;
  }
};

}  // namespace

TEST_CASE("cloudflare fake: the journal has one state per write, one per batch, none per refusal",
          "[cloudflare][fake]") {
  CloudflareFake fake;
  const std::string zone_id = fake.add_zone("example.com");
  const std::string other = fake.add_record("example.com", "example.com", "\"google-site-verification=abc\"");
  const std::string apex = fake.add_record("example.com", "example.com", "v=spf1 -all");
  CHECK(fake.txt_history("example.com").empty());  // setup is not a publication
  CHECK(fake.txt_now("example.com") ==
        TxtState{{"example.com", {"google-site-verification=abc", "v=spf1 -all"}}});

  CloudflareClient client(fake, zone_id);
  // Quoted character-strings are read joined, with their escapes undone.
  REQUIRE(client.post(client.records, {{"type", "TXT"},
                                       {"name", "_SPF1"},
                                       {"content", "\"v=spf1 ip4:192.0.2.1\" \" \\\"x\\\" \\065 -all\""},
                                       {"ttl", 1}}) == 200);
  auto history = fake.txt_history("example.com");
  REQUIRE(history.size() == 1);
  CHECK(history[0].at("_spf1.example.com") == std::vector<std::string>{"v=spf1 ip4:192.0.2.1 \"x\" A -all"});
  CHECK(history[0].at("example.com").size() == 2);

  // A batch is one state, whatever it holds.
  const std::string chain = fake.records("example.com", "_spf1.example.com").at(0).id;
  REQUIRE(client.post(
              client.records + "/batch",
              {{"deletes", {{{"id", apex}}, {{"id", chain}}}},
               {"posts",
                {{{"type", "TXT"}, {"name", "@"}, {"content", "\"v=spf1 a mx -all\""}, {"ttl", 1}},
                 {{"type", "TXT"}, {"name", "_spf2"}, {"content", "\"v=spf1 -all\""}, {"ttl", 1}}}}}) == 200);
  history = fake.txt_history("example.com");
  REQUIRE(history.size() == 2);
  const TxtState after_batch = {{"example.com", {"google-site-verification=abc", "v=spf1 a mx -all"}},
                                {"_spf2.example.com", {"v=spf1 -all"}}};
  CHECK(history[1] == after_batch);
  CHECK(fake.txt_now("example.com") == after_batch);

  // Refused: a batch with a missing record, a write answered by an injected fault, a bad token.
  CHECK(client.post(client.records + "/batch", {{"deletes", {{{"id", other}}, {{"id", "nope"}}}}}) == 404);
  fake.inject(ApiFault::answer(500).on_writes());
  CHECK(client.del(client.records + "/" + other) == 500);
  httplib::Client anonymous(fake.server().base_url());
  auto refused = anonymous.Delete((client.records + "/" + other).c_str());
  REQUIRE(refused);
  CHECK(refused->status == 403);
  CHECK(fake.txt_history("example.com").size() == 2);
  CHECK(fake.txt_now("example.com") == after_batch);

  // A carried-out fault: the write happens though the answer says it failed.
  fake.inject(ApiFault::answer(502).on_writes().carried_out());
  CHECK(client.del(client.records + "/" + other) == 502);
  history = fake.txt_history("example.com");
  REQUIRE(history.size() == 3);
  CHECK(history[2] ==
        TxtState{{"example.com", {"v=spf1 a mx -all"}}, {"_spf2.example.com", {"v=spf1 -all"}}});
  for (const auto& state : history) CHECK(published_state_problems(state, "example.com").empty());
  CHECK(fake.txt_history("example.org").empty());
}

TEST_CASE("cloudflare fake: on_request sees every request first and may call the fake",
          "[cloudflare][fake]") {
  CloudflareFake fake;
  const std::string zone_id = fake.add_zone("example.com");
  std::mutex mutex;
  std::vector<std::string> seen;
  std::vector<std::size_t> history_sizes;  // the journal as the hook found it
  fake.on_request([&](const httplib::Request& req) {
    std::lock_guard lock(mutex);
    seen.push_back(req.method + " " + req.path);
    history_sizes.push_back(fake.txt_history("example.com").size());
  });
  CloudflareClient client(fake, zone_id);
  fake.inject(ApiFault::answer(429));
  CHECK(client.http.Get("/client/v4/zones?name=example.com")->status == 429);
  CHECK(client.post(client.records,
                    {{"type", "TXT"}, {"name", "@"}, {"content", "v=spf1 -all"}, {"ttl", 1}}) == 200);
  httplib::Client anonymous(fake.server().base_url());
  CHECK(anonymous.Get(client.records.c_str())->status == 403);
  {
    std::lock_guard lock(mutex);
    CHECK(seen == std::vector<std::string>{"GET /client/v4/zones", "POST " + client.records,
                                           "GET " + client.records});
    CHECK(history_sizes == std::vector<std::size_t>{0, 0, 1});
  }

  fake.on_request(nullptr);
  CHECK(client.http.Get(client.records.c_str())->status == 200);
  std::lock_guard lock(mutex);
  CHECK(seen.size() == 3);
}

TEST_CASE("godaddy fake: the journal has one state per PUT or DELETE carried out", "[godaddy][fake]") {
  GoDaddyFake fake;
  fake.add_domain("example.com");
  fake.add_record("example.com", "@", "v=spf1 include:_spf1.example.com -all");
  fake.add_record("example.com", "_spf1", "v=spf1 ip4:192.0.2.1 -all");
  fake.add_record("example.com", "@", "mail.example.com", 3600, "MX");
  CHECK(fake.txt_history("example.com").empty());
  CHECK(fake.txt_now("example.com") == TxtState{{"example.com", {"v=spf1 include:_spf1.example.com -all"}},
                                                {"_spf1.example.com", {"v=spf1 ip4:192.0.2.1 -all"}}});

  std::atomic<int> hooked{0};
  fake.on_request([&](const httplib::Request&) { ++hooked; });
  httplib::Client http(fake.api_url());
  http.set_default_headers({{"Authorization", "sso-key " + fake.key() + ":" + fake.secret()}});
  const auto put = [&](const std::string& name, const json& body) {
    auto res =
        http.Put(("/v1/domains/example.com/records/TXT/" + name).c_str(), body.dump(), "application/json");
    return res ? res->status : -1;
  };

  // Chained record first, then the apex, then the old chained record goes: three states, each valid.
  CHECK(put("_spf2", {{{"data", "v=spf1 ip4:192.0.2.2 -all"}, {"ttl", 600}}}) == 200);
  CHECK(put("@", {{{"data", "v=spf1 include:_spf2.example.com -all"}, {"ttl", 600}}}) == 200);
  // Refused (TTL too low) and faulted writes publish nothing.
  CHECK(put("@", {{{"data", "v=spf1 -all"}, {"ttl", 60}}}) == 422);
  fake.inject(ApiFault::answer(503).on_writes());
  CHECK(put("@", {{{"data", "v=spf1 -all"}, {"ttl", 600}}}) == 503);
  auto removed = http.Delete("/v1/domains/example.com/records/TXT/_spf1");
  REQUIRE(removed);
  CHECK(removed->status == 204);

  const auto history = fake.txt_history("example.com");
  REQUIRE(history.size() == 3);
  CHECK(history[0].at("_spf2.example.com") == std::vector<std::string>{"v=spf1 ip4:192.0.2.2 -all"});
  CHECK(history[1].at("example.com") == std::vector<std::string>{"v=spf1 include:_spf2.example.com -all"});
  CHECK(history[2] == TxtState{{"example.com", {"v=spf1 include:_spf2.example.com -all"}},
                               {"_spf2.example.com", {"v=spf1 ip4:192.0.2.2 -all"}}});
  CHECK(history[2] == fake.txt_now("example.com"));
  for (const auto& state : history) CHECK(published_state_problems(state, "example.com").empty());
  CHECK(hooked.load() == 5);

  // Deleting the chained record while the apex still names it is what the check is for.
  fake.inject(ApiFault::answer(500).carried_out());
  CHECK(http.Delete("/v1/domains/example.com/records/TXT/_spf2")->status == 500);
  CHECK(fake.txt_history("example.com").size() == 4);
  CHECK_THAT(published_state_problems(fake.txt_now("example.com"), "example.com").at(0),
             Catch::Matchers::Contains("no SPF record at _spf2.example.com"));
}
