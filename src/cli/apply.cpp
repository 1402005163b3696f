// spfctl apply: publishes a plan — made now, or read from a file that was reviewed — after checking
// it still fits what is published, that it does not weaken any domain by surprise, and that someone
// said yes; then reads back what was published.
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <iostream>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <thread>

#include "apply/execute.hpp"
#include "apply/prepare.hpp"
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

std::string plural(std::size_t n, const std::string& word) {
  return std::to_string(n) + " " + word + (n == 1 ? "" : "s");
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

}  // namespace

int run_apply(const GlobalOptions& globals, const ApplyOptions& options) {
  Session session(globals);
  const Style style(globals);
  const bool from_file = !options.plan_file.empty();
  std::vector<DomainRun> runs =
      from_file ? apply::runs_from_plan(plan::read_plan_file(options.plan_file),
                                        {options.plan_file, globals.config, session.config_sha256()},
                                        session.config(), options.domains,
                                        [&](const std::string& name) -> publish::Provider& {
                                          return session.providers().get(name);
                                        })
                : session.plan(session.select(options.domains), !globals.quiet, options.workers);
  const auto write_concurrency = [&](const std::string& provider) {
    return session.providers().write_concurrency(provider);
  };
  apply::RefusalLimits limits{options.force, options.max_deletes, options.plan_file};
  for (const std::string& word : options.force_domains) {
    const std::string domain = dns::normalize_name(word);
    if (std::none_of(runs.begin(), runs.end(),
                     [&](const DomainRun& run) { return run.result.domain == domain; }))
      throw Error("--force-domain " + util::quoted(word) + " is not a domain of this " +
                  (from_file ? "plan" : "run") +
                  "; nothing was applied (name a configured domain being applied)");
    limits.force_domains.push_back(domain);
  }

  apply::Refusals refusals;
  apply::Prepared prepared = apply::prepare(runs, from_file, session.mapper(), write_concurrency, refusals);
  if (!globals.json && !globals.quiet) print_plan(std::cout, style, runs, false, &session.config());
  apply::refuse(refusals, limits,
                from_file ? "the plan " + options.plan_file + " is stale: DNS changed since it was made."
                          : std::string("DNS changed while planning."));

  std::size_t change_count = 0;
  for (const apply::DomainJob& job : prepared.jobs) change_count += job.changes.size();
  if (prepared.jobs.empty() && !globals.json && !globals.quiet) std::cout << "\nNothing to apply.\n";
  // A saved plan was reviewed when it was made: applying it is the approval, as in Terraform.
  if (!prepared.jobs.empty() && !options.auto_approve && !from_file) {
    if (isatty(STDIN_FILENO) != 1)
      throw Error(
          "no terminal to confirm on, so nothing was applied: review the changes with 'spfctl plan', "
          "then run 'spfctl apply --auto-approve' (or save a plan with 'spfctl plan --out plan.json', "
          "review it, and apply it: 'spfctl apply plan.json' needs no confirmation)");
    if (!confirmed(change_count, prepared.jobs.size())) {
      std::cerr << "spfctl: apply cancelled; nothing was changed\n";
      return 1;
    }
    // Time passed while a person read the plan: lay the changes onto what is published now, and
    // prove them over DNS as it is now.
    session.forget_dns();
    apply::Refusals again;
    prepared = apply::prepare(runs, true, session.mapper(), write_concurrency, again);
    apply::refuse(again, limits, "DNS changed while the plan was being reviewed.");
  }
  const std::vector<apply::DomainJob>& jobs = prepared.jobs;

  int parallel = 1;
  for (const apply::DomainJob& job : jobs) parallel = std::max(parallel, job.write_concurrency);
  std::mutex output;
  std::vector<apply::DomainOutcome> outcomes;
  {
    const InterruptGuard interrupts;
    outcomes = apply::execute(
        jobs, parallel, {apply::dns_reader(globals.timeout_seconds)},
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

}  // namespace spfctl::cli
