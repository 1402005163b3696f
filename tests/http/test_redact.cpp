#include <catch2/catch.hpp>

#include "http/redact.hpp"

using namespace spfctl::http;

TEST_CASE("names of credential headers and parameters are recognised", "[http][redact]") {
  for (const char* name :
       {"Authorization", "authorization", "X-Auth-Key", "X-API-Key", "x-api-key", "X-Auth-Token",
        "Proxy-Authorization", "Cookie", "api_token", "client_secret", "key", "password"})
    CHECK(is_secret_name(name));
  for (const char* name :
       {"Content-Type", "Accept", "User-Agent", "page", "per_page", "name", "type", "content"})
    CHECK_FALSE(is_secret_name(name));
}

TEST_CASE("secret query values and user passwords are hidden in URLs", "[http][redact]") {
  CHECK(redact_url("https://api.example.com/v1/zones?api_key=abc123&page=2") ==
        "https://api.example.com/v1/zones?api_key=[redacted]&page=2");
  CHECK(redact_url("https://h/x?name=_spf.example.com&TOKEN=t0k&type=TXT#frag") ==
        "https://h/x?name=_spf.example.com&TOKEN=[redacted]&type=TXT#frag");
  CHECK(redact_url("https://h/?client_secret=s&secret=&flag") ==
        "https://h/?client_secret=[redacted]&secret=[redacted]&flag");
  CHECK(redact_url("https://admin:pa55@pdns.local:8081/api?x=1") ==
        "https://admin:[redacted]@pdns.local:8081/api?x=1");
  CHECK(redact_url("https://user@h/p") == "https://user@h/p");
  CHECK(redact_url("https://api.cloudflare.com/client/v4/zones") ==
        "https://api.cloudflare.com/client/v4/zones");
  CHECK(redact_url("not a url?key=1") == "not a url?key=1");
}

TEST_CASE("every occurrence of a secret is replaced, in all its spellings", "[http][redact]") {
  Redactor redactor({"cf-TOKEN-123", "", "a/b+c"});
  CHECK(redactor.redact("Bearer cf-TOKEN-123 rejected; cf-TOKEN-123 again") ==
        "Bearer [redacted] rejected; [redacted] again");
  CHECK(redactor.redact("in a url: ?t=a%2Fb%2Bc, in json: \"a\\/b+c\", raw: a/b+c") ==
        "in a url: ?t=[redacted], in json: \"[redacted]\", raw: [redacted]");
  CHECK(redactor.redact("nothing secret here") == "nothing secret here");

  Redactor nested;
  nested.add_secret("abc");
  nested.add_secret("xxabcxx");
  CHECK(nested.redact("1 xxabcxx 2 abc") == "1 [redacted] 2 [redacted]");
}

TEST_CASE("a printed request hides credential headers, URL secrets and known tokens", "[http][redact]") {
  Redactor redactor({"pdns-key-42", "cf-TOKEN-123"});
  Request request{Method::patch,
                  "https://api.example.com/zones/z1?auth_token=zzz&page=1",
                  {{"Authorization", "Bearer other-token"},
                   {"X-Auth-Key", "global-key"},
                   {"X-API-Key", "pdns-key-42"},
                   {"Content-Type", "application/json"}},
                  R"({"content":"v=spf1 -all","note":"cf-TOKEN-123"})"};
  std::string text = redactor.describe(request);
  CHECK(text ==
        "PATCH https://api.example.com/zones/z1?auth_token=[redacted]&page=1\n"
        "Authorization: [redacted]\n"
        "X-Auth-Key: [redacted]\n"
        "X-API-Key: [redacted]\n"
        "Content-Type: application/json\n"
        "\n"
        R"({"content":"v=spf1 -all","note":"[redacted]"})");
  for (const char* secret : {"other-token", "global-key", "pdns-key-42", "cf-TOKEN-123", "zzz"})
    CHECK(text.find(secret) == std::string::npos);
}

TEST_CASE("http error messages for adapters are redacted and on one line", "[http][redact]") {
  Redactor redactor({"cf-TOKEN-123"});
  Request request{Method::patch,
                  "https://api.cloudflare.com/client/v4/zones/z1/dns_records/r1?token=cf-TOKEN-123",
                  {{"Authorization", "Bearer cf-TOKEN-123"}},
                  "{}"};
  Response response;
  response.status = 403;

  CHECK(http_error_message(redactor, "cloudflare", request, response,
                           "Invalid API token cf-TOKEN-123\n  for zone z1") ==
        "cloudflare: PATCH https://api.cloudflare.com/client/v4/zones/z1/dns_records/r1?token=[redacted] "
        "answered 403 "
        "forbidden: Invalid API token [redacted] for zone z1");

  response.status = 599;
  CHECK(http_error_message(redactor, "cloudflare", request, response) ==
        "cloudflare: PATCH https://api.cloudflare.com/client/v4/zones/z1/dns_records/r1?token=[redacted] "
        "answered 599");

  std::string long_message(1000, 'x');
  response.status = 400;
  std::string message = http_error_message(redactor, "powerdns", request, response, long_message);
  CHECK(message.ends_with(": " + std::string(300, 'x') + "..."));

  Response failed =
      Response::transport_failure(TransportError::timeout, "Operation timed out after 300 ms", true);
  failed.attempts = 3;
  CHECK(http_error_message(redactor, "godaddy", {Method::get, "https://api.godaddy.com/v1/domains", {}, ""},
                           failed) ==
        "godaddy: GET https://api.godaddy.com/v1/domains failed: timeout: Operation timed out after 300 ms "
        "(after 3 attempts)");
}
