#include <arpa/inet.h>
#include <netinet/in.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <catch2/catch.hpp>
#include <chrono>
#include <condition_variable>
#include <thread>

#include "error.hpp"
#include "http/curl_client.hpp"
#include "http/redact.hpp"
#include "http/retry.hpp"
#include "tests/support/http_fake.hpp"

using namespace spfctl::http;
using spfctl::testing::FakeHttpServer;
using namespace std::chrono_literals;

namespace {

// A port on 127.0.0.1 that nothing listens on: bound by the kernel's choice, then released.
int unused_port() {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
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

struct RecordedSleeps {
  std::vector<std::chrono::milliseconds> delays;
  RetryOptions options(int max_attempts) {
    RetryOptions o;
    o.max_attempts = max_attempts;
    o.base_delay = 100ms;
    o.max_delay = 250ms;
    o.sleep = [this](std::chrono::milliseconds d) { delays.push_back(d); };
    o.jitter = [](std::chrono::milliseconds cap) { return cap; };
    return o;
  }
};

}  // namespace

TEST_CASE("every method carries its headers and body and gets status, headers and body back", "[http]") {
  FakeHttpServer server;
  auto echo = [](const httplib::Request& req, httplib::Response& res) {
    res.status = req.method == "POST" ? 201 : 200;
    res.set_header("X-Echo-Method", req.method);
    res.set_content(req.body + "|" + req.get_header_value("X-Test"), "text/plain");
  };
  server.get("/echo", echo).post("/echo", echo).put("/echo", echo).patch("/echo", echo).del("/echo", echo);
  server.start();
  CurlHttpClient client;

  for (Method method : {Method::get, Method::post, Method::put, Method::patch, Method::delete_}) {
    std::string name(to_string(method));
    INFO(name);
    std::string body = method == Method::get ? "" : R"({"content":"v=spf1 -all","method":")" + name + "\"}";
    Response response = client.send({method,
                                     server.base_url() + "/echo?page=2",
                                     {{"X-Test", "value-" + name}, {"Content-Type", "application/json"}},
                                     body});
    REQUIRE_FALSE(response.transport_failed());
    CHECK(response.status == (method == Method::post ? 201 : 200));
    CHECK(response.ok());
    CHECK(response.body == body + "|value-" + name);
    CHECK(response.header("x-echo-method") == name);
    CHECK(response.header("X-ECHO-METHOD") == name);
    CHECK_FALSE(response.header("X-Absent"));

    auto seen = server.requests().back();
    CHECK(seen.method == name);
    CHECK(seen.path == "/echo");
    CHECK(seen.target == "/echo?page=2");
    CHECK(seen.body == body);
    CHECK(seen.header("Content-Type") == "application/json");
    CHECK(seen.header("User-Agent") == "spfctl/" SPFCTL_VERSION);
    CHECK_FALSE(seen.has_header("Expect"));
  }
  CHECK(server.request_count() == 5);
}

TEST_CASE("a body without a content type is sent without one, and an empty DELETE without a length",
          "[http]") {
  FakeHttpServer server;
  auto ok = [](const httplib::Request&, httplib::Response& res) { res.status = 204; };
  server.post("/x", ok).del("/x", ok).put("/x", ok);
  server.start();
  CurlHttpClient client;

  CHECK(client.send({Method::post, server.base_url() + "/x", {}, "a=b"}).status == 204);
  CHECK(client.send({Method::delete_, server.base_url() + "/x", {}, ""}).status == 204);
  CHECK(client.send({Method::put, server.base_url() + "/x", {}, ""}).status == 204);
  auto seen = server.requests();
  REQUIRE(seen.size() == 3);
  CHECK_FALSE(seen[0].has_header("Content-Type"));
  CHECK(seen[0].body == "a=b");
  CHECK_FALSE(seen[1].has_header("Content-Length"));
  CHECK(seen[2].header("Content-Length") == "0");
}

TEST_CASE("http error statuses are answers, not transport failures", "[http]") {
  FakeHttpServer server;
  server.get("/denied", [](const httplib::Request&, httplib::Response& res) {
    res.status = 403;
    res.set_content(R"({"errors":[{"message":"forbidden"}]})", "application/json");
  });
  server.start();
  Response response = CurlHttpClient().send({Method::get, server.base_url() + "/denied", {}, ""});
  CHECK_FALSE(response.transport_failed());
  CHECK_FALSE(response.ok());
  CHECK(response.status == 403);
  CHECK(response.body.find("forbidden") != std::string::npos);
}

TEST_CASE("many threads send through one client at once", "[http]") {
  FakeHttpServer server;
  server.get(R"(/n/(\d+))", [](const httplib::Request& req, httplib::Response& res) {
    res.set_content(req.matches[1].str(), "text/plain");
  });
  server.start();
  CurlHttpClient client;
  std::atomic<int> right{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t)
    threads.emplace_back([&, t] {
      for (int i = 0; i < 8; ++i) {
        std::string n = std::to_string(t * 100 + i);
        Response response = client.send({Method::get, server.base_url() + "/n/" + n, {}, ""});
        if (response.status == 200 && response.body == n) ++right;
      }
    });
  for (auto& thread : threads) thread.join();
  CHECK(right == 32);
  CHECK(server.request_count() == 32);
}

TEST_CASE("a handler slower than the total timeout gives a timeout, not a status", "[http]") {
  std::mutex mutex;
  std::condition_variable released;
  bool done = false;
  FakeHttpServer server;
  server.get("/slow", [&](const httplib::Request&, httplib::Response& res) {
    std::unique_lock lock(mutex);
    released.wait_for(lock, 1s, [&] { return done; });
    res.set_content("late", "text/plain");
  });
  server.start();

  CurlOptions options;
  options.total_timeout = 300ms;
  auto started = std::chrono::steady_clock::now();
  Response response = CurlHttpClient(options).send({Method::get, server.base_url() + "/slow", {}, ""});
  auto elapsed = std::chrono::steady_clock::now() - started;
  {
    std::lock_guard lock(mutex);
    done = true;
  }
  released.notify_all();

  CHECK(response.transport_error == TransportError::timeout);
  CHECK(response.status == 0);
  CHECK(response.request_sent);
  CHECK_FALSE(response.transport_message.empty());
  CHECK(elapsed >= 250ms);
  CHECK(elapsed < 10s);  // gave up, rather than waiting for the server; generous for a loaded machine
}

TEST_CASE("connection refused is retried, then reported as a transport failure", "[http]") {
  std::string url = "http://127.0.0.1:" + std::to_string(unused_port()) + "/v1/domains";
  auto curl = std::make_shared<CurlHttpClient>();

  Response direct = curl->send({Method::get, url, {}, ""});
  CHECK(direct.transport_error == TransportError::connect);
  CHECK_FALSE(direct.request_sent);

  for (Method method : {Method::get, Method::post}) {
    INFO(to_string(method));
    RecordedSleeps sleeps;
    RetryingClient client(curl, sleeps.options(3));
    Request request{method, url, {}, "{}"};
    Response response = client.send(request);
    CHECK(response.transport_error == TransportError::connect);
    CHECK(response.attempts == 3);
    CHECK(sleeps.delays == std::vector<std::chrono::milliseconds>{100ms, 200ms});
    std::string message = http_error_message(Redactor(), "godaddy", request, response);
    CHECK(message.starts_with("godaddy: " + std::string(to_string(method)) + " " + url +
                              " failed: connection failed"));
    CHECK(message.ends_with("(after 3 attempts)"));
  }
}

TEST_CASE("plain http to a host that is not loopback is refused before any connection", "[http]") {
  CurlHttpClient client;
  // .invalid never resolves: had the client tried to connect, send() would have returned a
  // resolve failure instead of throwing.
  std::string url = "http://api.example.invalid/v1/zones?api_key=hunter2-secret";
  try {
    client.send({Method::get, url, {}, ""});
    FAIL("send() accepted a plain http URL to a remote host");
  } catch (const spfctl::Error& error) {
    std::string message = error.what();
    CHECK(message.find("must use https") != std::string::npos);
    CHECK(message.find("api.example.invalid") != std::string::npos);
    CHECK(message.find("hunter2-secret") == std::string::npos);
  }

  CHECK_THROWS_AS(check_api_url("http://203.0.113.5/api"), spfctl::Error);
  CHECK_THROWS_AS(check_api_url("http://127.0.0.1.example.invalid/"), spfctl::Error);
  CHECK_THROWS_AS(check_api_url("http://localhost.example.invalid/"), spfctl::Error);
  CHECK_THROWS_AS(check_api_url("http://[2001:db8::1]/"), spfctl::Error);
  CHECK_THROWS_AS(check_api_url("http://[::2]/"), spfctl::Error);
  CHECK_THROWS_WITH(check_api_url("ftp://127.0.0.1/"), Catch::Contains("must start with https://"));
  CHECK_THROWS_WITH(check_api_url("api.cloudflare.com/client/v4"),
                    Catch::Contains("not a valid absolute URL"));

  CHECK_NOTHROW(check_api_url("https://api.cloudflare.com/client/v4"));
  CHECK_NOTHROW(check_api_url("http://127.0.0.1:8081/api/v1"));
  CHECK_NOTHROW(check_api_url("http://127.45.6.7/"));
  CHECK_NOTHROW(check_api_url("http://localhost:8081/"));
  CHECK_NOTHROW(check_api_url("http://LOCALHOST/"));
  CHECK_NOTHROW(check_api_url("http://[::1]:8081/"));
  CHECK_NOTHROW(check_api_url("HTTP://127.0.0.1/"));
}

TEST_CASE("a header value with a line break is refused instead of sent", "[http]") {
  CHECK_THROWS_WITH(CurlHttpClient().send({Method::get,
                                           "http://127.0.0.1:" + std::to_string(unused_port()) + "/",
                                           {{"Authorization", "Bearer abc\r\nX-Injected: 1"}},
                                           ""}),
                    Catch::Contains("\"Authorization\" has a line break"));
}

namespace {

struct SelfSignedCertificate {
  X509* cert = nullptr;
  EVP_PKEY* key = nullptr;
  std::string cert_pem;

  // An EC P-256 certificate for the name "localhost" only, signed by its own key.
  SelfSignedCertificate() {
    key = EVP_EC_gen("P-256");
    REQUIRE(key != nullptr);
    cert = X509_new();
    X509_set_version(cert, 2);
    ASN1_INTEGER_set(X509_get_serialNumber(cert), 1);
    X509_gmtime_adj(X509_getm_notBefore(cert), -3600);
    X509_gmtime_adj(X509_getm_notAfter(cert), 3600);
    X509_set_pubkey(cert, key);
    X509_NAME* name = X509_get_subject_name(cert);
    X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, reinterpret_cast<const unsigned char*>("localhost"),
                               -1, -1, 0);
    X509_set_issuer_name(cert, name);
    X509V3_CTX context;
    X509V3_set_ctx_nodb(&context);
    X509V3_set_ctx(&context, cert, cert, nullptr, nullptr, 0);
    for (auto [nid, value] : {std::pair{NID_subject_alt_name, "DNS:localhost"},
                              std::pair{NID_basic_constraints, "critical,CA:TRUE"},
                              std::pair{NID_key_usage, "critical,digitalSignature,keyCertSign"}}) {
      X509_EXTENSION* extension = X509V3_EXT_conf_nid(nullptr, &context, nid, value);
      REQUIRE(extension != nullptr);
      X509_add_ext(cert, extension, -1);
      X509_EXTENSION_free(extension);
    }
    REQUIRE(X509_sign(cert, key, EVP_sha256()) > 0);
    BIO* memory = BIO_new(BIO_s_mem());
    PEM_write_bio_X509(memory, cert);
    char* data = nullptr;
    long size = BIO_get_mem_data(memory, &data);
    cert_pem.assign(data, static_cast<std::size_t>(size));
    BIO_free(memory);
  }
  ~SelfSignedCertificate() {
    X509_free(cert);
    EVP_PKEY_free(key);
  }
};

}  // namespace

TEST_CASE("https verifies the server's certificate and host name", "[http][tls]") {
  SelfSignedCertificate certificate;
  FakeHttpServer server(std::make_unique<httplib::SSLServer>(certificate.cert, certificate.key), "https");
  server.get("/ping",
             [](const httplib::Request&, httplib::Response& res) { res.set_content("pong", "text/plain"); });
  server.start();
  std::string by_name = "https://localhost:" + std::to_string(server.port()) + "/ping";
  std::string by_address = "https://127.0.0.1:" + std::to_string(server.port()) + "/ping";

  SECTION("a certificate no trusted CA signed fails, and is not retried") {
    RecordedSleeps sleeps;
    RetryingClient client(std::make_shared<CurlHttpClient>(), sleeps.options(3));
    Response response = client.send({Method::get, by_name, {}, ""});
    CHECK(response.transport_error == TransportError::tls);
    CHECK(response.attempts == 1);
    CHECK(sleeps.delays.empty());
    CHECK(server.request_count() == 0);
  }
  SECTION("the same certificate, trusted, passes") {
    CurlOptions options;
    options.ca_certificates_pem = certificate.cert_pem;
    Response response = CurlHttpClient(options).send({Method::get, by_name, {}, ""});
    CHECK(response.status == 200);
    CHECK(response.body == "pong");
  }
  SECTION("a trusted certificate for another host name fails") {
    CurlOptions options;
    options.ca_certificates_pem = certificate.cert_pem;
    Response response = CurlHttpClient(options).send({Method::get, by_address, {}, ""});
    CHECK(response.transport_error == TransportError::tls);
    CHECK(server.request_count() == 0);
  }
}
