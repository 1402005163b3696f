#include "apply/prepare.hpp"

#include <algorithm>

#include "apply/rebase.hpp"
#include "apply/safety.hpp"
#include "dns/resolver.hpp"
#include "error.hpp"
#include "util/text.hpp"

namespace spfctl::apply {

using publish::Change;

namespace {

std::string plural(std::size_t n, const std::string& word) {
  return std::to_string(n) + " " + word + (n == 1 ? "" : "s");
}

std::string indented(const std::vector<std::string>& lines) {
  std::string out;
  for (const std::string& line : lines) out += "\n  " + line;
  return out;
}

}  // namespace

plan::ListFunction lister(publish::Provider& provider, const std::string& zone) {
  return [&provider, zone](const std::vector<std::string>& names) { return provider.list(zone, names); };
}

std::string unexpected_failure(const std::string& provider, const std::exception& e) {
  return "provider '" + provider + "' failed in a way spfctl did not foresee (" + e.what() +
         "); nothing was done for this domain, the others go on. Please report it";
}

std::vector<DomainRun> runs_from_plan(const plan::Plan& saved, const SavedPlanSource& source,
                                      const config::Config& config, const std::vector<std::string>& domains,
                                      const ProviderLookup& provider_of) {
  if (saved.config_sha256 != source.config_sha256)
    throw Error(source.plan_file + " was made from another configuration: " + source.config_file +
                " changed since (its config_sha256 differs). Nothing was applied; make and review a new "
                "plan with 'spfctl plan --out " +
                source.plan_file + "'");
  std::vector<std::string> in_plan;
  for (const plan::PlannedDomain& domain : saved.domains) in_plan.push_back(domain.domain);
  std::vector<std::string> wanted;
  for (const std::string& word : domains) {
    const std::string name = dns::normalize_name(word);
    if (std::find(in_plan.begin(), in_plan.end(), name) == in_plan.end()) {
      const std::string match = util::closest_match(name, in_plan);
      throw Error("domain '" + word + "' is not in the plan " + source.plan_file +
                  (match.empty() ? "" : "; did you mean '" + match + "'?"));
    }
    wanted.push_back(name);
  }
  std::vector<DomainRun> runs;
  for (const plan::PlannedDomain& domain : saved.domains) {
    if (!wanted.empty() && std::find(wanted.begin(), wanted.end(), domain.domain) == wanted.end()) continue;
    DomainRun run;
    run.result = domain;
    for (const config::DomainPolicy& policy : config.domains)
      if (policy.name == domain.domain) run.policy = &policy;
    if (!run.policy)
      throw Error(source.plan_file + ": domain '" + domain.domain + "' is not configured in " +
                  source.config_file + "; make a new plan with 'spfctl plan --out " + source.plan_file + "'");
    if (run.policy->provider != domain.provider)
      throw Error(source.plan_file + ": domain '" + domain.domain + "' is planned for provider '" +
                  domain.provider + "' but configured for '" + run.policy->provider +
                  "'; make a new plan with 'spfctl plan --out " + source.plan_file + "'");
    // An edited plan file must not reach beyond the names spfctl manages for the domain.
    std::vector<std::string> names;
    for (const Change& change : domain.changes) names.push_back(change.name);
    for (const plan::DesiredRecord& record : domain.records) names.push_back(record.name);
    for (const std::string& name : names)
      if (name != domain.domain &&
          !plan::is_chained_name(name, domain.domain, util::lowercase(run.policy->chain_prefix)))
        throw Error(source.plan_file + ": domain '" + domain.domain + "' has a change at '" + name +
                    "', which is neither the domain nor one of its chained records (" +
                    run.policy->chain_prefix + "N." + domain.domain +
                    "); nothing was applied. Make a new plan with 'spfctl plan --out " + source.plan_file +
                    "'");
    if (run.result.status() == plan::DomainStatus::changes) {
      try {
        run.provider = &provider_of(domain.provider);
        // An edited zone must not send the domain's records into another zone of the account.
        const std::string zone =
            dns::normalize_name(run.policy->zone ? *run.policy->zone : run.provider->zone_for(domain.domain));
        if (zone != domain.zone)
          run.apply_error = "the plan puts " + domain.domain + " in the zone '" + domain.zone +
                            "', but provider '" + domain.provider + "' serves it in '" + zone +
                            "'; nothing was applied for it. Make a new plan with 'spfctl plan --out " +
                            source.plan_file + "'";
      } catch (const Error& e) {
        run.result.error = e.what();
      } catch (const std::exception& e) {
        run.result.error = unexpected_failure(domain.provider, e);
      }
    }
    runs.push_back(std::move(run));
  }
  return runs;
}

Prepared prepare(std::vector<DomainRun>& runs, bool reread, plan::PolicyMapper& mapper,
                 const std::function<int(const std::string& provider)>& write_concurrency,
                 Refusals& refusals) {
  Prepared prepared;
  for (std::size_t index = 0; index < runs.size(); ++index) {
    DomainRun& run = runs[index];
    if (run.result.status() != plan::DomainStatus::changes || !run.apply_error.empty()) continue;
    const config::DomainPolicy& policy = *run.policy;
    // A plan read from DNS is applied only onto what the provider's API shows.
    if (reread || run.live_from_dns) {
      std::vector<std::string> names;
      for (const Change& change : run.result.changes) names.push_back(change.name);
      for (const plan::DesiredRecord& record : run.result.records) names.push_back(record.name);
      run.live = plan::LiveRecords{};
      try {
        plan::read_managed(run.live, policy.name, policy.chain_prefix, names,
                           lister(*run.provider, run.result.zone));
      } catch (const Error& e) {
        run.apply_error = std::string("could not read what is published before applying: ") + e.what();
        continue;
      } catch (const std::exception& e) {
        run.apply_error = unexpected_failure(policy.provider, e);
        continue;
      }
    }
    // A saved plan that an interrupted or partly failed run already applied here is done, not stale.
    run.already_applied = already_applied(run.result.changes, run.live, run.result.records);
    if (run.already_applied) continue;
    Rebased rebased = rebase(run.result.changes, run.live, run.result.records);
    refusals.drift.insert(refusals.drift.end(), rebased.drift.begin(), rebased.drift.end());
    if (!rebased.ok()) continue;

    for (const auto& [name, values] : expected_spf(run.live, rebased.changes))
      if (values.size() > 1)
        throw Error("internal error: the plan for " + run.result.domain + " would leave " +
                    std::to_string(values.size()) + " SPF records at " + name + "; nothing was applied");
    // Publish only what is proved now, whatever produced the values: a plan made a moment ago, a
    // plan file, a rebase onto what is published.
    const plan::TxtState before = published_after(run.live, {});
    const plan::TxtState after = published_after(run.live, rebased.changes);
    const plan::Proof proof = plan::prove_configured(mapper, policy, after);
    run.result.equivalent = proof.equivalent;
    if (!proof.equivalent) {
      run.apply_error =
          "nothing was applied for it: the records it would publish do not prove against the "
          "configuration now (" +
          proof.error +
          "); a sender changed, or the plan file was edited: make a new plan with 'spfctl plan'";
      continue;
    }
    run.result.lookups = proof.lookups;
    run.result.void_lookups = proof.void_lookups;
    const DomainSafety safety = check_domain(mapper, policy.name, policy.chain_prefix, before, after);
    for (const std::string& problem : safety.problems) {
      refusals.unsafe.push_back(run.result.domain + ": " + problem);
      refusals.unsafe_domains.push_back(run.result.domain);
    }
    for (const Change& change : rebased.changes)
      if (change.action == Change::Action::remove) {
        ++refusals.deletes;
        ++refusals.deletes_by_domain[run.result.domain];
      }

    DomainJob job;
    job.domain = run.result.domain;
    job.provider_name = run.result.provider;
    job.zone = run.result.zone;
    job.chain_prefix = policy.chain_prefix;
    job.provider = run.provider;
    job.write_concurrency = write_concurrency(run.result.provider);
    job.live = run.live;
    job.changes = std::move(rebased.changes);
    prepared.jobs.push_back(std::move(job));
    prepared.run_of_job.push_back(index);
  }
  return prepared;
}

void refuse(const Refusals& refusals, const RefusalLimits& limits, const std::string& stale_why) {
  if (!refusals.drift.empty())
    throw Error(stale_why + " Nothing was applied." + indented(refusals.drift) +
                (limits.plan_file.empty()
                     ? "\nrun apply again: it plans from what is published then"
                     : "\nmake and review a new plan with 'spfctl plan --out " + limits.plan_file + "'"));
  const auto forced = [&](const std::string& domain) {
    return std::find(limits.force_domains.begin(), limits.force_domains.end(), domain) !=
           limits.force_domains.end();
  };
  std::vector<std::string> unsafe;
  for (std::size_t i = 0; i < refusals.unsafe.size(); ++i)
    if (i >= refusals.unsafe_domains.size() || !forced(refusals.unsafe_domains[i]))
      unsafe.push_back(refusals.unsafe[i]);
  std::size_t deletes = refusals.deletes;
  for (const auto& [domain, count] : refusals.deletes_by_domain)
    if (forced(domain)) deletes -= std::min(deletes, count);
  if (deletes > static_cast<std::size_t>(limits.max_deletes))
    unsafe.push_back("the plan deletes " + plural(deletes, "record") + ", more than --max-deletes " +
                     std::to_string(limits.max_deletes));
  if (!unsafe.empty() && !limits.force)
    throw Error("refusing to apply without --force; nothing was applied:" + indented(unsafe) +
                "\nif these changes are intended, run apply again with --force (or --force-domain D for "
                "each domain whose changes are intended)");
}

}  // namespace spfctl::apply
