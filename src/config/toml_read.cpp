#include "config/toml_read.hpp"

#include <algorithm>

#include "config/checks.hpp"
#include "util/text.hpp"

namespace spfctl::config {

SourceLocation at(const toml::source_region& region) {
  return {region.path ? *region.path : std::string(), region.begin.line, region.begin.column};
}
SourceLocation at(const toml::node& node) {
  return at(node.source());
}
SourceLocation at(const toml::key& key) {
  return at(key.source());
}

std::string_view type_name(const toml::node& node) {
  switch (node.type()) {
    case toml::node_type::string:
      return "a string";
    case toml::node_type::integer:
      return "an integer";
    case toml::node_type::floating_point:
      return "a float";
    case toml::node_type::boolean:
      return "a boolean";
    case toml::node_type::array:
      return "an array";
    case toml::node_type::table:
      return "a table";
    case toml::node_type::date:
      return "a date";
    case toml::node_type::time:
      return "a time";
    case toml::node_type::date_time:
      return "a date-time";
    case toml::node_type::none:
      break;
  }
  return "nothing";
}

bool contains(const std::vector<std::string>& words, std::string_view word) {
  return std::find(words.begin(), words.end(), word) != words.end();
}

std::vector<std::string> with(std::vector<std::string> keys, const std::vector<std::string>& more) {
  keys.insert(keys.end(), more.begin(), more.end());
  return keys;
}

void check_keys(const toml::table& table, const std::vector<std::string>& allowed, std::string_view context,
                Diagnostics& diag) {
  for (auto&& [key, node] : table) {
    if (contains(allowed, key.str())) continue;
    std::string message = "unknown key " + util::quoted(key.str()) + " in " + std::string(context);
    // TOML puts every key below a [table] header into that table.
    if (contains(k_main_keys, key.str()))
      message += "; top-level keys must come before the first [table] header";
    else
      message += util::suggestion(key.str(), allowed, "expected one of");
    diag.error(at(key), std::move(message));
  }
}

std::optional<std::string> read_string(const toml::node& node, std::string_view key, Diagnostics& diag) {
  if (const auto* value = node.as_string()) return value->get();
  diag.error(at(node), util::quoted(key) + " must be a string, not " + std::string(type_name(node)));
  return std::nullopt;
}

std::optional<std::int64_t> read_integer(const toml::node& node, std::string_view key, std::int64_t min,
                                         std::int64_t max, std::string_view why, Diagnostics& diag) {
  const auto* value = node.as_integer();
  if (!value) {
    diag.error(at(node), util::quoted(key) + " must be an integer, not " + std::string(type_name(node)));
    return std::nullopt;
  }
  if (value->get() < min || value->get() > max) {
    diag.error(at(node), util::quoted(key) + " is " + std::to_string(value->get()) + "; it must be between " +
                             std::to_string(min) + " and " + std::to_string(max) + std::string(why));
    return std::nullopt;
  }
  return value->get();
}

std::optional<bool> read_boolean(const toml::node& node, std::string_view key, Diagnostics& diag) {
  if (const auto* value = node.as_boolean()) return value->get();
  diag.error(at(node), util::quoted(key) + " must be true or false, not " + std::string(type_name(node)));
  return std::nullopt;
}

std::optional<std::vector<ListEntry>> read_string_list(const toml::node& node, std::string_view key,
                                                       Diagnostics& diag) {
  const auto* array = node.as_array();
  if (!array) {
    std::string example = node.is_string() ? " [\"" + node.as_string()->get() + "\"]" : " [\"...\"]";
    diag.error(at(node), util::quoted(key) + " must be an array of strings, not " +
                             std::string(type_name(node)) + "; write " + std::string(key) + " =" + example);
    return std::nullopt;
  }
  std::vector<ListEntry> entries;
  bool ok = true;
  for (const toml::node& element : *array) {
    if (const auto* text = element.as_string()) {
      entries.push_back({text->get(), at(element)});
    } else {
      diag.error(at(element), "entries of " + util::quoted(key) + " must be strings, not " +
                                  std::string(type_name(element)));
      ok = false;
    }
  }
  if (!ok) return std::nullopt;
  return entries;
}

std::vector<NameRef> read_names(const toml::node& node, std::string_view key, Diagnostics& diag) {
  std::vector<NameRef> names;
  if (auto entries = read_string_list(node, key, diag))
    for (ListEntry& entry : *entries) names.push_back({std::move(entry.text), std::move(entry.location)});
  return names;
}

void read_terms(const toml::table& table, const std::string& origin, std::vector<SenderTerm>& terms,
                Diagnostics& diag) {
  for (const TermKind kind :
       {TermKind::include, TermKind::ip4, TermKind::ip6, TermKind::a, TermKind::mx, TermKind::raw}) {
    const std::string_view key = to_string(kind);
    const toml::node* node = table.get(key);
    if (!node) continue;
    const auto entries = read_string_list(*node, key, diag);
    if (!entries) continue;
    for (const ListEntry& entry : *entries) {
      Checked checked;
      switch (kind) {
        case TermKind::include:
          checked = check_domain_spec(entry.text);
          break;
        case TermKind::ip4:
          checked = check_network(entry.text, net::Family::v4);
          break;
        case TermKind::ip6:
          checked = check_network(entry.text, net::Family::v6);
          break;
        case TermKind::a:
        case TermKind::mx:
          checked = check_host_spec(entry.text);
          break;
        case TermKind::raw:
          checked = check_raw_term(entry.text);
          break;
      }
      if (!checked.ok()) {
        diag.error(entry.location, checked.error);
        continue;
      }
      terms.push_back({kind, std::move(checked.value), origin, entry.location});
    }
  }
}

namespace {

std::optional<spf::Qualifier> read_policy(const toml::node& node, Diagnostics& diag) {
  const auto text = read_string(node, "policy", diag);
  if (!text) return std::nullopt;
  const std::string word = util::lowercase(*text);
  if (word == "fail" || word == "-all") return spf::Qualifier::fail;
  if (word == "softfail" || word == "~all") return spf::Qualifier::softfail;
  if (word == "neutral" || word == "?all") return spf::Qualifier::neutral;
  if (word == "pass" || word == "+all" || word == "all") {
    diag.error(at(node), "policy " + util::quoted(*text) +
                             " would let every host on the internet send mail as the domain; use \"fail\" "
                             "(-all), \"softfail\" (~all) or \"neutral\" (?all)");
    return std::nullopt;
  }
  diag.error(at(node), "unknown policy " + util::quoted(*text) +
                           util::suggestion(word, {"fail", "softfail", "neutral"}, "use one of"));
  return std::nullopt;
}

std::optional<FlattenMode> read_flatten(const toml::node& node, Diagnostics& diag) {
  const auto text = read_string(node, "flatten", diag);
  if (!text) return std::nullopt;
  if (*text == "auto") return FlattenMode::automatic;
  if (*text == "full") return FlattenMode::full;
  if (*text == "off") return FlattenMode::off;
  diag.error(at(node), "unknown flatten mode " + util::quoted(*text) +
                           util::suggestion(*text, {"auto", "full", "off"}, "use one of"));
  return std::nullopt;
}

std::optional<std::string> read_chain_prefix(const toml::node& node, Diagnostics& diag) {
  const auto text = read_string(node, "chain_prefix", diag);
  if (!text) return std::nullopt;
  Checked checked = check_chain_prefix(*text);
  if (!checked.ok()) {
    diag.error(at(node), checked.error);
    return std::nullopt;
  }
  return checked.value;
}

}  // namespace

void read_overrides(const toml::table& table, Overrides& out, Diagnostics& diag) {
  if (const auto* node = table.get("policy")) out.policy = read_policy(*node, diag);
  if (const auto* node = table.get("ttl"))
    if (const auto ttl = read_integer(*node, "ttl", k_min_ttl, k_max_ttl, " seconds", diag))
      out.ttl = static_cast<std::uint32_t>(*ttl);
  if (const auto* node = table.get("flatten")) out.flatten = read_flatten(*node, diag);
  if (const auto* node = table.get("lookup_budget"))
    if (const auto budget =
            read_integer(*node, "lookup_budget", 1, k_max_lookups,
                         " (RFC 7208 allows 10 DNS lookups; a lower budget leaves headroom)", diag))
      out.lookup_budget = static_cast<int>(*budget);
  if (const auto* node = table.get("chain_prefix")) out.chain_prefix = read_chain_prefix(*node, diag);
  if (const auto* node = table.get("provider"))
    if (const auto name = read_string(*node, "provider", diag)) out.provider = NameRef{*name, at(*node)};
  if (const auto* node = table.get("allow_wide_ranges"))
    out.allow_wide_ranges = read_boolean(*node, "allow_wide_ranges", diag);
}

}  // namespace spfctl::config
