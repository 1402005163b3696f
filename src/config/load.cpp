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
#include "config/link.hpp"
#include "config/toml_read.hpp"
#include "util/file.hpp"
#include "util/text.hpp"

namespace spfctl::config {

namespace {

namespace fs = std::filesystem;

constexpr std::string_view k_builtin_senders_file = "builtin:senders.toml";

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

// The files an include_files entry names, sorted; reports a literal path that does not exist and a
// pattern that matches nothing.
std::vector<fs::path> expand_include(const fs::path& base_dir, const ListEntry& entry, Diagnostics& diag) {
  const fs::path pattern = base_dir / entry.text;
  glob_t matches{};
  const int rc = ::glob(pattern.c_str(), 0, nullptr, &matches);
  std::vector<fs::path> paths;
  if (rc == 0) {
    for (std::size_t i = 0; i < matches.gl_pathc; ++i) paths.emplace_back(matches.gl_pathv[i]);
  } else if (rc != GLOB_NOMATCH) {
    diag.error(entry.location, "cannot list the files matching " + util::quoted(pattern.string()));
  } else if (!has_glob_magic(entry.text)) {
    diag.error(entry.location, "included file " + util::quoted(pattern.string()) + " does not exist");
  } else {
    // A typo in a pattern would otherwise manage nothing, and CI would go green over it.
    diag.error(entry.location, "include_files pattern " + util::quoted(entry.text) + " matches no file (in " +
                                   util::quoted(base_dir.empty() ? "." : base_dir.string()) +
                                   "); correct the pattern, or remove it while there is nothing to include");
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
                 util::quoted(setting) + " in " + context +
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
      diag.error(at(value), util::quoted(setting) + " in " + context +
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
                 "sender " + util::quoted(name) + " is already defined at " + previous->second.to_string());
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
      diag.error(at(*value), "'docs' must be a link (https://...), not " + util::quoted(sender.docs));
  }
  if (const auto* value = table->get("setup")) sender.setup = read_string(*value, "setup", diag).value_or("");
  const std::size_t errors_before = diag.count();
  read_terms(*table, "sender " + name, sender.terms, diag);
  if (sender.terms.empty() && sender.setup.empty() && diag.count() == errors_before)
    diag.error(at(key), "sender " + util::quoted(name) + " lists no include, ip4, ip6, a, mx or raw entries");
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
    diag.error(at(key), "template " + util::quoted(name) + " is already defined at " +
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
    diag.error(at(*name_node), "domain " + util::quoted(checked.value) + " is already defined at " +
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
        diag.error(at(*zone_node), "zone " + util::quoted(zone_checked.value) + " does not contain domain " +
                                       util::quoted(entry.name) +
                                       "; give the apex of the zone that holds it");
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
    diag.error(at(node), util::quoted(section) + " must be a table of named entries ([" +
                             std::string(section) + ".NAME]), not " + std::string(type_name(node)));
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
      std::string message = "unknown top-level key " + util::quoted(name);
      if (contains(k_override_keys, name))
        message += "; put it under [defaults], a [[domain]] or a template";
      else
        message += util::suggestion(name, is_main ? k_main_keys : k_included_keys, "expected one of");
      diag.error(at(key), std::move(message));
    } else if (!is_main && !contains(k_included_keys, name)) {
      diag.error(at(key), util::quoted(name) +
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
                       "cannot read included file " + util::quoted(path.string()) + ": " + error);
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
  link_domains(parsed.config, parsed.default_provider, parsed.domains, diag);
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
  if (!bytes) throw Error("cannot read configuration file " + util::quoted(path.string()) + ": " + error);
  return load({path, path.string(), std::move(*bytes)}, options);
}

Config load_config_text(std::string_view text, const std::string& display_name, const LoadOptions& options) {
  return load({display_name, display_name, std::string(text)}, options);
}

}  // namespace spfctl::config
