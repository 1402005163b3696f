#include <glob.h>
#include <toml++/toml.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <functional>
#include <set>
#include <sstream>
#include <stdexcept>

#include "config/checks.hpp"
#include "config/config.hpp"
#include "util/file.hpp"
#include "util/text.hpp"

namespace spfctl::config {

namespace {

namespace fs = std::filesystem;

constexpr std::string_view k_builtin_senders_file = "builtin:senders.toml";

constexpr std::uint32_t k_min_ttl = 60;
constexpr std::uint32_t k_max_ttl = 604800;

// Every problem found, reported together at the end.
class Diagnostics {
 public:
  void error(SourceLocation where, std::string message) {
    m_list.push_back({std::move(where), std::move(message)});
  }
  bool empty() const { return m_list.empty(); }
  std::size_t count() const { return m_list.size(); }
  // Sorted by the order the files were read in, then by position.
  [[noreturn]] void raise(const std::vector<std::string>& file_order) {
    auto rank = [&](const Diagnostic& d) {
      const auto it = std::find(file_order.begin(), file_order.end(), d.location.file);
      return std::tuple(it - file_order.begin(), d.location.line, d.location.column);
    };
    std::stable_sort(m_list.begin(), m_list.end(),
                     [&](const Diagnostic& a, const Diagnostic& b) { return rank(a) < rank(b); });
    throw ConfigError(std::move(m_list));
  }

 private:
  std::vector<Diagnostic> m_list;
};

std::string in_quotes(std::string_view text) {
  return "'" + std::string(text) + "'";
}

std::string join(const std::vector<std::string>& words) {
  std::string out;
  for (const std::string& word : words) out += (out.empty() ? "" : ", ") + word;
  return out;
}

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

// "; did you mean 'x'?" when a candidate is close, else " (noun: a, b, c)".
std::string suggestion(std::string_view word, const std::vector<std::string>& candidates,
                       std::string_view noun) {
  const std::string match = util::closest_match(word, candidates);
  if (!match.empty()) return "; did you mean " + in_quotes(match) + "?";
  if (candidates.empty()) return {};
  return " (" + std::string(noun) + ": " + join(candidates) + ")";
}

const std::vector<std::string> k_main_keys = {"defaults",  "providers", "senders",
                                              "templates", "domain",    "include_files"};
const std::vector<std::string> k_included_keys = {"senders", "templates", "domain"};
const std::vector<std::string> k_term_keys = {"include", "ip4", "ip6", "a", "mx", "raw"};
const std::vector<std::string> k_override_keys = {
    "policy", "ttl", "flatten", "lookup_budget", "chain_prefix", "provider", "allow_wide_ranges"};

bool contains(const std::vector<std::string>& words, std::string_view word) {
  return std::find(words.begin(), words.end(), word) != words.end();
}

std::vector<std::string> with(std::vector<std::string> keys, const std::vector<std::string>& more) {
  keys.insert(keys.end(), more.begin(), more.end());
  return keys;
}

// Reports each key of `table` that is not in `allowed`.
void check_keys(const toml::table& table, const std::vector<std::string>& allowed, std::string_view context,
                Diagnostics& diag) {
  for (auto&& [key, node] : table) {
    if (contains(allowed, key.str())) continue;
    std::string message = "unknown key " + in_quotes(key.str()) + " in " + std::string(context);
    // TOML puts every key below a [table] header into that table.
    if (contains(k_main_keys, key.str()))
      message += "; top-level keys must come before the first [table] header";
    else
      message += suggestion(key.str(), allowed, "expected one of");
    diag.error(at(key), std::move(message));
  }
}

std::optional<std::string> read_string(const toml::node& node, std::string_view key, Diagnostics& diag) {
  if (const auto* value = node.as_string()) return value->get();
  diag.error(at(node), in_quotes(key) + " must be a string, not " + std::string(type_name(node)));
  return std::nullopt;
}

std::optional<std::int64_t> read_integer(const toml::node& node, std::string_view key, std::int64_t min,
                                         std::int64_t max, std::string_view why, Diagnostics& diag) {
  const auto* value = node.as_integer();
  if (!value) {
    diag.error(at(node), in_quotes(key) + " must be an integer, not " + std::string(type_name(node)));
    return std::nullopt;
  }
  if (value->get() < min || value->get() > max) {
    diag.error(at(node), in_quotes(key) + " is " + std::to_string(value->get()) + "; it must be between " +
                             std::to_string(min) + " and " + std::to_string(max) + std::string(why));
    return std::nullopt;
  }
  return value->get();
}

std::optional<bool> read_boolean(const toml::node& node, std::string_view key, Diagnostics& diag) {
  if (const auto* value = node.as_boolean()) return value->get();
  diag.error(at(node), in_quotes(key) + " must be true or false, not " + std::string(type_name(node)));
  return std::nullopt;
}

struct ListEntry {
  std::string text;
  SourceLocation location;
};

std::optional<std::vector<ListEntry>> read_string_list(const toml::node& node, std::string_view key,
                                                       Diagnostics& diag) {
  const auto* array = node.as_array();
  if (!array) {
    std::string example = node.is_string() ? " [\"" + node.as_string()->get() + "\"]" : " [\"...\"]";
    diag.error(at(node), in_quotes(key) + " must be an array of strings, not " +
                             std::string(type_name(node)) + "; write " + std::string(key) + " =" + example);
    return std::nullopt;
  }
  std::vector<ListEntry> entries;
  bool ok = true;
  for (const toml::node& element : *array) {
    if (const auto* text = element.as_string()) {
      entries.push_back({text->get(), at(element)});
    } else {
      diag.error(at(element),
                 "entries of " + in_quotes(key) + " must be strings, not " + std::string(type_name(element)));
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

// include, ip4, ip6, a, mx, raw: in that order, each list as written.
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

std::optional<spf::Qualifier> read_policy(const toml::node& node, Diagnostics& diag) {
  const auto text = read_string(node, "policy", diag);
  if (!text) return std::nullopt;
  const std::string word = util::lowercase(*text);
  if (word == "fail" || word == "-all") return spf::Qualifier::fail;
  if (word == "softfail" || word == "~all") return spf::Qualifier::softfail;
  if (word == "neutral" || word == "?all") return spf::Qualifier::neutral;
  if (word == "pass" || word == "+all" || word == "all") {
    diag.error(at(node), "policy " + in_quotes(*text) +
                             " would let every host on the internet send mail as the domain; use \"fail\" "
                             "(-all), \"softfail\" (~all) or \"neutral\" (?all)");
    return std::nullopt;
  }
  diag.error(at(node), "unknown policy " + in_quotes(*text) +
                           suggestion(word, {"fail", "softfail", "neutral"}, "use one of"));
  return std::nullopt;
}

std::optional<FlattenMode> read_flatten(const toml::node& node, Diagnostics& diag) {
  const auto text = read_string(node, "flatten", diag);
  if (!text) return std::nullopt;
  if (*text == "auto") return FlattenMode::automatic;
  if (*text == "full") return FlattenMode::full;
  if (*text == "off") return FlattenMode::off;
  diag.error(at(node), "unknown flatten mode " + in_quotes(*text) +
                           suggestion(*text, {"auto", "full", "off"}, "use one of"));
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

// Field by field, what `over` sets replaces what `base` has.
void apply(Overrides& base, const Overrides& over) {
  if (over.policy) base.policy = over.policy;
  if (over.ttl) base.ttl = over.ttl;
  if (over.flatten) base.flatten = over.flatten;
  if (over.lookup_budget) base.lookup_budget = over.lookup_budget;
  if (over.chain_prefix) base.chain_prefix = over.chain_prefix;
  if (over.provider) base.provider = over.provider;
  if (over.allow_wide_ranges) base.allow_wide_ranges = over.allow_wide_ranges;
}

// A [[domain]] as written, before templates and senders are resolved.
struct DomainEntry {
  std::string name;
  std::optional<std::string> zone;
  std::vector<NameRef> templates;
  std::vector<NameRef> senders;
  bool says_no_senders = false;  // senders = [] written out
  bool complete = true;          // false when an entry was refused (and reported)
  bool named = true;             // false when the name is missing, invalid or taken (and reported)
  std::vector<SenderTerm> terms;
  Overrides overrides;
  SourceLocation location;
  SourceLocation policy_location;
};

// The parsed files and what they define, before resolution.
struct Parsed {
  Config config;
  std::optional<NameRef> default_provider;
  std::vector<DomainEntry> domains;
};

// ---- files

struct SourceFile {
  std::string display;  // the path as messages show it
  std::string bytes;
  toml::table root;
};

std::optional<toml::table> parse_toml(const std::string& bytes, const std::string& display,
                                      Diagnostics& diag) {
  try {
    return toml::parse(std::string_view(bytes), std::string_view(display));
  } catch (const toml::parse_error& e) {
    std::string description(e.description());
    if (!description.empty())
      description[0] = static_cast<char>(std::tolower(static_cast<unsigned char>(description[0])));
    diag.error(at(e.source()), "invalid TOML: " + description);
    return std::nullopt;
  }
}

bool has_glob_magic(std::string_view pattern) {
  return pattern.find_first_of("*?[") != std::string_view::npos;
}

// The files an include_files entry names, sorted; reports a literal path that does not exist.
std::vector<fs::path> expand_include(const fs::path& base_dir, const ListEntry& entry, Diagnostics& diag) {
  const fs::path pattern = base_dir / entry.text;
  glob_t matches{};
  const int rc = ::glob(pattern.c_str(), 0, nullptr, &matches);
  std::vector<fs::path> paths;
  if (rc == 0) {
    for (std::size_t i = 0; i < matches.gl_pathc; ++i) paths.emplace_back(matches.gl_pathv[i]);
  } else if (rc != GLOB_NOMATCH) {
    diag.error(entry.location, "cannot list the files matching " + in_quotes(pattern.string()));
  } else if (!has_glob_magic(entry.text)) {
    diag.error(entry.location, "included file " + in_quotes(pattern.string()) + " does not exist");
  }
  globfree(&matches);
  return paths;
}

// ---- definitions

void read_defaults(const toml::node& node, Parsed& parsed, Diagnostics& diag) {
  const auto* table = node.as_table();
  if (!table) {
    diag.error(at(node), "'defaults' must be a table ([defaults]), not " + std::string(type_name(node)));
    return;
  }
  check_keys(*table, with(k_override_keys, {"void_lookup_budget", "max_answer_bytes"}), "[defaults]", diag);
  Overrides overrides;
  read_overrides(*table, overrides, diag);
  Defaults& defaults = parsed.config.defaults;
  if (overrides.policy) defaults.policy = *overrides.policy;
  if (overrides.ttl) defaults.ttl = *overrides.ttl;
  if (overrides.flatten) defaults.flatten = *overrides.flatten;
  if (overrides.lookup_budget) defaults.lookup_budget = *overrides.lookup_budget;
  if (overrides.chain_prefix) defaults.chain_prefix = *overrides.chain_prefix;
  if (overrides.allow_wide_ranges) defaults.allow_wide_ranges = *overrides.allow_wide_ranges;
  if (overrides.provider) {
    defaults.provider = overrides.provider->name;
    parsed.default_provider = overrides.provider;
  }
  if (const auto* value = table->get("void_lookup_budget"))
    if (const auto budget = read_integer(*value, "void_lookup_budget", 0, k_max_void_lookups,
                                         " (RFC 7208 allows 2 lookups that find nothing)", diag))
      defaults.void_lookup_budget = static_cast<int>(*budget);
  if (const auto* value = table->get("max_answer_bytes"))
    if (const auto bytes =
            read_integer(*value, "max_answer_bytes", k_min_answer_bytes, k_max_answer_bytes,
                         " (every resolver accepts 512-byte UDP answers; larger ones need EDNS0 "
                         "or TCP)",
                         diag))
      defaults.max_answer_bytes = static_cast<int>(*bytes);
}

void read_provider(const toml::key& key, const toml::node& node, Parsed& parsed, Diagnostics& diag) {
  const std::string context = "[providers." + std::string(key.str()) + "]";
  const auto* table = node.as_table();
  if (!table) {
    diag.error(at(node), context + " must be a table, not " + std::string(type_name(node)));
    return;
  }
  // The type and its settings are the provider registry's to check (LoadOptions::check_provider).
  ProviderConfig provider{std::string(key.str()), {}, {}, at(key), false, at(key)};
  if (const toml::node* type = table->get("type")) {
    provider.type_location = at(*type);
    if (const auto name = read_string(*type, "type", diag)) provider.type = *name;
  }
  for (auto&& [setting_key, value] : *table) {
    const std::string setting(setting_key.str());
    if (setting == "type") continue;
    // Never echo the value: it may be the credential itself.
    if (looks_like_secret(setting)) {
      diag.error(at(setting_key),
                 in_quotes(setting) + " in " + context +
                     " looks like a credential written into the file; keep it in an environment "
                     "variable and name that variable instead: " +
                     setting + "_env = \"VARIABLE_NAME\"");
      continue;
    }
    std::string text;
    if (const auto* s = value.as_string()) {
      text = s->get();
    } else if (const auto* i = value.as_integer()) {
      text = std::to_string(i->get());
    } else if (const auto* b = value.as_boolean()) {
      text = b->get() ? "true" : "false";
    } else if (const auto* f = value.as_floating_point()) {
      std::ostringstream number;  // "2.5", as written, for settings such as timeout = 2.5
      number << f->get();
      text = number.str();
    } else {
      diag.error(at(value), in_quotes(setting) + " in " + context +
                                " must be a string, number or boolean, not " + std::string(type_name(value)));
      continue;
    }
    provider.settings[setting] = {std::move(text), at(value), at(setting_key)};
  }
  parsed.config.providers[provider.name] = std::move(provider);
}

void read_sender(const toml::key& key, const toml::node& node, bool builtin, Parsed& parsed,
                 std::map<std::string, SourceLocation>& user_senders, Diagnostics& diag) {
  const std::string name(key.str());
  const std::string context = "[senders." + name + "]";
  const auto* table = node.as_table();
  if (!table) {
    diag.error(at(node), context + " must be a table, not " + std::string(type_name(node)));
    return;
  }
  bool duplicate = false;
  if (!builtin) {
    const auto [previous, inserted] = user_senders.emplace(name, at(key));
    if (!inserted) {
      diag.error(at(key),
                 "sender " + in_quotes(name) + " is already defined at " + previous->second.to_string());
      duplicate = true;
    }
  }
  // `setup` marks catalogue entries that need a per-account value before use.
  check_keys(*table,
             with(k_term_keys, builtin ? std::vector<std::string>{"description", "docs", "setup"}
                                       : std::vector<std::string>{"description", "docs"}),
             context, diag);
  SenderDefinition sender{name, {}, {}, {}, {}, at(key), builtin};
  if (const auto* value = table->get("description"))
    sender.description = read_string(*value, "description", diag).value_or("");
  if (const auto* value = table->get("docs")) {
    sender.docs = read_string(*value, "docs", diag).value_or("");
    if (!sender.docs.empty() && !sender.docs.starts_with("https://") && !sender.docs.starts_with("http://"))
      diag.error(at(*value), "'docs' must be a link (https://...), not " + in_quotes(sender.docs));
  }
  if (const auto* value = table->get("setup")) sender.setup = read_string(*value, "setup", diag).value_or("");
  const std::size_t errors_before = diag.count();
  read_terms(*table, "sender " + name, sender.terms, diag);
  if (sender.terms.empty() && sender.setup.empty() && diag.count() == errors_before)
    diag.error(at(key), "sender " + in_quotes(name) + " lists no include, ip4, ip6, a, mx or raw entries");
  // A user's entry replaces a built-in one of the same name but keeps its description and link.
  if (const auto builtin_entry = parsed.config.senders.find(name);
      !builtin && builtin_entry != parsed.config.senders.end() && builtin_entry->second.builtin) {
    if (sender.description.empty()) sender.description = builtin_entry->second.description;
    if (sender.docs.empty()) sender.docs = builtin_entry->second.docs;
  }
  if (!duplicate) parsed.config.senders[name] = std::move(sender);
}

void read_template(const toml::key& key, const toml::node& node, Parsed& parsed, Diagnostics& diag) {
  const std::string name(key.str());
  const std::string context = "[templates." + name + "]";
  const auto* table = node.as_table();
  if (!table) {
    diag.error(at(node), context + " must be a table, not " + std::string(type_name(node)));
    return;
  }
  const auto previous = parsed.config.templates.find(name);
  const bool duplicate = previous != parsed.config.templates.end();
  if (duplicate)
    diag.error(at(key), "template " + in_quotes(name) + " is already defined at " +
                            previous->second.location.to_string());
  check_keys(*table, with(with(k_override_keys, k_term_keys), {"description", "templates", "senders"}),
             context, diag);
  TemplateDefinition definition{name, {}, {}, {}, {}, {}, at(key)};
  if (const auto* value = table->get("description"))
    definition.description = read_string(*value, "description", diag).value_or("");
  if (const auto* value = table->get("templates"))
    definition.templates = read_names(*value, "templates", diag);
  if (const auto* value = table->get("senders")) definition.senders = read_names(*value, "senders", diag);
  read_terms(*table, "template " + name, definition.terms, diag);
  read_overrides(*table, definition.overrides, diag);
  if (!duplicate) parsed.config.templates.emplace(name, std::move(definition));
}

void read_domain(const toml::node& node, Parsed& parsed, std::map<std::string, SourceLocation>& seen,
                 Diagnostics& diag) {
  const auto* table = node.as_table();
  if (!table) {
    diag.error(at(node),
               "each entry of 'domain' must be a table ([[domain]]), not " + std::string(type_name(node)));
    return;
  }
  check_keys(*table, with(with(k_override_keys, k_term_keys), {"name", "zone", "templates", "senders"}),
             "[[domain]]", diag);
  DomainEntry entry;
  entry.location = at(node);
  // A domain without a usable name is still checked through, but not resolved.
  if (const toml::node* name_node = table->get("name"); !name_node) {
    diag.error(at(node), "[[domain]] needs a name, like name = \"example.com\"");
    entry.named = false;
  } else if (const auto name = read_string(*name_node, "name", diag); !name) {
    entry.named = false;
  } else if (Checked checked = check_domain_name(*name); !checked.ok()) {
    diag.error(at(*name_node), checked.error);
    entry.named = false;
  } else if (const auto [previous, inserted] = seen.emplace(checked.value, at(*name_node)); !inserted) {
    diag.error(at(*name_node), "domain " + in_quotes(checked.value) + " is already defined at " +
                                   previous->second.to_string());
    entry.named = false;
  } else {
    entry.name = checked.value;
  }
  if (const auto* zone_node = table->get("zone")) {
    if (const auto zone = read_string(*zone_node, "zone", diag)) {
      Checked zone_checked = check_domain_name(*zone);
      if (!zone_checked.ok()) {
        diag.error(at(*zone_node), zone_checked.error);
      } else if (entry.named && entry.name != zone_checked.value &&
                 !entry.name.ends_with("." + zone_checked.value)) {
        diag.error(at(*zone_node), "zone " + in_quotes(zone_checked.value) + " does not contain domain " +
                                       in_quotes(entry.name) + "; give the apex of the zone that holds it");
      } else {
        entry.zone = zone_checked.value;
      }
    }
  }
  const std::size_t errors_before = diag.count();
  if (const auto* value = table->get("templates")) entry.templates = read_names(*value, "templates", diag);
  if (const auto* value = table->get("senders")) {
    entry.senders = read_names(*value, "senders", diag);
    entry.says_no_senders = value->is_array() && value->as_array()->empty();
  }
  read_terms(*table, "domain " + entry.name, entry.terms, diag);
  entry.complete = diag.count() == errors_before;
  read_overrides(*table, entry.overrides, diag);
  entry.policy_location = table->contains("policy") ? at(*table->get("policy")) : entry.location;
  parsed.domains.push_back(std::move(entry));
}

// The tables of one kind ([providers.*], [senders.*], [templates.*]): each sub-table by name.
void for_each_entry(const toml::node& node, std::string_view section, Diagnostics& diag,
                    const std::function<void(const toml::key&, const toml::node&)>& read) {
  const auto* table = node.as_table();
  if (!table) {
    diag.error(at(node), in_quotes(section) + " must be a table of named entries ([" + std::string(section) +
                             ".NAME]), not " + std::string(type_name(node)));
    return;
  }
  for (auto&& [key, value] : *table) read(key, value);
}

struct FileState {
  std::map<std::string, SourceLocation> user_senders;
  std::map<std::string, SourceLocation> domains;
};

void read_file_definitions(const SourceFile& file, bool is_main, Parsed& parsed, FileState& state,
                           Diagnostics& diag) {
  const toml::table& root = file.root;
  for (auto&& [key, node] : root) {
    const std::string name(key.str());
    if (!contains(k_main_keys, name)) {
      std::string message = "unknown top-level key " + in_quotes(name);
      if (contains(k_override_keys, name))
        message += "; put it under [defaults], a [[domain]] or a template";
      else
        message += suggestion(name, is_main ? k_main_keys : k_included_keys, "expected one of");
      diag.error(at(key), std::move(message));
    } else if (!is_main && !contains(k_included_keys, name)) {
      diag.error(at(key), in_quotes(name) +
                              " may only be set in the main configuration file; included files hold "
                              "[[domain]], [senders.*] and [templates.*]");
    }
  }
  if (is_main) {
    if (const auto* node = root.get("defaults")) read_defaults(*node, parsed, diag);
    if (const auto* node = root.get("providers"))
      for_each_entry(*node, "providers", diag, [&](const toml::key& key, const toml::node& value) {
        read_provider(key, value, parsed, diag);
      });
  }
  if (const auto* node = root.get("senders"))
    for_each_entry(*node, "senders", diag, [&](const toml::key& key, const toml::node& value) {
      read_sender(key, value, false, parsed, state.user_senders, diag);
    });
  if (const auto* node = root.get("templates"))
    for_each_entry(*node, "templates", diag, [&](const toml::key& key, const toml::node& value) {
      read_template(key, value, parsed, diag);
    });
  if (const auto* node = root.get("domain")) {
    if (const auto* domains = node->as_array()) {
      for (const toml::node& domain : *domains) read_domain(domain, parsed, state.domains, diag);
    } else {
      diag.error(at(*node), "'domain' must be an array of tables: write [[domain]] above each domain");
    }
  }
}

void read_catalogue(Parsed& parsed, Diagnostics& diag) {
  const std::string display(k_builtin_senders_file);
  Diagnostics syntax;
  const auto root = parse_toml(std::string(builtin_senders_toml()), display, syntax);
  if (!root) throw std::logic_error("the built-in sender catalogue is not valid TOML");
  std::map<std::string, SourceLocation> unused;
  if (const auto* node = root->get("senders"))
    for_each_entry(*node, "senders", diag, [&](const toml::key& key, const toml::node& value) {
      read_sender(key, value, true, parsed, unused, diag);
    });
}

// ---- resolution

// What a template contributes: its terms in order and its settings, with its own templates applied.
struct Expansion {
  std::vector<SenderTerm> terms;
  Overrides overrides;
  bool complete = true;  // false when a reference inside could not be resolved (already reported)
};

// Links names to their definitions: reports what cannot be linked, and expands templates.
class Linker {
 public:
  Linker(const Config& config, Diagnostics& diag) : m_config(config), m_diag(diag) {}

  // Checks every template's references and finds template cycles. Call once, before expand().
  void check_templates() {
    for (const auto& [name, definition] : m_config.templates)
      if (!check_references(definition.templates, definition.senders, definition.overrides))
        m_broken.insert(name);
    find_cycles();
  }

  // Reports templates, senders and providers that are not defined, and senders that cannot be used
  // as they are. Returns false when a template or sender reference cannot be resolved.
  bool check_references(const std::vector<NameRef>& templates, const std::vector<NameRef>& senders,
                        const Overrides& overrides) {
    bool ok = true;
    for (const NameRef& ref : templates) {
      if (m_config.templates.contains(ref.name)) continue;
      m_diag.error(ref.location, "unknown template " + in_quotes(ref.name) +
                                     suggestion(ref.name, keys(m_config.templates), "defined templates"));
      ok = false;
    }
    for (const NameRef& ref : senders) ok = check_sender(ref) && ok;
    if (overrides.provider) check_provider(*overrides.provider);
    return ok;
  }

  void check_provider(const NameRef& ref) {
    if (m_config.providers.contains(ref.name)) return;
    const std::string match = util::closest_match(ref.name, keys(m_config.providers));
    m_diag.error(ref.location, "unknown provider " + in_quotes(ref.name) + "; " +
                                   (match.empty() ? "define it as [providers." + ref.name + "]"
                                                  : "did you mean " + in_quotes(match) + "?"));
  }

  const Expansion& expand(const std::string& name) {
    if (const auto found = m_expansions.find(name); found != m_expansions.end()) return found->second;
    const TemplateDefinition& definition = m_config.templates.at(name);
    Expansion expansion;
    expansion.complete = !m_broken.contains(name);
    m_expanding.insert(name);
    for (const NameRef& ref : definition.templates) {
      if (!m_config.templates.contains(ref.name)) continue;
      if (m_expanding.contains(ref.name)) {  // a cycle, reported by check_templates()
        expansion.complete = false;
        continue;
      }
      const Expansion& inner = expand(ref.name);
      expansion.terms.insert(expansion.terms.end(), inner.terms.begin(), inner.terms.end());
      apply(expansion.overrides, inner.overrides);
      expansion.complete = expansion.complete && inner.complete;
    }
    m_expanding.erase(name);
    append_senders(definition.senders, expansion.terms);
    expansion.terms.insert(expansion.terms.end(), definition.terms.begin(), definition.terms.end());
    apply(expansion.overrides, definition.overrides);
    return m_expansions[name] = std::move(expansion);
  }

  void append_senders(const std::vector<NameRef>& senders, std::vector<SenderTerm>& terms) const {
    for (const NameRef& ref : senders)
      if (const auto found = m_config.senders.find(ref.name); found != m_config.senders.end())
        terms.insert(terms.end(), found->second.terms.begin(), found->second.terms.end());
  }

 private:
  template <typename Map>
  static std::vector<std::string> keys(const Map& map) {
    std::vector<std::string> out;
    for (const auto& [key, value] : map) out.push_back(key);
    return out;
  }

  bool check_sender(const NameRef& ref) {
    const auto found = m_config.senders.find(ref.name);
    if (found == m_config.senders.end()) {
      const std::string match = util::closest_match(ref.name, keys(m_config.senders));
      m_diag.error(ref.location,
                   "unknown sender " + in_quotes(ref.name) + "; " +
                       (match.empty() ? "define it as [senders." + ref.name + "] or use a built-in sender"
                                      : "did you mean " + in_quotes(match) + "?"));
      return false;
    }
    if (found->second.terms.empty()) {
      const std::string& setup = found->second.setup;
      m_diag.error(ref.location, "sender " + in_quotes(ref.name) + " cannot be used as it is: " +
                                     (setup.empty() ? "it lists no terms" : setup));
      return false;
    }
    return true;
  }

  // Reports each cycle once, at the reference that closes it.
  void find_cycles() {
    enum class Mark { unvisited, on_path, done };
    std::map<std::string, Mark> marks;
    std::vector<std::string> path;
    std::function<void(const std::string&)> visit = [&](const std::string& name) {
      marks[name] = Mark::on_path;
      path.push_back(name);
      for (const NameRef& ref : m_config.templates.at(name).templates) {
        if (!m_config.templates.contains(ref.name)) continue;
        if (marks[ref.name] == Mark::on_path) {
          std::string cycle;
          for (auto it = std::find(path.begin(), path.end(), ref.name); it != path.end(); ++it)
            cycle += *it + " -> ";
          m_diag.error(ref.location,
                       "templates form a cycle: " + cycle + ref.name + "; remove one of these references");
        } else if (marks[ref.name] == Mark::unvisited) {
          visit(ref.name);
        }
      }
      path.pop_back();
      marks[name] = Mark::done;
    };
    for (const auto& [name, definition] : m_config.templates)
      if (marks[name] == Mark::unvisited) visit(name);
  }

  const Config& m_config;
  Diagnostics& m_diag;
  std::set<std::string> m_broken;  // templates with a reference that cannot be resolved
  std::map<std::string, Expansion> m_expansions;
  std::set<std::string> m_expanding;
};

void remove_duplicates(std::vector<SenderTerm>& terms) {
  std::set<std::pair<TermKind, std::string>> seen;
  std::erase_if(terms, [&](const SenderTerm& term) { return !seen.emplace(term.kind, term.value).second; });
}

void resolve(Parsed& parsed, Diagnostics& diag) {
  Config& config = parsed.config;
  Linker linker(config, diag);
  if (parsed.default_provider) linker.check_provider(*parsed.default_provider);
  linker.check_templates();

  for (DomainEntry& entry : parsed.domains) {
    bool complete =
        linker.check_references(entry.templates, entry.senders, entry.overrides) && entry.complete;
    DomainPolicy domain;
    domain.name = entry.name;
    domain.zone = entry.zone;
    domain.location = entry.location;
    Overrides settings;
    for (const NameRef& ref : entry.templates) {
      if (!config.templates.contains(ref.name)) continue;
      const Expansion& expansion = linker.expand(ref.name);
      domain.terms.insert(domain.terms.end(), expansion.terms.begin(), expansion.terms.end());
      apply(settings, expansion.overrides);
      complete = complete && expansion.complete;
    }
    linker.append_senders(entry.senders, domain.terms);
    domain.terms.insert(domain.terms.end(), entry.terms.begin(), entry.terms.end());
    remove_duplicates(domain.terms);
    apply(settings, entry.overrides);

    const Defaults& defaults = config.defaults;
    domain.policy = settings.policy.value_or(defaults.policy);
    domain.ttl = settings.ttl.value_or(defaults.ttl);
    domain.flatten = settings.flatten.value_or(defaults.flatten);
    domain.lookup_budget = settings.lookup_budget.value_or(defaults.lookup_budget);
    domain.void_lookup_budget = defaults.void_lookup_budget;
    domain.max_answer_bytes = defaults.max_answer_bytes;
    domain.chain_prefix = settings.chain_prefix.value_or(defaults.chain_prefix);
    domain.allow_wide_ranges = settings.allow_wide_ranges.value_or(defaults.allow_wide_ranges);
    domain.provider = settings.provider ? settings.provider->name : defaults.provider;

    if (!entry.named) continue;
    for (const SenderTerm& term : domain.terms)
      if (term.kind == TermKind::include && term.value == domain.name)
        diag.error(term.location, "domain " + in_quotes(domain.name) + " includes itself (from " +
                                      term.origin + "); an SPF record that includes itself never evaluates");
    if (complete && domain.terms.empty()) {
      if (!entry.says_no_senders) {
        diag.error(entry.location,
                   "domain " + in_quotes(domain.name) +
                       " lists no senders and would publish \"v=spf1 -all\"; add its senders, or "
                       "if it sends no mail say so with senders = [] and policy = \"fail\"");
      } else if (domain.policy != spf::Qualifier::fail) {
        diag.error(entry.policy_location, "domain " + in_quotes(domain.name) +
                                              " sends no mail (senders = []), so its policy must be \"fail\" "
                                              "(v=spf1 -all)");
      }
    }
    config.domains.push_back(std::move(domain));
  }
}

// ---- the whole load

struct Input {
  fs::path path;        // where include_files are relative to (its parent directory)
  std::string display;  // how messages name it
  std::string bytes;
};

Config load(Input main, const LoadOptions& options) {
  Diagnostics diag;
  std::vector<SourceFile> files;
  std::vector<std::string> file_order = {std::string(k_builtin_senders_file), main.display};
  std::vector<fs::path> paths = {main.path};
  std::set<fs::path> loaded;
  std::error_code ignored;
  loaded.insert(fs::weakly_canonical(main.path, ignored));

  bool syntax_ok = true;
  if (auto root = parse_toml(main.bytes, main.display, diag)) {
    files.push_back({main.display, std::move(main.bytes), std::move(*root)});
  } else {
    syntax_ok = false;
  }
  if (!files.empty()) {
    if (const auto* node = files.front().root.get("include_files")) {
      const auto patterns = read_string_list(*node, "include_files", diag);
      for (const ListEntry& pattern : patterns.value_or(std::vector<ListEntry>{})) {
        for (const fs::path& path : expand_include(main.path.parent_path(), pattern, diag)) {
          if (!loaded.insert(fs::weakly_canonical(path, ignored)).second) continue;
          std::string error;
          auto bytes = util::read_file(path, error);
          if (!bytes) {
            diag.error(pattern.location,
                       "cannot read included file " + in_quotes(path.string()) + ": " + error);
            continue;
          }
          const std::string display = path.string();
          file_order.push_back(display);
          paths.push_back(path);
          if (auto root = parse_toml(*bytes, display, diag)) {
            files.push_back({display, std::move(*bytes), std::move(*root)});
          } else {
            syntax_ok = false;
          }
        }
      }
    }
  }
  // Definitions read from a file that is not valid TOML would only add misleading errors.
  if (!syntax_ok) diag.raise(file_order);

  Parsed parsed;
  read_catalogue(parsed, diag);
  parsed.config.providers[std::string(k_builtin_provider)] =
      ProviderConfig{std::string(k_builtin_provider), "zonefile", {}, {}, true, {}};
  FileState state;
  for (std::size_t i = 0; i < files.size(); ++i) read_file_definitions(files[i], i == 0, parsed, state, diag);
  resolve(parsed, diag);
  if (options.check_provider)
    for (const auto& [name, provider] : parsed.config.providers)
      for (Diagnostic& problem : options.check_provider(provider))
        diag.error(problem.location, problem.message);
  if (!diag.empty()) diag.raise(file_order);

  for (const SourceFile& file : files)
    parsed.config.canonical_bytes += std::to_string(file.bytes.size()) + "\n" + file.bytes;
  parsed.config.files = std::move(paths);
  return std::move(parsed.config);
}

}  // namespace

Config load_config(const std::filesystem::path& path, const LoadOptions& options) {
  std::string error;
  auto bytes = util::read_file(path, error);
  if (!bytes) throw Error("cannot read configuration file " + in_quotes(path.string()) + ": " + error);
  return load({path, path.string(), std::move(*bytes)}, options);
}

Config load_config_text(std::string_view text, const std::string& display_name, const LoadOptions& options) {
  return load({display_name, display_name, std::string(text)}, options);
}

}  // namespace spfctl::config
