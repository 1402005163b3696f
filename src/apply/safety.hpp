// What apply refuses without --force: changes that are legal but likely a mistake on live DNS.
#pragma once

#include <map>
#include <string>
#include <string_view>
#include <vector>

namespace spfctl::apply {

// What one domain's change does to its protection, comparing the SPF values at its managed names
// before and after (name → its SPF values, strings joined; see apply::expected_spf).
struct DomainSafety {
  // Refused without --force, each one line: "weakens its final 'all' from -all to ~all",
  // "stops authorising include:sendgrid.net, mx".
  std::vector<std::string> problems;
  // Shown, not refused: addresses no longer listed because a flattened sender changed its own.
  std::vector<std::string> notes;
};

// Compares the record published at `domain` (following its chained records
// <chain_prefix>N.<domain> through include: and redirect=) before and after:
// - the final `all` (the apex's, or its chained redirect target's) must not get weaker, strongest
//   first: -all, ~all, ?all or none, +all. A redirect to another domain is not compared;
// - every sender the published record authorises must stay: include:, a, mx, ptr and exists terms
//   with a pass qualifier, and redirect= to another domain (the same sender as include: of it), by
//   their text (lowercase), unless the new records still have the term or `flattened` lists it; and
//   the addresses of pass ip4: and ip6: terms, which the new records' ip4:/ip6: terms must cover.
//   Uncovered addresses are a note instead when `flattened` is not empty (a flattened sender's
//   addresses change with it) or when the new records have lookup senders of their own (include:,
//   a, mx...: they may authorise those addresses, and this check does not resolve them).
// A domain without an SPF record before, or whose record does not parse, has nothing to compare.
DomainSafety check_domain(std::string_view domain, std::string_view chain_prefix,
                          const std::map<std::string, std::vector<std::string>>& before,
                          const std::map<std::string, std::vector<std::string>>& after,
                          const std::vector<std::string>& flattened);

}  // namespace spfctl::apply
