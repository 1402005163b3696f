// spfctl's declarative configuration: TOML files → a validated Config whose domains are resolved
// into DomainPolicy values, ready for the planner. The key-by-key reference is config.example.toml
// at the project root.
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "config/diagnostics.hpp"
#include "spf/record.hpp"

namespace spfctl::config {

enum class FlattenMode : std::uint8_t {
  automatic,  // "auto": keep includes where the chain fits the budget, flatten the fewest that don't
  full,       // flatten everything that can be flattened
  off,        // never flatten; only validate
};
std::string_view to_string(FlattenMode mode);  // "auto", "full", "off"

enum class TermKind : std::uint8_t { include, ip4, ip6, a, mx, raw };
std::string_view to_string(TermKind kind);  // "include", "ip4", ...

// One term a domain's record must cover, with where it came from.
struct SenderTerm {
  TermKind kind = TermKind::include;
  // The text after "kind:": a lowercase domain for include; a canonical network for ip4/ip6
  // ("/32", "/128" dropped); for a/mx a domain with optional "/len4" and "//len6", or, for the
  // configured domain itself, "" or just the lengths ("/24"); for raw the whole term as written.
  std::string value;
  std::string origin;       // "sender mailchimp", "template agency-base" or "domain example.com"
  SourceLocation location;  // the list entry it was written in

  // The term as it appears in a record: "include:servers.mcsv.net", "ip4:192.0.2.0/24", "mx",
  // "a/24", "mx:mail.example.com", or the raw term.
  std::string text() const;
};

// The RFC 7208 ceilings; a configuration may only lower them.
inline constexpr int k_max_lookups = 10;
inline constexpr int k_max_void_lookups = 2;
inline constexpr int k_min_answer_bytes = 512;
inline constexpr int k_max_answer_bytes = 65535;

// The name of the provider domains use when neither they nor [defaults] name one: a zone-file
// provider that exists without configuration.
inline constexpr std::string_view k_builtin_provider = "zonefile";

struct Defaults {
  spf::Qualifier policy = spf::Qualifier::fail;
  std::uint32_t ttl = 3600;
  FlattenMode flatten = FlattenMode::automatic;
  int lookup_budget = k_max_lookups;
  int void_lookup_budget = k_max_void_lookups;
  int max_answer_bytes = k_min_answer_bytes;
  std::string chain_prefix = "_spf";
  std::string provider = std::string(k_builtin_provider);
  bool allow_wide_ranges = false;
};

// A mention of a sender, template or provider by name, kept with its place for messages.
struct NameRef {
  std::string name;
  SourceLocation location;
};

// Settings a template or a domain may set; unset ones come from the templates it uses, then from
// [defaults].
struct Overrides {
  std::optional<spf::Qualifier> policy;
  std::optional<std::uint32_t> ttl;
  std::optional<FlattenMode> flatten;
  std::optional<int> lookup_budget;
  std::optional<std::string> chain_prefix;
  std::optional<NameRef> provider;
  std::optional<bool> allow_wide_ranges;
};

struct ProviderSetting {
  std::string value;              // strings as written; integers in decimal; booleans "true"/"false"
  SourceLocation location;        // the value's
  SourceLocation key_location{};  // the key's; the value's when not known
};

// [providers.NAME]: the type, and the rest of the table for the provider registry, which checks both
// (LoadOptions::check_provider) and hands the adapter checked settings.
// Credentials never appear here: only the names of environment variables holding them (*_env).
struct ProviderConfig {
  std::string name;
  std::string type;
  std::map<std::string, ProviderSetting> settings;
  SourceLocation location;       // the table's name
  bool builtin = false;          // the implicit zone-file provider
  SourceLocation type_location;  // its `type` value; the table's when there is none
};

// A sender: from the built-in catalogue (src/config/senders.toml) or [senders.NAME].
struct SenderDefinition {
  std::string name;
  std::string description;
  std::string docs;   // URL of the sender's own SPF instructions
  std::string setup;  // what a user must add before the sender can be used (e.g. a per-account include)
  std::vector<SenderTerm> terms;  // include, ip4, ip6, a, mx, raw: in that order, each as listed
  SourceLocation location;
  bool builtin = false;
};

struct TemplateDefinition {
  std::string name;
  std::string description;
  std::vector<NameRef> templates;  // applied before this template's own content
  std::vector<NameRef> senders;
  std::vector<SenderTerm> terms;
  Overrides overrides;
  SourceLocation location;
};

// One [[domain]], resolved: what the planner needs to build its records.
struct DomainPolicy {
  std::string name;                              // lowercase, no trailing dot
  std::optional<std::string> zone;               // the zone apex when given; otherwise the planner finds it
  std::string provider;                          // a key of Config::providers
  spf::Qualifier policy = spf::Qualifier::fail;  // never pass
  std::uint32_t ttl = 3600;
  FlattenMode flatten = FlattenMode::automatic;
  int lookup_budget = k_max_lookups;
  int void_lookup_budget = k_max_void_lookups;
  int max_answer_bytes = k_min_answer_bytes;
  std::string chain_prefix = "_spf";
  // The policy may pass blocks wider than /8 (IPv4) or /16 (IPv6), from whatever term: a sender
  // whose record says +all, a raw term. Off by default: such a plan is an error.
  bool allow_wide_ranges = false;
  // Templates' terms first (in the order listed, each template's own templates before it), then
  // the named senders' (in order), then the domain's own; a repeated term keeps its first place.
  // Empty only for a domain that says it sends no mail (senders = [] with policy "fail").
  std::vector<SenderTerm> terms;
  SourceLocation location;  // its [[domain]] header
};

struct Config {
  Defaults defaults;
  std::map<std::string, ProviderConfig> providers;  // includes the built-in zone-file provider
  std::map<std::string, SenderDefinition> senders;  // the catalogue with the user's entries merged in
  std::map<std::string, TemplateDefinition> templates;
  std::vector<DomainPolicy> domains;         // in file order, the main file first
  std::vector<std::filesystem::path> files;  // every file read, the main file first
  // Each file read, in order, as its size in decimal, a newline, then its bytes: hash this to
  // identify the configuration a plan was made from.
  std::string canonical_bytes;
};

struct LoadOptions {
  // The problems of one [providers.NAME] table (its type and settings), reported with the
  // configuration's own; the CLI passes providers::provider_problems. Empty: tables are not checked.
  std::function<std::vector<Diagnostic>(const ProviderConfig&)> check_provider{};
};

// Reads the configuration at `path` and every file its include_files name, validates all of it and
// resolves each domain. Throws ConfigError listing every problem (TOML syntax, unknown keys, wrong
// types, bad values, unknown or circular references, duplicates, and what `options.check_provider`
// finds), each with file:line:column; throws Error when the main file cannot be read.
Config load_config(const std::filesystem::path& path, const LoadOptions& options = {});

// The same from text, as if read from a file named `display_name` (include_files are then relative
// to the directory of `display_name`). For tests and for configuration given on standard input.
Config load_config_text(std::string_view text, const std::string& display_name,
                        const LoadOptions& options = {});

// The built-in sender catalogue as TOML text (embedded from src/config/senders.toml at build time).
std::string_view builtin_senders_toml();

// The catalogue name people often use another word for ("office365", "1und1", "gsuite"), or
// nullopt: what `spfctl senders` accepts, and what an unknown sender's message suggests.
std::optional<std::string_view> sender_alias(std::string_view name);

}  // namespace spfctl::config
