#include "providers/cloudflare.hpp"

#include <algorithm>
#include <cstdlib>
#include <functional>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <set>
#include <thread>
#include <utility>

#include "dns/resolver.hpp"
#include "error.hpp"
#include "http/curl_client.hpp"
#include "http/redact.hpp"
#include "http/retry.hpp"
#include "providers/json_answer.hpp"
#include "providers/settings.hpp"
#include "publish/records.hpp"
#include "spf/select.hpp"
#include "util/text.hpp"

namespace spfctl::providers {

namespace {

using json = nlohmann::json;
using http::Method;

constexpr int k_page_size = 100;
// A whole zone's TXT records are read 5,000 a page (the API allows up to 5,000,000).
constexpr int k_zone_records_page_size = 5000;
// GET /zones takes at most 50 a page.
constexpr int k_zone_page_size = 50;
// Pages of one listing read at most: a name holds a few records, and a hostile answer must not keep
// spfctl paging for ever.
constexpr std::int64_t k_max_pages = 1000;
// A POST is not retried by the HTTP layer (it may have been carried out); spfctl reads back and
// sends it again itself, this many times in all.
constexpr int k_create_attempts = 3;

// Duplicate-record error codes: "The record already exists." / "An identical record already exists."
constexpr int k_code_exists = 81057;
constexpr int k_code_identical = 81058;

// Length of the valid UTF-8 sequence starting at text[at] (a byte of 0x80 or more), or 0.
std::size_t utf8_sequence(std::string_view text, std::size_t at) {
  const auto byte = [&](std::size_t i) { return static_cast<unsigned char>(text[i]); };
  const unsigned char lead = byte(at);
  std::size_t length = 0;
  unsigned char low = 0x80, high = 0xbf;  // the range of the first continuation byte
  if (lead >= 0xc2 && lead <= 0xdf) {
    length = 2;
  } else if (lead >= 0xe0 && lead <= 0xef) {
    length = 3;
    if (lead == 0xe0) low = 0xa0;   // overlong
    if (lead == 0xed) high = 0x9f;  // surrogates
  } else if (lead >= 0xf0 && lead <= 0xf4) {
    length = 4;
    if (lead == 0xf0) low = 0x90;   // overlong
    if (lead == 0xf4) high = 0x8f;  // above U+10FFFF
  } else {
    return 0;
  }
  if (at + length > text.size()) return 0;
  if (byte(at + 1) < low || byte(at + 1) > high) return 0;
  for (std::size_t i = 2; i < length; ++i)
    if ((byte(at + i) & 0xc0) != 0x80) return 0;
  return length;
}

void append_escaped(std::string& out, std::string_view text) {
  out += '"';
  for (std::size_t i = 0; i < text.size();) {
    const auto c = static_cast<unsigned char>(text[i]);
    if (c == '"' || c == '\\') {
      out += '\\';
      out += static_cast<char>(c);
      ++i;
    } else if (c >= 0x20 && c < 0x7f) {
      out += static_cast<char>(c);
      ++i;
    } else if (std::size_t length = c >= 0x80 ? utf8_sequence(text, i) : 0; length > 0) {
      out.append(text.substr(i, length));
      i += length;
    } else {
      char digits[5];
      std::snprintf(digits, sizeof digits, "\\%03u", static_cast<unsigned>(c));
      out += digits;
      ++i;
    }
  }
  out += '"';
}

// Quoted character-strings separated by blanks, or nullopt when `content` is not exactly that.
std::optional<std::vector<std::string>> parse_quoted(std::string_view content) {
  std::vector<std::string> out;
  std::size_t i = 0;
  const auto blank = [&] { return content[i] == ' ' || content[i] == '\t'; };
  while (true) {
    while (i < content.size() && blank()) ++i;
    if (i == content.size()) break;
    if (content[i] != '"') return std::nullopt;
    ++i;
    std::string current;
    while (true) {
      if (i == content.size()) return std::nullopt;
      const char c = content[i++];
      if (c == '"') break;
      if (c != '\\') {
        current += c;
        continue;
      }
      if (i == content.size()) return std::nullopt;
      if (i + 3 <= content.size() && std::all_of(content.begin() + i, content.begin() + i + 3,
                                                 [](char d) { return d >= '0' && d <= '9'; })) {
        const int value = (content[i] - '0') * 100 + (content[i + 1] - '0') * 10 + (content[i + 2] - '0');
        if (value > 255) return std::nullopt;
        current += static_cast<char>(value);
        i += 3;
      } else {
        current += content[i++];
      }
    }
    if (i < content.size() && !blank()) return std::nullopt;
    out.push_back(std::move(current));
  }
  if (out.empty()) return std::nullopt;
  return out;
}

// The zones that could hold `name`, most specific first: the name itself, then each parent with at
// least two labels.
std::vector<std::string> candidate_zones(const std::string& name) {
  std::vector<std::string> out;
  for (std::size_t at = 0; name.find('.', at) != std::string::npos; at = name.find('.', at) + 1)
    out.push_back(name.substr(at));
  return out;
}

// One TXT record as Cloudflare holds it.
struct Record {
  std::string id;
  TxtValue value;
  std::uint32_t ttl = 0;
  json raw;  // the object as read: its comment and tags are sent back when the record is rewritten
};

const Record* find_value(const std::vector<Record>& records, const std::optional<TxtValue>& value) {
  if (!value) return nullptr;
  const std::string wanted = value->joined();
  for (const auto& record : records)
    if (record.value.joined() == wanted) return &record;
  return nullptr;
}

// A record set's TTL: that of its SPF value, the one spfctl manages (Cloudflare keeps a TTL per
// record, and the others are not spfctl's to change); without one, the lowest.
std::uint32_t set_ttl(const std::vector<Record>& records) {
  for (const auto& record : records)
    if (spf::is_spf_record(record.value.joined())) return record.ttl;
  std::uint32_t lowest = records.front().ttl;
  for (const auto& record : records) lowest = std::min(lowest, record.ttl);
  return lowest;
}

TxtRecordSet record_set(const std::string& fqdn, const std::vector<Record>& records) {
  TxtRecordSet set{fqdn, set_ttl(records), {}, {}};
  for (const auto& record : records) {
    set.values.push_back(record.value);
    set.ids.push_back(record.id);
  }
  return set;
}

// What one change takes, decided from the records at its name as read.
struct Operation {
  enum class Kind : std::uint8_t { none, remove, put, post };
  Kind kind = Kind::none;
  std::string id;  // remove, put
  json body;       // put, post: the record to write
};

// Cloudflare's execution order inside a batch.
int batch_rank(Operation::Kind kind) {
  switch (kind) {
    case Operation::Kind::remove:
      return 0;
    case Operation::Kind::put:
      return 2;  // patches, which spfctl does not send, would be 1
    case Operation::Kind::post:
      return 3;
    case Operation::Kind::none:
      break;
  }
  return -1;
}

class CloudflareProvider : public Provider {
 public:
  CloudflareProvider(std::string name, std::string api_url, std::string token_variable,
                     const std::string& token, const http::CurlOptions& curl,
                     const ProviderEnvironment& environment)
      : m_name(std::move(name)),
        m_api_url(std::move(api_url)),
        m_token_variable(std::move(token_variable)),
        m_authorization("Bearer " + token),
        m_redactor(std::vector<std::string>{token}),
        m_sleep(environment.sleep ? environment.sleep : [](std::chrono::milliseconds delay) {
          std::this_thread::sleep_for(delay);
        }) {
    std::shared_ptr<http::HttpClient> transport =
        environment.http ? environment.http : std::make_shared<http::CurlHttpClient>(curl);
    std::shared_ptr<http::RateLimiter> limiter =
        environment.rate_limiter
            ? environment.rate_limiter
            : http::shared_rate_limiter(http::account_key("cloudflare", m_api_url, token),
                                        k_cloudflare_rate_limit);
    http::RetryOptions retry;
    retry.max_attempts = 6;
    retry.sleep = m_sleep;
    m_client = std::make_shared<http::RetryingClient>(
        std::make_shared<http::RateLimitedClient>(transport, limiter), std::move(retry));
  }

  const Capabilities& capabilities() const override { return cloudflare_capabilities(); }

  std::string zone_for(std::string_view name) override {
    const std::string wanted = dns::normalize_name(name);
    const std::vector<std::string> candidates = candidate_zones(wanted);
    for (const auto& candidate : candidates)
      if (find_zone_id(candidate, "finding the zone of " + wanted)) return candidate;
    throw Error(prefix() + "no zone holds " + util::quoted(wanted) + " (asked for " +
                util::joined(candidates) +
                "); add the zone to the Cloudflare account, or give the token in " + m_token_variable +
                " Zone:Read on it");
  }

  std::vector<TxtRecordSet> list(std::string_view zone_name, const std::vector<std::string>& names) override {
    const std::string zone = dns::normalize_name(zone_name);
    const std::string zone_id = require_zone_id(zone);
    std::vector<TxtRecordSet> out;
    for (const auto& name : names) {
      const std::string fqdn = dns::normalize_name(name);
      const std::vector<Record> records = read(zone, zone_id, fqdn);
      if (!records.empty()) out.push_back(record_set(fqdn, records));
    }
    return out;
  }

  // GET /zones/{id}/dns_records?type=TXT: the zone's TXT records of every name, 5,000 a page.
  std::optional<std::vector<TxtRecordSet>> list_zone(std::string_view zone_name) override {
    const std::string zone = dns::normalize_name(zone_name);
    const std::string zone_id = require_zone_id(zone);
    std::map<std::string, std::vector<Record>> by_name;
    read_pages(zone, zone_id, "", k_zone_records_page_size, "reading the zone's TXT records",
               [&](const std::string& name, Record record) {
                 if (dns::in_zone(name, zone)) by_name[name].push_back(std::move(record));
               });
    std::vector<TxtRecordSet> out;
    for (const auto& [fqdn, records] : by_name) out.push_back(record_set(fqdn, records));
    return out;
  }

  void apply(std::string_view zone_name, const std::vector<Change>& changes) override {
    if (changes.empty()) return;
    const std::string zone = dns::normalize_name(zone_name);
    const std::string zone_id = require_zone_id(zone);

    std::map<std::string, std::vector<Record>> live;
    for (const auto& change : changes) {
      const std::string fqdn = dns::normalize_name(change.name);
      if (!live.contains(fqdn)) live[fqdn] = read(zone, zone_id, fqdn);
    }
    // With one change per name, every change is decided from the state read above, before any
    // write: a plan that no longer fits is refused with nothing changed, and a batch is possible.
    // Otherwise a change waits for the writes before it at its name.
    std::vector<std::optional<Operation>> decided(changes.size());
    bool failed_batch = false;
    if (live.size() == changes.size()) {
      std::vector<Operation> operations;
      for (const auto& change : changes)
        operations.push_back(decide(zone, change, live.at(dns::normalize_name(change.name))));
      if (batchable(operations)) {
        if (send_batch(zone, zone_id, operations)) return;
        failed_batch = true;
      }
      decided.assign(operations.begin(), operations.end());
    }

    // One by one. A name is read again after each write to it, and everything after a batch whose
    // outcome is unknown; each step recognises work already done, so this converges.
    std::set<std::string> stale;
    for (std::size_t i = 0; i < changes.size(); ++i) {
      const Change& change = changes[i];
      const std::string fqdn = dns::normalize_name(change.name);
      if (failed_batch || stale.contains(fqdn)) {
        live[fqdn] = read(zone, zone_id, fqdn);
        decided[i].reset();
        stale.erase(fqdn);
      }
      if (!decided[i]) decided[i] = decide(zone, change, live[fqdn]);
      if (decided[i]->kind == Operation::Kind::none) continue;
      execute(zone, zone_id, change, *decided[i]);
      stale.insert(fqdn);
    }
  }

 private:
  std::string prefix() const { return "cloudflare provider " + util::quoted(m_name) + ": "; }
  std::string prefix(const std::string& zone) const { return prefix() + "zone " + zone + ": "; }

  http::Response send(Method method, const std::string& path, const json* body = nullptr) const {
    http::Request request{method, m_api_url + path, {{"Authorization", m_authorization}}, {}};
    request.headers.push_back({"Accept", "application/json"});
    if (body) {
      request.headers.push_back({"Content-Type", "application/json"});
      request.body = body->dump();
    }
    return m_client->send(request);
  }

  static json parse(const http::Response& response) { return JsonAnswer::parse(response.body); }

  // A 2xx answer saying "success": true. A "success" that is not a boolean is a shape error.
  static bool succeeded(const http::Response& response, const json& body, const std::string& source) {
    return response.ok() && body.is_object() &&
           JsonAnswer(source).boolean(body, "", "success").value_or(false);
  }

  static std::vector<int> error_codes(const json& body) {
    std::vector<int> out;
    if (!body.is_object() || !body.contains("errors") || !body["errors"].is_array()) return out;
    for (const auto& error : body["errors"])
      if (error.is_object() && error.contains("code") && error["code"].is_number_integer() &&
          error["code"].get<std::int64_t>() >= 0 && error["code"].get<std::int64_t>() <= 1000000)
        out.push_back(static_cast<int>(error["code"].get<std::int64_t>()));
    return out;
  }

  // The API's own explanation: each error's message and code, with its error_chain.
  static std::string api_message(const http::Response& response, const json& body) {
    if (!body.is_object() || !body.contains("errors") || !body["errors"].is_array()) return response.body;
    std::vector<std::string> parts;
    for (const auto& error : body["errors"]) {
      if (!error.is_object()) continue;
      const auto message = error.find("message");
      std::string part = message != error.end() && message->is_string() ? message->get<std::string>()
                                                                        : std::string("(no message)");
      if (error.contains("code") && error["code"].is_number_integer())
        part += " (code " + std::to_string(error["code"].get<std::int64_t>()) + ")";
      if (error.contains("error_chain") && error["error_chain"].is_array())
        for (const auto& link : error["error_chain"])
          if (link.is_object() && link.contains("message") && link["message"].is_string())
            part += ": " + link["message"].get<std::string>();
      parts.push_back(std::move(part));
    }
    return util::joined(parts, "; ");
  }

  [[noreturn]] void fail(const std::string& context, Method method, const std::string& path,
                         const http::Response& response, const json& body) const {
    const http::Request request{method, m_api_url + path, {}, {}};
    std::string message =
        http::http_error_message(m_redactor, context, request, response, api_message(response, body));
    const std::vector<int> codes = error_codes(body);
    if (response.status == 401 || response.status == 403 || std::ranges::count(codes, 10000) > 0)
      message += "; check that " + m_token_variable +
                 " holds a Cloudflare API token with the permissions Zone:Read and DNS:Edit on this zone";
    else if (response.status == 429)
      message += "; Cloudflare allows 1200 requests per 5 minutes per user: wait a few minutes and run again";
    throw ProviderError(
        std::ranges::count(codes, 10000) > 0 ? Failure::refused : failure_of(request, response),
        m_redactor.redact(message));
  }

  // The id of zone `zone`, or nullopt when the account has none of that name (zone_ids()).
  std::optional<std::string> find_zone_id(const std::string& zone, const std::string& doing) {
    const std::map<std::string, std::string>& ids = zone_ids(doing);
    if (const auto found = ids.find(zone); found != ids.end()) return found->second;
    return std::nullopt;
  }

  // Every zone the token can read, by name: listed once per run (GET /zones, page by page, 50 a
  // page), so finding the zones of many domains costs the listing's pages, not a request each.
  // Domains asking meanwhile wait for the one listing.
  const std::map<std::string, std::string>& zone_ids(const std::string& doing) {
    const std::lock_guard lock(m_zones_mutex);
    if (m_zones_listed) return m_zone_ids;
    std::map<std::string, std::string> ids;
    for (int page = 1;; ++page) {
      const std::string path =
          "/zones?per_page=" + std::to_string(k_zone_page_size) + "&page=" + std::to_string(page);
      const http::Response response = send(Method::get, path);
      const json body = parse(response);
      const JsonAnswer answer(prefix() + doing);
      const json* result =
          succeeded(response, body, prefix() + doing) ? answer.array(body, "", "result") : nullptr;
      if (!result) fail(prefix() + doing, Method::get, path, response, body);
      for (std::size_t i = 0; i < result->size(); ++i) {
        const json& entry = (*result)[i];
        const std::string at = JsonAnswer::at("result", i);
        const std::string name = dns::normalize_name(answer.string(entry, at, "name").value_or(""));
        if (!name.empty()) ids[name] = answer.required_string(entry, at, "id");
      }
      std::int64_t total_pages = 1;
      if (const json* info = answer.object(body, "", "result_info"))
        total_pages = answer.integer(*info, "result_info", "total_pages", 0, k_max_pages).value_or(1);
      if (page >= total_pages || result->empty()) break;
    }
    m_zone_ids = std::move(ids);
    m_zones_listed = true;
    return m_zone_ids;
  }

  std::string require_zone_id(const std::string& zone) {
    if (auto id = find_zone_id(zone, "looking up zone " + zone)) return *id;
    throw Error(prefix() + "zone " + util::quoted(zone) +
                " is not in the Cloudflare account, or the token in " + m_token_variable +
                " cannot read it (it needs Zone:Read on the zone)");
  }

  // The TXT records at `fqdn`, every page of them.
  std::vector<Record> read(const std::string& zone, const std::string& zone_id,
                           const std::string& fqdn) const {
    std::vector<Record> out;
    read_pages(zone, zone_id, "&name=" + http::url_encode(fqdn), k_page_size,
               "reading the TXT records at " + fqdn, [&](const std::string& name, Record record) {
                 if (name == fqdn) out.push_back(std::move(record));
               });
    return out;
  }

  // Every page of GET /zones/{id}/dns_records?type=TXT`filter`, each record given to `take` with
  // its name.
  void read_pages(const std::string& zone, const std::string& zone_id, const std::string& filter,
                  int per_page, const std::string& what,
                  const std::function<void(const std::string&, Record)>& take) const {
    const std::string doing = prefix(zone) + what;
    const JsonAnswer answer(doing);
    for (int page = 1;; ++page) {
      const std::string path = "/zones/" + http::url_encode(zone_id) + "/dns_records?type=TXT" + filter +
                               "&per_page=" + std::to_string(per_page) + "&page=" + std::to_string(page);
      const http::Response response = send(Method::get, path);
      const json body = parse(response);
      const json* result = succeeded(response, body, doing) ? answer.array(body, "", "result") : nullptr;
      if (!result) fail(doing, Method::get, path, response, body);
      for (std::size_t i = 0; i < result->size(); ++i) {
        const json& entry = (*result)[i];
        const std::string at = JsonAnswer::at("result", i);
        if (!entry.is_object()) answer.fail(at, "as something other than a record");
        if (answer.string(entry, at, "type").value_or("") != "TXT") continue;
        Record record;
        record.id = answer.required_string(entry, at, "id");
        record.value = parse_cloudflare_content(answer.required_string(entry, at, "content"));
        // 1 is Cloudflare's "automatic".
        record.ttl = static_cast<std::uint32_t>(answer.integer(entry, at, "ttl", 1, 2147483647).value_or(1));
        record.raw = entry;
        take(dns::normalize_name(answer.string(entry, at, "name").value_or("")), std::move(record));
      }
      std::int64_t total_pages = 1;
      if (const json* info = answer.object(body, "", "result_info"))
        total_pages = answer.integer(*info, "result_info", "total_pages", 0, k_max_pages).value_or(1);
      if (page >= total_pages || result->empty()) break;
    }
  }

  json record_body(const std::string& fqdn, const TxtValue& value, std::uint32_t ttl,
                   const json* keep) const {
    json body = {{"type", "TXT"}, {"name", fqdn}, {"content", cloudflare_content(value)}, {"ttl", ttl}};
    if (keep) {
      for (const char* field : {"comment", "tags"})
        if (keep->contains(field) && !(*keep)[field].is_null()) body[field] = (*keep)[field];
    }
    return body;
  }

  Operation rewrite(const std::string& fqdn, const Record& record, const TxtValue& value,
                    std::uint32_t ttl) const {
    json body = record_body(fqdn, value, ttl, &record.raw);
    body["id"] = record.id;
    return {Operation::Kind::put, record.id, std::move(body)};
  }

  // What `change` takes given the records at its name. Work already done is recognised (the value
  // to create or the update's result already there, the value to delete gone), so applying a plan
  // again converges; a state the plan did not expect is refused.
  Operation decide(const std::string& zone, const Change& change, const std::vector<Record>& records) const {
    const std::string fqdn = dns::normalize_name(change.name);
    const std::string where = " at " + fqdn;
    const Record* before = find_value(records, change.before);
    const Record* after = find_value(records, change.after);
    switch (change.action) {
      case Change::Action::remove:
        if (!before) return {};
        return {Operation::Kind::remove, before->id, {}};
      case Change::Action::update:
        if (before) return rewrite(fqdn, *before, *change.after, change.ttl);
        if (!after)
          throw ProviderError(Failure::drift, prefix(zone) + "cannot update the SPF value" + where +
                                                  ": the value it replaces, '" + change.before->joined() +
                                                  "', is no longer published there; run spfctl plan again");
        break;
      case Change::Action::create:
        if (!after) {
          for (const auto& record : records)
            if (spf::is_spf_record(record.value.joined()))
              throw ProviderError(Failure::drift,
                                  prefix(zone) + "cannot create the SPF value" + where +
                                      ": an SPF value is already there ('" + record.value.joined() +
                                      "') and a name must hold only one; run spfctl plan again");
          return {Operation::Kind::post, {}, record_body(fqdn, *change.after, change.ttl, nullptr)};
        }
        break;
    }
    if (after->ttl == change.ttl) return {};
    return rewrite(fqdn, *after, *change.after, change.ttl);
  }

  // True when the operations are worth one batch and Cloudflare's order inside a batch is the
  // order they were given in.
  static bool batchable(const std::vector<Operation>& operations) {
    int previous = -1;
    int count = 0;
    for (const auto& operation : operations) {
      const int rank = batch_rank(operation.kind);
      if (rank < 0) continue;
      if (rank < previous) return false;
      previous = rank;
      ++count;
    }
    return count >= 2;
  }

  static bool ambiguous(const http::Response& response) {
    return (response.transport_failed() && response.request_sent) || response.status >= 500;
  }

  // Sends the operations as one batch. True when it was applied; false when its outcome is
  // unknown (a server error or a broken connection), for the caller to go on one by one.
  bool send_batch(const std::string& zone, const std::string& zone_id,
                  const std::vector<Operation>& operations) {
    json body = {{"deletes", json::array()}, {"puts", json::array()}, {"posts", json::array()}};
    for (const auto& operation : operations) {
      switch (operation.kind) {
        case Operation::Kind::remove:
          body["deletes"].push_back({{"id", operation.id}});
          break;
        case Operation::Kind::put:
          body["puts"].push_back(operation.body);
          break;
        case Operation::Kind::post:
          body["posts"].push_back(operation.body);
          break;
        case Operation::Kind::none:
          break;
      }
    }
    const std::string path = "/zones/" + http::url_encode(zone_id) + "/dns_records/batch";
    const http::Response response = send(Method::post, path, &body);
    const json answer = parse(response);
    if (succeeded(response, answer, prefix(zone) + "applying a batch")) return true;
    if (ambiguous(response)) return false;
    fail(prefix(zone) + "applying " +
             std::to_string(body["deletes"].size() + body["puts"].size() + body["posts"].size()) +
             " changes in one batch (none was applied)",
         Method::post, path, response, answer);
  }

  void execute(const std::string& zone, const std::string& zone_id, const Change& change,
               const Operation& operation) {
    const std::string fqdn = dns::normalize_name(change.name);
    const std::string records_path = "/zones/" + http::url_encode(zone_id) + "/dns_records";
    const std::string doing = std::string(change.action == Change::Action::create   ? "creating"
                                          : change.action == Change::Action::update ? "updating"
                                                                                    : "deleting") +
                              " the SPF value at " + fqdn;
    switch (operation.kind) {
      case Operation::Kind::none:
        return;
      case Operation::Kind::remove: {
        const std::string path = records_path + "/" + http::url_encode(operation.id);
        const http::Response response = send(Method::delete_, path);
        const json body = parse(response);
        // Already gone (a retried DELETE whose first attempt went through): what was wanted.
        if (succeeded(response, body, prefix(zone) + doing) || response.status == 404) return;
        fail(prefix(zone) + doing, Method::delete_, path, response, body);
      }
      case Operation::Kind::put: {
        const std::string path = records_path + "/" + http::url_encode(operation.id);
        const http::Response response = send(Method::put, path, &operation.body);
        const json body = parse(response);
        if (succeeded(response, body, prefix(zone) + doing)) return;
        fail(prefix(zone) + doing, Method::put, path, response, body);
      }
      case Operation::Kind::post: {
        for (int attempt = 1;; ++attempt) {
          const http::Response response = send(Method::post, records_path, &operation.body);
          const json body = parse(response);
          if (succeeded(response, body, prefix(zone) + doing)) return;
          const std::vector<int> codes = error_codes(body);
          const bool duplicate =
              std::ranges::count(codes, k_code_exists) + std::ranges::count(codes, k_code_identical) > 0;
          if (!duplicate && (!ambiguous(response) || attempt == k_create_attempts))
            fail(prefix(zone) + doing, Method::post, records_path, response, body);
          // The record may be there after all (created by this request before it failed, or by
          // another run): read back, and finish the change from what is published.
          if (!duplicate) m_sleep(std::chrono::seconds(attempt));
          const Operation next = decide(zone, change, read(zone, zone_id, fqdn));
          if (next.kind == Operation::Kind::none) return;
          if (next.kind != Operation::Kind::post) return execute(zone, zone_id, change, next);
          if (duplicate) fail(prefix(zone) + doing, Method::post, records_path, response, body);
        }
      }
    }
  }

  std::string m_name;
  std::string m_api_url;
  std::string m_token_variable;
  std::string m_authorization;
  http::Redactor m_redactor;
  std::function<void(std::chrono::milliseconds)> m_sleep;
  std::shared_ptr<http::HttpClient> m_client;
  std::mutex m_zones_mutex;                       // held while the zones are listed
  std::map<std::string, std::string> m_zone_ids;  // guarded by m_zones_mutex; complete once listed
  bool m_zones_listed = false;
};

}  // namespace

const Capabilities& cloudflare_capabilities() {
  // Cloudflare has refused TXT content over 2048 characters, quotes included.
  static const Capabilities capabilities{.min_ttl = 60,
                                         .max_ttl = 86400,
                                         .max_string_bytes = dns::k_max_character_string,
                                         .max_value_bytes = 2000,
                                         .multi_string = true,
                                         .batch = true,
                                         .replaces_rrset = false};
  return capabilities;
}

std::string cloudflare_content(const TxtValue& value) {
  std::string out;
  for (const auto& string : value.strings) {
    for (const auto& piece : publish::cut_into_strings(string)) {
      if (!out.empty()) out += ' ';
      append_escaped(out, piece);
    }
  }
  if (out.empty()) out = "\"\"";
  return out;
}

TxtValue parse_cloudflare_content(std::string_view content) {
  if (auto strings = parse_quoted(content)) return {std::move(*strings)};
  return {publish::cut_into_strings(content)};
}

std::unique_ptr<Provider> make_cloudflare(const ProviderSettings& settings,
                                          const ProviderEnvironment& environment) {
  http::CurlOptions curl;
  curl.total_timeout = settings.seconds("timeout", curl.total_timeout);
  curl.connect_timeout = std::min(curl.connect_timeout, curl.total_timeout);
  const std::string token = environment.secret(settings, "token_env");
  return std::make_unique<CloudflareProvider>(settings.name, settings.text("api_url", k_cloudflare_api_url),
                                              settings.text("token_env"), token, curl, environment);
}

}  // namespace spfctl::providers
