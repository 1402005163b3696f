// Typed readers of the configuration's TOML: each reads one value or table, checks it, and reports
// a problem to Diagnostics at the value's FILE:LINE:COLUMN instead of throwing, so one load lists
// every problem. What the values mean (templates, senders, domains) is load.cpp's and link.cpp's.
#pragma once

#include <toml++/toml.h>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "config/config.hpp"
#include "config/diagnostics.hpp"

namespace spfctl::config {

inline constexpr std::uint32_t k_min_ttl = 60;
inline constexpr std::uint32_t k_max_ttl = 604800;

// The keys of the configuration's tables.
inline const std::vector<std::string> k_main_keys = {"defaults",  "providers", "senders",
                                                     "templates", "domain",    "include_files"};
inline const std::vector<std::string> k_included_keys = {"senders", "templates", "domain"};
inline const std::vector<std::string> k_term_keys = {"include", "ip4", "ip6", "a", "mx", "raw"};
inline const std::vector<std::string> k_override_keys = {
    "policy", "ttl", "flatten", "lookup_budget", "chain_prefix", "provider", "allow_wide_ranges"};

SourceLocation at(const toml::source_region& region);
SourceLocation at(const toml::node& node);
SourceLocation at(const toml::key& key);

// "a string", "an integer", ...: a value's TOML type, for messages.
std::string_view type_name(const toml::node& node);

bool contains(const std::vector<std::string>& words, std::string_view word);
std::vector<std::string> with(std::vector<std::string> keys, const std::vector<std::string>& more);

// Reports each key of `table` that is not in `allowed`, naming `context` ("[defaults]").
void check_keys(const toml::table& table, const std::vector<std::string>& allowed, std::string_view context,
                Diagnostics& diag);

// The value when it has the type; otherwise reported (naming `key`) and nullopt. read_integer also
// reports a value outside [min, max], adding `why` to the message.
std::optional<std::string> read_string(const toml::node& node, std::string_view key, Diagnostics& diag);
std::optional<std::int64_t> read_integer(const toml::node& node, std::string_view key, std::int64_t min,
                                         std::int64_t max, std::string_view why, Diagnostics& diag);
std::optional<bool> read_boolean(const toml::node& node, std::string_view key, Diagnostics& diag);

// One string of an array, with its place.
struct ListEntry {
  std::string text;
  SourceLocation location;
};

// An array of strings; nullopt (reported) when it is not one or holds anything else.
std::optional<std::vector<ListEntry>> read_string_list(const toml::node& node, std::string_view key,
                                                       Diagnostics& diag);
// Names of templates or senders, with their places.
std::vector<NameRef> read_names(const toml::node& node, std::string_view key, Diagnostics& diag);

// The term lists of a sender, template or domain table (include, ip4, ip6, a, mx, raw: in that
// order, each as written), each value checked; `origin` says where they came from in plans.
void read_terms(const toml::table& table, const std::string& origin, std::vector<SenderTerm>& terms,
                Diagnostics& diag);

// The settings a template or domain table may set (Overrides), each checked.
void read_overrides(const toml::table& table, Overrides& out, Diagnostics& diag);

}  // namespace spfctl::config
