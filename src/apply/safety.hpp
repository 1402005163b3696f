// What apply refuses without --force: changes that are legal but likely a mistake on live DNS.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "plan/policy_map.hpp"
#include "plan/proof.hpp"

namespace spfctl::apply {

// What one domain's change does to its protection. Each problem is refused without --force, one
// line: "weakens its final 'all' from -all to ~all", "stops authorising 203.0.113.1
// (ip4:203.0.113.1), which the published record authorises".
struct DomainSafety {
  std::vector<std::string> problems;
};

// Compares what the domain's managed names publish `before` and `after` a change (the TXT state
// at the domain and its chained records <chain_prefix>N.<domain>, apply::published_after), both
// evaluated as receivers would over the mapper's snapshot for every other name:
// - the final `all` (the apex's, or its chained redirect target's) must not get weaker, strongest
//   first: -all, ~all, ?all or none, +all. A domain without an SPF record before counts as none
//   (neutral), so a new record is held to the same rule. A redirect to another domain is not
//   compared;
// - no address the published policy passes through one of its terms (its final +all names no
//   sender) may stop passing, computed exactly from both policies' maps: the lost ranges are
//   listed with the published terms they came from;
// - no term whose match depends on more than the address (exists, ptr, macros) that can pass in
//   the published policy may disappear from the new one.
// A published policy that cannot be evaluated (a DNS failure, a sender without a record) cannot
// be compared: that is a problem too. One without a single SPF record that parses authorises
// nothing (receivers return none or permerror), so nothing can be lost.
DomainSafety check_domain(plan::PolicyMapper& mapper, std::string_view domain, std::string_view chain_prefix,
                          const plan::TxtState& before, const plan::TxtState& after);

}  // namespace spfctl::apply
