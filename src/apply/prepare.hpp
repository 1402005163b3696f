// Getting planned domains ready to publish: a saved plan checked against the configuration it
// claims to come from, each domain's changes laid onto what is published now (drift), what they
// would publish proved against the configuration over DNS as it is now, and the safety checks
// that --force overrides. Nothing here writes; apply::execute does, with the jobs made here.
#pragma once

#include <cstddef>
#include <exception>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "apply/execute.hpp"
#include "config/config.hpp"
#include "plan/diff.hpp"
#include "plan/plan_file.hpp"
#include "plan/planner.hpp"
#include "publish/provider.hpp"

namespace spfctl::apply {

// One domain on its way through a run: planned (src/cli/plan_run), then prepared here and
// published by execute.
struct DomainRun {
  const config::DomainPolicy* policy = nullptr;
  plan::PlannedDomain result;
  publish::Provider* provider = nullptr;
  plan::LiveRecords live;
  plan::ApexContext apex;
  double read_seconds = 0;
  std::optional<double> plan_seconds;
  std::uint64_t dns_queries = 0;
  bool live_from_dns = false;    // `live` was read from DNS (plan_reads = "dns"), not the provider
  std::string apply_error;       // why apply could not go on with a planned domain
  bool already_applied = false;  // an earlier run already published this plan here
};

// A provider's list() for one zone, as plan::read_managed wants it.
plan::ListFunction lister(publish::Provider& provider, const std::string& zone);

// The error of a domain whose provider threw something other than spfctl::Error (an adapter's bug
// meeting an answer it did not foresee): that domain fails, never the whole run.
std::string unexpected_failure(const std::string& provider, const std::exception& e);

// The run's providers by name; throws spfctl::Error when one cannot be built.
using ProviderLookup = std::function<publish::Provider&(const std::string& name)>;

// Where a saved plan comes from, for its checks and their messages.
struct SavedPlanSource {
  std::string plan_file;      // as the user named it
  std::string config_file;    // as the user named it
  std::string config_sha256;  // of the configuration loaded now
};

// The domains of a saved plan (those named in `domains`, or all), as runs: the plan's result with
// the configuration's policy. Throws spfctl::Error, applying nothing, when the plan was made from
// another configuration, names a domain the configuration does not hold or plans it for another
// provider, or reaches beyond the names spfctl manages for a domain. A domain whose provider
// cannot be built gets result.error; one whose planned zone is not the provider's gets apply_error.
std::vector<DomainRun> runs_from_plan(const plan::Plan& saved, const SavedPlanSource& source,
                                      const config::Config& config, const std::vector<std::string>& domains,
                                      const ProviderLookup& provider_of);

// What preparation found wrong before anything was published.
struct Refusals {
  std::vector<std::string> drift;           // the plan is stale: refused always
  std::vector<std::string> unsafe;          // refused without --force
  std::vector<std::string> unsafe_domains;  // the domain of each entry of `unsafe`
  std::size_t deletes = 0;
  std::map<std::string, std::size_t> deletes_by_domain;
};

// The domains ready to publish, each with the index of the run it came from.
struct Prepared {
  std::vector<DomainJob> jobs;
  std::vector<std::size_t> run_of_job;
};

// Lays each planned domain's changes onto what is published now (read again through its provider
// when `reread`, and always when the plan read it from DNS), proves what they would publish against the
// configuration over `mapper`'s DNS (a domain that fails gets apply_error and no job), and records drift and
// safety problems in `refusals`. A domain already published as planned is marked already_applied.
// `write_concurrency` gives a provider's number of zones written at once.
Prepared prepare(std::vector<DomainRun>& runs, bool reread, plan::PolicyMapper& mapper,
                 const std::function<int(const std::string& provider)>& write_concurrency,
                 Refusals& refusals);

// What lifts a refusal.
struct RefusalLimits {
  bool force = false;  // --force: unsafe changes go ahead (a stale plan never does)
  int max_deletes = 10;     // deletes a run may make without --force
  std::string plan_file{};  // the saved plan, when there is one: named in the advice
  // --force-domain: as --force, for these domains only (their problems and deletes go through).
  std::vector<std::string> force_domains{};
};

// Throws spfctl::Error, nothing applied, for what `refusals` holds: a stale plan (explained by
// `stale_why`) always, unsafe changes and too many deletes without force.
void refuse(const Refusals& refusals, const RefusalLimits& limits, const std::string& stale_why);

}  // namespace spfctl::apply
