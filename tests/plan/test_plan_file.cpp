#include <unistd.h>

#include <catch2/catch.hpp>
#include <filesystem>
#include <nlohmann/json.hpp>

#include "error.hpp"
#include "plan/plan_file.hpp"

using namespace spfctl::plan;
using nlohmann::json;
using spfctl::Error;
using spfctl::publish::Change;
using spfctl::publish::TxtValue;

namespace {

Plan sample_plan() {
  Plan plan;
  plan.config_sha256 = sha256_hex("config");
  plan.created = "2026-11-02T10:00:00Z";

  PlannedDomain shop;
  shop.domain = "example-shop.com";
  shop.provider = "local-zones";
  shop.zone = "example-shop.com";
  shop.lookups = 6;
  shop.void_lookups = 0;
  shop.lookups_unflattened = 6;
  shop.equivalent = true;
  shop.notes = {"kept every include"};
  Change update;
  update.action = Change::Action::update;
  update.name = "example-shop.com";
  update.ttl = 3600;
  update.before = TxtValue{{"v=spf1 include:secureserver.net ~all"}};
  update.after = TxtValue{{"v=spf1 " + std::string(243, 'a') + " ", "include:servers.mcsv.net -all"}};
  update.others = {TxtValue{{"google-site-verification=x"}}, TxtValue{{"two", "strings"}}};
  Change create;
  create.action = Change::Action::create;
  create.name = "_spf1.example-shop.com";
  create.ttl = 300;
  create.after = TxtValue{{"v=spf1 ip4:192.0.2.0/24"}};
  Change remove;
  remove.action = Change::Action::remove;
  remove.name = "_spf2.example-shop.com";
  remove.ttl = 3600;
  remove.before = TxtValue{{"v=spf1 ip4:198.51.100.0/24"}};
  shop.changes = {create, update, remove};
  shop.records = {{"example-shop.com", {"v=spf1 include:_spf1.example-shop.com -all"}},
                  {"_spf1.example-shop.com", {"v=spf1 ip4:192.0.2.0/24"}}};

  PlannedDomain agency;
  agency.domain = "example-agency.net";
  agency.provider = "local-zones";
  agency.zone = "example-agency.net";
  agency.lookups = 8;
  agency.lookups_unflattened = 14;
  agency.equivalent = true;
  agency.flattened = {"include:sendgrid.net", "include:mailgun.org"};

  PlannedDomain broken;
  broken.domain = "example.org";
  broken.provider = "godaddy";
  broken.error = "provider 'godaddy' has type 'godaddy', which this build of spfctl cannot publish to";

  plan.domains = {shop, agency, broken};
  return plan;
}

std::string parse_error(const json& document) {
  try {
    parse_plan(document.dump(), "plan.json");
  } catch (const Error& e) {
    return e.what();
  }
  return "(no error)";
}

json sample_json() {
  return json::parse(to_json_text(sample_plan()));
}

}  // namespace

TEST_CASE("plan JSON has the documented shape", "[plan][plan_file]") {
  const json document = sample_json();
  CHECK(document["format"] == "spfctl-plan/1");
  CHECK(document["config_sha256"] == sha256_hex("config"));
  CHECK(document["created"] == "2026-11-02T10:00:00Z");
  const json& shop = document["domains"][0];
  CHECK(shop["domain"] == "example-shop.com");
  CHECK(shop["provider"] == "local-zones");
  CHECK(shop["zone"] == "example-shop.com");
  CHECK(shop["status"] == "changes");
  CHECK_FALSE(shop.contains("error"));
  CHECK(shop["lookups"] == 6);
  CHECK(shop["void_lookups"] == 0);
  CHECK(shop["equivalent"] == true);
  const json& update = shop["changes"][1];
  CHECK(update["action"] == "update");
  CHECK(update["type"] == "TXT");
  CHECK(update["ttl"] == 3600);
  CHECK(update["before"] == "v=spf1 include:secureserver.net ~all");
  CHECK(update["after"] == "v=spf1 " + std::string(243, 'a') + " include:servers.mcsv.net -all");
  CHECK(update["after_strings"].size() == 2);
  CHECK(update["others"][1] == json::array({"two", "strings"}));
  CHECK_FALSE(shop["changes"][0].contains("before"));
  CHECK(shop["changes"][2]["action"] == "delete");
  CHECK_FALSE(shop["changes"][2].contains("after"));
  CHECK(document["domains"][1]["status"] == "in-sync");
  CHECK(document["domains"][1]["flattened"][0] == "include:sendgrid.net");
  CHECK(document["domains"][2]["status"] == "error");
  CHECK(document["domains"][2]["error"].get<std::string>().starts_with("provider 'godaddy'"));
}

TEST_CASE("a plan reads back exactly as it was written", "[plan][plan_file]") {
  const Plan original = sample_plan();
  const auto path =
      std::filesystem::temp_directory_path() / ("spfctl-test-plan-" + std::to_string(getpid()) + ".json");
  write_plan_file(path, original);
  const Plan read = read_plan_file(path);
  std::filesystem::remove(path);
  CHECK(read.config_sha256 == original.config_sha256);
  CHECK(read.created == original.created);
  REQUIRE(read.domains.size() == original.domains.size());
  for (std::size_t i = 0; i < read.domains.size(); ++i) {
    const PlannedDomain& a = read.domains[i];
    const PlannedDomain& b = original.domains[i];
    CHECK(a.domain == b.domain);
    CHECK(a.provider == b.provider);
    CHECK(a.zone == b.zone);
    CHECK(a.error == b.error);
    CHECK(a.status() == b.status());
    CHECK(a.lookups == b.lookups);
    CHECK(a.lookups_unflattened == b.lookups_unflattened);
    CHECK(a.equivalent == b.equivalent);
    CHECK(a.flattened == b.flattened);
    CHECK(a.notes == b.notes);
    CHECK(a.records == b.records);
    REQUIRE(a.changes.size() == b.changes.size());
    for (std::size_t j = 0; j < a.changes.size(); ++j) {
      CHECK(a.changes[j].action == b.changes[j].action);
      CHECK(a.changes[j].name == b.changes[j].name);
      CHECK(a.changes[j].ttl == b.changes[j].ttl);
      CHECK(a.changes[j].before == b.changes[j].before);
      CHECK(a.changes[j].after == b.changes[j].after);
      CHECK(a.changes[j].others == b.changes[j].others);
    }
  }
}

TEST_CASE("reading a plan reports the first wrong field with its place", "[plan][plan_file]") {
  CHECK_THROWS_WITH(parse_plan("{", "plan.json"), Catch::StartsWith("plan.json: not valid JSON"));
  CHECK_THROWS_WITH(parse_plan("{\"format\": 1e400}", "plan.json"),
                    Catch::StartsWith("plan.json: not valid JSON"));
  CHECK(parse_error(json::array()) == "plan.json: not a spfctl plan (expected a JSON object)");
  CHECK(parse_error({{"domains", json::array()}}) ==
        "plan.json: not a spfctl plan (no \"format\"; make one with 'spfctl plan --out FILE')");

  json doc = sample_json();
  doc["format"] = "spfctl-plan/9";
  CHECK(parse_error(doc) ==
        "plan.json: plan format 'spfctl-plan/9' is not one this spfctl reads (expected 'spfctl-plan/1'; make "
        "the "
        "plan again with this version)");

  doc = sample_json();
  doc["config_sha256"] = "abc";
  CHECK(parse_error(doc) == "plan.json: config_sha256: expected 64 lowercase hex digits, got 'abc'");

  doc = sample_json();
  doc["domains"][0].erase("zone");
  CHECK(parse_error(doc) == "plan.json: domains[0]: \"zone\" is missing");

  doc = sample_json();
  doc["domains"][0]["status"] = "in-sync";
  CHECK(parse_error(doc) == "plan.json: domains[0].status: is \"in-sync\" but the domain has changes");

  doc = sample_json();
  doc["domains"][2].erase("error");
  CHECK(parse_error(doc) == "plan.json: domains[2]: status \"error\" needs a non-empty \"error\"");

  doc = sample_json();
  doc["domains"][0]["changes"][1].erase("before");
  doc["domains"][0]["changes"][1].erase("before_strings");
  CHECK(parse_error(doc) ==
        "plan.json: domains[0].changes[1]: an update needs \"before\", the value it replaces");

  doc = sample_json();
  doc["domains"][0]["changes"][0]["action"] = "upsert";
  CHECK(parse_error(doc) ==
        "plan.json: domains[0].changes[0].action: 'upsert' is not create, update or delete");

  doc = sample_json();
  doc["domains"][0]["changes"][0]["type"] = "SPF";
  CHECK(parse_error(doc) == "plan.json: domains[0].changes[0].type: 'SPF' (spfctl plans TXT records only)");

  doc = sample_json();
  doc["domains"][0]["changes"][1]["after_strings"][1] = "include:other.example -all";
  CHECK(parse_error(doc) == "plan.json: domains[0].changes[1].after_strings: does not join to \"after\"");

  doc = sample_json();
  doc["domains"][0]["changes"][2]["ttl"] = -1;
  CHECK(parse_error(doc) == "plan.json: domains[0].changes[2].ttl: expected 0 to 2147483647, got -1");

  doc = sample_json();
  doc["domains"][0]["changes"][2]["after"] = "v=spf1 -all";
  CHECK(parse_error(doc) == "plan.json: domains[0].changes[2]: a delete has no \"after\"");
  doc = sample_json();
  doc["domains"][0]["changes"][1]["after"] = "google-site-verification=x";
  doc["domains"][0]["changes"][1].erase("after_strings");
  CHECK(
      parse_error(doc) ==
      "plan.json: domains[0].changes[1].after: is not an SPF record (spfctl only changes TXT values starting "
      "\"v=spf1\")");

  doc = sample_json();
  doc["domains"][0]["equivalent"] = false;
  CHECK(parse_error(doc) ==
        "plan.json: domains[0].equivalent: is false: a plan with changes must have passed the equivalence "
        "proof");
}

TEST_CASE("SHA-256 and timestamps", "[plan][plan_file]") {
  CHECK(sha256_hex("abc") == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  CHECK(sha256_hex("") == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  CHECK(utc_timestamp(std::chrono::system_clock::time_point{}) == "1970-01-01T00:00:00Z");
  CHECK(utc_timestamp(std::chrono::system_clock::time_point{std::chrono::seconds{1793613600}}) ==
        "2026-11-02T10:00:00Z");
}
