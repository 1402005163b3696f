// The planner: from a domain's intended policy (config::DomainPolicy) to the records to publish,
// flattened only as far as the lookup budget needs, split to fit DNS limits, and proved equivalent.
// Pure over a resolver snapshot: no I/O of its own besides the questions it asks the resolver.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "config/config.hpp"
#include "dns/resolver.hpp"
#include "plan/desired.hpp"
#include "plan/flatten.hpp"
#include "plan/policy_map.hpp"
#include "plan/proof.hpp"
#include "spf/record.hpp"

namespace spfctl::plan {

// What is published at the domain today besides its SPF record: the other TXT values at the apex
// (site verifications...), each as its character-strings. They count toward the 512-byte answer.
// A value starting "v=spf1" among them is ignored: it is the record the plan replaces.
struct ApexContext {
  std::vector<std::vector<std::string>> other_txt;
};

// Plans `intended` as the policy of `domain`: evaluates it over the mapper's snapshot, flattens as
// `settings` allow, splits into records and proves them equivalent (DomainPlan::equivalent). Never
// throws for DNS or policy problems: they become DomainPlan::error. This is plan_domain() for a
// policy given as a record (spfctl flatten: a published one, with its own 'all', redirect= and exp=).
DomainPlan plan_record(PolicyMapper& mapper, std::string_view domain, const spf::Record& intended,
                       const FlattenSettings& settings, const ApexContext& apex);

// Plans one domain. Never throws for DNS or policy problems: they become DomainPlan::error.
DomainPlan plan_domain(dns::Resolver& resolver, const config::DomainPolicy& policy, const ApexContext& apex);

// Plans many domains concurrently (at most `threads` at once) over one mapper, whose snapshot
// should be a dns::CachingResolver so each (name, type) is asked once. `apex_of` gives a domain's
// ApexContext (called from worker threads). `progress`, if set, is called after each domain with
// (done, total) from worker threads. Results are in the order of `policies`.
std::vector<DomainPlan> plan_domains(PolicyMapper& mapper, const std::vector<config::DomainPolicy>& policies,
                                     const std::function<ApexContext(const config::DomainPolicy&)>& apex_of,
                                     int threads,
                                     const std::function<void(std::size_t, std::size_t)>& progress = {});
// The same over policies held elsewhere (the configuration's), not copied.
std::vector<DomainPlan> plan_domains(PolicyMapper& mapper,
                                     const std::vector<const config::DomainPolicy*>& policies,
                                     const std::function<ApexContext(const config::DomainPolicy&)>& apex_of,
                                     int threads,
                                     const std::function<void(std::size_t, std::size_t)>& progress = {});

// Proves that `state` (the TXT records a plan leaves at the domain's managed names) publishes the
// configured `policy`, over the mapper's snapshot as it is now: the configured senders evaluated
// afresh, no wide blocks unless allowed, then prove(). What apply checks right before writing,
// whatever produced the values (a plan made now, a plan file, a rebase onto what is published).
Proof prove_configured(PolicyMapper& mapper, const config::DomainPolicy& policy, const TxtState& state);

}  // namespace spfctl::plan
