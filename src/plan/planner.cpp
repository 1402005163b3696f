#include "plan/planner.hpp"

#include <algorithm>
#include <atomic>
#include <exception>

#include "dns/caching_resolver.hpp"
#include "plan/proof.hpp"
#include "spf/select.hpp"
#include "util/parallel.hpp"

namespace spfctl::plan {

namespace {

DomainPlan plan_policy(PolicyMapper& mapper, const config::DomainPolicy& policy, const ApexContext& apex) {
  const IntendedRecord intended = intended_record(policy);
  if (!intended.record) {
    DomainPlan plan;
    plan.domain = policy.name;
    plan.error = intended.error;
    return plan;
  }
  return plan_record(mapper, policy.name, *intended.record, FlattenSettings::of(policy), apex);
}

// Why `policy`, the map of `intended`, must not be published: it passes blocks wider than /8 or /16
// and the settings do not allow that. "" when it may.
std::string breadth_error(const RecordMap& policy, const spf::Record& intended,
                          const FlattenSettings& settings) {
  if (settings.allow_wide_ranges) return {};
  const std::string wide = wide_ranges_text(policy, intended);
  if (wide.empty()) return {};
  return "the policy would authorise " + wide +
         ": wider than /8 (IPv4) or /16 (IPv6), a large part of the internet; remove that sender, or set "
         "allow_wide_ranges = true for the domain if it is intended";
}

void warn_about_terms(DomainPlan& plan, const spf::Record& intended, const RecordMap& policy) {
  for (std::size_t i = 0; i < intended.terms.size(); ++i) {
    const spf::Mechanism* m = intended.terms[i].mechanism();
    if (!m) continue;
    const TermMap& t = policy.terms[i];
    if ((m->kind == spf::MechanismKind::a || m->kind == spf::MechanismKind::mx) &&
        t.kind == TermClass::flattenable && t.addresses.empty())
      plan.warnings.push_back("'" + spf::to_string(*m) + "' finds no addresses today: it authorises nothing");
    if (m->kind == spf::MechanismKind::ptr)
      plan.warnings.push_back(
          "'" + spf::to_string(*m) +
          "' uses ptr, which RFC 7208 5.5 says not to use: slow, unreliable and ignored by some "
          "receivers");
  }
}

}  // namespace

DomainPlan plan_record(PolicyMapper& mapper, std::string_view domain, const spf::Record& intended,
                       const FlattenSettings& settings, const ApexContext& apex) {
  DomainPlan plan;
  plan.domain = dns::normalize_name(domain);
  const dns::QuestionTally questions;  // this domain's, whatever other domains ask meanwhile
  // Every return is `return done(plan)`: the plan moved out, never copied.
  auto done = [&](DomainPlan& finished) -> DomainPlan&& {
    finished.dns_queries = questions.count();
    return std::move(finished);
  };

  const RecordMap policy = mapper.evaluate(intended, plan.domain);
  if (!policy.ok()) {
    plan.error = policy.error;
    return done(plan);
  }
  plan.lookups_unflattened = policy.lookups;
  if (std::string error = breadth_error(policy, intended, settings); !error.empty()) {
    plan.error = std::move(error);
    return done(plan);
  }
  warn_about_terms(plan, intended, policy);

  // The SPF record published there now is the one being replaced: only the others stay beside it.
  std::vector<std::vector<std::string>> other_txt;
  for (const auto& strings : apex.other_txt) {
    std::string joined;
    for (const std::string& s : strings) joined += s;
    if (!spf::is_spf_record(joined)) other_txt.push_back(strings);
  }
  Flattening flattening = flatten(plan.domain, intended, policy, settings, other_txt);
  if (!flattening.error.empty()) {
    plan.error = flattening.error;
    return done(plan);
  }
  for (std::size_t i : flattening.flattened) plan.flattened.push_back(spf::to_string(intended.terms[i]));
  plan.notes = std::move(flattening.notes);

  const Proof proof = prove(mapper, plan.domain, policy.map, flattening.records, other_txt, settings);
  if (!proof.equivalent) {
    plan.error = proof.error;
    return done(plan);
  }
  plan.records = std::move(flattening.records);
  plan.lookups = proof.lookups;
  plan.void_lookups = proof.void_lookups;
  plan.equivalent = true;
  return done(plan);
}

DomainPlan plan_domain(dns::Resolver& resolver, const config::DomainPolicy& policy, const ApexContext& apex) {
  PolicyMapper mapper(resolver);
  return plan_policy(mapper, policy, apex);
}

std::vector<DomainPlan> plan_domains(PolicyMapper& mapper, const std::vector<config::DomainPolicy>& policies,
                                     const std::function<ApexContext(const config::DomainPolicy&)>& apex_of,
                                     int threads,
                                     const std::function<void(std::size_t, std::size_t)>& progress) {
  std::vector<const config::DomainPolicy*> pointers;
  pointers.reserve(policies.size());
  for (const config::DomainPolicy& policy : policies) pointers.push_back(&policy);
  return plan_domains(mapper, pointers, apex_of, threads, progress);
}

std::vector<DomainPlan> plan_domains(PolicyMapper& mapper,
                                     const std::vector<const config::DomainPolicy*>& policies,
                                     const std::function<ApexContext(const config::DomainPolicy&)>& apex_of,
                                     int threads,
                                     const std::function<void(std::size_t, std::size_t)>& progress) {
  std::vector<DomainPlan> plans(policies.size());
  std::atomic<std::size_t> finished{0};
  util::for_each_at_once(policies.size(), threads, [&](std::size_t i) {
    const config::DomainPolicy& policy = *policies[i];
    try {
      plans[i] = plan_policy(mapper, policy, apex_of ? apex_of(policy) : ApexContext{});
    } catch (const std::exception& e) {
      plans[i] = DomainPlan{};
      plans[i].domain = policy.name;
      plans[i].error = std::string("internal error while planning: ") + e.what();
    }
    const std::size_t done = ++finished;
    if (progress) progress(done, policies.size());
  });
  return plans;
}

Proof prove_configured(PolicyMapper& mapper, const config::DomainPolicy& policy, const TxtState& state) {
  Proof proof;
  const IntendedRecord intended = intended_record(policy);
  if (!intended.record) {
    proof.error = intended.error;
    return proof;
  }
  const RecordMap configured = mapper.evaluate(*intended.record, policy.name);
  if (!configured.ok()) {
    proof.error = "the configured senders cannot be evaluated now: " + configured.error;
    return proof;
  }
  const FlattenSettings settings = FlattenSettings::of(policy);
  if (std::string error = breadth_error(configured, *intended.record, settings); !error.empty()) {
    proof.error = std::move(error);
    return proof;
  }
  return prove(mapper, policy.name, configured.map, state, settings);
}

}  // namespace spfctl::plan
