// What a DNS host's API answers, through the HTTP client seam: each adapter (Cloudflare, GoDaddy,
// PowerDNS) finding a zone, listing records and applying a change, whatever the status, the
// Retry-After header and the body. It either works or throws spfctl::Error naming what went
// wrong; anything else (a JSON library exception, a crash, a hang) is a finding.
//
// Input: byte 0 picks the adapter and the call, byte 1 the status; then the Retry-After value up
// to the first NUL byte, and the body after it.
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <string_view>

#include "config/config.hpp"
#include "error.hpp"
#include "http/client.hpp"
#include "http/rate_limiter.hpp"
#include "providers/cloudflare.hpp"
#include "providers/godaddy.hpp"
#include "providers/powerdns.hpp"
#include "providers/registry.hpp"

namespace {

using namespace spfctl;

// Answers every request with the same canned response.
class CannedClient : public http::HttpClient {
 public:
  explicit CannedClient(http::Response response) : m_response(std::move(response)) {}
  http::Response send(const http::Request&) override { return m_response; }

 private:
  http::Response m_response;
};

config::ProviderConfig settings(const std::string& type, std::map<std::string, std::string> values) {
  config::ProviderConfig out;
  out.name = "fuzz";
  out.type = type;
  for (auto& [key, value] : values) out.settings[key] = {value, {"spfctl.toml", 1, 1}};
  return out;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 2) return 0;
  static constexpr int k_statuses[] = {200, 201, 204, 400, 401, 403, 404, 409, 422, 429, 500, 502, 503};
  const std::string_view rest(reinterpret_cast<const char*>(data + 2), size - 2);
  const std::size_t nul = rest.find('\0');
  http::Response response;
  response.status = k_statuses[data[1] % std::size(k_statuses)];
  if (nul != std::string_view::npos) {
    response.headers.push_back({"Retry-After", std::string(rest.substr(0, nul))});
    response.body = std::string(rest.substr(nul + 1));
  } else {
    response.body = std::string(rest);
  }

  providers::ProviderEnvironment environment;
  environment.getenv = [](const std::string&) -> std::optional<std::string> { return "fuzz-secret"; };
  environment.http = std::make_shared<CannedClient>(response);
  environment.sleep = [](std::chrono::milliseconds) {};
  environment.rate_limiter =
      std::make_shared<http::RateLimiter>(http::RateLimit{1000, std::chrono::milliseconds(1)});

  std::unique_ptr<providers::Provider> provider;
  switch (data[0] % 3) {
    case 0:
      provider = providers::create_provider(settings("cloudflare", {{"token_env", "T"}}), environment);
      break;
    case 1:
      provider = providers::create_provider(settings("godaddy", {{"key_env", "K"}, {"secret_env", "S"}}),
                                            environment);
      break;
    default:
      provider = providers::create_provider(
          settings("powerdns", {{"api_url", "http://127.0.0.1:1"}, {"api_key_env", "P"}}), environment);
      break;
  }
  const providers::Change change{providers::Change::Action::update,
                                 "example.com",
                                 300,
                                 providers::TxtValue{{"v=spf1 -all"}},
                                 providers::TxtValue{{"v=spf1 ip4:192.0.2.1 -all"}},
                                 {providers::TxtValue{{"google-site-verification=x"}}}};
  try {
    switch (data[0] / 3 % 3) {
      case 0:
        (void)provider->zone_for("www.example.com");
        break;
      case 1:
        (void)provider->list("example.com", {"example.com", "_spf1.example.com"});
        break;
      default:
        provider->apply("example.com", {change});
        break;
    }
  } catch (const Error&) {
  }
  return 0;
}
