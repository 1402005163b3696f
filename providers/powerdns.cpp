#include "providers/powerdns.hpp"

#include <algorithm>
#include <cstdlib>
#include <map>
#include <nlohmann/json.hpp>
#include <stdexcept>
#include <utility>

#include "dns/live_resolver.hpp"
#include "dns/resolver.hpp"
#include "error.hpp"
#include "http/curl_client.hpp"
#include "http/rate_limiter.hpp"
#include "http/retry.hpp"
#include "providers/json_answer.hpp"
#include "providers/settings.hpp"
#include "publish/records.hpp"
#include "spf/select.hpp"
#include "util/text.hpp"

namespace spfctl::providers {

namespace {

using nlohmann::json;

constexpr std::string_view k_provider = "powerdns";
// PowerDNS has no request quota; this only keeps a large run from flooding a shared server.
constexpr http::RateLimit k_rate_limit{50, std::chrono::milliseconds(1000)};

std::string percent_encode(std::string_view text) {
  static constexpr char k_hex[] = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : text) {
    const bool unreserved = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
                            c == '-' || c == '.' || c == '_' || c == '~' || c == '=';
    if (unreserved) {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += k_hex[c >> 4];
      out += k_hex[c & 0xf];
    }
  }
  return out;
}

// The API's names are absolute: "example.com.", and "." for the root.
std::string canonical(std::string_view name) {
  return name.empty() ? "." : std::string(name) + ".";
}

// Appends `text` to `out` as character-strings of at most 255 bytes.
void append_split(std::vector<std::string>& out, std::string_view text) {
  for (std::string& piece : publish::cut_into_strings(text)) out.push_back(std::move(piece));
}

// The API's explanation in an error body: {"error": "..."}, or a short plain-text body.
std::string api_message(const http::Response& response) {
  const json body = JsonAnswer::parse(response.body);
  if (body.is_object() && body.contains("error") && body["error"].is_string())
    return body["error"].get<std::string>();
  if (body.is_discarded() && response.body.size() < 200) return response.body;
  return {};
}

json parse_body(const http::Response& response, std::string_view context) {
  json body = JsonAnswer::parse(response.body);
  if (body.is_discarded())
    throw Error(std::string(k_provider) + ": " + std::string(context) +
                ": the API answered with something that is not JSON; is api_url the PowerDNS webserver?");
  return body;
}

// The TXT records of one RRset as the API reported them.
struct RecordSet {
  std::uint32_t ttl = 0;
  std::vector<TxtValue> values;       // enabled records, in the API's order
  std::vector<std::string> disabled;  // disabled records' content, verbatim
};

// The TXT RRsets in a zone GET answer, by lowercase name without the trailing dot; only names in
// `wanted` when it is given.
std::map<std::string, RecordSet> txt_sets(const json& zone, std::string_view context,
                                          const std::vector<std::string>* wanted) {
  std::map<std::string, RecordSet> out;
  const JsonAnswer answer(std::string(k_provider) + ": " + std::string(context));
  const json* rrsets = answer.array(zone, "", "rrsets");
  if (!rrsets) answer.fail("", "no rrsets list");
  for (std::size_t i = 0; i < rrsets->size(); ++i) {
    const json& rrset = (*rrsets)[i];
    const std::string at = JsonAnswer::at("rrsets", i);
    if (!rrset.is_object()) answer.fail(at, "as something other than an RRset");
    if (answer.string(rrset, at, "type").value_or("") != "TXT") continue;
    const std::string name = dns::normalize_name(answer.required_string(rrset, at, "name"));
    if (wanted && std::ranges::find(*wanted, name) == wanted->end()) continue;
    RecordSet& set = out[name];
    set.ttl = static_cast<std::uint32_t>(answer.integer(rrset, at, "ttl", 0, 2147483647).value_or(0));
    const json* records = answer.array(rrset, at, "records");
    for (std::size_t k = 0; records && k < records->size(); ++k) {
      const json& record = (*records)[k];
      const std::string record_at = JsonAnswer::at(JsonAnswer::member(at, "records"), k);
      const std::string content = answer.string(record, record_at, "content").value_or("");
      if (answer.boolean(record, record_at, "disabled").value_or(false)) {
        set.disabled.push_back(content);
        continue;
      }
      auto value = parse_powerdns_txt_content(content);
      if (!value)
        throw Error(std::string(k_provider) + ": " + std::string(context) + ": cannot read the TXT content " +
                    content + " at " + util::quoted(name, '"') + "; fix it with pdnsutil edit-zone");
      set.values.push_back(std::move(*value));
    }
  }
  return out;
}

const TxtValue* find_value(const std::vector<TxtValue>& values, const TxtValue& wanted) {
  for (const TxtValue& v : values)
    if (v.joined() == wanted.joined()) return &v;
  return nullptr;
}

// The RRset to write at one name, and what it is built from.
struct Write {
  std::string name;
  std::uint32_t ttl = 0;
  std::vector<TxtValue> values;
  std::vector<std::string> disabled;
};

}  // namespace

std::string powerdns_txt_content(const TxtValue& value) {
  std::vector<std::string> strings;
  for (const std::string& s : value.strings) append_split(strings, s);
  if (strings.empty()) strings.emplace_back();
  std::string out;
  for (const std::string& s : strings) {
    if (!out.empty()) out += ' ';
    out += '"';
    for (unsigned char c : s) {
      if (c == '"' || c == '\\') {
        out += '\\';
        out += static_cast<char>(c);
      } else if (c < 0x20 || c >= 0x7f) {
        out += '\\';
        out += static_cast<char>('0' + c / 100);
        out += static_cast<char>('0' + c / 10 % 10);
        out += static_cast<char>('0' + c % 10);
      } else {
        out += static_cast<char>(c);
      }
    }
    out += '"';
  }
  return out;
}

std::optional<TxtValue> parse_powerdns_txt_content(std::string_view content) {
  auto is_blank = [](char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; };
  auto is_digit = [](char c) { return c >= '0' && c <= '9'; };
  TxtValue value;
  std::size_t at = 0;
  while (true) {
    while (at < content.size() && is_blank(content[at])) ++at;
    if (at == content.size()) break;
    const bool quoted_string = content[at] == '"';
    if (quoted_string) ++at;
    std::string text;
    bool closed = !quoted_string;
    while (at < content.size()) {
      const char c = content[at];
      if (quoted_string && c == '"') {
        closed = true;
        ++at;
        break;
      }
      if (!quoted_string && is_blank(c)) break;
      if (c != '\\') {
        text += c;
        ++at;
        continue;
      }
      if (at + 1 == content.size()) return std::nullopt;
      if (at + 3 < content.size() && is_digit(content[at + 1]) && is_digit(content[at + 2]) &&
          is_digit(content[at + 3])) {
        const int code =
            (content[at + 1] - '0') * 100 + (content[at + 2] - '0') * 10 + (content[at + 3] - '0');
        if (code > 255) return std::nullopt;
        text += static_cast<char>(code);
        at += 4;
      } else {
        text += content[at + 1];
        at += 2;
      }
    }
    if (!closed) return std::nullopt;
    append_split(value.strings, text);
  }
  if (value.strings.empty()) return std::nullopt;
  return value;
}

PowerDnsProvider::PowerDnsProvider(PowerDnsOptions options) : m_options(std::move(options)) {
  if (!m_options.http) throw std::invalid_argument("PowerDnsProvider needs an http client");
  m_redactor.add_secret(m_options.api_key);
}

const Capabilities& PowerDnsProvider::capabilities() const {
  return powerdns_capabilities();
}

const Capabilities& powerdns_capabilities() {
  static const Capabilities capabilities{.min_ttl = 1,
                                         .max_ttl = 2147483647,
                                         .max_string_bytes = dns::k_max_character_string,
                                         .max_value_bytes = 65535,
                                         .multi_string = true,
                                         .batch = true,
                                         .replaces_rrset = true,
                                         // sqlite3, the documented small set-up, takes one writer
                                         .write_concurrency = 1};
  return capabilities;
}

http::Response PowerDnsProvider::send(http::Request request) const {
  request.headers.push_back({"X-API-Key", m_options.api_key});
  request.headers.push_back({"Accept", "application/json"});
  if (!request.body.empty()) request.headers.push_back({"Content-Type", "application/json"});
  return m_options.http->send(request);
}

void PowerDnsProvider::fail(std::string_view context, const http::Request& request,
                            const http::Response& response) const {
  std::string label(k_provider);
  if (!context.empty()) label += ": " + std::string(context);
  std::string message = http::http_error_message(m_redactor, label, request, response, api_message(response));
  if (response.status == 401 || response.status == 403) {
    message += "; check that " +
               (m_options.api_key_env.empty() ? std::string("the API key")
                                              : "the environment variable " + m_options.api_key_env) +
               " holds the api-key set in pdns.conf";
  } else if (response.status == 404 && context.empty()) {
    message += "; check server_id (" + util::quoted(m_options.server_id, '"') + ") and api_url";
  } else if (response.transport_failed()) {
    message += "; is pdns_server running with api=yes and webserver=yes at " + m_options.api_url + "?";
  } else if (response.body.find("database is locked") != std::string::npos) {
    message +=
        "; PowerDNS's sqlite3 database was locked by another write (sqlite3 takes one writer at a "
        "time): keep write_concurrency = 1 for this provider, stop other writers meanwhile, and run "
        "apply again";
  }
  throw ProviderError(failure_of(request, response), m_redactor.redact(message));
}

std::string PowerDnsProvider::zone_url(const Zone& zone) const {
  return m_options.api_url + "/api/v1/servers/" + percent_encode(m_options.server_id) + "/zones/" +
         percent_encode(zone.id);
}

const std::vector<PowerDnsProvider::Zone>& PowerDnsProvider::zones() {
  std::lock_guard lock(m_zones_mutex);
  if (m_zones) return *m_zones;
  const http::Request request{
      http::Method::get,
      m_options.api_url + "/api/v1/servers/" + percent_encode(m_options.server_id) + "/zones",
      {},
      {}};
  const http::Response response = send(request);
  if (!response.ok()) fail("", request, response);
  const json body = parse_body(response, "listing zones");
  if (!body.is_array())
    throw Error(std::string(k_provider) + ": listing zones: the API's answer is not a list");
  const JsonAnswer answer(std::string(k_provider) + ": listing zones");
  std::vector<Zone> found;
  for (std::size_t i = 0; i < body.size(); ++i) {
    const json& zone = body[i];
    const std::string at = JsonAnswer::at("", i);
    if (!zone.is_object()) continue;
    const std::string name = answer.required_string(zone, at, "name");
    found.push_back({dns::normalize_name(name), answer.string(zone, at, "id").value_or(name)});
  }
  m_zones = std::move(found);
  return *m_zones;
}

const PowerDnsProvider::Zone& PowerDnsProvider::served_zone(std::string_view zone) {
  const std::string wanted = dns::normalize_name(zone);
  for (const Zone& z : zones())
    if (z.name == wanted) return z;
  throw Error(std::string(k_provider) + ": server " + util::quoted(m_options.server_id, '"') + " at " +
              m_options.api_url + " serves no zone " + util::quoted(wanted, '"') +
              "; create it (pdnsutil create-zone " + (wanted.empty() ? "." : wanted) +
              ") or fix the domain's zone");
}

std::string PowerDnsProvider::zone_for(std::string_view name) {
  const std::string wanted = dns::normalize_name(name);
  const Zone* best = nullptr;
  for (const Zone& z : zones())
    if (dns::in_zone(wanted, z.name) && (!best || z.name.size() > best->name.size())) best = &z;
  if (!best)
    throw Error(std::string(k_provider) + ": server " + util::quoted(m_options.server_id, '"') + " at " +
                m_options.api_url + " serves no zone containing " + util::quoted(wanted, '"') +
                "; create the zone first (pdnsutil create-zone ZONE) or check the domain name");
  return best->name;
}

std::vector<TxtRecordSet> PowerDnsProvider::list(std::string_view zone,
                                                 const std::vector<std::string>& names) {
  const Zone& served = served_zone(zone);
  const std::string context = "zone " + served.name;
  std::vector<std::string> wanted;
  for (const std::string& name : names) {
    std::string n = dns::normalize_name(name);
    if (std::ranges::find(wanted, n) == wanted.end()) wanted.push_back(std::move(n));
  }
  std::vector<TxtRecordSet> out;
  for (const std::string& name : wanted) {
    const http::Request request{
        http::Method::get,
        zone_url(served) + "?rrset_name=" + percent_encode(canonical(name)) + "&rrset_type=TXT",
        {},
        {}};
    const http::Response response = send(request);
    if (!response.ok()) fail(context, request, response);
    const std::vector<std::string> only{name};
    auto sets = txt_sets(parse_body(response, context), context, &only);
    auto found = sets.find(name);
    if (found == sets.end() || found->second.values.empty()) continue;
    out.push_back({name, found->second.ttl, std::move(found->second.values), {}});
  }
  return out;
}

void PowerDnsProvider::apply(std::string_view zone, const std::vector<Change>& changes) {
  if (changes.empty()) return;
  const Zone& served = served_zone(zone);
  const std::string context = "zone " + served.name;
  for (const Change& change : changes)
    if (!dns::in_zone(dns::normalize_name(change.name), served.name))
      throw Error(std::string(k_provider) + ": " + context + ": " + util::quoted(change.name, '"') +
                  " is not in this zone; nothing was applied");

  // The whole zone, because only its unfiltered GET reports disabled records, which a REPLACE
  // would otherwise delete.
  const http::Request read{http::Method::get, zone_url(served), {}, {}};
  const http::Response current = send(read);
  if (!current.ok()) fail(context, read, current);
  std::map<std::string, RecordSet> live = txt_sets(parse_body(current, context), context, nullptr);

  auto drift = [&](const Change& change, const std::string& what) {
    return ProviderError(Failure::drift,
                         std::string(k_provider) + ": " + context + ": cannot " +
                             std::string(to_string(change.action)) + " the SPF value at " +
                             util::quoted(change.name, '"') + ": " + what +
                             " (changed since it was read); nothing was applied; run spfctl plan again");
  };

  std::vector<Write> writes;
  for (const Change& change : changes) {
    const std::string name = dns::normalize_name(change.name);
    auto write = std::ranges::find(writes, name, &Write::name);
    if (write == writes.end()) {
      const RecordSet& set = live[name];
      writes.push_back({name, set.ttl, set.values, set.disabled});
      write = writes.end() - 1;
    }
    write->ttl = change.ttl;
    if (change.before) {
      const TxtValue* old = find_value(write->values, *change.before);
      if (!old) throw drift(change, util::quoted(change.before->joined(), '"') + " is no longer published");
      write->values.erase(write->values.begin() + (old - write->values.data()));
    }
    if (change.after) {
      if (change.action == Change::Action::create)
        for (const TxtValue& v : write->values)
          if (spf::is_spf_record(v.joined()) && v.joined() != change.after->joined())
            throw drift(change, "it already holds the SPF value " + util::quoted(v.joined(), '"'));
      if (!find_value(write->values, *change.after)) write->values.push_back(*change.after);
    }
  }

  json rrsets = json::array();
  for (const Write& write : writes) {
    json rrset = {{"name", canonical(write.name)}, {"type", "TXT"}};
    if (write.values.empty() && write.disabled.empty()) {
      rrset["changetype"] = "DELETE";
    } else {
      json records = json::array();
      for (const TxtValue& value : write.values)
        records.push_back({{"content", powerdns_txt_content(value)}, {"disabled", false}});
      for (const std::string& content : write.disabled)
        records.push_back({{"content", content}, {"disabled", true}});
      rrset["changetype"] = "REPLACE";
      rrset["ttl"] = write.ttl;
      rrset["records"] = std::move(records);
    }
    rrsets.push_back(std::move(rrset));
  }
  // Every RRset is REPLACEd or DELETEd whole: sending the PATCH again after a 5xx (a sqlite3
  // backend busy with another write answers 500) gives the same zone.
  const http::Request patch{http::Method::patch, zone_url(served), {}, json{{"rrsets", rrsets}}.dump(), true};
  const http::Response response = send(patch);
  // An answer to a first attempt that was lost may have been the one that wrote.
  if (!response.ok())
    fail(context + ": " +
             (response.attempts > 1
                  ? "the last of " + std::to_string(response.attempts) +
                        " attempts failed (an earlier one may have applied the changes)"
                  : "none of the " + std::to_string(changes.size()) +
                        (changes.size() == 1 ? " change was" : " changes were") + " applied"),
         patch, response);
}

std::unique_ptr<Provider> make_powerdns(const ProviderSettings& settings,
                                        const ProviderEnvironment& environment) {
  PowerDnsOptions options;
  options.api_url = settings.text("api_url");
  if (options.api_url.ends_with("/api/v1")) options.api_url.resize(options.api_url.size() - 7);
  options.server_id = settings.text("server_id", options.server_id);
  if (settings.has("dns_server")) options.dns_server = settings.text("dns_server");
  http::CurlOptions curl;
  curl.total_timeout = settings.seconds("timeout", curl.total_timeout);
  curl.connect_timeout = std::min(curl.connect_timeout, curl.total_timeout);
  options.api_key_env = settings.text("api_key_env");
  options.api_key = environment.secret(settings, "api_key_env");

  if (environment.http) {
    options.http = environment.http;
  } else {
    auto limiter = http::shared_rate_limiter(http::account_key(k_provider, options.api_url, options.api_key),
                                             k_rate_limit);
    options.http = std::make_shared<http::RetryingClient>(std::make_shared<http::RateLimitedClient>(
        std::make_shared<http::CurlHttpClient>(curl), std::move(limiter)));
  }
  return std::make_unique<PowerDnsProvider>(std::move(options));
}

}  // namespace spfctl::providers
