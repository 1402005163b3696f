#include "providers/godaddy.hpp"

#include <algorithm>
#include <cstdlib>
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

// GET /v1/domains, a page at a time.
constexpr int k_domain_page_size = 1000;
constexpr std::int64_t k_max_domain_pages = 1000;
// GET /v1/domains/{domain}/records/TXT, a page at a time: a domain's TXT records are few, and a
// hostile answer must not keep spfctl paging for ever.
constexpr std::int64_t k_record_page_size = 500;
constexpr std::int64_t k_max_record_pages = 100;

// The value as a receiver gets it from GoDaddy: the data cut into 255-byte character-strings.
TxtValue value_of(std::string_view data) {
  return {publish::cut_into_strings(data)};
}

// One TXT value at a name, as GoDaddy holds it.
struct Record {
  std::string data;
  std::uint32_t ttl = 0;
  bool operator==(const Record&) const = default;
};

std::vector<Record>::const_iterator find_data(const std::vector<Record>& records,
                                              const std::optional<TxtValue>& value) {
  if (!value) return records.end();
  const std::string wanted = value->joined();
  return std::ranges::find_if(records, [&](const Record& r) { return r.data == wanted; });
}

// A record set's TTL: that of its SPF value, the one spfctl manages (GoDaddy keeps a TTL per value,
// and the others are written back with their own); without one, the lowest.
std::uint32_t set_ttl(const std::vector<Record>& records) {
  for (const auto& record : records)
    if (spf::is_spf_record(record.data)) return record.ttl;
  std::uint32_t lowest = records.front().ttl;
  for (const auto& record : records) lowest = std::min(lowest, record.ttl);
  return lowest;
}

// The delay a 429 asks for in its body: {"code": "TOO_MANY_REQUESTS", "retryAfterSec": N}.
std::optional<std::chrono::milliseconds> retry_after_sec(const http::Response& response) {
  if (response.status != 429) return std::nullopt;
  const json body = JsonAnswer::parse(response.body);
  if (!body.is_object() || !body.contains("retryAfterSec") || !body["retryAfterSec"].is_number())
    return std::nullopt;
  const double seconds = body["retryAfterSec"].get<double>();
  if (!(seconds >= 0) || seconds > 86400) return std::nullopt;
  return std::chrono::milliseconds(static_cast<std::int64_t>(seconds * 1000));
}

class GoDaddyProvider : public Provider {
 public:
  GoDaddyProvider(std::string name, std::string api_url, std::string key_variable,
                  std::string secret_variable, const std::string& key, const std::string& secret,
                  const http::CurlOptions& curl, const ProviderEnvironment& environment)
      : m_name(std::move(name)),
        m_api_url(std::move(api_url)),
        m_key_variable(std::move(key_variable)),
        m_secret_variable(std::move(secret_variable)),
        m_authorization("sso-key " + key + ":" + secret),
        m_redactor(std::vector<std::string>{key, secret, key + ":" + secret}) {
    std::shared_ptr<http::HttpClient> transport =
        environment.http ? environment.http : std::make_shared<http::CurlHttpClient>(curl);
    std::shared_ptr<http::RateLimiter> limiter =
        environment.rate_limiter
            ? environment.rate_limiter
            : http::shared_rate_limiter(http::account_key("godaddy", m_api_url, key), k_godaddy_rate_limit);
    http::RetryOptions retry;
    retry.max_attempts = 6;
    retry.retry_hint = retry_after_sec;
    if (environment.sleep) retry.sleep = environment.sleep;
    m_client = std::make_shared<http::RetryingClient>(
        std::make_shared<http::RateLimitedClient>(transport, limiter), std::move(retry));
  }

  const Capabilities& capabilities() const override { return godaddy_capabilities(); }

  std::string zone_for(std::string_view name) override {
    const std::string wanted = dns::normalize_name(name);
    std::vector<std::string> candidates;
    for (std::size_t at = 0; wanted.find('.', at) != std::string::npos; at = wanted.find('.', at) + 1)
      candidates.push_back(wanted.substr(at));
    const std::set<std::string>& domains = account_domains("finding the domain of " + wanted);
    for (const auto& candidate : candidates)
      if (domains.contains(candidate)) return candidate;
    throw Error(prefix() + "no domain of the GoDaddy account holds " + util::quoted(wanted) + " (asked for " +
                util::joined(candidates) + "); check that the domain is in the account of the key in " +
                m_key_variable + " and that its DNS is hosted at GoDaddy");
  }

  std::vector<TxtRecordSet> list(std::string_view zone_name, const std::vector<std::string>& names) override {
    const std::string zone = dns::normalize_name(zone_name);
    std::vector<TxtRecordSet> out;
    for (const auto& name : names) {
      const std::string fqdn = dns::normalize_name(name);
      const std::vector<Record> records = read(zone, fqdn);
      if (!records.empty()) out.push_back(record_set(fqdn, records));
    }
    return out;
  }

  // GET /v1/domains/{domain}/records/TXT: the domain's TXT records of every name, a page at a time.
  std::optional<std::vector<TxtRecordSet>> list_zone(std::string_view zone_name) override {
    const std::string zone = dns::normalize_name(zone_name);
    const std::string doing = prefix(zone) + "reading the domain's TXT records";
    std::map<std::string, std::vector<Record>> by_name;
    for (std::int64_t page = 0; page < k_max_record_pages; ++page) {
      const std::string path = "/v1/domains/" + http::url_encode(zone) +
                               "/records/TXT?offset=" + std::to_string(page * k_record_page_size) +
                               "&limit=" + std::to_string(k_record_page_size);
      std::size_t count = 0;
      for (auto& [name, record] : records_at(path, doing)) {
        ++count;
        by_name[absolute(zone, name, doing)].push_back(std::move(record));
      }
      if (count < static_cast<std::size_t>(k_record_page_size)) break;
    }
    std::vector<TxtRecordSet> out;
    for (const auto& [fqdn, records] : by_name) out.push_back(record_set(fqdn, records));
    return out;
  }

  void apply(std::string_view zone_name, const std::vector<Change>& changes) override {
    const std::string zone = dns::normalize_name(zone_name);
    for (const auto& change : changes) {
      const std::string fqdn = dns::normalize_name(change.name);
      const std::vector<Record> live = read(zone, fqdn);
      const std::vector<Record> wanted = decide(zone, change, live);
      if (wanted == live) continue;
      write(zone, change, wanted);
    }
  }

 private:
  // The account's domains: listed once per run (GET /v1/domains, page by page after a marker), so
  // finding the domains of many names costs the listing's pages, not a request each. Names asking
  // meanwhile wait for the one listing.
  const std::set<std::string>& account_domains(const std::string& doing) {
    const std::lock_guard lock(m_domains_mutex);
    if (m_domains_listed) return m_domains;
    std::set<std::string> domains;
    std::string marker;
    for (std::int64_t page = 0; page < k_max_domain_pages; ++page) {
      const std::string path = "/v1/domains?limit=" + std::to_string(k_domain_page_size) +
                               (marker.empty() ? "" : "&marker=" + http::url_encode(marker));
      const http::Response response = send(Method::get, path);
      const json body = parse(response);
      if (!response.ok() || !body.is_array()) fail(prefix() + doing, Method::get, path, response, body);
      const JsonAnswer answer(prefix() + doing);
      std::string last;
      for (std::size_t i = 0; i < body.size(); ++i) {
        const std::string at = JsonAnswer::at("", i);
        last = dns::normalize_name(answer.required_string(body[i], at, "domain"));
        domains.insert(last);
      }
      // Until an empty page: a server may hold a page to fewer than the limit asked for.
      if (last.empty() || last == marker) break;
      marker = last;
    }
    m_domains = std::move(domains);
    m_domains_listed = true;
    return m_domains;
  }

  std::string prefix() const { return "godaddy provider " + util::quoted(m_name) + ": "; }
  std::string prefix(const std::string& zone) const { return prefix() + "domain " + zone + ": "; }

  // "@" for the apex, else the name without the domain.
  std::string relative(const std::string& zone, const std::string& fqdn) const {
    if (fqdn == zone) return "@";
    if (fqdn.size() > zone.size() && fqdn.ends_with("." + zone))
      return fqdn.substr(0, fqdn.size() - zone.size() - 1);
    throw Error(prefix(zone) + util::quoted(fqdn) + " is not inside the domain");
  }

  std::string records_path(const std::string& zone, const std::string& fqdn) const {
    return "/v1/domains/" + http::url_encode(zone) + "/records/TXT/" +
           http::url_encode(relative(zone, fqdn), "@");
  }

  http::Response send(Method method, const std::string& path, const std::string* body = nullptr) const {
    http::Request request{method, m_api_url + path, {{"Authorization", m_authorization}}, {}};
    request.headers.push_back({"Accept", "application/json"});
    if (body) {
      request.headers.push_back({"Content-Type", "application/json"});
      request.body = *body;
    }
    return m_client->send(request);
  }

  static json parse(const http::Response& response) { return JsonAnswer::parse(response.body); }

  static std::string error_code(const json& body) {
    return body.is_object() && body.contains("code") && body["code"].is_string()
               ? body["code"].get<std::string>()
               : std::string();
  }

  // The API's own explanation: its message and code, and each field it found fault with.
  static std::string api_message(const http::Response& response, const json& body) {
    // Read leniently: this only explains a failure, whatever its shape.
    auto text = [](const json& object, const char* key, const char* fallback) {
      const auto it = object.find(key);
      return it != object.end() && it->is_string() ? it->get<std::string>() : std::string(fallback);
    };
    if (!body.is_object() || !body.contains("message")) return response.body;
    std::string out = text(body, "message", "");
    if (const std::string code = error_code(body); !code.empty()) out += " (" + code + ")";
    if (body.contains("fields") && body["fields"].is_array())
      for (const auto& field : body["fields"])
        if (field.is_object()) out += "; " + text(field, "path", "?") + ": " + text(field, "message", "");
    return out;
  }

  [[noreturn]] void fail(const std::string& context, Method method, const std::string& path,
                         const http::Response& response, const json& body) const {
    const http::Request request{method, m_api_url + path, {}, {}};
    std::string message =
        http::http_error_message(m_redactor, context, request, response, api_message(response, body));
    const std::string code = error_code(body);
    if (response.status == 403 && code == "ACCESS_DENIED")
      message +=
          "; GoDaddy grants Domains API access by account type: since 2024, accounts with fewer than 10 "
          "domains "
          "and without a Discount Domain Club or Pro plan are refused, so the key in " +
          m_key_variable +
          " cannot manage this DNS until the account qualifies (or the domain's DNS moves to a provider "
          "whose API is open)";
    else if (response.status == 401)
      message +=
          "; check that " + m_key_variable + " and " + m_secret_variable +
          " hold a key and its secret from developer.godaddy.com for this environment (production keys "
          "do not work with environment = \"ote\", nor the other way round)";
    else if (response.status == 404 && code == "UNKNOWN_DOMAIN")
      message += "; the domain is not in this GoDaddy account, or GoDaddy does not host its DNS";
    else if (response.status == 429)
      message += "; GoDaddy allows 60 requests a minute per key: wait a minute and run again";
    throw ProviderError(failure_of(request, response), m_redactor.redact(message));
  }

  // The TXT records a GET of `path` answers, each with its relative name (empty when the answer
  // names none).
  std::vector<std::pair<std::string, Record>> records_at(const std::string& path,
                                                         const std::string& doing) const {
    const http::Response response = send(Method::get, path);
    const json body = parse(response);
    if (!response.ok() || !body.is_array()) fail(doing, Method::get, path, response, body);
    const JsonAnswer answer(doing);
    std::vector<std::pair<std::string, Record>> out;
    for (std::size_t i = 0; i < body.size(); ++i) {
      const json& entry = body[i];
      const std::string at = JsonAnswer::at("", i);
      if (!entry.is_object()) answer.fail(at, "as something other than a record");
      if (answer.string(entry, at, "type").value_or("TXT") != "TXT") continue;
      out.emplace_back(
          answer.string(entry, at, "name").value_or(""),
          Record{answer.required_string(entry, at, "data"),
                 static_cast<std::uint32_t>(answer.integer(entry, at, "ttl", 0, 2147483647).value_or(3600))});
    }
    return out;
  }

  std::vector<Record> read(const std::string& zone, const std::string& fqdn) const {
    std::vector<Record> out;
    for (auto& [name, record] :
         records_at(records_path(zone, fqdn), prefix(zone) + "reading the TXT records at " + fqdn))
      out.push_back(std::move(record));
    return out;
  }

  // The FQDN of a record the zone listing names relatively ("@", "_spf1").
  std::string absolute(const std::string& zone, const std::string& name, const std::string& doing) const {
    if (name.empty() || name == "@") return zone;
    const std::string fqdn = dns::normalize_name(name) + "." + zone;
    if (!dns::is_queryable(fqdn))
      throw ProviderError(Failure::failed, doing + ": GoDaddy answered with a record named " +
                                               util::quoted(util::printable(name)) +
                                               ", which is not a DNS name");
    return fqdn;
  }

  static TxtRecordSet record_set(const std::string& fqdn, const std::vector<Record>& records) {
    TxtRecordSet set{fqdn, set_ttl(records), {}, {}};
    for (const auto& record : records) set.values.push_back(value_of(record.data));
    return set;
  }

  // The values the name must hold after `change`, from those it holds: the other values as they
  // are, the SPF value created, replaced or left out. Work already done is recognised, so applying
  // a plan again converges; a state the plan did not expect is refused.
  std::vector<Record> decide(const std::string& zone, const Change& change,
                             std::vector<Record> records) const {
    const std::string where = " at " + dns::normalize_name(change.name);
    auto before = find_data(records, change.before);
    auto after = find_data(records, change.after);
    switch (change.action) {
      case Change::Action::remove:
        if (before != records.end()) records.erase(before);
        return records;
      case Change::Action::update:
        if (before != records.end()) {
          records[static_cast<std::size_t>(before - records.begin())] = {change.after->joined(), change.ttl};
          return records;
        }
        if (after == records.end())
          throw ProviderError(Failure::drift, prefix(zone) + "cannot update the SPF value" + where +
                                                  ": the value it replaces, '" + change.before->joined() +
                                                  "', is no longer published there; run spfctl plan again");
        break;
      case Change::Action::create:
        if (after == records.end()) {
          for (const auto& record : records)
            if (spf::is_spf_record(record.data))
              throw ProviderError(Failure::drift,
                                  prefix(zone) + "cannot create the SPF value" + where +
                                      ": an SPF value is already there ('" + record.data +
                                      "') and a name must hold only one; run spfctl plan again");
          records.push_back({change.after->joined(), change.ttl});
          return records;
        }
        break;
    }
    records[static_cast<std::size_t>(after - records.begin())].ttl = change.ttl;
    return records;
  }

  void write(const std::string& zone, const Change& change, const std::vector<Record>& records) {
    const std::string fqdn = dns::normalize_name(change.name);
    const std::string path = records_path(zone, fqdn);
    const std::string doing = std::string(change.action == Change::Action::create   ? "creating"
                                          : change.action == Change::Action::update ? "updating"
                                                                                    : "deleting") +
                              " the SPF value at " + fqdn;
    if (records.empty()) {
      const http::Response response = send(Method::delete_, path);
      // Nothing left to delete (a retried DELETE whose first attempt went through): what was wanted.
      if (response.ok() || (response.status == 404 && error_code(parse(response)) != "UNKNOWN_DOMAIN"))
        return;
      fail(prefix(zone) + doing, Method::delete_, path, response, parse(response));
    }
    json body = json::array();
    for (const auto& record : records) body.push_back({{"data", record.data}, {"ttl", record.ttl}});
    std::string text;
    try {
      text = body.dump();
    } catch (const json::type_error&) {
      throw Error(prefix(zone) + doing +
                  ": GoDaddy takes TXT data as JSON text, and the value is not valid UTF-8");
    }
    const http::Response response = send(Method::put, path, &text);
    if (response.ok()) return;
    fail(prefix(zone) + doing, Method::put, path, response, parse(response));
  }

  std::string m_name;
  std::string m_api_url;
  std::string m_key_variable;
  std::string m_secret_variable;
  std::string m_authorization;
  http::Redactor m_redactor;
  std::shared_ptr<http::HttpClient> m_client;
  std::mutex m_domains_mutex;       // held while the account's domains are listed
  std::set<std::string> m_domains;  // guarded by m_domains_mutex; complete once listed
  bool m_domains_listed = false;
};

}  // namespace

const Capabilities& godaddy_capabilities() {
  // GoDaddy has refused TXT data longer than 512 characters. A value is one data string of up to
  // that, cut into 255-byte character-strings only when served, so the string it stores is as long
  // as the value: a 255-byte limit here would refuse every record over 255 bytes.
  static const Capabilities capabilities{.min_ttl = 600,
                                         .max_string_bytes = 512,
                                         .max_value_bytes = 512,
                                         .multi_string = false,
                                         .batch = false,
                                         .replaces_rrset = true};
  return capabilities;
}

std::vector<SettingProblem> check_godaddy_settings(const ProviderSettings& settings) {
  if (settings.has("api_url") && settings.has("environment"))
    return {{"environment", "is set with api_url too: keep one (api_url is the environment's address)"}};
  return plan_reads_problems(settings);
}

std::unique_ptr<Provider> make_godaddy(const ProviderSettings& settings,
                                       const ProviderEnvironment& environment) {
  http::CurlOptions curl;
  curl.total_timeout = settings.seconds("timeout", curl.total_timeout);
  curl.connect_timeout = std::min(curl.connect_timeout, curl.total_timeout);
  const std::string api_url = settings.text(
      "api_url", settings.text("environment") == "ote" ? k_godaddy_ote_api_url : k_godaddy_api_url);
  const std::string key = environment.secret(settings, "key_env");
  const std::string secret = environment.secret(settings, "secret_env");
  return std::make_unique<GoDaddyProvider>(settings.name, api_url, settings.text("key_env"),
                                           settings.text("secret_env"), key, secret, curl, environment);
}

}  // namespace spfctl::providers
