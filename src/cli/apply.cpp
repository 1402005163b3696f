// spfctl apply: publishes a plan — made now, or read from a file that was reviewed — after checking
// it still fits what is published, that it does not weaken any domain by surprise, and that someone
// said yes; then reads back what was published.
#include <signal.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <atomic>
#include <chrono>
#include <iostream>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <thread>

#include "apply/execute.hpp"
#include "apply/rebase.hpp"
#include "apply/safety.hpp"
#include "cli/commands.hpp"
#include "cli/plan_run.hpp"
#include "dns/resolver.hpp"
#include "error.hpp"
#include "plan/plan_file.hpp"
#include "util/text.hpp"

namespace spfctl::cli {

namespace {

using publish::Change;

// After an interrupt, how long apply waits for the writes in flight before it gives up on them.
constexpr std::chrono::seconds k_interrupt_grace{30};

// Set by the first SIGINT or SIGTERM while apply writes: no new write starts, those in flight
// finish, the summary is printed and spfctl exits 130. A second one ends spfctl at once.
std::atomic<bool> g_interrupted{false};
static_assert(std::atomic<bool>::is_always_lock_free, "set from a signal handler");

extern "C" void on_interrupt(int) {
  if (g_interrupted.exchange(true)) _exit(130);
  static constexpr char k_message[] =
      "\nspfctl: interrupted: finishing the writes in flight and starting no more (interrupt again to stop "
      "at "
      "once)\n";
  [[maybe_unused]] const ssize_t written = ::write(STDERR_FILENO, k_message, sizeof k_message - 1);
}

// Catches SIGINT and SIGTERM while it lives, and bounds the wait for writes in flight after the
// first one: past k_interrupt_grace spfctl exits 130 without them.
class InterruptGuard {
 public:
  InterruptGuard() {
    struct sigaction action {};
    action.sa_handler = on_interrupt;
    sigemptyset(&action.sa_mask);
    for (int i = 0; i < 2; ++i) sigaction(k_signals[i], &action, &m_old[i]);
    m_watchdog = std::jthread([](std::stop_token done) {
      while (!done.stop_requested() && !g_interrupted.load())
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
      const auto deadline = std::chrono::steady_clock::now() + k_interrupt_grace;
      while (!done.stop_requested()) {
        if (std::chrono::steady_clock::now() >= deadline) {
          static constexpr char k_message[] =
              "spfctl: the writes in flight did not finish in time; exiting: they may still land, run "
              "'spfctl plan' to see what is published\n";
          [[maybe_unused]] const ssize_t written = ::write(STDERR_FILENO, k_message, sizeof k_message - 1);
          _exit(130);
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
      }
    });
  }
  InterruptGuard(const InterruptGuard&) = delete;
  InterruptGuard& operator=(const InterruptGuard&) = delete;
  ~InterruptGuard() {
    m_watchdog.request_stop();
    m_watchdog.join();
    for (int i = 0; i < 2; ++i) sigaction(k_signals[i], &m_old[i], nullptr);
  }

 private:
  static constexpr int k_signals[2] = {SIGINT, SIGTERM};
  struct sigaction m_old[2]{};
  std::jthread m_watchdog;
};

struct ApplyOptions {
  std::string plan_file;
  std::vector<std::string> domains;
  bool auto_approve = false;
  bool force = false;
  int max_deletes = 10;
};

std::string plural(std::size_t n, const std::string& word) {
  return std::to_string(n) + " " + word + (n == 1 ? "" : "s");
}

std::string indented(const std::vector<std::string>& lines) {
  std::string out;
  for (const std::string& line : lines) out += "\n  " + line;
  return out;
}

// The domains of a saved plan, as runs: the plan's result with the configuration's policy.
std::vector<DomainRun> runs_from_plan_file(Session& session, const ApplyOptions& options,
                                           const GlobalOptions& globals) {
  const plan::Plan saved = plan::read_plan_file(options.plan_file);
  if (saved.config_sha256 != session.config_sha256())
    throw Error(options.plan_file + " was made from another configuration: " + globals.config +
                " changed since (its config_sha256 differs). Nothing was applied; make and review a new "
                "plan with 'spfctl plan --out " +
                options.plan_file + "'");
  std::vector<std::string> in_plan;
  for (const plan::PlannedDomain& domain : saved.domains) in_plan.push_back(domain.domain);
  std::vector<std::string> wanted;
  for (const std::string& word : options.domains) {
    const std::string name = dns::normalize_name(word);
    if (std::find(in_plan.begin(), in_plan.end(), name) == in_plan.end()) {
      const std::string match = util::closest_match(name, in_plan);
      throw Error("domain '" + word + "' is not in the plan " + options.plan_file +
                  (match.empty() ? "" : "; did you mean '" + match + "'?"));
    }
    wanted.push_back(name);
  }
  std::vector<DomainRun> runs;
  for (const plan::PlannedDomain& domain : saved.domains) {
    if (!wanted.empty() && std::find(wanted.begin(), wanted.end(), domain.domain) == wanted.end()) continue;
    DomainRun run;
    run.result = domain;
    for (const config::DomainPolicy& policy : session.config().domains)
      if (policy.name == domain.domain) run.policy = &policy;
    if (!run.policy)
      throw Error(options.plan_file + ": domain '" + domain.domain + "' is not configured in " +
                  globals.config + "; make a new plan with 'spfctl plan --out " + options.plan_file + "'");
    if (run.policy->provider != domain.provider)
      throw Error(options.plan_file + ": domain '" + domain.domain + "' is planned for provider '" +
                  domain.provider + "' but configured for '" + run.policy->provider +
                  "'; make a new plan with 'spfctl plan --out " + options.plan_file + "'");
    // An edited plan file must not reach beyond the names spfctl manages for the domain.
    std::vector<std::string> names;
    for (const Change& change : domain.changes) names.push_back(change.name);
    for (const plan::DesiredRecord& record : domain.records) names.push_back(record.name);
    for (const std::string& name : names)
      if (name != domain.domain &&
          !plan::is_chained_name(name, domain.domain, util::lowercase(run.policy->chain_prefix)))
        throw Error(options.plan_file + ": domain '" + domain.domain + "' has a change at '" + name +
                    "', which is neither the domain nor one of its chained records (" +
                    run.policy->chain_prefix + "N." + domain.domain +
                    "); nothing was applied. Make a new plan with 'spfctl plan --out " + options.plan_file +
                    "'");
    if (run.result.status() == plan::DomainStatus::changes) {
      try {
        run.provider = &session.providers().get(domain.provider);
        // An edited zone must not send the domain's records into another zone of the account.
        const std::string zone =
            dns::normalize_name(run.policy->zone ? *run.policy->zone : run.provider->zone_for(domain.domain));
        if (zone != domain.zone)
          run.apply_error = "the plan puts " + domain.domain + " in the zone '" + domain.zone +
                            "', but provider '" + domain.provider + "' serves it in '" + zone +
                            "'; nothing was applied for it. Make a new plan with 'spfctl plan --out " +
                            options.plan_file + "'";
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

// What apply found wrong before publishing anything. (The plan shows the same safety problems as
// warnings, and their notes, for review; here they are checked again against what is published now.)
struct Refusals {
  std::vector<std::string> drift;   // stale plan
  std::vector<std::string> unsafe;  // refused without --force
  std::size_t deletes = 0;
};

// A domain's jobs, with the run each came from.
struct Prepared {
  std::vector<apply::DomainJob> jobs;
  std::vector<std::size_t> run_of_job;
};

// Lays each domain's changes onto what is published now (read again when `reread`), proves what
// they would publish against the configuration over DNS as it is now (a domain that fails is not
// applied), and checks what they would do.
Prepared prepare(std::vector<DomainRun>& runs, bool reread, Session& session, Refusals& refusals) {
  Prepared prepared;
  plan::PolicyMapper& mapper = session.mapper();
  for (std::size_t index = 0; index < runs.size(); ++index) {
    DomainRun& run = runs[index];
    if (run.result.status() != plan::DomainStatus::changes || !run.apply_error.empty()) continue;
    const config::DomainPolicy& policy = *run.policy;
    if (reread) {
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
    run.already_applied = apply::already_applied(run.result.changes, run.live, run.result.records);
    if (run.already_applied) continue;
    apply::Rebased rebased = apply::rebase(run.result.changes, run.live, run.result.records);
    refusals.drift.insert(refusals.drift.end(), rebased.drift.begin(), rebased.drift.end());
    if (!rebased.ok()) continue;

    for (const auto& [name, values] : apply::expected_spf(run.live, rebased.changes))
      if (values.size() > 1)
        throw Error("internal error: the plan for " + run.result.domain + " would leave " +
                    std::to_string(values.size()) + " SPF records at " + name + "; nothing was applied");
    // Publish only what is proved now, whatever produced the values: a plan made a moment ago, a
    // plan file, a rebase onto what is published.
    const plan::TxtState before = apply::published_after(run.live, {});
    const plan::TxtState after = apply::published_after(run.live, rebased.changes);
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
    const apply::DomainSafety safety =
        apply::check_domain(mapper, policy.name, policy.chain_prefix, before, after);
    for (const std::string& problem : safety.problems)
      refusals.unsafe.push_back(run.result.domain + ": " + problem);
    for (const Change& change : rebased.changes)
      if (change.action == Change::Action::remove) ++refusals.deletes;

    apply::DomainJob job;
    job.domain = run.result.domain;
    job.provider_name = run.result.provider;
    job.zone = run.result.zone;
    job.chain_prefix = policy.chain_prefix;
    job.provider = run.provider;
    job.write_concurrency = session.providers().write_concurrency(run.result.provider);
    job.live = run.live;
    job.changes = std::move(rebased.changes);
    prepared.jobs.push_back(std::move(job));
    prepared.run_of_job.push_back(index);
  }
  return prepared;
}

// Refuses what `refusals` holds: a stale plan always, unsafe changes without --force.
void refuse(const Refusals& refusals, const ApplyOptions& options, const std::string& stale_why) {
  if (!refusals.drift.empty())
    throw Error(stale_why + " Nothing was applied." + indented(refusals.drift) +
                (options.plan_file.empty()
                     ? "\nrun apply again: it plans from what is published then"
                     : "\nmake and review a new plan with 'spfctl plan --out " + options.plan_file + "'"));
  std::vector<std::string> unsafe = refusals.unsafe;
  if (refusals.deletes > static_cast<std::size_t>(options.max_deletes))
    unsafe.push_back("the plan deletes " + plural(refusals.deletes, "record") + ", more than --max-deletes " +
                     std::to_string(options.max_deletes));
  if (!unsafe.empty() && !options.force)
    throw Error("refusing to apply without --force; nothing was applied:" + indented(unsafe) +
                "\nif these changes are intended, run apply again with --force");
}

// Asks on the terminal; true only for "yes".
bool confirmed(std::size_t changes, std::size_t domains) {
  std::cerr << "\nApply " << plural(changes, "change") << " to " << plural(domains, "domain")
            << "? Only 'yes' is accepted: " << std::flush;
  std::string answer;
  if (!std::getline(std::cin, answer)) return false;
  return answer == "yes";
}

struct Report {
  std::string domain;
  std::string provider;
  std::string zone;
  std::string status;  // "applied", "in-sync", "failed", "not-started" (interrupted)
  std::size_t changes = 0;
  std::optional<std::size_t> applied;
  std::string verified_by;
  std::string error;
  bool already_applied = false;               // in sync because an earlier run applied this plan there
  std::optional<publish::Failure> failure{};  // a provider's failure to apply: its kind
};

// The last line after failures: what to do next, by the kinds of failure seen.
std::string failure_advice(const std::vector<Report>& reports) {
  bool refused = false, drift = false, converges = false, other = false;
  for (const Report& r : reports) {
    if (r.status != "failed") continue;
    const publish::Failure kind = r.failure.value_or(publish::Failure::failed);
    refused |= kind == publish::Failure::refused;
    drift |= kind == publish::Failure::drift;
    converges |= kind == publish::Failure::transient || kind == publish::Failure::unknown_outcome;
    other |= kind == publish::Failure::failed;
  }
  std::string advice;
  if (refused)
    advice +=
        "the provider refused the credentials or their permissions: fix them as the message says, then "
        "run apply again\n";
  if (drift)
    advice +=
        "records changed at the provider while apply ran: run plan again to review what is published "
        "now\n";
  if (converges)
    advice +=
        "the provider did not answer or was busy: run apply again, it plans from what is published then "
        "and converges\n";
  if (other) advice += "run apply again once the cause is fixed: it plans from what is published then\n";
  return advice;
}

std::string report_line(const Style& style, const Report& r) {
  // Errors quote providers' answers and plan files: shown, never obeyed by the terminal.
  std::string line = style.bold(util::printable(r.domain)) + "  ";
  if (r.status == "applied")
    return line + style.green("applied " + plural(r.changes, "change")) + ", verified by " + r.verified_by;
  if (r.status == "in-sync")
    return line +
           style.green(r.already_applied ? "already applied (by an earlier run of this plan)" : "in sync");
  if (r.status == "not-started")
    return line + style.yellow("not applied") + ": interrupted before it started";
  line += style.red("failed") + ": " + util::printable(r.error);
  if (r.changes > 0)
    line +=
        r.applied
            ? " (" + std::to_string(*r.applied) + " of " + std::to_string(r.changes) + " changes applied)"
            : " (could not read back how many of the " + std::to_string(r.changes) + " changes were applied)";
  return line;
}

nlohmann::ordered_json report_json(const std::vector<Report>& reports, const std::string& sha) {
  nlohmann::ordered_json domains = nlohmann::ordered_json::array();
  for (const Report& r : reports) {
    nlohmann::ordered_json d = {{"domain", r.domain},
                                {"provider", r.provider},
                                {"zone", r.zone},
                                {"status", r.status},
                                {"changes", r.changes}};
    d["changes_applied"] = r.applied ? nlohmann::ordered_json(*r.applied) : nlohmann::ordered_json();
    d["verified"] = r.status == "applied";
    if (!r.verified_by.empty()) d["verified_by"] = r.verified_by;
    if (r.failure) d["failure"] = publish::to_string(*r.failure);
    if (r.already_applied) d["already_applied"] = true;
    if (!r.error.empty()) d["error"] = r.error;
    domains.push_back(std::move(d));
  }
  return {{"format", "spfctl-apply/1"}, {"config_sha256", sha}, {"domains", std::move(domains)}};
}

int run_apply(const GlobalOptions& globals, const ApplyOptions& options) {
  Session session(globals);
  const Style style(globals);
  const bool from_file = !options.plan_file.empty();
  std::vector<DomainRun> runs = from_file ? runs_from_plan_file(session, options, globals)
                                          : session.plan(session.select(options.domains), !globals.quiet);

  Refusals refusals;
  Prepared prepared = prepare(runs, from_file, session, refusals);
  if (!globals.json && !globals.quiet) print_plan(std::cout, style, runs, false);
  refuse(refusals, options,
         from_file ? "the plan " + options.plan_file + " is stale: DNS changed since it was made."
                   : std::string("DNS changed while planning."));

  std::size_t change_count = 0;
  for (const apply::DomainJob& job : prepared.jobs) change_count += job.changes.size();
  if (prepared.jobs.empty() && !globals.json && !globals.quiet) std::cout << "\nNothing to apply.\n";
  if (!prepared.jobs.empty() && !options.auto_approve) {
    if (isatty(STDIN_FILENO) != 1)
      throw Error(
          "no terminal to confirm on, so nothing was applied: review the changes with 'spfctl plan', "
          "then run 'spfctl apply --auto-approve' (or apply a reviewed plan file: 'spfctl apply "
          "--auto-approve PLANFILE')");
    if (!confirmed(change_count, prepared.jobs.size())) {
      std::cerr << "spfctl: apply cancelled; nothing was changed\n";
      return 1;
    }
    if (!from_file) {
      // Time passed while a person read the plan: lay the changes onto what is published now, and
      // prove them over DNS as it is now.
      session.forget_dns();
      Refusals again;
      prepared = prepare(runs, true, session, again);
      refuse(again, options, "DNS changed while the plan was being reviewed.");
    }
  }
  const std::vector<apply::DomainJob>& jobs = prepared.jobs;

  int parallel = 1;
  for (const apply::DomainJob& job : jobs) parallel = std::max(parallel, job.write_concurrency);
  std::mutex output;
  std::vector<apply::DomainOutcome> outcomes;
  {
    const InterruptGuard interrupts;
    outcomes = apply::execute(
        jobs, parallel, apply::dns_reader(globals.timeout_seconds),
        [&](std::size_t i, const apply::DomainOutcome& outcome) {
          if (globals.verbose == 0) return;
          const std::lock_guard lock(output);
          std::cerr << "spfctl: " << util::printable(jobs[i].domain) << ": "
                    << (outcome.ok() ? "done" : "failed") << "\n";
        },
        &g_interrupted);
  }

  std::vector<const apply::DomainOutcome*> outcome_of_run(runs.size(), nullptr);
  for (std::size_t j = 0; j < jobs.size(); ++j) outcome_of_run[prepared.run_of_job[j]] = &outcomes[j];
  std::vector<Report> reports;
  for (std::size_t index = 0; index < runs.size(); ++index) {
    const DomainRun& run = runs[index];
    Report report{
        run.result.domain, run.result.provider, run.result.zone, "", run.result.changes.size(), {}, "", ""};
    if (run.result.status() == plan::DomainStatus::in_sync || run.already_applied) {
      report.status = "in-sync";
      report.applied = 0;
      report.already_applied = run.already_applied;
    } else if (run.result.status() == plan::DomainStatus::error) {
      report.status = "failed";
      report.applied = 0;
      report.error = "not planned: " + run.result.error;
    } else if (const apply::DomainOutcome* outcome = outcome_of_run[index]) {
      report.applied = outcome->applied;
      report.verified_by = outcome->verified_by;
      report.status = !outcome->started ? "not-started" : outcome->ok() ? "applied" : "failed";
      if (!outcome->error.empty()) report.failure = outcome->failure;
      report.error = !outcome->error.empty()         ? outcome->error
                     : outcome->verify_error.empty() ? ""
                                                     : "verification: " + outcome->verify_error;
    } else {
      report.status = "failed";
      report.applied = 0;
      report.error = run.apply_error;
    }
    reports.push_back(std::move(report));
  }

  std::size_t counts[4] = {0, 0, 0, 0};  // applied, in sync, failed, not started
  for (const Report& r : reports)
    ++counts[r.status == "applied" ? 0 : r.status == "in-sync" ? 1 : r.status == "not-started" ? 3 : 2];
  const bool interrupted = g_interrupted.load();
  if (globals.json) {
    nlohmann::ordered_json report = report_json(reports, session.config_sha256());
    report["interrupted"] = interrupted;
    std::cout << report.dump(2) << "\n";
  } else {
    bool listed = false;
    for (const Report& r : reports) {
      if (r.status == "in-sync" && !r.already_applied) continue;
      std::cout << (listed || globals.quiet ? "" : "\n") << report_line(style, r) << "\n";
      listed = true;
    }
    std::cout << (listed || !globals.quiet ? "\n" : "") << plural(reports.size(), "domain") << ": "
              << counts[0] << " applied, " << counts[1] << " in sync, "
              << (counts[2] ? style.red(std::to_string(counts[2]) + " failed") : "0 failed")
              << (counts[3] ? ", " + style.yellow(std::to_string(counts[3]) + " not started (interrupted)")
                            : "")
              << "\n";
    if (interrupted)
      std::cout << "interrupted: what is listed as applied is published; run apply again to finish (it "
                   "converges)\n";
    else if (counts[2])
      std::cout << failure_advice(reports);
  }
  if (interrupted) return 130;
  return counts[2] ? 1 : 0;
}

}  // namespace

void setup_apply(CLI::App& command, const GlobalOptions& globals, Outcome& outcome) {
  auto options = std::make_shared<ApplyOptions>();
  command
      .add_option("PLANFILE", options->plan_file, "apply exactly this saved plan (from 'spfctl plan --out')")
      ->type_name("");
  command.add_option("--domain", options->domains, "apply only this configured domain (repeatable)")
      ->type_name("D");
  command.add_flag("--auto-approve", options->auto_approve, "apply without asking for confirmation");
  command.add_flag("--force", options->force, "apply even when the safety checks below refuse");
  command.add_option("--max-deletes", options->max_deletes, "records a run may delete without --force")
      ->type_name("N")
      ->capture_default_str()
      ->check(whole_number_up_to(999999));
  command.footer(
      "Plans (or reads PLANFILE), prints the changes, proves what they would publish against the\n"
      "configuration over DNS as it is now, checks them, asks for confirmation on a terminal, publishes\n"
      "them in a safe order (chained records, then the domain's record, then deletes), and reads back\n"
      "what was published. With PLANFILE it refuses when the configuration or DNS changed since the plan\n"
      "was made. Without --force it refuses plans that weaken a domain's 'all', stop authorising an\n"
      "address or sender the published record authorises, or delete more than --max-deletes records.\n"
      "The first Ctrl-C lets the writes in flight finish and starts no more; a second stops at once.\n"
      "Exit 0 when every domain is applied and verified or already in sync, 130 when interrupted,\n"
      "1 otherwise.\n\n"
      "Examples:\n"
      "  spfctl apply                                  (plan, review, type yes)\n"
      "  spfctl plan --out plan.json && spfctl apply plan.json --auto-approve\n"
      "  spfctl apply --domain example.com --auto-approve\n"
      "See docs/apply.md and docs/workflow.md.");
  command.callback([&globals, &outcome, options] { outcome.exit_code = run_apply(globals, *options); });
}

}  // namespace spfctl::cli
