// Desired records (the planner's DomainPlan) against what a provider publishes, as the ordered
// changes that turn one into the other.
//
// Ownership: at each managed name — the domain, and the chained names <prefix>N.<domain> — spfctl
// owns exactly the TXT value starting "v=spf1". Other TXT values are never in a change; they travel
// in Change::others so adapters that write whole RRsets keep them.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "plan/desired.hpp"
#include "publish/records.hpp"

namespace spfctl::plan {

// The TXT record sets read for one domain, by name. A name read without records is present with no
// values, so it is not read again.
struct LiveRecords {
  std::map<std::string, publish::TxtRecordSet> sets;

  // The SPF values (TXT values starting "v=spf1") at `name`; empty when there are none.
  std::vector<publish::TxtValue> spf_values(const std::string& name) const;
  // The other TXT values at `name`.
  std::vector<publish::TxtValue> other_values(const std::string& name) const;
};

// Reads the names of `names` a provider lists in one call (all inside the domain's zone).
using ListFunction = std::function<std::vector<publish::TxtRecordSet>(const std::vector<std::string>& names)>;

// Reads into `live` every managed name of `domain` not read yet: the domain, `wanted` (the chained
// names a plan publishes), and every chained name an SPF value read points to (include: or
// redirect= of <prefix>N.<domain>), followed until no new name appears.
void read_managed(LiveRecords& live, std::string_view domain, std::string_view chain_prefix,
                  const std::vector<std::string>& wanted, const ListFunction& list);

// True when `name` is a chained name of `domain`: <prefix>N.<domain> with N a positive number
// without leading zeros (all arguments lowercase, no trailing dot).
bool is_chained_name(std::string_view name, std::string_view domain, std::string_view prefix);

// The chained names (<prefix>N.<domain>, N ≥ 1) that the SPF record `value` includes or redirects
// to, in the order it names them, lowercase.
std::vector<std::string> chained_targets(std::string_view value, std::string_view domain,
                                         std::string_view chain_prefix);

struct DomainDiff {
  // In apply order: created and updated chained records first (a record before the records that
  // point to it), then the domain's own record, then deletes of chained records nothing published
  // points to any more. At a name holding several SPF values, the extra ones are deleted just before
  // the one kept is updated.
  std::vector<publish::Change> changes;
  // Why, where it is not obvious: "2 SPF records at example.com: keeping one, deleting 1".
  std::vector<std::string> notes;
};

// The changes that make `live` publish `plan.records` with `ttl`. A value whose strings joined
// equal the desired value's and whose TTL is `ttl` is no change; a TTL difference alone is an update.
// `plan` must be ok().
DomainDiff diff_domain(const DomainPlan& plan, std::uint32_t ttl, std::string_view chain_prefix,
                       const LiveRecords& live);

// Why `plan` cannot be published by a provider with `capabilities` at `ttl` ("" when it can): a TTL
// out of range, a string or value too long, several strings where only one is stored.
std::string check_capabilities(const DomainPlan& plan, std::uint32_t ttl,
                               const publish::Capabilities& capabilities);

}  // namespace spfctl::plan
