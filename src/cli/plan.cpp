// spfctl plan: for each configured domain, the records spfctl would publish against what its
// provider publishes today, as a reviewed diff; --out saves it for `spfctl apply PLANFILE`.
#include <chrono>
#include <iostream>
#include <memory>

#include "cli/commands.hpp"
#include "cli/plan_run.hpp"
#include "plan/plan_file.hpp"

namespace spfctl::cli {

namespace {

using Clock = std::chrono::steady_clock;

}  // namespace

int run_plan(const GlobalOptions& globals, const PlanOptions& options) {
  const Clock::time_point run_start = Clock::now();
  Session session(globals);
  const std::vector<const config::DomainPolicy*> selected = session.select(options.domains);
  const std::vector<DomainRun> runs = session.plan(selected, !globals.quiet, options.workers);
  bool any_error = false;
  bool any_changes = false;
  for (const DomainRun& run : runs) {
    any_error = any_error || run.result.status() == plan::DomainStatus::error;
    any_changes = any_changes || run.result.status() == plan::DomainStatus::changes;
  }
  // The plan as data only when it is written or shown as JSON: it copies every domain's result.
  if (!options.out.empty() || globals.json) {
    const plan::Plan plan = to_plan(runs, session.config_sha256());
    if (!options.out.empty()) plan::write_plan_file(options.out, plan);
    if (globals.json) std::cout << plan::to_json_text(plan);
  }

  const Style style(globals);
  if (!globals.json) {
    print_plan(std::cout, style, runs, globals.quiet, &session.config());
    if (!options.out.empty() && !globals.quiet) std::cout << "plan written to " << options.out << "\n";
  }
  if (globals.verbose > 0) {
    for (const DomainRun& run : runs)
      std::cerr << "spfctl: " << run.result.domain << ": provider read " << format_seconds(run.read_seconds)
                << ", planned "
                << (run.plan_seconds ? "in " + format_seconds(*run.plan_seconds) : std::string("(not timed)"))
                << ", " << run.dns_queries << " DNS questions\n";
    std::cerr << "spfctl: " << session.dns_questions() << " DNS questions sent"
              << (session.offline() ? " (answered from zone files)"
                                    : ", " + std::to_string(session.dns_tcp_connections()) + " over TCP")
              << (session.zone_listings() > 0 ? ", " + std::to_string(session.zone_listings()) +
                                                    " zones' TXT records listed through providers"
                                              : std::string())
              << "; " << format_seconds(seconds_since(run_start)) << " in all (";
    const std::string loading = format_seconds(seconds_since(run_start) - [&] {
      double sum = 0;
      for (const auto& [name, seconds] : session.phases()) sum += seconds;
      return sum;
    }());
    std::cerr << "loading and printing " << loading;
    for (const auto& [name, seconds] : session.phases())
      std::cerr << ", " << name << " " << format_seconds(seconds);
    std::cerr << ")\n";
  }
  if (any_error) return 1;
  return any_changes && options.detailed_exitcode ? 2 : 0;
}

}  // namespace spfctl::cli
