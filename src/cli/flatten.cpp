// spfctl flatten: the lookup-safe record set that would replace a domain's published SPF record,
// proved to mean the same for every address.
#include <iostream>
#include <nlohmann/json.hpp>

#include "cli/commands.hpp"
#include "cli/context.hpp"
#include "error.hpp"
#include "plan/planner.hpp"
#include "spf/counts.hpp"
#include "spf/parser.hpp"
#include "spf/select.hpp"
#include "util/text.hpp"

namespace spfctl::cli {

namespace {

std::string quoted(const std::vector<std::string>& strings) {
  std::string out;
  for (const std::string& s : strings) out += (out.empty() ? "\"" : " \"") + spf::printable(s) + "\"";
  return out;
}

}  // namespace

int run_flatten(const GlobalOptions& globals, const FlattenOptions& args) {
  const std::string domain = dns::normalize_name(args.domain);
  RunResolver resolver(globals);
  const dns::Answer answer = resolver.get().query(domain, dns::RrType::TXT);
  const spf::SelectedRecord selected = spf::select_record(answer, domain);
  switch (selected.outcome) {
    case spf::Selection::failed:
      throw Error(domain + ": " + selected.message);
    case spf::Selection::none:
      throw Error(domain + ": " + selected.message + ": there is no SPF record to flatten");
    case spf::Selection::multiple:
      throw Error(domain + ": " + selected.message +
                  "; receivers return permerror: keep one before flattening");
    case spf::Selection::found:
      break;
  }
  const spf::ParseResult parsed = spf::parse_record(selected.text);
  if (!parsed)
    throw Error(domain + ": the SPF record does not parse (receivers return permerror): " +
                spf::format_parse_error(selected.text, parsed.error()));

  plan::ApexContext apex;
  for (const auto& strings : answer.txt) {
    std::string joined;
    for (const std::string& s : strings) joined += s;
    if (!spf::is_spf_record(joined)) apex.other_txt.push_back(strings);
  }
  plan::FlattenSettings settings;
  settings.mode = args.mode == "full" ? config::FlattenMode::full : config::FlattenMode::automatic;
  settings.lookup_budget = args.lookup_budget;

  plan::PolicyMapper mapper(resolver.get());
  const plan::DomainPlan plan = plan::plan_record(mapper, domain, parsed.record(), settings, apex);
  if (!plan.ok()) throw Error(domain + ": " + plan.error);

  if (globals.json) {
    nlohmann::ordered_json records = nlohmann::ordered_json::array();
    for (const plan::DesiredRecord& record : plan.records)
      records.push_back({{"name", record.name}, {"value", record.value()}, {"strings", record.strings}});
    const nlohmann::ordered_json out = {{"domain", plan.domain},
                                        {"records", records},
                                        {"lookups", plan.lookups},
                                        {"void_lookups", plan.void_lookups},
                                        {"equivalent", plan.equivalent},
                                        {"lookups_before", plan.lookups_unflattened},
                                        {"record_before", selected.text},
                                        {"flattened", plan.flattened},
                                        {"notes", plan.notes},
                                        {"warnings", plan.warnings},
                                        {"dns_queries", resolver.queries_sent()}};
    std::cout << out.dump(2) << "\n";
    return 0;
  }

  const Style style(globals);
  std::cout << style.bold(plan.domain) << "  " << style.green("equivalent")
            << style.dim(" (proved for every IPv4 and IPv6 address)") << "\n";
  std::cout << "  lookups  " << spf::count_text(plan.lookups_unflattened) << " → "
            << spf::count_text(plan.lookups) << " (budget " << settings.lookup_budget << "), void lookups "
            << spf::count_text(plan.void_lookups) << "/" << settings.void_lookup_budget << "\n";
  std::cout << "  before   " << util::printable(selected.text) << "\n";
  std::cout << "  records\n";
  for (const plan::DesiredRecord& record : plan.records)
    std::cout << "    " << record.name << "  TXT  " << quoted(record.strings) << "\n";
  if (!globals.quiet) {
    for (const std::string& note : plan.notes)
      std::cout << "  " << style.dim("note: ") << util::printable(note) << "\n";
  }
  for (const std::string& warning : plan.warnings)
    std::cout << "  " << style.yellow("warning: ") << util::printable(warning) << "\n";
  return 0;
}

}  // namespace spfctl::cli
