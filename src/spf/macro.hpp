// SPF macros (RFC 7208 section 7): syntax checks for macro-strings and domain-specs, and expansion.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include "net/ip.hpp"

namespace spfctl::spf {

// Where a macro-string appears. The letters c, r and t are allowed only in explanation text (the
// TXT record an exp= modifier points to), which may also contain spaces (RFC 7208 6.2, 7.1).
enum class MacroScope : std::uint8_t { domain, explanation };

struct MacroSyntaxError {
  std::string message;     // e.g. "unknown macro letter 'x' in '%{x}'"
  std::size_t offset = 0;  // byte offset of the offending part within the checked text
  std::size_t length = 0;
};

// Checks a macro-string (RFC 7208 7.1): every '%' starts "%{" letter *DIGIT ["r"] *delimiter "}",
// "%%", "%_" or "%-"; the macro letter is one of s l o d i p h v (plus c r t in explanation
// scope), upper or lower case; a digit transformer is nonzero; everything else is visible ASCII
// (and spaces in explanation scope). Returns nullopt when the text is valid.
std::optional<MacroSyntaxError> check_macro_string(std::string_view text, MacroScope scope);

// Checks a domain-spec (RFC 7208 7.1): a non-empty macro-string that ends in a macro or in
// "." toplabel ["."], where the top label is letters, digits and inner dashes, and not all digits.
std::optional<MacroSyntaxError> check_domain_spec(std::string_view text);

// The values macros expand to.
struct MacroContext {
  std::string sender;         // s: local-part@domain (local-part "postmaster" when the sender had none)
  std::string local_part;     // l
  std::string sender_domain;  // o
  std::string domain;         // d: the current domain, which include and redirect change
  net::IpAddress ip;          // i, c, v: the client address (an IPv4-mapped address already unmapped)
  std::string helo;           // h
  std::string receiver = "unknown";  // r
  std::int64_t timestamp = 0;        // t: seconds since the epoch
  // p: the validated domain name of `ip` (see spf/ptr.hpp). Called only when a p macro is expanded,
  // so the caller can look it up lazily, count the lookup and cache it. Empty: "unknown".
  std::function<std::string()> validated_domain;
};

// The context for a check of `sender` (or of the HELO identity when it is empty) from `ip`.
// Splits the sender at its last '@', substitutes "postmaster" for a missing local-part, uses the
// HELO name as the sender domain when the sender is empty, and unmaps IPv4-mapped addresses.
MacroContext make_macro_context(const net::IpAddress& ip, std::string_view sender, std::string_view helo);

struct Expansion {
  bool ok = false;
  std::string text;        // the expanded text when ok
  MacroSyntaxError error;  // when not ok
};

// Expands every macro in `text` (RFC 7208 7.3): a value is split at its delimiters (default "."),
// reversed for "r", cut to the rightmost N parts for a digit N and joined with "."; an upper-case
// letter URL-escapes the result (RFC 3986 unreserved characters kept). "%%" gives "%", "%_" a
// space and "%-" "%20". For IPv6 clients %{i} gives 32 dot-separated nibbles in upper case, the
// form the RFC 7208 conformance suite expects in explanations (DNS names compare case-insensitively,
// so queries are unaffected). Fails only on the syntax errors check_macro_string() reports.
Expansion expand_macros(std::string_view text, const MacroContext& context, MacroScope scope);

// Expands a domain-spec into a name to query: macros expanded, one trailing dot removed, and, when
// longer than 253 octets, labels dropped from the left until it fits (RFC 7208 7.3). The result
// may still be no valid DNS name (an empty or over-long label); callers check before querying.
Expansion expand_domain_spec(std::string_view text, const MacroContext& context);

}  // namespace spfctl::spf
