// spfctl plan: for each configured domain, the records spfctl would publish against what its
// provider publishes today, as a reviewed diff; --out saves it for `spfctl apply PLANFILE`.
#include <CLI/CLI.hpp>
#include <chrono>
#include <iostream>
#include <memory>

#include "cli/commands.hpp"
#include "cli/plan_run.hpp"
#include "plan/plan_file.hpp"

namespace spfctl::cli {

namespace {

using Clock = std::chrono::steady_clock;

struct PlanOptions {
  std::string out;
  std::vector<std::string> domains;
  bool detailed_exitcode = false;
};

int run_plan(const GlobalOptions& globals, const PlanOptions& options) {
  const Clock::time_point run_start = Clock::now();
  Session session(globals);
  const std::vector<const config::DomainPolicy*> selected = session.select(options.domains);
  const std::vector<DomainRun> runs = session.plan(selected, !globals.quiet);
  const plan::Plan plan = to_plan(runs, session.config_sha256());
  bool any_error = false;
  bool any_changes = false;
  for (const DomainRun& run : runs) {
    any_error = any_error || run.result.status() == plan::DomainStatus::error;
    any_changes = any_changes || run.result.status() == plan::DomainStatus::changes;
  }
  if (!options.out.empty()) plan::write_plan_file(options.out, plan);

  const Style style(globals);
  if (globals.json) {
    std::cout << plan::to_json_text(plan);
  } else {
    print_plan(std::cout, style, runs, globals.quiet);
    if (!options.out.empty() && !globals.quiet) std::cout << "plan written to " << options.out << "\n";
  }
  if (globals.verbose > 0) {
    for (const DomainRun& run : runs)
      std::cerr << "spfctl: " << run.result.domain << ": provider read " << format_seconds(run.read_seconds)
                << ", planned "
                << (run.plan_seconds ? "in " + format_seconds(*run.plan_seconds) : std::string("(not timed)"))
                << ", " << run.dns_queries << " DNS questions\n";
    std::cerr << "spfctl: " << session.dns_questions() << " DNS questions sent"
              << (session.offline() ? " (answered from zone files)" : "") << "; "
              << format_seconds(seconds_since(run_start)) << " in all\n";
  }
  if (any_error) return 1;
  return any_changes && options.detailed_exitcode ? 2 : 0;
}

}  // namespace

void setup_plan(CLI::App& command, const GlobalOptions& globals, Outcome& outcome) {
  auto options = std::make_shared<PlanOptions>();
  command.add_option("--out", options->out, "write the plan as JSON to this file (for review and apply)");
  command.add_option("--domain", options->domains, "plan only this configured domain (repeatable)");
  command.add_flag("--detailed-exitcode", options->detailed_exitcode,
                   "exit 2 when there are changes (0: none, 1: error)");
  command.footer(
      "For each configured domain: the SPF records spfctl would publish (flattened only as far as the\n"
      "lookup budget needs, proved equivalent to the policy), against what its provider publishes now,\n"
      "as changes: + create, ~ update, - delete. Nothing is published.\n"
      "Exit 0 when planned (no changes, or changes without --detailed-exitcode), 2 when there are\n"
      "changes and --detailed-exitcode is given, 1 when any domain could not be planned.\n\n"
      "Examples:\n"
      "  spfctl plan -c spfctl.toml\n"
      "  spfctl plan --domain example.com --out plan.json\n"
      "  spfctl plan -c config.example.toml --zone examples/dns/senders.zone   (offline)");
  command.callback([&globals, &outcome, options] { outcome.exit_code = run_plan(globals, *options); });
}

}  // namespace spfctl::cli
