#include <algorithm>
#include <atomic>
#include <catch2/catch.hpp>
#include <chrono>
#include <deque>
#include <functional>
#include <mutex>
#include <nlohmann/json.hpp>

#include "http/curl_client.hpp"
#include "http/redact.hpp"
#include "http/retry.hpp"
#include "tests/support/http_fake.hpp"

using namespace spfctl::http;
using spfctl::testing::FakeHttpServer;
using namespace std::chrono_literals;
using std::chrono::milliseconds;
using Delays = std::vector<milliseconds>;

namespace {

// Answers from a script, one response per send, and counts the sends.
class ScriptedClient : public HttpClient {
 public:
  explicit ScriptedClient(std::deque<Response> script) : m_script(std::move(script)) {}
  Response send(const Request&) override {
    std::lock_guard lock(m_mutex);
    ++sends;
    Response next = m_script.front();
    if (m_script.size() > 1) m_script.pop_front();
    return next;
  }
  int sends = 0;

 private:
  std::mutex m_mutex;
  std::deque<Response> m_script;
};

Response status(int code, Headers headers = {}, std::string body = {}) {
  Response response;
  response.status = code;
  response.headers = std::move(headers);
  response.body = std::move(body);
  return response;
}

struct Harness {
  Delays delays;
  RetryOptions options;
  Harness() {
    options.max_attempts = 4;
    options.base_delay = 100ms;
    options.max_delay = 1000ms;
    options.max_total_wait = 60s;
    options.sleep = [this](milliseconds d) { delays.push_back(d); };
    options.jitter = [](milliseconds cap) { return cap; };
  }
  Response run(std::deque<Response> script, Method method = Method::get, int* sends = nullptr) {
    auto scripted = std::make_shared<ScriptedClient>(std::move(script));
    Response response = RetryingClient(scripted, options).send({method, "https://api.example.com/x", {}, ""});
    if (sends) *sends = scripted->sends;
    return response;
  }
};

std::chrono::system_clock::time_point utc(int year, int month, int day, int hour, int minute, int second) {
  using namespace std::chrono;
  return sys_days{std::chrono::year{year} / month / day} + hours(hour) + minutes(minute) + seconds(second);
}

}  // namespace

TEST_CASE("Retry-After is read as seconds or as an HTTP date", "[http][retry]") {
  auto now = utc(2015, 10, 21, 7, 28, 0);
  CHECK(parse_retry_after("120", now) == milliseconds(120'000));
  CHECK(parse_retry_after(" 0 ", now) == milliseconds(0));
  CHECK(parse_retry_after("Wed, 21 Oct 2015 07:28:05 GMT", now) == milliseconds(5'000));
  CHECK(parse_retry_after("Wednesday, 21-Oct-15 07:29:00 GMT", now) == milliseconds(60'000));
  CHECK(parse_retry_after("Wed Oct 21 07:28:30 2015", now) == milliseconds(30'000));
  CHECK(parse_retry_after("Wed, 21 Oct 2015 07:00:00 GMT", now) == milliseconds(0));
  CHECK(parse_retry_after("99999999999999999999999", now) > milliseconds(std::chrono::hours(24 * 300)));
  CHECK_FALSE(parse_retry_after("", now));
  CHECK_FALSE(parse_retry_after("soon", now));
  CHECK_FALSE(parse_retry_after("-5", now));
  // Dates outside what the clock's nanoseconds hold are clamped, not converted.
  const auto longest = *parse_retry_after("99999999999999999999999", now);
  CHECK(parse_retry_after("Fri, 01 Jan 2300 00:00:00 GMT", now) == longest);
  CHECK(parse_retry_after("Sat, 01 Jan 9999 00:00:00 GMT", now) == longest);
  CHECK(parse_retry_after("Fri, 01 Jan 1600 00:00:00 GMT", now) == milliseconds(0));
}

TEST_CASE("what may be sent again depends on the failure and on the method", "[http][retry]") {
  auto failure = [](TransportError error, bool sent) {
    return Response::transport_failure(error, "x", sent);
  };
  for (Method method : {Method::get, Method::put, Method::delete_, Method::post, Method::patch}) {
    INFO(to_string(method));
    Request request{method, "https://api.example.com/", {}, ""};
    bool idempotent = method != Method::post && method != Method::patch;
    CHECK(is_retryable(request, status(429)));
    for (int code : {500, 502, 503, 504}) CHECK(is_retryable(request, status(code)) == idempotent);
    for (int code : {200, 204, 400, 401, 403, 404, 409, 422, 501, 505})
      CHECK_FALSE(is_retryable(request, status(code)));
    CHECK(is_retryable(request, failure(TransportError::connect, false)));
    CHECK(is_retryable(request, failure(TransportError::resolve, false)));
    CHECK(is_retryable(request, failure(TransportError::timeout, false)));
    CHECK(is_retryable(request, failure(TransportError::timeout, true)) == idempotent);
    CHECK(is_retryable(request, failure(TransportError::io, true)) == idempotent);
    CHECK_FALSE(is_retryable(request, failure(TransportError::tls, false)));
    CHECK_FALSE(is_retryable(request, failure(TransportError::other, false)));
  }
  // A PATCH the API defines as idempotent (PowerDNS REPLACE) is sent again like a PUT.
  Request patch{Method::patch, "https://api.example.com/", {}, "", true};
  CHECK(is_retryable(patch, status(500)));
  CHECK(is_retryable(patch, failure(TransportError::io, true)));
  CHECK_FALSE(is_retryable(patch, status(422)));
}

TEST_CASE("backoff doubles from the base delay up to the cap, with full jitter", "[http][retry]") {
  Harness h;
  h.options.max_attempts = 6;
  h.options.max_delay = 500ms;
  int sends = 0;
  Response response = h.run({status(503)}, Method::get, &sends);
  CHECK(response.status == 503);
  CHECK(response.attempts == 6);
  CHECK(sends == 6);
  CHECK(h.delays == Delays{100ms, 200ms, 400ms, 500ms, 500ms});

  SECTION("the default jitter waits a random part of each cap") {
    Harness random;
    random.options.max_attempts = 40;
    random.options.base_delay = 1000ms;
    random.options.max_delay = 1000ms;
    random.options.max_total_wait = std::chrono::hours(1);
    random.options.jitter = nullptr;
    random.run({status(502)});
    REQUIRE(random.delays.size() == 39);
    for (auto delay : random.delays) {
      CHECK(delay >= 0ms);
      CHECK(delay <= 1000ms);
    }
    CHECK(std::adjacent_find(random.delays.begin(), random.delays.end(), std::not_equal_to<>()) !=
          random.delays.end());
  }
}

TEST_CASE("the server's delay wins over the backoff, and the total wait is bounded", "[http][retry]") {
  SECTION("Retry-After in seconds") {
    Harness h;
    Response response = h.run({status(429, {{"Retry-After", "7"}}), status(200)});
    CHECK(response.status == 200);
    CHECK(response.attempts == 2);
    CHECK(h.delays == Delays{7000ms});
  }
  SECTION("Retry-After as a date, measured from the injected clock") {
    Harness h;
    h.options.now = [] { return utc(2015, 10, 21, 7, 28, 0); };
    h.run({status(503, {{"retry-after", "Wed, 21 Oct 2015 07:28:03 GMT"}}), status(200)});
    CHECK(h.delays == Delays{3000ms});
  }
  SECTION("an unreadable Retry-After falls back to the backoff") {
    Harness h;
    h.run({status(429, {{"Retry-After", "later"}}), status(200)});
    CHECK(h.delays == Delays{100ms});
  }
  SECTION("a delay from the body hook; the longer of hook and header is used") {
    Harness h;
    h.options.retry_hint = [](const Response& r) -> std::optional<milliseconds> {
      auto json = nlohmann::json::parse(r.body, nullptr, false);
      if (!json.is_object() || !json.contains("retryAfterSec")) return std::nullopt;
      return std::chrono::seconds(json["retryAfterSec"].get<int>());
    };
    h.run({status(429, {}, R"({"code":"TOO_MANY_REQUESTS","retryAfterSec":4})"),
           status(429, {{"Retry-After", "2"}}, R"({"retryAfterSec":9})"),
           status(429, {{"Retry-After", "6"}}, R"({"retryAfterSec":1})"), status(200)});
    CHECK(h.delays == Delays{4000ms, 9000ms, 6000ms});
  }
  SECTION("a wait beyond the budget ends the retries at once") {
    Harness h;
    h.options.max_total_wait = 60s;
    int sends = 0;
    Response response = h.run({status(429, {{"Retry-After", "3600"}}), status(200)}, Method::get, &sends);
    CHECK(response.status == 429);
    CHECK(response.attempts == 1);
    CHECK(sends == 1);
    CHECK(h.delays.empty());
  }
  SECTION("waits add up against the budget") {
    Harness h;
    h.options.max_attempts = 10;
    h.options.max_total_wait = 10s;
    Response response = h.run({status(429, {{"Retry-After", "4"}})});
    CHECK(h.delays == Delays{4000ms, 4000ms});
    CHECK(response.attempts == 3);
  }
  SECTION("on_retry hears of each wait") {
    Harness h;
    std::vector<int> statuses;
    h.options.on_retry = [&](const Request&, const Response& r, milliseconds) {
      statuses.push_back(r.status);
    };
    h.run({status(500), status(502), status(200)});
    CHECK(statuses == std::vector<int>{500, 502});
  }
}

TEST_CASE("a POST is sent again only when the server surely did not act on it", "[http][retry]") {
  Harness h;
  int sends = 0;
  CHECK(h.run({status(503), status(200)}, Method::post, &sends).status == 503);
  CHECK(sends == 1);
  CHECK(h.run({Response::transport_failure(TransportError::timeout, "timed out", true), status(200)},
              Method::post, &sends)
            .transport_error == TransportError::timeout);
  CHECK(sends == 1);
  CHECK(h.run({Response::transport_failure(TransportError::connect, "refused", false), status(201)},
              Method::post, &sends)
            .status == 201);
  CHECK(sends == 2);
  CHECK(h.run({status(429), status(201)}, Method::post, &sends).status == 201);
  CHECK(sends == 2);
  CHECK(h.delays == Delays{100ms, 100ms});
}

// The same rules end to end, through libcurl and a local server.
TEST_CASE("retries through a real server", "[http][retry]") {
  FakeHttpServer server;
  std::atomic<int> hits{0};
  server.get("/limited-once", [&](const httplib::Request&, httplib::Response& res) {
    if (hits++ == 0) {
      res.status = 429;
      res.set_header("Retry-After", "2");
      return;
    }
    res.set_content("ok", "text/plain");
  });
  server.get("/v1/domains", [](const httplib::Request&, httplib::Response& res) {
    res.status = 429;
    res.set_content(R"({"code":"TOO_MANY_REQUESTS","message":"Too many requests"})", "application/json");
  });
  std::atomic<int> flaky{0};
  server.get("/flaky", [&](const httplib::Request&, httplib::Response& res) {
    if (flaky++ == 0) res.status = 500;
  });
  server.post("/records", [](const httplib::Request&, httplib::Response& res) { res.status = 503; });
  server.start();

  Harness h;
  auto client = RetryingClient(std::make_shared<CurlHttpClient>(), h.options);

  SECTION("429 with Retry-After, then success") {
    Response response = client.send({Method::get, server.base_url() + "/limited-once", {}, ""});
    CHECK(response.status == 200);
    CHECK(response.body == "ok");
    CHECK(response.attempts == 2);
    CHECK(h.delays == Delays{2000ms});
    CHECK(server.request_count() == 2);
  }
  SECTION("a storm of 429s gives up after max_attempts with a clear error") {
    Request request{Method::get, server.base_url() + "/v1/domains", {}, ""};
    Response response = client.send(request);
    CHECK(response.status == 429);
    CHECK(response.attempts == 4);
    CHECK(server.request_count() == 4);
    CHECK(h.delays == Delays{100ms, 200ms, 400ms});
    CHECK(http_error_message(Redactor(), "godaddy", request, response, "Too many requests") ==
          "godaddy: GET " + server.base_url() +
              "/v1/domains answered 429 too many requests: Too many requests" + " (after 4 attempts)");
  }
  SECTION("500, then success") {
    Response response = client.send({Method::get, server.base_url() + "/flaky", {}, ""});
    CHECK(response.status == 200);
    CHECK(server.request_count() == 2);
    CHECK(h.delays == Delays{100ms});
  }
  SECTION("503 for a POST is not retried") {
    Response response = client.send({Method::post, server.base_url() + "/records", {}, "{}"});
    CHECK(response.status == 503);
    CHECK(response.attempts == 1);
    CHECK(server.request_count() == 1);
    CHECK(h.delays.empty());
  }
}
