#include "cli/plan_run.hpp"

#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <filesystem>
#include <functional>
#include <iomanip>
#include <iostream>
#include <mutex>
#include <sstream>
#include <thread>

#include "apply/rebase.hpp"
#include "apply/safety.hpp"
#include "dns/caching_resolver.hpp"
#include "dns/resolver.hpp"
#include "error.hpp"
#include "plan/flatten.hpp"
#include "plan/prefetch.hpp"
#include "spf/counts.hpp"
#include "spf/parser.hpp"
#include "util/parallel.hpp"
#include "util/text.hpp"

namespace spfctl::cli {

using apply::lister;
using apply::unexpected_failure;

namespace {

using Clock = std::chrono::steady_clock;

// Progress bars only help when there is a wait to watch.
constexpr std::size_t k_progress_min_domains = 20;
// Reads through an API that will take longer than this under its quota are announced.
constexpr double k_quota_warning_seconds = 60;

// Finds the domain's zone and reads what is published at its managed names.
void read_live(DomainRun& run, ProviderSet& providers, plan::LiveReads& reads) {
  const config::DomainPolicy& policy = *run.policy;
  const Clock::time_point start = Clock::now();
  try {
    run.provider = &providers.get(policy.provider);
    run.result.zone = dns::normalize_name(policy.zone ? *policy.zone : run.provider->zone_for(policy.name));
    const plan::ReadSource& source = providers.read_source(policy.provider);
    run.live_from_dns = source.dns;
    plan::read_managed(run.live, policy.name, policy.chain_prefix, {},
                       reads.lister(*run.provider, run.result.zone, source));
    for (const publish::TxtValue& value : run.live.other_values(policy.name))
      run.apex.other_txt.push_back(value.strings);
  } catch (const Error& e) {
    run.result.error = e.what();
  } catch (const std::exception& e) {
    run.result.error = unexpected_failure(policy.provider, e);
  }
  run.read_seconds += seconds_since(start);
}

// "60 requests a minute", "1200 requests per 5 minutes".
std::string quota_text(const http::RateLimit& quota) {
  const auto minutes = std::chrono::duration_cast<std::chrono::minutes>(quota.window).count();
  const std::string requests = std::to_string(quota.capacity) + " requests ";
  if (minutes == 1) return requests + "a minute";
  if (minutes > 1) return requests + "per " + std::to_string(minutes) + " minutes";
  return requests + "per " + std::to_string(quota.window.count()) + " ms";
}

// The one line plan says when reading through a provider's API will take long under its quota.
void warn_of_quota(const config::Config& config, const std::vector<const config::DomainPolicy*>& selected) {
  std::map<std::string, std::size_t> domains_of;
  for (const config::DomainPolicy* policy : selected) ++domains_of[policy->provider];
  for (const auto& [name, domains] : domains_of) {
    const auto found = config.providers.find(name);
    if (found == config.providers.end()) continue;
    const providers::ProviderType* type = providers::find_provider_type(found->second.type);
    if (!type || !type->quota || providers::plan_reads(found->second).dns) continue;
    // A records request per zone, each domain in its own zone at worst; the first window's worth
    // goes at once.
    const http::RateLimit& quota = *type->quota;
    if (domains <= quota.capacity) continue;
    const double seconds = static_cast<double>(domains - quota.capacity) /
                           static_cast<double>(quota.capacity) *
                           std::chrono::duration<double>(quota.window).count();
    if (seconds < k_quota_warning_seconds) continue;
    const auto minutes = static_cast<long long>(std::ceil(seconds / 60));
    std::cerr << "note: provider '" << name << "' reads " << domains << " domains through the " << type->name
              << " API, about " << minutes << (minutes == 1 ? " minute" : " minutes") << " at its quota of "
              << quota_text(quota) << "; plan_reads = \"dns\" in [providers." << name
              << "] reads them from DNS with no API request (" << type->docs << ")\n";
  }
}

// Turns the planner's result into the domain's changes.
void diff_with_live(DomainRun& run, plan::DomainPlan& desired, plan::PolicyMapper& mapper,
                    const plan::ListFunction& read) {
  const config::DomainPolicy& policy = *run.policy;
  plan::PlannedDomain& result = run.result;
  result.lookups = desired.lookups;
  result.void_lookups = desired.void_lookups;
  result.lookups_unflattened = desired.lookups_unflattened;
  result.equivalent = desired.equivalent;
  result.flattened = std::move(desired.flattened);
  result.notes = std::move(desired.notes);
  result.warnings = std::move(desired.warnings);
  run.dns_queries = desired.dns_queries;
  if (!desired.ok()) {
    result.error = desired.error;
    return;
  }
  // The planner reports these as errors itself; a plan without them is never shown as publishable.
  if (desired.records.empty()) {
    result.error = "the planner returned no records for it";
    return;
  }
  if (!desired.equivalent) {
    result.error = "the planned records were not proved equivalent to the policy; nothing is planned for it";
    return;
  }
  if (const std::string problem = plan::check_capabilities(desired, policy.ttl, run.provider->capabilities());
      !problem.empty()) {
    result.error = "provider '" + policy.provider + "' cannot publish the planned records: " + problem;
    return;
  }
  const Clock::time_point start = Clock::now();
  try {
    std::vector<std::string> wanted;
    for (const plan::DesiredRecord& record : desired.records) wanted.push_back(record.name);
    plan::read_managed(run.live, policy.name, policy.chain_prefix, wanted, read);
    plan::DomainDiff diff = plan::diff_domain(desired, policy.ttl, policy.chain_prefix, run.live);
    result.records = std::move(desired.records);
    result.changes = std::move(diff.changes);
    result.notes.insert(result.notes.end(), diff.notes.begin(), diff.notes.end());
    // Reviewers see in the plan what apply will refuse without --force.
    if (!result.changes.empty()) {
      const apply::DomainSafety safety =
          apply::check_domain(mapper, policy.name, policy.chain_prefix, apply::published_after(run.live, {}),
                              apply::published_after(run.live, result.changes));
      for (const std::string& problem : safety.problems)
        result.warnings.push_back(problem + "; apply refuses this without --force");
    }
  } catch (const Error& e) {
    result.error = e.what();
  } catch (const std::exception& e) {
    result.error = unexpected_failure(policy.provider, e);
  }
  run.read_seconds += seconds_since(start);
}

// A one-line bar on stderr, redrawn as domains finish (from the planner's worker threads).
class ProgressBar {
 public:
  explicit ProgressBar(bool enabled) : m_enabled(enabled) {}
  ~ProgressBar() {
    if (m_drawn) std::cerr << "\r\x1b[K" << std::flush;
  }

  void update(std::size_t done, std::size_t total) {
    if (!m_enabled || total == 0) return;
    const std::lock_guard lock(m_mutex);
    // Reports from worker threads may arrive out of order; the bar only moves forward.
    if (done <= m_shown) return;
    m_shown = done;
    constexpr std::size_t k_width = 30;
    const std::size_t filled = done * k_width / total;
    std::cerr << "\rplanning " << std::setw(static_cast<int>(std::to_string(total).size())) << done << "/"
              << total << " [" << std::string(filled, '#') << std::string(k_width - filled, '.') << "]"
              << std::flush;
    m_drawn = true;
  }

 private:
  bool m_enabled;
  bool m_drawn = false;
  std::size_t m_shown = 0;
  std::mutex m_mutex;
};

// Time each domain spends in the planner, measured from its ApexContext being asked for to the

// progress report that follows on the same worker thread.
class PlanTimer {
 public:
  void start(const std::string& domain) {
    const std::lock_guard lock(m_mutex);
    m_started[std::this_thread::get_id()] = {domain, Clock::now()};
  }
  void finish() {
    const std::lock_guard lock(m_mutex);
    const auto it = m_started.find(std::this_thread::get_id());
    if (it == m_started.end()) return;
    m_seconds[it->second.first] = seconds_since(it->second.second);
    m_started.erase(it);
  }
  std::optional<double> seconds(const std::string& domain) const {
    const auto it = m_seconds.find(domain);
    return it == m_seconds.end() ? std::nullopt : std::optional(it->second);
  }

 private:
  std::mutex m_mutex;
  std::map<std::thread::id, std::pair<std::string, Clock::time_point>> m_started;
  std::map<std::string, double> m_seconds;
};

std::string lookups_line(const DomainRun& run) {
  const plan::PlannedDomain& r = run.result;
  std::string line =
      "lookups " + spf::count_text(r.lookups) + "/" + std::to_string(run.policy->lookup_budget);
  if (r.lookups_unflattened != r.lookups)
    line += " (" + spf::count_text(r.lookups_unflattened) + " with every include kept)";
  line += ", void lookups " + spf::count_text(r.void_lookups) + "/" +
          std::to_string(run.policy->void_lookup_budget);
  line += r.equivalent ? ", proved equivalent to the policy" : "";
  return line;
}

void print_change(std::ostream& out, const Style& style, const publish::Change& change,
                  const plan::LiveRecords& live) {
  using Action = publish::Change::Action;
  const std::string head = util::printable(change.name) + " TXT";
  switch (change.action) {
    case Action::create:
      out << "  " << style.green("+ " + head) << style.dim("  ttl " + std::to_string(change.ttl)) << "\n";
      out << "      " << style.green("+ " + util::printable(change.after->joined())) << "\n";
      break;
    case Action::update: {
      const auto it = live.sets.find(change.name);
      const std::uint32_t old_ttl = it == live.sets.end() ? change.ttl : it->second.ttl;
      out << "  " << style.yellow("~ " + head);
      if (old_ttl != change.ttl)
        out << style.yellow("  ttl " + std::to_string(old_ttl) + " → " + std::to_string(change.ttl));
      out << "\n";
      if (change.before->joined() != change.after->joined()) {
        out << "      " << style.red("- " + util::printable(change.before->joined())) << "\n";
        out << "      " << style.green("+ " + util::printable(change.after->joined())) << "\n";
      } else {
        out << "        " << util::printable(change.after->joined()) << "\n";
      }
      break;
    }
    case Action::remove:
      out << "  " << style.red("- " + head) << "\n";
      out << "      " << style.red("- " + util::printable(change.before->joined())) << "\n";
      break;
  }
}

// "mailchimp: Mailchimp marketing email", one per sender the domain's policy names, in order, with
// its description from the catalogue.
std::vector<std::string> sender_lines(const DomainRun& run, const config::Config& config) {
  std::vector<std::string> names;
  for (const config::SenderTerm& term : run.policy->terms) {
    if (!term.origin.starts_with("sender ")) continue;
    std::string name = term.origin.substr(std::string_view("sender ").size());
    if (std::find(names.begin(), names.end(), name) == names.end()) names.push_back(std::move(name));
  }
  for (std::string& name : names)
    if (const auto found = config.senders.find(name);
        found != config.senders.end() && !found->second.description.empty())
      name += ": " + found->second.description;
  return names;
}

void print_domain(std::ostream& out, const Style& style, const DomainRun& run, bool quiet,
                  const config::Config* config) {
  const plan::PlannedDomain& r = run.result;
  const plan::DomainStatus status = r.status();
  // -q leaves out what is in sync and the figures and notes, never a warning.
  if (quiet && status == plan::DomainStatus::in_sync && r.warnings.empty()) return;
  std::string word;
  switch (status) {
    case plan::DomainStatus::in_sync:
      word = style.green("in sync");
      break;
    case plan::DomainStatus::changes:
      word =
          style.yellow(std::to_string(r.changes.size()) + (r.changes.size() == 1 ? " change" : " changes"));
      break;
    case plan::DomainStatus::error:
      word = style.red("error");
      break;
  }
  // A plan file is input like any other: what it holds is shown, never obeyed by the terminal.
  out << style.bold(util::printable(r.domain)) << "  " << word;
  if (!r.zone.empty())
    out << style.dim("  (zone " + util::printable(r.zone) + " at " + util::printable(r.provider) + ")");
  out << "\n";
  if (status == plan::DomainStatus::error) {
    out << "  " << style.red("error:") << " " << util::printable(r.error) << "\n";
    return;
  }
  for (const publish::Change& change : r.changes) print_change(out, style, change, run.live);
  if (!quiet) out << "  " << lookups_line(run) << "\n";
  if (!quiet && config && run.policy)
    for (const std::string& sender : sender_lines(run, *config))
      out << "  sender  " << util::printable(sender) << "\n";
  if (!quiet && !r.flattened.empty()) {
    std::string list;
    for (const std::string& term : r.flattened) list += (list.empty() ? "" : ", ") + term;
    out << "  flattened " << util::printable(list) << "\n";
  }
  if (!quiet)
    for (const std::string& note : r.notes)
      out << "  " << style.dim("note:") << " " << util::printable(note) << "\n";
  for (const std::string& warning : r.warnings)
    out << "  " << style.yellow("warning:") << " " << util::printable(warning) << "\n";
}

std::string summary_line(const Style& style, const std::vector<DomainRun>& runs) {
  std::size_t counts[3] = {0, 0, 0};
  for (const DomainRun& run : runs) ++counts[static_cast<int>(run.result.status())];
  const std::string in_sync = std::to_string(counts[0]) + " in sync";
  const std::string changes = std::to_string(counts[1]) + " with changes";
  const std::string errors = std::to_string(counts[2]) + " in error";
  return std::to_string(runs.size()) + (runs.size() == 1 ? " domain: " : " domains: ") +
         (counts[0] ? style.green(in_sync) : in_sync) + ", " + (counts[1] ? style.yellow(changes) : changes) +
         ", " + (counts[2] ? style.red(errors) : errors);
}

std::filesystem::path config_directory(const std::string& config_path) {
  std::filesystem::path dir = std::filesystem::path(config_path).parent_path();
  return dir.empty() ? std::filesystem::path(".") : dir;
}

}  // namespace

double seconds_since(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

std::string format_seconds(double seconds) {
  std::ostringstream out;
  out << std::fixed << std::setprecision(seconds < 1 ? 3 : 1) << seconds << " s";
  return out.str();
}

publish::Provider& ProviderSet::get(const std::string& name) {
  if (const auto it = m_errors.find(name); it != m_errors.end()) throw Error(it->second);
  if (const auto it = m_built.find(name); it != m_built.end()) return *it->second;
  try {
    const auto config = m_config.providers.find(name);
    if (config == m_config.providers.end()) throw Error("provider '" + name + "' is not configured");
    std::unique_ptr<publish::Provider> built = providers::create_provider(config->second, m_environment);
    m_write_concurrency[name] = providers::write_concurrency(config->second);
    providers::PlanReads reads = providers::plan_reads(config->second);
    m_read_sources[name] = plan::ReadSource{reads.dns, std::move(reads.servers)};
    return *(m_built[name] = std::move(built));
  } catch (const Error& e) {
    m_errors[name] = e.what();
    throw;
  }
}

Session::Session(const GlobalOptions& globals, providers::ProviderEnvironment environment)
    : m_globals(globals),
      m_config(config::load_config(globals.config, {providers::provider_problems})),
      m_config_sha256(plan::sha256_hex(m_config.canonical_bytes)),
      m_providers(m_config, [&] {
        environment.config_dir = config_directory(globals.config);
        return std::move(environment);
      }()) {}

std::vector<const config::DomainPolicy*> Session::select(const std::vector<std::string>& wanted) const {
  const config::Config& config = m_config;
  const std::string& config_path = m_globals.config;
  std::vector<const config::DomainPolicy*> selected;
  // Managing nothing is never what was meant: a CI job must not go green over an empty file.
  if (config.domains.empty())
    throw Error(config_path +
                " configures no domain, so there is nothing to plan: add a [[domain]] table "
                "(see config.example.toml and docs/configuration.md)");
  if (wanted.empty()) {
    for (const config::DomainPolicy& policy : config.domains) selected.push_back(&policy);
    return selected;
  }
  std::vector<std::string> names;
  for (const config::DomainPolicy& policy : config.domains) names.push_back(policy.name);
  std::vector<std::string> asked;
  for (const std::string& word : wanted) {
    const std::string name = dns::normalize_name(word);
    if (std::find(names.begin(), names.end(), name) == names.end()) {
      const std::string match = util::closest_match(name, names);
      throw Error("domain '" + word + "' is not configured in " + config_path +
                  (match.empty() ? "" : "; did you mean '" + match + "'?") +
                  " (--domain takes the name of a [[domain]])");
    }
    asked.push_back(name);
  }
  for (const config::DomainPolicy& policy : config.domains)
    if (std::find(asked.begin(), asked.end(), policy.name) != asked.end()) selected.push_back(&policy);
  return selected;
}

std::vector<DomainRun> Session::plan(const std::vector<const config::DomainPolicy*>& selected,
                                     bool show_progress, int workers) {
  std::vector<DomainRun> runs(selected.size());
  for (std::size_t i = 0; i < selected.size(); ++i) {
    runs[i].policy = selected[i];
    runs[i].result.domain = selected[i]->name;
    runs[i].result.provider = selected[i]->provider;
    // Built here, one thread: a provider that cannot be built fails its domains in read_live.
    try {
      m_providers.get(selected[i]->provider);
    } catch (const Error&) {
    }
  }
  warn_of_quota(m_config, selected);
  plan::LiveReads& reads = live_reads();
  Clock::time_point phase = Clock::now();
  const auto end_phase = [&](const char* name) {
    m_phases.emplace_back(name, seconds_since(phase));
    phase = Clock::now();
  };
  util::for_each_at_once(runs.size(), workers,
                         [&](std::size_t i) { read_live(runs[i], m_providers, reads); });
  end_phase("reading");

  std::vector<const config::DomainPolicy*> to_plan;
  std::vector<std::size_t> planned_runs;
  std::map<std::string, const plan::ApexContext*> apex_of_domain;
  for (std::size_t i = 0; i < runs.size(); ++i) {
    if (!runs[i].result.error.empty()) continue;
    to_plan.push_back(runs[i].policy);
    planned_runs.push_back(i);
    apex_of_domain[runs[i].policy->name] = &runs[i].apex;
  }
  // Every domain's sender tree asked ahead, level by level, so planning finds its answers cached.
  std::vector<std::uint64_t> asked_ahead;
  if (!m_resolver->offline()) {
    std::vector<plan::PrefetchTarget> targets;
    for (const std::size_t i : planned_runs) {
      plan::PrefetchTarget target{runs[i].policy->name, {}};
      if (plan::IntendedRecord intended = plan::intended_record(*runs[i].policy); intended.record)
        target.records.push_back(std::move(*intended.record));
      for (const publish::TxtValue& value : runs[i].live.spf_values(runs[i].policy->name))
        if (const auto parsed = spf::parse_record_shared(value.joined()); parsed->ok())
          target.records.push_back(parsed->record());
      targets.push_back(std::move(target));
    }
    asked_ahead = plan::prefetch(m_resolver->cache(), targets);
  }
  end_phase("asking ahead");
  ProgressBar progress(show_progress && isatty(STDERR_FILENO) && to_plan.size() > k_progress_min_domains);
  PlanTimer timer;
  std::vector<plan::DomainPlan> plans = plan::plan_domains(
      mapper(), to_plan,
      [&](const config::DomainPolicy& policy) {
        timer.start(policy.name);
        return *apex_of_domain.at(policy.name);
      },
      workers,
      [&](std::size_t done, std::size_t total) {
        timer.finish();
        progress.update(done, total);
      });
  end_phase("planning");
  // Diffed on the workers too: the safety check may ask DNS about what is published.
  plan::PolicyMapper& policy_mapper = mapper();
  util::for_each_at_once(std::min(plans.size(), planned_runs.size()), workers, [&](std::size_t i) {
    DomainRun& run = runs[planned_runs[i]];
    run.plan_seconds = timer.seconds(run.policy->name);
    // The safety check's questions are the domain's too.
    const dns::QuestionTally questions;
    diff_with_live(
        run, plans[i], policy_mapper,
        reads.lister(*run.provider, run.result.zone, m_providers.read_source(run.policy->provider)));
    run.dns_queries += questions.count() + (i < asked_ahead.size() ? asked_ahead[i] : 0);
  });
  end_phase("diffing");
  return runs;
}

plan::PolicyMapper& Session::mapper() {
  if (!m_mapper) {
    m_resolver = std::make_unique<RunResolver>(m_globals);
    m_mapper = std::make_unique<plan::PolicyMapper>(m_resolver->get());
  }
  return *m_mapper;
}

plan::LiveReads& Session::live_reads() {
  if (!m_reads) {
    mapper();  // builds the resolver
    plan::DnsReadOptions options;
    options.timeout_ms = static_cast<int>(std::lround(m_globals.timeout_seconds * 1000));
    options.tries = m_globals.retries + 1;
    m_reads = std::make_unique<plan::LiveReads>(m_resolver->get(), m_resolver->offline(), options);
  }
  return *m_reads;
}

void Session::forget_dns() {
  m_reads.reset();
  m_mapper.reset();
  m_resolver.reset();
}

std::uint64_t Session::dns_questions() const {
  return (m_resolver ? m_resolver->queries_sent() : 0) + (m_reads ? m_reads->dns_questions() : 0);
}

bool Session::offline() const {
  return m_resolver && m_resolver->offline();
}

plan::Plan to_plan(const std::vector<DomainRun>& runs, const std::string& config_sha256) {
  plan::Plan plan;
  plan.config_sha256 = config_sha256;
  plan.created = plan::utc_timestamp(std::chrono::system_clock::now());
  for (const DomainRun& run : runs) plan.domains.push_back(run.result);
  return plan;
}

void print_plan(std::ostream& out, const Style& style, const std::vector<DomainRun>& runs, bool quiet,
                const config::Config* config) {
  bool first = true;
  for (const DomainRun& run : runs) {
    if (quiet && run.result.status() == plan::DomainStatus::in_sync && run.result.warnings.empty()) continue;
    if (!first) out << "\n";
    first = false;
    print_domain(out, style, run, quiet, config);
  }
  if (!first) out << "\n";
  out << summary_line(style, runs) << "\n";
}

}  // namespace spfctl::cli
