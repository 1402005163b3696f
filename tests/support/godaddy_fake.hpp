// An in-process GoDaddy Domains API v1 for tests of the GoDaddy adapter: domains and their records
// kept in memory, served over FakeHttpServer at api_url() (http://127.0.0.1:PORT). It follows the
// documented behaviour the adapter depends on:
//   - "Authorization: sso-key KEY:SECRET"; missing or wrong credentials get 401
//     UNABLE_TO_AUTHENTICATE, and set_access_denied() gives every request the 403 ACCESS_DENIED
//     that accounts without Domains API access get;
//   - GET /v1/domains?limit=&marker= (the account's domains in name order, after the marker);
//   - GET /v1/domains/{domain} (404 UNKNOWN_DOMAIN for a domain not in the account);
//   - GET /v1/domains/{domain}/records/{type}?offset=&limit= (every name's, paged; offset counts
//     records) and GET /v1/domains/{domain}/records/{type}/{name} with relative names ("@" for
//     the apex);
//   - PUT of the same path with a JSON array REPLACES every record of that type and name;
//   - DELETE of the same path removes every record of that type and name;
//   - data stored unquoted, as given; TTL at least 600; 422 INVALID_BODY with "fields" for a body
//     it refuses (and for data longer than set_max_data_bytes(), when set);
//   - on demand (inject()): 429 TOO_MANY_REQUESTS with retryAfterSec, 5xx, slow answers, or any
//     status and body.
// Besides (api_fake.hpp): on_request() sees every request first, txt_history() has the TXT state of
// a domain after each PUT or DELETE it carried out, txt_now() the current one.
#pragma once

#include <algorithm>
#include <functional>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "tests/support/api_fake.hpp"
#include "tests/support/http_fake.hpp"

namespace spfctl::testing {

class GoDaddyFake : public ApiFake {
 public:
  struct Record {
    std::string type = "TXT";
    std::string name;  // relative: "@", "_spf1"
    std::string data;
    std::uint32_t ttl = 3600;
    bool operator==(const Record&) const = default;
  };

  // Faults for inject(): a 429's retry_after goes into the body's retryAfterSec.
  using Fault = ApiFault;

  GoDaddyFake(std::string key = "gd-test-key-3f9a", std::string secret = "gd-test-secret-77c1");

  std::string api_url() const { return m_server.base_url(); }
  const std::string& key() const { return m_key; }
  const std::string& secret() const { return m_secret; }
  const FakeHttpServer& server() const { return m_server; }

  void add_domain(const std::string& domain) {
    std::lock_guard lock(m_mutex);
    m_domains[domain];
  }

  void add_record(const std::string& domain, const std::string& name, const std::string& data,
                  std::uint32_t ttl = 3600, const std::string& type = "TXT") {
    std::lock_guard lock(m_mutex);
    m_domains[domain].push_back({type, name, data, ttl});
  }

  // Changes the data `from` at `name` to `to`, as an edit in GoDaddy's control panel would (setup:
  // not journalled).
  void edit_record(const std::string& domain, const std::string& name, const std::string& from,
                   const std::string& to) {
    std::lock_guard lock(m_mutex);
    for (Record& record : m_domains[domain])
      if (record.name == name && record.data == from) record.data = to;
  }

  // The records of `domain`; only those of `type` at `name` when given.
  std::vector<Record> records(const std::string& domain, const std::optional<std::string>& name = {},
                              const std::string& type = "TXT") const {
    std::lock_guard lock(m_mutex);
    std::vector<Record> out;
    auto found = m_domains.find(domain);
    if (found == m_domains.end()) return out;
    for (const auto& record : found->second)
      if (!name || (record.name == *name && record.type == type)) out.push_back(record);
    return out;
  }

  // The most domains one page of GET /v1/domains holds, whatever limit asks for.
  void set_max_per_page(std::size_t count) {
    std::lock_guard lock(m_mutex);
    m_max_per_page = count;
  }

  // Every request is refused with 403 ACCESS_DENIED, as for an account without API access.
  void set_access_denied(bool denied) {
    std::lock_guard lock(m_mutex);
    m_access_denied = denied;
  }

  // Data longer than this is refused with 422 (0: no limit).
  void set_max_data_bytes(std::size_t bytes) {
    std::lock_guard lock(m_mutex);
    m_max_data_bytes = bytes;
  }

  // The TXT records of `domain` as receivers read them now.
  TxtState txt_now(const std::string& domain) const {
    std::lock_guard lock(m_mutex);
    return txt_state(domain);
  }

 private:
  using json = nlohmann::json;
  using Handler = std::function<void(const httplib::Request&, httplib::Response&)>;

  static void answer(httplib::Response& res, int status, const json& body) {
    res.status = status;
    res.set_content(body.dump(), "application/json");
  }
  static void error(httplib::Response& res, int status, const std::string& code, const std::string& message,
                    json fields = nullptr) {
    json body = {{"code", code}, {"message", message}};
    if (!fields.is_null()) body["fields"] = std::move(fields);
    answer(res, status, body);
  }

  // The hook and faults (ApiFake::serve), then authentication and access, then the handler.
  Handler wrap(Handler handler) {
    return serve(
        [this, handler = std::move(handler)](const httplib::Request& req, httplib::Response& res) {
          bool denied = false;
          {
            std::lock_guard lock(m_mutex);
            denied = m_access_denied;
          }
          if (req.get_header_value("Authorization") != "sso-key " + m_key + ":" + m_secret)
            return error(res, 401, "UNABLE_TO_AUTHENTICATE", "Unable to authenticate the request");
          if (denied) return error(res, 403, "ACCESS_DENIED", "Authenticated user is not allowed access");
          handler(req, res);
        },
        fail);
  }

  static void fail(httplib::Response& res, const Fault& fault) {
    if (!fault.body.empty())
      res.set_content(fault.body, "application/json");
    else if (fault.status == 429)
      answer(res, 429,
             {{"code", "TOO_MANY_REQUESTS"},
              {"message", "Too many requests received within interval"},
              {"retryAfterSec", fault.retry_after.value_or(30)}});
    else
      res.set_content("<html><body>" + std::to_string(fault.status) + " error</body></html>", "text/html");
    res.status = fault.status;
  }

  // The domain's TXT records as receivers read them: GoDaddy serves data as given, cut into
  // 255-byte character-strings, so joined it is the data. Under m_mutex.
  TxtState txt_state(const std::string& domain) const {
    TxtState state;
    auto found = m_domains.find(domain);
    if (found == m_domains.end()) return state;
    for (const auto& record : found->second) {
      if (record.type != "TXT") continue;
      std::string name = record.name == "@" ? domain : record.name + "." + domain;
      std::transform(name.begin(), name.end(), name.begin(), ::tolower);
      state[name].push_back(record.data);
    }
    for (auto& [name, values] : state) std::sort(values.begin(), values.end());
    return state;
  }

  // The domain of the request's path, or an error answer and nullptr.
  std::vector<Record>* domain_of(const httplib::Request& req, httplib::Response& res) {
    auto found = m_domains.find(req.matches[1]);
    if (found != m_domains.end()) return &found->second;
    error(res, 404, "UNKNOWN_DOMAIN", "The given domain is not registered, or does not have a zone file");
    return nullptr;
  }

  void get_domain(const httplib::Request& req, httplib::Response& res) {
    std::lock_guard lock(m_mutex);
    if (!domain_of(req, res)) return;
    answer(res, 200,
           {{"domain", req.matches[1]},
            {"domainId", 1000 + std::distance(m_domains.begin(), m_domains.find(req.matches[1]))},
            {"status", "ACTIVE"},
            {"nameServers", {"ns01.domaincontrol.com", "ns02.domaincontrol.com"}}});
  }

  // GET /v1/domains?limit=N&marker=D: the account's domains in name order, after D.
  void list_domains(const httplib::Request& req, httplib::Response& res) {
    std::lock_guard lock(m_mutex);
    std::size_t limit = req.has_param("limit") ? std::stoul(req.get_param_value("limit")) : 1000;
    limit = std::min(limit, m_max_per_page);
    const std::string marker = req.has_param("marker") ? req.get_param_value("marker") : "";
    json out = json::array();
    for (auto it = marker.empty() ? m_domains.begin() : m_domains.upper_bound(marker);
         it != m_domains.end() && out.size() < limit; ++it)
      out.push_back({{"domain", it->first},
                     {"domainId", 1000 + std::distance(m_domains.begin(), it)},
                     {"status", "ACTIVE"}});
    answer(res, 200, out);
  }

  void get_records(const httplib::Request& req, httplib::Response& res) {
    std::lock_guard lock(m_mutex);
    auto* records = domain_of(req, res);
    if (!records) return;
    json out = json::array();
    for (const auto& record : *records)
      if (record.type == req.matches[2] && record.name == req.matches[3])
        out.push_back(
            {{"data", record.data}, {"name", record.name}, {"ttl", record.ttl}, {"type", record.type}});
    answer(res, 200, out);
  }

  // GET /v1/domains/{domain}/records/{type}?offset=N&limit=M: the records of that type, every name.
  void get_records_of_type(const httplib::Request& req, httplib::Response& res) {
    std::lock_guard lock(m_mutex);
    auto* records = domain_of(req, res);
    if (!records) return;
    const std::size_t offset = req.has_param("offset") ? std::stoul(req.get_param_value("offset")) : 0;
    const std::size_t limit = req.has_param("limit") ? std::stoul(req.get_param_value("limit")) : 500;
    json out = json::array();
    std::size_t seen = 0;
    for (const auto& record : *records) {
      if (record.type != req.matches[2]) continue;
      if (seen++ < offset) continue;
      if (out.size() == limit) break;
      out.push_back(
          {{"data", record.data}, {"name", record.name}, {"ttl", record.ttl}, {"type", record.type}});
    }
    answer(res, 200, out);
  }

  void put_records(const httplib::Request& req, httplib::Response& res) {
    std::lock_guard lock(m_mutex);
    auto* records = domain_of(req, res);
    if (!records) return;
    const json body = json::parse(req.body, nullptr, false);
    const std::string schema = "Request body doesn't fulfill schema, see details in `fields`";
    if (!body.is_array())
      return error(
          res, 422, "INVALID_BODY", schema,
          json::array({{{"code", "UNEXPECTED_TYPE"}, {"path", "records"}, {"message", "is not a array"}}}));
    std::vector<Record> replacement;
    json fields = json::array();
    for (std::size_t i = 0; i < body.size(); ++i) {
      const json& entry = body[i];
      const std::string path = "records[" + std::to_string(i) + "]";
      if (!entry.is_object() || !entry.contains("data") || !entry["data"].is_string() ||
          entry["data"].get<std::string>().empty()) {
        fields.push_back(
            {{"code", "MISSING_REQUIRED"}, {"path", path + ".data"}, {"message", "is required"}});
        continue;
      }
      Record record{req.matches[2], req.matches[3], entry["data"].get<std::string>(),
                    entry.value("ttl", 3600u)};
      if (record.ttl < 600)
        fields.push_back(
            {{"code", "INVALID_VALUE"}, {"path", path + ".ttl"}, {"message", "must be at least 600"}});
      if (m_max_data_bytes > 0 && record.data.size() > m_max_data_bytes)
        fields.push_back({{"code", "INVALID_VALUE_LENGTH"},
                          {"path", path + ".data"},
                          {"message", "is longer than " + std::to_string(m_max_data_bytes) + " characters"}});
      replacement.push_back(record);
    }
    if (!fields.empty()) return error(res, 422, "INVALID_BODY", schema, fields);
    std::erase_if(*records,
                  [&](const Record& r) { return r.type == req.matches[2] && r.name == req.matches[3]; });
    records->insert(records->end(), replacement.begin(), replacement.end());
    published(req.matches[1], txt_state(req.matches[1]));
    res.status = 200;
  }

  void delete_records(const httplib::Request& req, httplib::Response& res) {
    std::lock_guard lock(m_mutex);
    auto* records = domain_of(req, res);
    if (!records) return;
    if (std::erase_if(*records, [&](const Record& r) {
          return r.type == req.matches[2] && r.name == req.matches[3];
        }) == 0)
      return error(res, 404, "NOT_FOUND", "No records were found for the given type and name");
    published(req.matches[1], txt_state(req.matches[1]));
    res.status = 204;
  }

  std::string m_key;
  std::string m_secret;
  mutable std::mutex m_mutex;
  std::map<std::string, std::vector<Record>> m_domains;
  bool m_access_denied = false;
  std::size_t m_max_data_bytes = 0;
  std::size_t m_max_per_page = 1000;
  FakeHttpServer m_server;  // last: stopped first, before the state its handlers use goes
};

}  // namespace spfctl::testing
