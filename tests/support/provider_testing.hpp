// Small helpers the provider adapter tests share.
#pragma once

#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include "config/config.hpp"
#include "http/client.hpp"
#include "publish/provider.hpp"

namespace spfctl::testing {

// A [providers.NAME] table of `type` as the configuration loader would hand it over: the header on
// line 7 of spfctl.toml, one setting per line after it.
inline config::ProviderConfig provider_config(const std::string& name, const std::string& type,
                                              const std::map<std::string, std::string>& settings) {
  config::ProviderConfig out;
  out.name = name;
  out.type = type;
  out.location = {"spfctl.toml", 7, 1};
  std::uint32_t line = 8;
  for (const auto& [key, value] : settings) out.settings[key] = {value, {"spfctl.toml", line++, 1}};
  return out;
}

// Answers every request with one canned response and keeps the URLs asked for.
class CannedClient : public http::HttpClient {
 public:
  CannedClient(int status, std::string body) : m_status(status), m_body(std::move(body)) {}
  http::Response send(const http::Request& request) override {
    std::lock_guard lock(m_mutex);
    urls.push_back(request.url);
    http::Response response;
    response.status = m_status;
    response.body = m_body;
    return response;
  }
  std::vector<std::string> urls;

 private:
  std::mutex m_mutex;
  int m_status;
  std::string m_body;
};

// What a run of many domains asks a provider, twice over: the zones of www.example.com,
// example.org and mail.clientI.example (I from 0 to 4); the account holds example.com,
// example.org and clientI.example. Returns the answers that were not the expected zone.
inline std::vector<std::string> wrong_zones_of_many(publish::Provider& provider) {
  std::vector<std::pair<std::string, std::string>> asked = {{"www.example.com", "example.com"},
                                                            {"example.org", "example.org"}};
  for (int i = 0; i < 5; ++i) {
    const std::string zone = "client" + std::to_string(i) + ".example";
    asked.emplace_back("mail." + zone, zone);
  }
  std::vector<std::string> wrong;
  for (int round = 0; round < 2; ++round)
    for (const auto& [name, zone] : asked)
      if (const std::string found = provider.zone_for(name); found != zone)
        wrong.push_back(name + " -> " + found);
  return wrong;
}

}  // namespace spfctl::testing
