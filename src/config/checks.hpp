// Checks of single configuration values: domain names, networks, a/mx specs, raw SPF terms, the
// chained-record prefix, credential keys, and "did you mean" suggestions. They know nothing of TOML
// or of where a value came from; the loader turns their messages into located diagnostics.
#pragma once

#include <chrono>
#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "net/ip.hpp"

namespace spfctl::config {

// A checked value: `value` is the normalized form when `error` is empty; otherwise `error` says
// what is wrong (lowercase, quoting the value, without location).
struct Checked {
  std::string value;
  std::string error;
  bool ok() const { return error.empty(); }
};

// Prefixes shorter than these cover so much of the internet that they act like "+all".
inline constexpr int k_min_ip4_prefix = 8;
inline constexpr int k_min_ip6_prefix = 16;

// A host name: lowercased, one trailing dot removed; at least two labels of 1-63 letters, digits,
// hyphens or underscores (no hyphen at either end of a label), at most 253 characters, and a
// top-level label that is not all digits. IP addresses and non-ASCII names are refused with advice.
Checked check_domain_name(std::string_view text);

// A domain-spec as include:, a: or mx: take it: a domain name, or (when it holds '%') an RFC 7208
// macro-string, which is only checked for being one word of printable ASCII here.
Checked check_domain_spec(std::string_view text);

// An ip4 or ip6 entry, "ADDRESS" or "ADDRESS/PREFIX", of the given family. The value is the
// canonical text ("/32" and "/128" dropped). Refuses the other family, prefixes out of range or too
// broad, and networks with host bits set (suggesting the network meant).
Checked check_network(std::string_view text, net::Family family);

// An a or mx entry: "DOMAIN", "DOMAIN/LEN4", "DOMAIN//LEN6", "DOMAIN/LEN4//LEN6", with "@" for the
// domain being configured. The value is what follows "a:" in the record, empty or starting with
// '/' for "@" (so "@/24" gives "/24" and the term "a/24").
Checked check_host_spec(std::string_view text);

// A raw SPF term: one word of printable ASCII, not "v=spf1", not an "all" mechanism (the policy key
// sets that) and not redirect= (which would replace the policy). Its grammar is checked later by
// the SPF parser.
Checked check_raw_term(std::string_view text);

// The prefix of chained record names ("_spf" gives _spf1.<domain>, _spf2.<domain>, ...): lowercased;
// 1-60 letters, digits, hyphens or underscores, not starting with '-' and not ending with a digit
// or '-' (so the appended number stays unambiguous).
Checked check_chain_prefix(std::string_view text);

// A timeout in seconds, as the providers' `timeout` settings take it: the value in milliseconds
// when `error` is empty; otherwise `error` says what is wrong (lowercase, quoting the value, to
// follow "timeout in [providers.NAME] ").
struct CheckedTimeout {
  std::chrono::milliseconds value{0};
  std::string error;
  bool ok() const { return error.empty(); }
};

// The longest `timeout` a provider setting may ask for.
inline constexpr int k_max_timeout_seconds = 300;

// A `timeout` setting: whole or decimal seconds written with digits and at most one '.' ("10",
// "2.5"), above 0 and at most k_max_timeout_seconds, rounded to the millisecond (so at least
// 0.001). Signs, exponents and blanks are refused.
CheckedTimeout check_timeout_seconds(std::string_view text);

// True for a POSIX environment variable name: [A-Za-z_][A-Za-z0-9_]*.
bool is_env_var_name(std::string_view text);

// True for a provider setting key that names a credential given literally ("token", "api_key",
// "tsig_secret", "password", ...), false for keys that only point at one ("token_env",
// "key_file", "key_name").
bool looks_like_secret(std::string_view key);

}  // namespace spfctl::config
