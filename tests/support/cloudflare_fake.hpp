// An in-process Cloudflare API v4 for tests of the Cloudflare adapter: zones and DNS records kept
// in memory, served over FakeHttpServer at api_url() (http://127.0.0.1:PORT/client/v4). It follows
// the documented behaviour the adapter depends on:
//   - "Authorization: Bearer TOKEN"; a missing or wrong token gets 403 with error code 10000;
//   - the envelope {"success", "errors", "messages", "result", "result_info"} and paging by
//     page/per_page (capped by set_max_per_page() to force several pages);
//   - GET /zones (paged; ?name= filters), GET/POST /zones/{id}/dns_records (filters type and name),
//     PUT/PATCH/DELETE /zones/{id}/dns_records/{id}, POST /zones/{id}/dns_records/batch (deletes,
//     patches, puts, posts, in that order, all or nothing);
//   - content stored as given and returned as stored; an identical record refused with 81058; TTL
//     1 (automatic) or 60..86400; quoted character-strings of at most 255 bytes;
//   - on demand (inject()): 429 with Retry-After, 5xx, slow answers, or any status and body.
// Besides (api_fake.hpp): on_request() sees every request first, txt_history() has the TXT state of
// a zone after each change (one per batch), txt_now() the current one.
#pragma once

#include <algorithm>
#include <cctype>
#include <cstdio>
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

class CloudflareFake : public ApiFake {
 public:
  struct Record {
    std::string id;
    std::string type = "TXT";
    std::string name;  // FQDN, lowercase, no trailing dot
    std::string content;
    std::uint32_t ttl = 1;
    nlohmann::json comment;  // null or a string
    bool operator==(const Record&) const = default;
  };

  // Faults for inject(): a 429's retry_after goes into a Retry-After header.
  using Fault = ApiFault;

  explicit CloudflareFake(std::string token = "cf-test-token-0123456789");

  std::string api_url() const { return m_server.base_url() + "/client/v4"; }
  const std::string& token() const { return m_token; }
  const FakeHttpServer& server() const { return m_server; }

  // Adds a zone and returns its id.
  std::string add_zone(const std::string& name) {
    std::lock_guard lock(m_mutex);
    std::string id = next_id();
    m_zones[id] = name;
    return id;
  }

  // Adds a record to zone `zone` (by name) and returns its id.
  std::string add_record(const std::string& zone, const std::string& name, const std::string& content,
                         std::uint32_t ttl = 3600) {
    std::lock_guard lock(m_mutex);
    Record record{next_id(), "TXT", name, content, ttl, nullptr};
    m_records[zone_id_of(zone)].push_back(record);
    return record.id;
  }

  // The records of zone `zone` (by name), in creation order; only those at `name` when given.
  std::vector<Record> records(const std::string& zone, const std::optional<std::string>& name = {}) const {
    std::lock_guard lock(m_mutex);
    std::vector<Record> out;
    auto found = m_records.find(zone_id_of(zone));
    if (found == m_records.end()) return out;
    for (const auto& record : found->second)
      if (!name || record.name == *name) out.push_back(record);
    return out;
  }

  void set_comment(const std::string& zone, const std::string& id, const std::string& comment) {
    std::lock_guard lock(m_mutex);
    for (auto& record : m_records[zone_id_of(zone)])
      if (record.id == id) record.comment = comment;
  }

  // The most records one page holds, whatever per_page asks for.
  void set_max_per_page(int count) {
    std::lock_guard lock(m_mutex);
    m_max_per_page = count;
  }

  // The TXT records of zone `zone` (by name) as receivers read them now.
  TxtState txt_now(const std::string& zone) const {
    std::lock_guard lock(m_mutex);
    return txt_state(zone_id_of(zone));
  }

 private:
  using json = nlohmann::json;
  using Handler = std::function<void(const httplib::Request&, httplib::Response&)>;

  static void answer(httplib::Response& res, int status, const json& body) {
    res.status = status;
    res.set_content(body.dump(), "application/json");
  }
  static json envelope(json result) {
    return {{"success", true},
            {"errors", json::array()},
            {"messages", json::array()},
            {"result", std::move(result)}};
  }
  static void error(httplib::Response& res, int status, int code, const std::string& message) {
    answer(res, status,
           {{"success", false},
            {"errors", json::array({{{"code", code}, {"message", message}}})},
            {"messages", json::array()},
            {"result", nullptr}});
  }

  // The hook and faults (ApiFake::serve), then authentication, then the handler.
  Handler wrap(Handler handler) {
    return serve(
        [this, handler = std::move(handler)](const httplib::Request& req, httplib::Response& res) {
          if (req.get_header_value("Authorization") != "Bearer " + m_token)
            return error(res, 403, 10000, "Authentication error");
          handler(req, res);
        },
        fail);
  }

  static void fail(httplib::Response& res, const Fault& fault) {
    res.status = fault.status;
    if (fault.retry_after) res.set_header("Retry-After", std::to_string(*fault.retry_after));
    if (!fault.body.empty())
      res.set_content(fault.body, "application/json");
    else if (fault.status == 429)
      error(res, 429, 971, "Please wait and consider throttling your request speed");
    else
      res.set_content("<html><body>" + std::to_string(fault.status) + " server error</body></html>",
                      "text/html");
    res.status = fault.status;
  }

  std::string next_id() {
    char id[33];
    std::snprintf(id, sizeof id, "%08x%024llx", 0x5cf1a7e0u, static_cast<unsigned long long>(++m_counter));
    return id;
  }

  std::string zone_id_of(const std::string& zone) const {
    for (const auto& [id, name] : m_zones)
      if (name == zone) return id;
    return {};
  }

  // A page of `items` as the query asks for it, with result_info.
  json page(const httplib::Request& req, const json& items, int default_per_page) const {
    return page(req, items.size(), default_per_page, [&](std::size_t i) { return items[i]; });
  }

  // A page of `count` items, item(i) making the i-th, as the query asks for it, with result_info.
  json page(const httplib::Request& req, std::size_t count, int default_per_page,
            const std::function<json(std::size_t)>& item) const {
    int page = req.has_param("page") ? std::max(1, std::stoi(req.get_param_value("page"))) : 1;
    int per_page = req.has_param("per_page") ? std::stoi(req.get_param_value("per_page")) : default_per_page;
    per_page = std::clamp(per_page, 1, m_max_per_page);
    const int total = static_cast<int>(count);
    const int total_pages = (total + per_page - 1) / per_page;
    json result = json::array();
    for (int i = (page - 1) * per_page; i < std::min(total, page * per_page); ++i)
      result.push_back(item(static_cast<std::size_t>(i)));
    json out = envelope(result);
    out["result_info"] = {{"page", page},
                          {"per_page", per_page},
                          {"count", result.size()},
                          {"total_count", total},
                          {"total_pages", total_pages}};
    return out;
  }

  json record_json(const std::string& zone_id, const Record& record) const {
    return {{"id", record.id},
            {"zone_id", zone_id},
            {"zone_name", m_zones.at(zone_id)},
            {"name", record.name},
            {"type", record.type},
            {"content", record.content},
            {"proxiable", false},
            {"proxied", false},
            {"ttl", record.ttl},
            {"settings", json::object()},
            {"meta", json::object()},
            {"comment", record.comment},
            {"tags", json::array()},
            {"created_on", "2024-01-01T00:00:00.000000Z"},
            {"modified_on", "2024-01-01T00:00:00.000000Z"}};
  }

  void list_zones(const httplib::Request& req, httplib::Response& res) {
    std::lock_guard lock(m_mutex);
    // Only the page asked for is made into JSON: accounts of many thousand zones list quickly.
    std::vector<const std::pair<const std::string, std::string>*> matching;
    for (const auto& zone : m_zones)
      if (!req.has_param("name") || req.get_param_value("name") == zone.second) matching.push_back(&zone);
    answer(res, 200, page(req, matching.size(), 20, [&](std::size_t i) {
             return json{{"id", matching[i]->first},
                         {"name", matching[i]->second},
                         {"status", "active"},
                         {"paused", false},
                         {"type", "full"}};
           }));
  }

  // The zone of the request's path, or an error answer and nullopt.
  std::optional<std::string> zone_of(const httplib::Request& req, httplib::Response& res) const {
    const std::string id = req.matches[1];
    if (m_zones.contains(id)) return id;
    error(res, 404, 7003, "Could not route to " + req.path + ", perhaps your object identifier is invalid?");
    return std::nullopt;
  }

  void list_records(const httplib::Request& req, httplib::Response& res) {
    std::lock_guard lock(m_mutex);
    auto zone = zone_of(req, res);
    if (!zone) return;
    json items = json::array();
    for (const auto& record : m_records[*zone]) {
      if (req.has_param("type") && req.get_param_value("type") != record.type) continue;
      if (req.has_param("name") && req.get_param_value("name") != record.name) continue;
      items.push_back(record_json(*zone, record));
    }
    answer(res, 200, page(req, items, 100));
  }

  // The byte length of each quoted character-string in `content`, or nullopt if it is not quoted.
  static std::optional<std::vector<std::size_t>> quoted_lengths(const std::string& content) {
    if (content.empty() || content[0] != '"') return std::nullopt;
    std::vector<std::size_t> out;
    std::size_t i = 0;
    while (i < content.size()) {
      if (content[i] == ' ') {
        ++i;
        continue;
      }
      if (content[i] != '"') return std::nullopt;
      std::size_t length = 0;
      for (++i; i < content.size() && content[i] != '"'; ++length) {
        if (content[i] == '\\' && i + 3 < content.size() &&
            std::isdigit(static_cast<unsigned char>(content[i + 1])))
          i += 4;
        else
          i += content[i] == '\\' ? 2 : 1;
      }
      if (i >= content.size()) return std::nullopt;
      ++i;
      out.push_back(length);
    }
    return out;
  }

  // A TXT record's content as receivers read it: quoted character-strings (blank-separated, with
  // \" \\ and \DDD escapes) joined; content that is not exactly that is served as one value.
  static std::string txt_value(const std::string& content) {
    std::string out;
    std::size_t i = 0;
    bool quoted = false;
    const auto blank = [&] { return content[i] == ' ' || content[i] == '\t'; };
    while (true) {
      while (i < content.size() && blank()) ++i;
      if (i == content.size()) break;
      if (content[i] != '"') return content;
      for (++i;; ++i) {
        if (i >= content.size()) return content;
        if (content[i] == '"') break;
        if (content[i] != '\\') {
          out += content[i];
        } else if (i + 3 < content.size() && std::isdigit(static_cast<unsigned char>(content[i + 1])) &&
                   std::isdigit(static_cast<unsigned char>(content[i + 2])) &&
                   std::isdigit(static_cast<unsigned char>(content[i + 3]))) {
          const int value = std::stoi(content.substr(i + 1, 3));
          if (value > 255) return content;
          out += static_cast<char>(value);
          i += 3;
        } else if (++i < content.size()) {
          out += content[i];
        }
      }
      ++i;
      if (i < content.size() && !blank()) return content;
      quoted = true;
    }
    return quoted ? out : content;
  }

  // The zone's TXT records as receivers read them. Under m_mutex.
  TxtState txt_state(const std::string& zone_id) const {
    TxtState state;
    auto found = m_records.find(zone_id);
    if (found == m_records.end()) return state;
    for (const auto& record : found->second)
      if (record.type == "TXT") state[record.name].push_back(txt_value(record.content));
    for (auto& [name, values] : state) std::sort(values.begin(), values.end());
    return state;
  }

  // Journals the zone's state after a change. Under m_mutex.
  void changed(const std::string& zone_id) { published(m_zones.at(zone_id), txt_state(zone_id)); }

  // A record from a request body, checked as the API checks it; on a problem, sets `problem`.
  Record from_body(const std::string& zone_id, const json& body, const Record* base,
                   std::string& problem) const {
    Record record = base ? *base : Record{};
    if (!body.is_object()) {
      problem = "the record must be a JSON object";
      return record;
    }
    if (body.contains("type")) record.type = body.value("type", "");
    if (body.contains("name")) record.name = body.value("name", "");
    if (body.contains("content")) record.content = body.value("content", "");
    if (body.contains("ttl")) record.ttl = body.value("ttl", 0u);
    if (body.contains("comment"))
      record.comment = body["comment"];
    else if (!base)
      record.comment = nullptr;
    const std::string& zone = m_zones.at(zone_id);
    std::transform(record.name.begin(), record.name.end(), record.name.begin(), ::tolower);
    if (record.name == "@")
      record.name = zone;
    else if (record.name != zone && !record.name.ends_with("." + zone))
      record.name += "." + zone;
    if (record.type != "TXT")
      problem = "this fake serves TXT records only";
    else if (record.content.empty())
      problem = "content is required";
    else if (record.ttl != 1 && (record.ttl < 60 || record.ttl > 86400))
      problem = "Invalid TTL. Must be between 60 and 86400 seconds, or 1 for Automatic.";
    else if (auto lengths = quoted_lengths(record.content))
      for (std::size_t length : *lengths)
        if (length > 255) problem = "DNS Validation Error: a TXT character-string is longer than 255 bytes";
    return record;
  }

  bool identical_exists(const std::string& zone_id, const Record& record) {
    return std::any_of(m_records[zone_id].begin(), m_records[zone_id].end(), [&](const Record& r) {
      return r.id != record.id && r.type == record.type && r.name == record.name &&
             r.content == record.content;
    });
  }

  void create(const httplib::Request& req, httplib::Response& res) {
    std::lock_guard lock(m_mutex);
    auto zone = zone_of(req, res);
    if (!zone) return;
    std::string problem;
    Record record = from_body(*zone, json::parse(req.body, nullptr, false), nullptr, problem);
    if (!problem.empty()) return error(res, 400, 1004, problem);
    if (identical_exists(*zone, record)) return error(res, 400, 81058, "An identical record already exists.");
    record.id = next_id();
    m_records[*zone].push_back(record);
    changed(*zone);
    answer(res, 200, envelope(record_json(*zone, record)));
  }

  void overwrite(const httplib::Request& req, httplib::Response& res, bool patch) {
    std::lock_guard lock(m_mutex);
    auto zone = zone_of(req, res);
    if (!zone) return;
    auto& records = m_records[*zone];
    auto found =
        std::find_if(records.begin(), records.end(), [&](const Record& r) { return r.id == req.matches[2]; });
    if (found == records.end()) return error(res, 404, 81044, "Record does not exist.");
    std::string problem;
    Record base{found->id, found->type, found->name, "", 1, nullptr};
    Record record = from_body(*zone, json::parse(req.body, nullptr, false), patch ? &*found : &base, problem);
    if (!problem.empty()) return error(res, 400, 1004, problem);
    if (identical_exists(*zone, record)) return error(res, 400, 81058, "An identical record already exists.");
    *found = record;
    changed(*zone);
    answer(res, 200, envelope(record_json(*zone, record)));
  }

  void remove(const httplib::Request& req, httplib::Response& res) {
    std::lock_guard lock(m_mutex);
    auto zone = zone_of(req, res);
    if (!zone) return;
    auto& records = m_records[*zone];
    auto found =
        std::find_if(records.begin(), records.end(), [&](const Record& r) { return r.id == req.matches[2]; });
    if (found == records.end()) return error(res, 404, 81044, "Record does not exist.");
    records.erase(found);
    changed(*zone);
    answer(res, 200, envelope({{"id", req.matches[2]}}));
  }

  // All or nothing: the operations run on a copy that replaces the zone's records only if every
  // one succeeded.
  void batch(const httplib::Request& req, httplib::Response& res) {
    std::lock_guard lock(m_mutex);
    auto zone = zone_of(req, res);
    if (!zone) return;
    const json body = json::parse(req.body, nullptr, false);
    if (!body.is_object()) return error(res, 400, 1004, "the batch must be a JSON object");
    const std::vector<Record> saved = m_records[*zone];
    auto& records = m_records[*zone];
    json result = {{"deletes", json::array()},
                   {"patches", json::array()},
                   {"puts", json::array()},
                   {"posts", json::array()}};
    auto refuse = [&](int status, int code, const std::string& message) {
      records = saved;
      error(res, status, code, message);
    };
    auto find = [&](const json& op) {
      const std::string id = op.is_object() ? op.value("id", "") : "";
      return std::find_if(records.begin(), records.end(), [&](const Record& r) { return r.id == id; });
    };
    for (const char* kind : {"deletes", "patches", "puts", "posts"}) {
      if (!body.contains(kind)) continue;
      for (const auto& op : body[kind]) {
        const std::string k = kind;
        if (k == "posts") {
          std::string problem;
          Record record = from_body(*zone, op, nullptr, problem);
          if (!problem.empty()) return refuse(400, 1004, problem);
          if (identical_exists(*zone, record))
            return refuse(400, 81058, "An identical record already exists.");
          record.id = next_id();
          records.push_back(record);
          result[k].push_back(record_json(*zone, record));
          continue;
        }
        auto found = find(op);
        if (found == records.end()) return refuse(404, 81044, "Record does not exist.");
        if (k == "deletes") {
          result[k].push_back(record_json(*zone, *found));
          records.erase(found);
          continue;
        }
        std::string problem;
        Record base{found->id, found->type, found->name, "", 1, nullptr};
        Record record = from_body(*zone, op, k == "patches" ? &*found : &base, problem);
        if (!problem.empty()) return refuse(400, 1004, problem);
        if (identical_exists(*zone, record)) return refuse(400, 81058, "An identical record already exists.");
        *found = record;
        result[k].push_back(record_json(*zone, record));
      }
    }
    changed(*zone);  // the batch is atomic: receivers never see its steps
    answer(res, 200, envelope(result));
  }

  std::string m_token;
  mutable std::mutex m_mutex;
  std::map<std::string, std::string> m_zones;            // id -> name
  std::map<std::string, std::vector<Record>> m_records;  // zone id -> records
  int m_max_per_page = 5000;
  unsigned long long m_counter = 0;
  FakeHttpServer m_server;  // last: stopped first, before the state its handlers use goes
};

}  // namespace spfctl::testing
