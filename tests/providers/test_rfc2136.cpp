// The RFC 2136 provider without a server: settings validation, the UPDATE messages built from
// changes, TSIG signatures checked against libldns's own implementation, and response decoding.
#include <catch2/catch.hpp>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <sstream>
#include <string>

#include "config/config.hpp"
#include "error.hpp"
#include "providers/registry.hpp"
#include "providers/rfc2136.hpp"
#include "providers/rfc2136_message.hpp"

// libldns's common.h defines `bool`, `true` and `false` as macros unless stdbool.h came first.
// clang-format off
#include <stdbool.h>
#include <ldns/ldns.h>
// clang-format on

using namespace spfctl::providers;
using rfc2136::Bytes;
using rfc2136::RrClass;
using rfc2136::UpdateRecord;

namespace {

const std::string k_secret = "c3BmY3RsLXVuaXQtdGVzdC1rZXktMDEyMzQ1Njc4OWFiY2RlZg==";

struct Table {
  std::map<std::string, std::string> settings;
  std::map<std::string, std::string> environment;
};

spfctl::config::ProviderConfig provider_config(const Table& table) {
  spfctl::config::ProviderConfig config;
  config.name = "primary";
  config.type = "rfc2136";
  config.location = {"spfctl.toml", 7, 1};
  std::uint32_t line = 8;
  for (const auto& [key, value] : table.settings) config.settings[key] = {value, {"spfctl.toml", line++, 9}};
  return config;
}

Rfc2136Settings parse(const Table& table) {
  const spfctl::providers::ProviderType& type = *spfctl::providers::find_provider_type("rfc2136");
  return rfc2136_settings(read_settings(provider_config(table), type.settings, type.check),
                          {.getenv = [&](const std::string& name) -> std::optional<std::string> {
                            const auto it = table.environment.find(name);
                            if (it == table.environment.end()) return std::nullopt;
                            return it->second;
                          }});
}

// The message of the ConfigError that parsing `table` throws.
std::string parse_error(const Table& table) {
  try {
    parse(table);
  } catch (const spfctl::Error& e) {
    return e.what();
  }
  return "(no error)";
}

Table keyed() {
  return {{{"server", "192.0.2.53"}, {"key_name", "spfctl-key"}, {"key_secret_env", "TSIG_SECRET"}},
          {{"TSIG_SECRET", k_secret}}};
}

struct PktFree {
  void operator()(ldns_pkt* p) const { ldns_pkt_free(p); }
};
using Pkt = std::unique_ptr<ldns_pkt, PktFree>;

Pkt parse_wire(const Bytes& wire) {
  ldns_pkt* pkt = nullptr;
  REQUIRE(ldns_wire2pkt(&pkt, wire.data(), wire.size()) == LDNS_STATUS_OK);
  return Pkt(pkt);
}

std::string rdf_text(const ldns_rdf* rdf) {
  char* text = ldns_rdf2str(rdf);
  std::string out = text ? text : "";
  free(text);
  return out;
}

// The TXT records of an ldns RR list as UpdateRecords, to compare with what was built.
std::vector<UpdateRecord> records_of(const ldns_rr_list* list) {
  std::vector<UpdateRecord> out;
  for (std::size_t i = 0; i < ldns_rr_list_rr_count(list); ++i) {
    const ldns_rr* rr = ldns_rr_list_rr(list, i);
    REQUIRE(ldns_rr_get_type(rr) == LDNS_RR_TYPE_TXT);
    UpdateRecord record{spfctl::dns::normalize_name(rdf_text(ldns_rr_owner(rr))),
                        static_cast<RrClass>(ldns_rr_get_class(rr)), ldns_rr_ttl(rr), std::nullopt};
    if (ldns_rr_rd_count(rr) > 0) {
      record.value = TxtValue{};
      for (std::size_t j = 0; j < ldns_rr_rd_count(rr); ++j) {
        const ldns_rdf* rdf = ldns_rr_rdf(rr, j);
        const auto* data = ldns_rdf_data(rdf);
        REQUIRE(data[0] + 1u == ldns_rdf_size(rdf));
        record.value->strings.emplace_back(reinterpret_cast<const char*>(data) + 1, data[0]);
      }
    }
    out.push_back(std::move(record));
  }
  return out;
}

const std::vector<TxtValue> k_others = {{{"google-site-verification=abc"}}, {{"MS=ms1"}}};

rfc2136::TsigKey test_key(const std::string& algorithm = "hmac-sha256") {
  return {"spfctl-key", algorithm, *rfc2136::decode_base64(k_secret)};
}

// ldns's name for an algorithm, as ldns_pkt_tsig_sign takes it.
std::string ldns_algorithm(const std::string& algorithm) {
  return algorithm == "hmac-md5" ? "hmac-md5.sig-alg.reg.int." : algorithm + ".";
}

ldns_rdf* mac_rdf(const Bytes& mac) {
  Bytes data{static_cast<std::uint8_t>(mac.size() >> 8), static_cast<std::uint8_t>(mac.size() & 0xff)};
  data.insert(data.end(), mac.begin(), mac.end());
  return ldns_rdf_new_frm_data(LDNS_RDF_TYPE_INT16_DATA, data.size(), data.data());
}

// A response to `request_id` signed by libldns with `algorithm` over `request_mac`, as a server would.
Bytes ldns_signed_response(std::uint16_t request_id, const Bytes& request_mac, const std::string& secret,
                           const std::string& algorithm = "hmac-sha256") {
  Pkt pkt(ldns_pkt_query_new(ldns_dname_new_frm_str("example.com."), LDNS_RR_TYPE_TXT, LDNS_RR_CLASS_IN, 0));
  ldns_pkt_set_id(pkt.get(), request_id);
  ldns_pkt_set_qr(pkt.get(), true);
  ldns_pkt_set_aa(pkt.get(), true);
  ldns_rr* rr = nullptr;
  REQUIRE(ldns_rr_new_frm_str(&rr, "example.com. 300 IN TXT \"v=spf1 -all\"", 0, nullptr, nullptr) ==
          LDNS_STATUS_OK);
  ldns_pkt_push_rr(pkt.get(), LDNS_SECTION_ANSWER, rr);
  ldns_rdf* mac = mac_rdf(request_mac);
  REQUIRE(ldns_pkt_tsig_sign(pkt.get(), "spfctl-key.", secret.c_str(), 300, ldns_algorithm(algorithm).c_str(),
                             mac) == LDNS_STATUS_OK);
  ldns_rdf_deep_free(mac);
  std::uint8_t* wire = nullptr;
  std::size_t size = 0;
  REQUIRE(ldns_pkt2wire(&wire, pkt.get(), &size) == LDNS_STATUS_OK);
  Bytes out(wire, wire + size);
  free(wire);
  return out;
}

std::uint64_t now() {
  return static_cast<std::uint64_t>(std::time(nullptr));
}

}  // namespace

TEST_CASE("rfc2136 settings: a complete table", "[providers][rfc2136]") {
  Table table = keyed();
  table.settings["server"] = "[2001:db8::53]:5353";
  table.settings["key_algorithm"] = "HMAC-SHA512";
  table.settings["key_name"] = "Update-Key.Example.COM.";
  table.settings["zones"] = "Example.com., example.net ,, mail.example.com";
  table.settings["timeout"] = "3";
  const Rfc2136Settings settings = parse(table);
  CHECK(settings.provider_name == "primary");
  CHECK(settings.server.to_string() == "[2001:db8::53]:5353");
  REQUIRE(settings.key);
  CHECK(settings.key->name == "update-key.example.com");
  CHECK(settings.key->algorithm == "hmac-sha512");
  CHECK(settings.key->secret == *rfc2136::decode_base64(k_secret));
  CHECK(settings.key_secret_env == "TSIG_SECRET");
  CHECK(settings.zones == std::vector<std::string>{"example.com", "example.net", "mail.example.com"});
  CHECK(settings.timeout == std::chrono::seconds(3));
  table.settings["timeout"] = "1.5";
  CHECK(parse(table).timeout == std::chrono::milliseconds(1500));
}

TEST_CASE("rfc2136 settings: defaults", "[providers][rfc2136]") {
  const Rfc2136Settings keyless = parse({{{"server", "192.0.2.53"}}, {}});
  CHECK(keyless.server.to_string() == "192.0.2.53:53");
  CHECK_FALSE(keyless.key);
  CHECK(keyless.zones.empty());
  CHECK(keyless.timeout == std::chrono::seconds(10));
  const Rfc2136Settings settings = parse(keyed());
  REQUIRE(settings.key);
  CHECK(settings.key->algorithm == "hmac-sha256");
  CHECK(parse([] {
          Table t = keyed();
          t.settings["key_algorithm"] = "hmac-md5.sig-alg.reg.int";
          return t;
        }())
            .key->algorithm == "hmac-md5");
}

TEST_CASE("rfc2136 settings: each problem is reported with its place", "[providers][rfc2136]") {
  CHECK(
      parse_error({{}, {}}) ==
      "spfctl.toml:7:1: [providers.primary] (type rfc2136) needs server: ADDR[:PORT] of the primary server");
  CHECK_THAT(parse_error({{{"server", "ns1.example.com"}}, {}}),
             Catch::StartsWith("spfctl.toml:8:9: server in [providers.primary]: invalid resolver address "
                               "'ns1.example.com'"));
  CHECK_THAT(parse_error({{{"server", "192.0.2.1"}, {"sever", "x"}}, {}}),
             Catch::Contains("unknown setting 'sever' in [providers.primary] (type rfc2136); did you mean "
                             "'server'? It takes: server, key_name, key_algorithm, key_secret_env, zones, "
                             "timeout, write_concurrency"));

  Table no_env = keyed();
  no_env.settings.erase("key_secret_env");
  CHECK_THAT(parse_error(no_env),
             Catch::Contains("key_name in [providers.primary] needs key_secret_env too"));
  Table no_name = keyed();
  no_name.settings.erase("key_name");
  CHECK_THAT(parse_error(no_name),
             Catch::Contains("key_secret_env in [providers.primary] needs key_name too"));
  CHECK_THAT(parse_error({{{"server", "192.0.2.1"}, {"key_algorithm", "hmac-sha256"}}, {}}),
             Catch::Contains("key_algorithm in [providers.primary] needs key_name and key_secret_env"));

  Table bad_name = keyed();
  bad_name.settings["key_name"] = "my key";
  CHECK_THAT(parse_error(bad_name),
             Catch::Contains("key_name in [providers.primary] is 'my key', not a TSIG key name"));
  Table bad_algorithm = keyed();
  bad_algorithm.settings["key_algorithm"] = "hmac-sha3";
  CHECK_THAT(parse_error(bad_algorithm),
             Catch::Contains("key_algorithm in [providers.primary] is 'hmac-sha3' (one of: hmac-sha256, "
                             "hmac-sha384, hmac-sha512, hmac-sha224, hmac-sha1, hmac-md5)"));
  Table bad_zone = keyed();
  bad_zone.settings["zones"] = "example.com, not a zone";
  CHECK_THAT(parse_error(bad_zone), Catch::Contains("zones in [providers.primary]: "));
  Table no_zone = keyed();
  no_zone.settings["zones"] = " , ";
  CHECK_THAT(parse_error(no_zone), Catch::Contains("zones in [providers.primary] lists no zone"));
  for (const char* timeout : {"0", "301", "ten", "1,5", ""}) {
    Table bad_timeout = keyed();
    bad_timeout.settings["timeout"] = timeout;
    CHECK_THAT(parse_error(bad_timeout),
               Catch::Contains("timeout in [providers.primary] must be a number of seconds above 0 and at "
                               "most 300") &&
                   Catch::Contains("not '" + std::string(timeout) + "'"));
  }

  // Every problem at once, each on its own line.
  Table several = keyed();
  several.settings.erase("server");
  several.settings["key_algorithm"] = "sha256";
  const std::string message = parse_error(several);
  CHECK_THAT(message, Catch::StartsWith("2 errors in the configuration:"));
  CHECK_THAT(message, Catch::Contains("needs server: "));
  CHECK_THAT(message, Catch::Contains("key_algorithm in [providers.primary] is 'sha256'"));
}

TEST_CASE("rfc2136 settings: the secret's variable, never its value", "[providers][rfc2136]") {
  Table unset = keyed();
  unset.environment.clear();
  CHECK(
      parse_error(unset) ==
      "spfctl.toml:9:9: the environment variable TSIG_SECRET named by key_secret_env in [providers.primary] "
      "is not set or empty: export it with the TSIG key's base64 secret");
  Table empty = keyed();
  empty.environment["TSIG_SECRET"] = "";
  CHECK_THAT(parse_error(empty), Catch::Contains("TSIG_SECRET named by key_secret_env in [providers.primary] "
                                                 "is not set or empty"));
  Table not_base64 = keyed();
  not_base64.environment["TSIG_SECRET"] = "hunter2 is my password";
  const std::string message = parse_error(not_base64);
  CHECK_THAT(message, Catch::Contains("the environment variable TSIG_SECRET named by key_secret_env in "
                                      "[providers.primary] does not hold a base64 TSIG secret"));
  CHECK_THAT(message, !Catch::Contains("hunter2"));
}

TEST_CASE("rfc2136 base64 decoding is strict", "[providers][rfc2136]") {
  auto text = [](std::string_view s) -> std::optional<std::string> {
    const auto bytes = rfc2136::decode_base64(s);
    if (!bytes) return std::nullopt;
    return std::string(bytes->begin(), bytes->end());
  };
  CHECK(text("Zm9vYmFy") == "foobar");
  CHECK(text("Zm9vYmE=") == "fooba");
  CHECK(text("Zm9vYg==") == "foob");
  CHECK(text("+/+/") == std::string("\xfb\xff\xbf"));
  for (const char* bad : {"", "Zm9", "Zm9vY===", "Zm=vYmFy", "Zm9v YmFy", "Zm9v\nYmFy", "Zm9vYmF-"})
    CHECK_FALSE(rfc2136::decode_base64(bad));
}

TEST_CASE("rfc2136 update: deletes and adds single records, pinned by prerequisites",
          "[providers][rfc2136]") {
  using A = Change::Action;
  const TxtValue first{{"v=spf1 ip4:192.0.2.0/24 -all"}};
  const TxtValue second{{"v=spf1 ip4:198.51.100.0/24 -all"}};
  const TxtValue chained{{"v=spf1 ip4:203.0.113.0/24", " -all"}};

  SECTION("create at an apex holding other values") {
    const auto message = rfc2136::build_update(
        "example.com", {Change{A::create, "example.com", 300, std::nullopt, first, k_others}});
    CHECK(message.zone == "example.com");
    CHECK(message.prerequisites == std::vector<UpdateRecord>{{"example.com", RrClass::in, 0, k_others[0]},
                                                             {"example.com", RrClass::in, 0, k_others[1]}});
    CHECK(message.updates == std::vector<UpdateRecord>{{"example.com", RrClass::in, 300, first}});
  }
  SECTION("create at a name without TXT records") {
    const auto message = rfc2136::build_update(
        "example.com", {Change{A::create, "_spf1.example.com", 300, std::nullopt, chained, {}}});
    CHECK(message.prerequisites ==
          std::vector<UpdateRecord>{{"_spf1.example.com", RrClass::none, 0, std::nullopt}});
    CHECK(message.updates == std::vector<UpdateRecord>{{"_spf1.example.com", RrClass::in, 300, chained}});
  }
  SECTION("update, then delete, in the order given") {
    const auto message = rfc2136::build_update(
        "example.com", {Change{A::update, "example.com", 600, first, second, k_others},
                        Change{A::remove, "_spf1.example.com", 600, chained, std::nullopt, {}}});
    CHECK(message.prerequisites == std::vector<UpdateRecord>{{"example.com", RrClass::in, 0, k_others[0]},
                                                             {"example.com", RrClass::in, 0, k_others[1]},
                                                             {"example.com", RrClass::in, 0, first},
                                                             {"_spf1.example.com", RrClass::in, 0, chained}});
    CHECK(message.updates == std::vector<UpdateRecord>{{"example.com", RrClass::none, 0, first},
                                                       {"example.com", RrClass::in, 600, second},
                                                       {"_spf1.example.com", RrClass::none, 0, chained}});
  }
  SECTION("a TTL change deletes and adds the same value") {
    const auto message =
        rfc2136::build_update("example.com", {Change{A::update, "example.com", 7200, first, first, {}}});
    CHECK(message.updates == std::vector<UpdateRecord>{{"example.com", RrClass::none, 0, first},
                                                       {"example.com", RrClass::in, 7200, first}});
  }
  SECTION("only the first change at a name pins it") {
    const auto message =
        rfc2136::build_update("example.com", {Change{A::update, "example.com", 300, first, second, {}},
                                              Change{A::update, "example.com", 300, second, first, {}}});
    CHECK(message.prerequisites == std::vector<UpdateRecord>{{"example.com", RrClass::in, 0, first}});
    CHECK(message.updates.size() == 4);
  }
}

TEST_CASE("rfc2136 update: never deletes a whole RRset", "[providers][rfc2136]") {
  using A = Change::Action;
  const TxtValue spf{{"v=spf1 -all"}};
  for (const auto action : {A::create, A::update, A::remove}) {
    const Change change{action,
                        "example.com",
                        300,
                        action == A::create ? std::nullopt : std::optional(spf),
                        action == A::remove ? std::nullopt : std::optional(spf),
                        k_others};
    for (const auto& record : rfc2136::build_update("example.com", {change}).updates) {
      CHECK(record.rr_class != RrClass::any);
      CHECK(record.value);
      CHECK(std::find(k_others.begin(), k_others.end(), *record.value) == k_others.end());
    }
  }
}

TEST_CASE("rfc2136 update: strings over 255 bytes are split", "[providers][rfc2136]") {
  const std::string long_string(600, 'x');
  const TxtValue split = rfc2136::wire_strings(TxtValue{{"short", long_string}});
  CHECK(split.strings == std::vector<std::string>{"short", std::string(255, 'x'), std::string(255, 'x'),
                                                  std::string(90, 'x')});
  CHECK(split.joined() == "short" + long_string);
  const auto message = rfc2136::build_update(
      "example.com",
      {Change{Change::Action::create, "example.com", 300, std::nullopt, TxtValue{{long_string}}, {}}});
  CHECK(message.updates.front().value ==
        TxtValue{{std::string(255, 'x'), std::string(255, 'x'), std::string(90, 'x')}});
}

TEST_CASE("rfc2136 update: the wire message libldns reads back", "[providers][rfc2136]") {
  const TxtValue odd{{"v=spf1 -all exp=x \"quoted\" back\\slash caf\xc3\xa9", std::string(255, 'y')}};
  const TxtValue before{{"v=spf1 -all"}};
  rfc2136::UpdateMessage message = rfc2136::build_update(
      "example.com", {Change{Change::Action::update, "example.com", 900, before, odd, k_others}});
  const Bytes wire = rfc2136::encode_update(message, 0x1234);
  const Pkt pkt = parse_wire(wire);
  CHECK(ldns_pkt_id(pkt.get()) == 0x1234);
  CHECK(ldns_pkt_get_opcode(pkt.get()) == LDNS_PACKET_UPDATE);
  CHECK_FALSE(ldns_pkt_rd(pkt.get()));
  CHECK_FALSE(ldns_pkt_qr(pkt.get()));
  // The zone section: one SOA question for the zone.
  REQUIRE(ldns_rr_list_rr_count(ldns_pkt_question(pkt.get())) == 1);
  const ldns_rr* zone = ldns_rr_list_rr(ldns_pkt_question(pkt.get()), 0);
  CHECK(rdf_text(ldns_rr_owner(zone)) == "example.com.");
  CHECK(ldns_rr_get_type(zone) == LDNS_RR_TYPE_SOA);
  // Prerequisites travel in the answer section, updates in the authority section.
  CHECK(records_of(ldns_pkt_answer(pkt.get())) == message.prerequisites);
  CHECK(records_of(ldns_pkt_authority(pkt.get())) == message.updates);
  CHECK(ldns_rr_list_rr_count(ldns_pkt_additional(pkt.get())) == 0);

  // A "no RRset" prerequisite has no rdata at all.
  message = rfc2136::build_update(
      "example.com", {Change{Change::Action::create, "_spf1.example.com", 300, std::nullopt, before, {}}});
  const Pkt create = parse_wire(rfc2136::encode_update(message, 1));
  CHECK(records_of(ldns_pkt_answer(create.get())) ==
        std::vector<UpdateRecord>{{"_spf1.example.com", RrClass::none, 0, std::nullopt}});
}

TEST_CASE("rfc2136 queries: no recursion wanted", "[providers][rfc2136]") {
  const Pkt pkt = parse_wire(rfc2136::encode_query("_spf1.Example.com", 16, 77));
  CHECK(ldns_pkt_id(pkt.get()) == 77);
  CHECK_FALSE(ldns_pkt_rd(pkt.get()));
  CHECK(ldns_pkt_get_opcode(pkt.get()) == LDNS_PACKET_QUERY);
  const ldns_rr* question = ldns_rr_list_rr(ldns_pkt_question(pkt.get()), 0);
  CHECK(rdf_text(ldns_rr_owner(question)) == "_spf1.Example.com.");
  CHECK(ldns_rr_get_type(question) == LDNS_RR_TYPE_TXT);
}

TEST_CASE("rfc2136 TSIG: libldns verifies what spfctl signs", "[providers][rfc2136]") {
  // libldns 1.8 implements these four; spfctl adds hmac-sha224 and hmac-sha384 (checked against knotd).
  for (const std::string algorithm : {"hmac-md5", "hmac-sha1", "hmac-sha256", "hmac-sha512"}) {
    INFO(algorithm);
    Bytes wire = rfc2136::encode_query("example.com", 16, 4242);
    const Bytes mac = rfc2136::tsig_sign(wire, test_key(algorithm), now());
    const Pkt pkt = parse_wire(wire);
    REQUIRE(ldns_pkt_tsig(pkt.get()) != nullptr);
    CHECK(
        ldns_pkt_tsig_verify(pkt.get(), wire.data(), wire.size(), "spfctl-key.", k_secret.c_str(), nullptr));
    CHECK_FALSE(ldns_pkt_tsig_verify(pkt.get(), wire.data(), wire.size(), "spfctl-key.",
                                     "b3RoZXItc2VjcmV0LW90aGVyLXNlY3JldA==", nullptr));
  }
}

TEST_CASE("rfc2136 TSIG: spfctl verifies what libldns signs", "[providers][rfc2136]") {
  for (const std::string algorithm : {"hmac-md5", "hmac-sha1", "hmac-sha256", "hmac-sha512"}) {
    INFO(algorithm);
    Bytes request = rfc2136::encode_query("example.com", 16, 999);
    const Bytes request_mac = rfc2136::tsig_sign(request, test_key(algorithm), now());
    const Bytes response = ldns_signed_response(999, request_mac, k_secret, algorithm);
    using Status = rfc2136::TsigCheck::Status;
    CHECK(rfc2136::tsig_verify(response, test_key(algorithm), request_mac, now()).status == Status::valid);

    // Another request's MAC, another key, a changed byte, a clock far off.
    Bytes other_mac = request_mac;
    other_mac[0] ^= 1;
    CHECK(rfc2136::tsig_verify(response, test_key(algorithm), other_mac, now()).status == Status::bad_mac);
    rfc2136::TsigKey other_key = test_key(algorithm);
    other_key.secret[0] ^= 1;
    CHECK(rfc2136::tsig_verify(response, other_key, request_mac, now()).status == Status::bad_mac);
    Bytes tampered = response;
    tampered[3] ^= 0x01;  // the RCODE
    CHECK(rfc2136::tsig_verify(tampered, test_key(algorithm), request_mac, now()).status == Status::bad_mac);
    CHECK(rfc2136::tsig_verify(response, test_key(algorithm), request_mac, now() + 3600).status ==
          Status::bad_time);
  }
}

TEST_CASE("rfc2136 TSIG: every algorithm round-trips, unsigned and refused answers are told apart",
          "[providers][rfc2136]") {
  using Status = rfc2136::TsigCheck::Status;
  for (const std::string& algorithm : rfc2136::tsig_algorithms()) {
    INFO(algorithm);
    const rfc2136::TsigKey key = test_key(algorithm);
    const Bytes unsigned_message = rfc2136::encode_query("example.com", 16, 5);
    Bytes message = unsigned_message;
    rfc2136::tsig_sign(message, key, now());
    CHECK(rfc2136::tsig_verify(message, key, {}, now()).status == Status::valid);
    rfc2136::TsigKey other = key;
    other.secret.back() ^= 0x80;
    CHECK(rfc2136::tsig_verify(message, other, {}, now()).status == Status::bad_mac);
    rfc2136::TsigKey renamed = key;
    renamed.name = "other-key";
    CHECK(rfc2136::tsig_verify(message, renamed, {}, now()).status == Status::bad_mac);
    CHECK(rfc2136::tsig_verify(unsigned_message, key, {}, now()).status == Status::missing);
  }

  // A refusal: the server's TSIG record carries an error and no MAC.
  Bytes request = rfc2136::encode_query("example.com", 16, 6);
  const Bytes request_mac = rfc2136::tsig_sign(request, test_key(), now());
  Bytes refused = ldns_signed_response(6, request_mac, k_secret);
  refused[refused.size() - 3] = 16;  // the error field, just before the empty other data: BADSIG
  const auto check = rfc2136::tsig_verify(refused, test_key(), request_mac, now());
  CHECK(check.status == Status::error);
  CHECK(check.error == 16);
  CHECK(rfc2136::tsig_error_name(16) == "BADSIG");
  CHECK(rfc2136::tsig_error_name(17) == "BADKEY");
  CHECK(rfc2136::tsig_error_name(18) == "BADTIME");
  CHECK(rfc2136::tsig_error_name(99) == "TSIG error 99");
}

TEST_CASE("rfc2136 responses: TXT answers, SOA owners, rcode and flags", "[providers][rfc2136]") {
  Pkt pkt(
      ldns_pkt_query_new(ldns_dname_new_frm_str("mail.example.com."), LDNS_RR_TYPE_TXT, LDNS_RR_CLASS_IN, 0));
  ldns_pkt_set_id(pkt.get(), 31);
  ldns_pkt_set_qr(pkt.get(), true);
  ldns_pkt_set_aa(pkt.get(), true);
  ldns_pkt_set_rcode(pkt.get(), 3);
  for (const char* text :
       {"Mail.Example.com. 300 IN TXT \"v=spf1 \" \"-all\"", "mail.example.com. 300 IN TXT \"caf\\195\\169\"",
        "example.com. 60 IN SOA ns1.example.com. h.example.com. 1 2 3 4 5"}) {
    ldns_rr* rr = nullptr;
    REQUIRE(ldns_rr_new_frm_str(&rr, text, 0, nullptr, nullptr) == LDNS_STATUS_OK);
    ldns_pkt_push_rr(pkt.get(),
                     ldns_rr_get_type(rr) == LDNS_RR_TYPE_SOA ? LDNS_SECTION_AUTHORITY : LDNS_SECTION_ANSWER,
                     rr);
  }
  std::uint8_t* raw = nullptr;
  std::size_t size = 0;
  REQUIRE(ldns_pkt2wire(&raw, pkt.get(), &size) == LDNS_STATUS_OK);
  const Bytes wire(raw, raw + size);
  free(raw);

  const rfc2136::Response response = rfc2136::decode_response(wire);
  CHECK(response.id == 31);
  CHECK(response.rcode == 3);
  CHECK(response.authoritative);
  REQUIRE(response.txt.size() == 2);
  CHECK(response.txt[0].name == "mail.example.com");
  CHECK(response.txt[0].ttl == 300);
  CHECK(response.txt[0].value == TxtValue{{"v=spf1 ", "-all"}});
  CHECK(response.txt[1].value == TxtValue{{"caf\xc3\xa9"}});
  CHECK(response.answer_soa.empty());
  CHECK(response.authority_soa == std::vector<std::string>{"example.com"});
  CHECK_FALSE(response.tsig_error);

  CHECK_THROWS_AS(rfc2136::decode_response(Bytes{1, 2, 3}), spfctl::Error);
  // Two TSIG records: libldns would lose the first (a leak under the sanitizers), so it never reads
  // the additional section; the TSIG record read is the last, as RFC 8945 places it.
  Bytes two_tsig = {0, 1, 0x84, 0, 0, 0, 0, 0, 0, 0, 0, 2};
  const Bytes tsig = {3,   'k', 'e',  'y',  0,    0, 250, 0,
                      255, 0,   0,    0,    0,    0, 22,         // owner, type, class, ttl, length
                      4,   'h', 'm',  'a',  'c',  0,             // algorithm
                      0,   0,   0x65, 0x53, 0xf1, 0, 1,   0x2c,  // time, fudge
                      0,   0,   0,    1,    0,    0, 0,   0};    // mac size, id, error, other
  for (int i = 0; i < 2; ++i) two_tsig.insert(two_tsig.end(), tsig.begin(), tsig.end());
  const rfc2136::Response signed_twice = rfc2136::decode_response(two_tsig);
  CHECK(signed_twice.tsig_error == std::optional<std::uint16_t>(0));
  CHECK(rfc2136::rcode_name(5) == "REFUSED");
  CHECK(rfc2136::rcode_name(8) == "NXRRSET");
  CHECK(rfc2136::rcode_name(9) == "NOTAUTH");
  CHECK(rfc2136::rcode_name(15) == "RCODE 15");
}

TEST_CASE("rfc2136 provider: capabilities, zones given, checks before any message", "[providers][rfc2136]") {
  Table table = keyed();
  table.settings["server"] = "127.0.0.1:9";  // nothing is sent in this test
  table.settings["zones"] = "example.com, mail.example.com";
  const auto provider = spfctl::providers::create_provider(
      provider_config(table), {.getenv = [&](const std::string& name) -> std::optional<std::string> {
        if (name == "TSIG_SECRET") return k_secret;
        return std::nullopt;
      }});
  const Capabilities& capabilities = provider->capabilities();
  CHECK(capabilities.multi_string);
  CHECK(capabilities.batch);
  CHECK_FALSE(capabilities.replaces_rrset);
  CHECK(capabilities.max_string_bytes == 255);

  CHECK(provider->zone_for("example.com") == "example.com");
  CHECK(provider->zone_for("_spf1.Example.COM.") == "example.com");
  CHECK(provider->zone_for("a.mail.example.com") == "mail.example.com");
  CHECK_THROWS_WITH(provider->zone_for("example.org"),
                    "rfc2136: 'example.org' is in none of the zones of [providers.primary] (zones = "
                    "\"example.com, mail.example.com\"): add its zone to `zones`");
  CHECK_THROWS_WITH(provider->zone_for("notexample.com"),
                    Catch::Contains("'notexample.com' is in none of the zones"));

  provider->apply("example.com", {});  // nothing to send, so nothing is sent
  const TxtValue spf{{"v=spf1 -all"}};
  CHECK_THROWS_WITH(
      provider->apply("example.com",
                      {Change{Change::Action::create, "example.org", 300, std::nullopt, spf, {}}}),
      "rfc2136: 'example.org' is not in zone 'example.com'");
  CHECK_THROWS_WITH(provider->list("example.com", {"www.example.net"}),
                    "rfc2136: 'www.example.net' is not in zone 'example.com'");
}

TEST_CASE("rfc2136 provider: the example of docs/providers/rfc2136.md loads", "[providers][rfc2136]") {
  std::ifstream in(std::filesystem::path(SPFCTL_TEST_DATA) / ".." / ".." / "docs" / "providers" /
                   "rfc2136.md");
  std::ostringstream page;
  page << in.rdbuf();
  const std::string text = page.str();
  const auto start = text.find("```toml\n");
  REQUIRE(start != std::string::npos);
  const auto end = text.find("```", start + 8);
  const auto config =
      spfctl::config::load_config_text(text.substr(start + 8, end - start - 8), "spfctl.toml");
  REQUIRE(config.providers.count("primary") == 1);
  const spfctl::providers::ProviderType& type = *spfctl::providers::find_provider_type("rfc2136");
  const auto settings =
      rfc2136_settings(read_settings(config.providers.at("primary"), type.settings, type.check),
                       {.getenv = [](const std::string& name) -> std::optional<std::string> {
                         if (name == "SPFCTL_TSIG_SECRET") return k_secret;
                         return std::nullopt;
                       }});
  CHECK(settings.server.to_string() == "192.0.2.53:53");
  REQUIRE(settings.key);
  CHECK(settings.key->name == "spfctl-key");
  CHECK(settings.key->algorithm == "hmac-sha256");
}
