#include "plan/plan_file.hpp"

#include <openssl/evp.h>

#include <ctime>
#include <fstream>
#include <limits>
#include <nlohmann/json.hpp>
#include <sstream>

#include "error.hpp"
#include "spf/counts.hpp"
#include "spf/select.hpp"
#include "util/file.hpp"

namespace spfctl::plan {

using nlohmann::json;
using Ordered = nlohmann::ordered_json;  // written in the documented order
using publish::Change;
using publish::TxtValue;

std::string_view to_string(DomainStatus status) {
  switch (status) {
    case DomainStatus::in_sync:
      return "in-sync";
    case DomainStatus::changes:
      return "changes";
    case DomainStatus::error:
      return "error";
  }
  return "?";
}

DomainStatus PlannedDomain::status() const {
  if (!error.empty()) return DomainStatus::error;
  return changes.empty() ? DomainStatus::in_sync : DomainStatus::changes;
}

namespace {

Ordered strings_json(const TxtValue& value) {
  return value.strings;
}

Ordered change_json(const Change& change) {
  Ordered out = {
      {"action", to_string(change.action)}, {"name", change.name}, {"type", "TXT"}, {"ttl", change.ttl}};
  if (change.before) out["before"] = change.before->joined();
  if (change.after) out["after"] = change.after->joined();
  if (change.before) out["before_strings"] = strings_json(*change.before);
  if (change.after) out["after_strings"] = strings_json(*change.after);
  out["others"] = Ordered::array();
  for (const TxtValue& other : change.others) out["others"].push_back(strings_json(other));
  return out;
}

Ordered domain_json(const PlannedDomain& domain) {
  Ordered out = {{"domain", domain.domain},
                 {"provider", domain.provider},
                 {"zone", domain.zone},
                 {"status", to_string(domain.status())}};
  if (!domain.error.empty()) out["error"] = domain.error;
  out["lookups"] = domain.lookups;
  out["void_lookups"] = domain.void_lookups;
  out["equivalent"] = domain.equivalent;
  out["lookups_unflattened"] = domain.lookups_unflattened;
  out["flattened"] = domain.flattened;
  out["notes"] = domain.notes;
  out["warnings"] = domain.warnings;
  out["changes"] = Ordered::array();
  for (const Change& change : domain.changes) out["changes"].push_back(change_json(change));
  out["records"] = Ordered::array();
  for (const DesiredRecord& record : domain.records)
    out["records"].push_back({{"name", record.name}, {"value", record.value()}, {"strings", record.strings}});
  return out;
}

// Reads one plan, failing at the first wrong field with its path.
class Reader {
 public:
  explicit Reader(const std::string& source) : m_source(source) {}

  Plan plan(const json& root) {
    if (!root.is_object()) fail("", "not a spfctl plan (expected a JSON object)");
    if (!root.contains("format"))
      fail("", "not a spfctl plan (no \"format\"; make one with 'spfctl plan --out FILE')");
    const std::string format = string(root, "", "format");
    if (format != k_plan_format)
      fail("", "plan format '" + format + "' is not one this spfctl reads (expected '" +
                   std::string(k_plan_format) + "'; make the plan again with this version)");
    Plan plan;
    plan.config_sha256 = string(root, "", "config_sha256");
    if (plan.config_sha256.size() != 64 ||
        plan.config_sha256.find_first_not_of("0123456789abcdef") != std::string::npos)
      fail("config_sha256", "expected 64 lowercase hex digits, got '" + plan.config_sha256 + "'");
    plan.created = string(root, "", "created");
    const json& domains = member(root, "", "domains");
    if (!domains.is_array()) fail("domains", "expected an array");
    for (std::size_t i = 0; i < domains.size(); ++i)
      plan.domains.push_back(domain(domains[i], "domains[" + std::to_string(i) + "]"));
    return plan;
  }

 private:
  [[noreturn]] void fail(const std::string& where, const std::string& what) const {
    throw Error(m_source + ": " + (where.empty() ? "" : where + ": ") + what);
  }

  const json& member(const json& object, const std::string& where, const char* key) const {
    const auto it = object.find(key);
    if (it == object.end()) fail(where, std::string("\"") + key + "\" is missing");
    return *it;
  }

  static std::string path(const std::string& where, const char* key) {
    return where.empty() ? key : where + "." + key;
  }

  std::string string(const json& object, const std::string& where, const char* key) const {
    const json& value = member(object, where, key);
    if (!value.is_string())
      fail(path(where, key), "expected a string, got " + std::string(value.type_name()));
    return value.get<std::string>();
  }

  std::int64_t integer(const json& object, const std::string& where, const char* key,
                       std::int64_t max) const {
    const json& value = member(object, where, key);
    if (!value.is_number_integer())
      fail(path(where, key), "expected an integer, got " + std::string(value.type_name()));
    const auto n = value.get<std::int64_t>();
    if (n < 0 || n > max)
      fail(path(where, key), "expected 0 to " + std::to_string(max) + ", got " + std::to_string(n));
    return n;
  }

  bool boolean(const json& object, const std::string& where, const char* key) const {
    const json& value = member(object, where, key);
    if (!value.is_boolean())
      fail(path(where, key), "expected true or false, got " + std::string(value.type_name()));
    return value.get<bool>();
  }

  std::vector<std::string> string_list(const json& object, const std::string& where, const char* key) const {
    if (!object.contains(key)) return {};
    const json& value = object.at(key);
    if (!value.is_array()) fail(path(where, key), "expected an array of strings");
    std::vector<std::string> out;
    for (const json& item : value) {
      if (!item.is_string()) fail(path(where, key), "expected an array of strings");
      out.push_back(item.get<std::string>());
    }
    return out;
  }

  TxtValue txt_value(const json& value, const std::string& where) const {
    if (!value.is_array() || value.empty()) fail(where, "expected a non-empty array of character-strings");
    TxtValue out;
    for (const json& item : value) {
      if (!item.is_string()) fail(where, "expected a non-empty array of character-strings");
      std::string s = item.get<std::string>();
      if (s.size() > 255)
        fail(where, "a character-string of " + std::to_string(s.size()) + " bytes (at most 255)");
      out.strings.push_back(std::move(s));
    }
    return out;
  }

  // `before` or `after`: the joined text, and the strings that must join to it.
  std::optional<TxtValue> value(const json& object, const std::string& where, const char* key,
                                const char* strings_key) const {
    if (!object.contains(key)) {
      if (object.contains(strings_key))
        fail(path(where, strings_key), std::string("given without \"") + key + "\"");
      return std::nullopt;
    }
    const std::string text = string(object, where, key);
    TxtValue out = object.contains(strings_key) ? txt_value(object.at(strings_key), path(where, strings_key))
                                                : TxtValue{{text}};
    if (out.joined() != text) fail(path(where, strings_key), std::string("does not join to \"") + key + "\"");
    if (text.size() > 255 && out.strings.size() == 1)
      fail(path(where, key), "a value over 255 bytes needs \"" + std::string(strings_key) + "\"");
    return out;
  }

  Change change(const json& object, const std::string& where) const {
    if (!object.is_object()) fail(where, "expected an object");
    Change out;
    const std::string action = string(object, where, "action");
    if (action == "create") {
      out.action = Change::Action::create;
    } else if (action == "update") {
      out.action = Change::Action::update;
    } else if (action == "delete") {
      out.action = Change::Action::remove;
    } else {
      fail(path(where, "action"), "'" + action + "' is not create, update or delete");
    }
    out.name = string(object, where, "name");
    if (out.name.empty()) fail(path(where, "name"), "is empty");
    const std::string type = string(object, where, "type");
    if (type != "TXT") fail(path(where, "type"), "'" + type + "' (spfctl plans TXT records only)");
    out.ttl =
        static_cast<std::uint32_t>(integer(object, where, "ttl", std::numeric_limits<std::int32_t>::max()));
    out.before = value(object, where, "before", "before_strings");
    out.after = value(object, where, "after", "after_strings");
    if (out.action != Change::Action::create && !out.before)
      fail(where, "a" + std::string(out.action == Change::Action::update ? "n update" : " delete") +
                      " needs \"before\", the value it replaces");
    if (out.action != Change::Action::remove && !out.after)
      fail(where, "a" + std::string(out.action == Change::Action::update ? "n update" : " create") +
                      " needs \"after\", the value to publish");
    if (out.action == Change::Action::create && out.before) fail(where, "a create has no \"before\"");
    for (const auto* value : {&out.before, &out.after})
      if (*value && !spf::is_spf_record((*value)->joined()))
        fail(path(where, value == &out.before ? "before" : "after"),
             "is not an SPF record (spfctl only changes TXT values starting \"v=spf1\")");
    if (out.action == Change::Action::remove && out.after) fail(where, "a delete has no \"after\"");
    if (object.contains("others")) {
      const json& others = object.at("others");
      if (!others.is_array()) fail(path(where, "others"), "expected an array of TXT values");
      for (std::size_t i = 0; i < others.size(); ++i)
        out.others.push_back(txt_value(others[i], path(where, "others") + "[" + std::to_string(i) + "]"));
    }
    return out;
  }

  DesiredRecord record(const json& object, const std::string& where) const {
    if (!object.is_object()) fail(where, "expected an object");
    DesiredRecord out;
    out.name = string(object, where, "name");
    if (out.name.empty()) fail(path(where, "name"), "is empty");
    std::optional<TxtValue> value = this->value(object, where, "value", "strings");
    if (!value) fail(where, "\"value\" is missing");
    if (!spf::is_spf_record(value->joined())) fail(path(where, "value"), "is not an SPF record");
    out.strings = value->strings;
    return out;
  }

  PlannedDomain domain(const json& object, const std::string& where) const {
    if (!object.is_object()) fail(where, "expected an object");
    PlannedDomain out;
    out.domain = string(object, where, "domain");
    if (out.domain.empty()) fail(path(where, "domain"), "is empty");
    out.provider = string(object, where, "provider");
    out.zone = string(object, where, "zone");
    const std::string status = string(object, where, "status");
    if (status != "in-sync" && status != "changes" && status != "error")
      fail(path(where, "status"), "'" + status + "' is not in-sync, changes or error");
    if (object.contains("error")) out.error = string(object, where, "error");
    if (status == "error" && out.error.empty()) fail(where, "status \"error\" needs a non-empty \"error\"");
    if (status != "error" && object.contains("error"))
      fail(path(where, "error"), "given with status \"" + status + "\"");
    if (status != "error" && out.zone.empty()) fail(path(where, "zone"), "is empty");
    out.lookups = static_cast<int>(integer(object, where, "lookups", spf::k_count_ceiling));
    out.void_lookups = static_cast<int>(integer(object, where, "void_lookups", spf::k_count_ceiling));
    out.equivalent = boolean(object, where, "equivalent");
    if (object.contains("lookups_unflattened"))
      out.lookups_unflattened =
          static_cast<int>(integer(object, where, "lookups_unflattened", spf::k_count_ceiling));
    out.flattened = string_list(object, where, "flattened");
    out.notes = string_list(object, where, "notes");
    out.warnings = string_list(object, where, "warnings");
    const json& changes = member(object, where, "changes");
    if (!changes.is_array()) fail(path(where, "changes"), "expected an array");
    for (std::size_t i = 0; i < changes.size(); ++i)
      out.changes.push_back(change(changes[i], path(where, "changes") + "[" + std::to_string(i) + "]"));
    if (object.contains("records")) {
      const json& records = object.at("records");
      if (!records.is_array()) fail(path(where, "records"), "expected an array");
      for (std::size_t i = 0; i < records.size(); ++i)
        out.records.push_back(record(records[i], path(where, "records") + "[" + std::to_string(i) + "]"));
    }
    if (status != "error" && !out.equivalent && !out.changes.empty())
      fail(path(where, "equivalent"), "is false: a plan with changes must have passed the equivalence proof");
    const std::string actual(to_string(out.status()));
    if (actual != status)
      fail(path(where, "status"), "is \"" + status + "\" but the domain " +
                                      (status == "in-sync" ? "has changes" : "has no changes"));
    return out;
  }

  const std::string& m_source;
};

}  // namespace

std::string to_json_text(const Plan& plan) {
  Ordered out = {{"format", k_plan_format}, {"config_sha256", plan.config_sha256}, {"created", plan.created}};
  out["domains"] = Ordered::array();
  for (const PlannedDomain& domain : plan.domains) out["domains"].push_back(domain_json(domain));
  return out.dump(2, ' ', false, Ordered::error_handler_t::replace) + "\n";
}

Plan parse_plan(std::string_view text, const std::string& source) {
  json root;
  try {
    root = json::parse(text);
  } catch (const json::exception& e) {  // parse errors, and numbers too large for a double
    throw Error(source + ": not valid JSON (" + e.what() + ")");
  }
  return Reader(source).plan(root);
}

std::string as_plan_text(std::string_view text) {
  const std::string quoted =
      Ordered(std::string(text)).dump(-1, ' ', false, Ordered::error_handler_t::replace);
  return Ordered::parse(quoted).get<std::string>();
}

void write_plan_file(const std::filesystem::path& path, const Plan& plan) {
  util::write_file_atomically(path, to_json_text(plan));  // 0600: a plan shows the whole policy
}

Plan read_plan_file(const std::filesystem::path& path) {
  std::string error;
  const std::optional<std::string> text = util::read_file(path, error);
  if (!text) throw Error("cannot read plan file '" + path.string() + "' (" + error + ")");
  return parse_plan(*text, path.string());
}

std::string sha256_hex(std::string_view bytes) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  if (EVP_Digest(bytes.data(), bytes.size(), digest, &length, EVP_sha256(), nullptr) != 1)
    throw Error("cannot compute SHA-256 (OpenSSL failed)");
  static constexpr char k_hex[] = "0123456789abcdef";
  std::string out;
  for (unsigned int i = 0; i < length; ++i) {
    out += k_hex[digest[i] >> 4];
    out += k_hex[digest[i] & 0xf];
  }
  return out;
}

std::string utc_timestamp(std::chrono::system_clock::time_point time) {
  const std::time_t seconds = std::chrono::system_clock::to_time_t(time);
  std::tm utc{};
  gmtime_r(&seconds, &utc);
  char text[32];
  std::strftime(text, sizeof text, "%Y-%m-%dT%H:%M:%SZ", &utc);
  return text;
}

}  // namespace spfctl::plan
