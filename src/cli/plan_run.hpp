// What `plan` and `apply` share: the configuration and providers of one run, choosing domains,
// reading what is published, planning and diffing, and printing a plan.
#pragma once

#include <chrono>
#include <exception>
#include <map>
#include <memory>
#include <optional>
#include <ostream>
#include <string>
#include <string_view>
#include <vector>

#include "apply/prepare.hpp"
#include "cli/app.hpp"
#include "cli/context.hpp"
#include "config/config.hpp"
#include "plan/diff.hpp"
#include "plan/live_reads.hpp"
#include "plan/plan_file.hpp"
#include "plan/planner.hpp"
#include "providers/registry.hpp"

namespace spfctl::cli {

// The run's providers, each built on first use; a provider that cannot be built fails only the
// domains that use it. Adapters are thread-safe: domains of different zones may use one at once.
class ProviderSet {
 public:
  ProviderSet(const config::Config& config, providers::ProviderEnvironment environment)
      : m_config(config), m_environment(std::move(environment)) {}

  // Throws spfctl::Error when the provider is not configured or cannot be built (every time it is
  // asked for, with the same message). Not thread-safe: build providers before sharing them.
  publish::Provider& get(const std::string& name);
  // How many zones apply writes at once through provider `name` (providers::write_concurrency);
  // the provider must have been built by get().
  int write_concurrency(const std::string& name) const { return m_write_concurrency.at(name); }
  // Where plan reads provider `name`'s domains (its plan_reads settings); built by get() first.
  const plan::ReadSource& read_source(const std::string& name) const { return m_read_sources.at(name); }

 private:
  const config::Config& m_config;
  providers::ProviderEnvironment m_environment;
  std::map<std::string, std::unique_ptr<publish::Provider>> m_built;
  std::map<std::string, int> m_write_concurrency;
  std::map<std::string, plan::ReadSource> m_read_sources;
  std::map<std::string, std::string> m_errors;
};

// One domain on its way through a run (src/apply/prepare.hpp).
using apply::DomainRun;

// The configuration of one run and everything built from it.
class Session {
 public:
  // Loads and checks the configuration (--config), its providers' settings included. Throws
  // spfctl::Error when it is invalid. Providers are built in `environment` (its config_dir is set
  // here); tests pass fakes.
  explicit Session(const GlobalOptions& globals, providers::ProviderEnvironment environment = {});
  Session(const Session&) = delete;
  Session& operator=(const Session&) = delete;

  const config::Config& config() const { return m_config; }
  // sha256 of the configuration's canonical bytes: what a plan file records as config_sha256.
  const std::string& config_sha256() const { return m_config_sha256; }
  ProviderSet& providers() { return m_providers; }

  // The configured domains named by `wanted` (every domain when empty), in configuration order.
  // Throws spfctl::Error for a name that is not configured, with the closest configured one.
  std::vector<const config::DomainPolicy*> select(const std::vector<std::string>& wanted) const;

  // Plans `selected`: reads what each domain's provider publishes (src/plan/live_reads.hpp), plans
  // every domain at once through the run's resolver, and diffs. A domain that fails gets
  // result.error; the others go on. `progress`: draw a progress bar on stderr when there are many
  // domains. `workers`: domains read and planned at once. When reading through a provider's API
  // will take long under its quota, says so in one line on stderr.
  std::vector<DomainRun> plan(const std::vector<const config::DomainPolicy*>& selected, bool progress,
                              int workers = k_default_workers);

  // The run's policy mapper over its resolver (the caching one over --resolver or --zone), built on
  // first use: every evaluation of the run shares its DNS answers and maps.
  plan::PolicyMapper& mapper();
  // Drops every DNS answer and map the run holds: the next mapper() asks DNS afresh (after a person
  // took time to review, what apply proves must be what DNS says then).
  void forget_dns();
  // How plan reads what is published, over the run's resolver; built on first use.
  plan::LiveReads& live_reads();

  // DNS questions the planner sent (nameservers asked for plan_reads = "dns" included), and
  // whether they were answered from zone files (--zone).
  std::uint64_t dns_questions() const;
  // TCP connections the run's resolver opened for answers too large for UDP.
  std::uint64_t dns_tcp_connections() const { return m_resolver ? m_resolver->tcp_connections() : 0; }
  // The wall time of each phase of the last plan(): reading, asking ahead, planning, diffing.
  const std::vector<std::pair<std::string, double>>& phases() const { return m_phases; }
  // Zones whose TXT records plan read with one listing through their provider.
  std::uint64_t zone_listings() const { return m_reads ? m_reads->zone_listings() : 0; }
  bool offline() const;

 private:
  const GlobalOptions& m_globals;
  config::Config m_config;
  std::string m_config_sha256;
  ProviderSet m_providers;
  std::unique_ptr<RunResolver> m_resolver;
  std::unique_ptr<plan::PolicyMapper> m_mapper;
  std::unique_ptr<plan::LiveReads> m_reads;  // over m_resolver: reset with it
  std::vector<std::pair<std::string, double>> m_phases;
};

// The plan of `runs` as data (for --json and --out).
plan::Plan to_plan(const std::vector<DomainRun>& runs, const std::string& config_sha256);

// Each domain as `spfctl plan` shows it (with -q: only domains with changes, errors or warnings,
// without figures and notes; warnings are always shown), separated by blank lines, then the
// summary line.
// With `config`, each domain also names its senders with their catalogue descriptions.
void print_plan(std::ostream& out, const Style& style, const std::vector<DomainRun>& runs, bool quiet,
                const config::Config* config = nullptr);

double seconds_since(std::chrono::steady_clock::time_point start);
std::string format_seconds(double seconds);

}  // namespace spfctl::cli
