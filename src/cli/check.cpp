// spfctl check: an audit of published SPF records, as receivers will meet them.
#include <algorithm>
#include <filesystem>
#include <iostream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string_view>

#include "cli/commands.hpp"
#include "cli/context.hpp"
#include "config/config.hpp"
#include "plan/proof.hpp"
#include "providers/registry.hpp"
#include "spf/counts.hpp"
#include "spf/expansion.hpp"
#include "util/text.hpp"

namespace spfctl::cli {

namespace {

// Counts start two columns after the widest term, but never further right than this.
constexpr std::size_t k_max_count_column = 64;

std::string count_text(const spf::TermLookups& term) {
  std::string text = spf::count_text(term.lookups) + (term.lookups == 1 ? " lookup" : " lookups");
  if (term.void_lookups > 0) text += ", " + spf::count_text(term.void_lookups) + " void";
  return text;
}

std::string_view selection_word(spf::Selection selection) {
  switch (selection) {
    case spf::Selection::found:
      return "found";
    case spf::Selection::none:
      return "none";
    case spf::Selection::multiple:
      return "multiple";
    case spf::Selection::failed:
      return "failed";
  }
  return "none";
}

// Why a followed target's record could not be used, for its tree line; empty when it could.
std::string target_note(const spf::ExpansionNode& target) {
  switch (target.selection) {
    case spf::Selection::found:
      return target.parse_error ? "does not parse" : "";
    case spf::Selection::none:
      return target.txt.status == dns::Status::nxdomain ? "does not exist" : "no SPF record";
    case spf::Selection::multiple:
      return std::to_string(target.spf_records.size()) + " SPF records";
    case spf::Selection::failed:
      return "lookup failed";
  }
  return "";
}

nlohmann::json node_json(const spf::ExpansionNode& node) {
  nlohmann::json terms = nlohmann::json::array();
  for (const spf::TermLookups& term : node.terms) {
    nlohmann::json item = {
        {"term", term.text}, {"lookups", term.lookups}, {"void_lookups", term.void_lookups}};
    if (term.macro) item["not_followed"] = "macro";
    if (term.loop) item["not_followed"] = "loop";
    if (term.cut) item["not_followed"] = "too deep";
    if (term.child) {
      const spf::ExpansionNode& target = node.children[*term.child];
      // A target expanded before is shown once, where it was first reached.
      if (target.repeat_of.empty())
        item["target"] = node_json(target);
      else
        item["target"] = {{"domain", target.domain}, {"repeat_of", target.repeat_of}};
    }
    terms.push_back(std::move(item));
  }
  return {{"domain", node.domain},
          {"status", selection_word(node.selection)},
          {"record", node.selection == spf::Selection::found ? nlohmann::json(node.record_text) : nullptr},
          {"lookups", node.lookups},
          {"own_lookups", node.own_lookups},
          {"void_lookups", node.void_lookups},
          {"answer_bytes", node.response_size},
          {"terms", terms}};
}

nlohmann::json domain_json(const spf::ExpansionTree& expansion, const spf::ExpandOptions& options) {
  const spf::ExpansionNode& root = expansion.root;
  nlohmann::json problems = nlohmann::json::array();
  for (const auto& p : expansion.problems)
    problems.push_back(
        {{"severity", spf::to_string(p.severity)}, {"domain", p.domain}, {"message", p.message}});
  const bool found = root.selection == spf::Selection::found;
  return {{"domain", root.domain},
          {"healthy", expansion.healthy()},
          {"record", found ? nlohmann::json(root.record_text) : nullptr},
          {"spf_records", root.spf_records},
          {"record_bytes", root.record_text.size()},
          {"strings", root.string_count()},
          {"answer_bytes", root.response_size},
          {"max_answer_bytes", options.max_answer_bytes},
          {"lookups", root.lookups},
          {"lookup_limit", options.lookup_limit},
          {"void_lookups", root.void_lookups},
          {"void_limit", options.void_limit},
          {"complete", !expansion.incomplete},
          {"problems", problems},
          {"tree", node_json(root)}};
}

std::size_t display_width(const std::string& text) {
  std::size_t width = 0;
  for (unsigned char c : text)
    if ((c & 0xC0) != 0x80) ++width;  // count UTF-8 lead bytes only
  return width;
}

// The width of the widest tree line before its count.
std::size_t tree_width(const spf::ExpansionNode& node, std::size_t indent) {
  std::size_t width = 0;
  for (const spf::TermLookups& term : node.terms) {
    width = std::max(width, indent + 4 + display_width(util::printable(term.text)));
    if (term.child && node.children[*term.child].repeat_of.empty())
      width = std::max(width, tree_width(node.children[*term.child], indent + 4));
  }
  return width;
}

// One line per lookup-costing term, in record order; include and redirect targets open a subtree.
// Counts start at `column` (or two spaces after a longer term).
void print_tree(std::ostream& out, const Style& style, const spf::ExpansionNode& node,
                const std::string& indent, std::size_t column) {
  for (std::size_t i = 0; i < node.terms.size(); ++i) {
    const spf::TermLookups& term = node.terms[i];
    const bool last = i + 1 == node.terms.size();
    const std::string label = indent + (last ? "└── " : "├── ") + util::printable(term.text);
    const std::size_t shown = display_width(label);
    out << label << std::string(shown + 2 < column ? column - shown : 2, ' ') << style.dim(count_text(term));
    const spf::ExpansionNode* target = term.child ? &node.children[*term.child] : nullptr;
    if (term.macro) out << "  " << style.dim("(macro: not followed)");
    if (term.loop) out << "  " << style.red("loop");
    if (term.cut) out << "  " << style.red("too deep: not followed");
    if (target && !target->repeat_of.empty()) {
      out << "  " << style.dim("(repeats: shown under " + util::printable(target->repeat_of) + ")") << "\n";
      continue;
    }
    if (target)
      if (const std::string note = target_note(*target); !note.empty()) out << "  " << style.red(note);
    out << "\n";
    if (target) print_tree(out, style, *target, indent + (last ? "    " : "│   "), column);
  }
}

// `text` with every line after the first indented by `indent` (parse errors carry a caret line).
std::string indented(const std::string& text, const std::string& indent) {
  std::string out;
  for (char c : text) {
    out += c;
    if (c == '\n') out += indent;
  }
  return out;
}

void print_text(std::ostream& out, const Style& style, const GlobalOptions& globals,
                const spf::ExpansionTree& expansion, const spf::ExpandOptions& options) {
  const spf::ExpansionNode& root = expansion.root;
  out << style.bold(root.domain) << "  "
      << (expansion.healthy() ? style.green("healthy") : style.red("problems found")) << "\n";
  if (!globals.quiet && root.selection == spf::Selection::multiple) {
    out << "  records  " << root.spf_records.size() << " SPF records:\n";
    for (const std::string& text : root.spf_records) out << "           " << util::printable(text) << "\n";
  }
  if (!globals.quiet && root.selection == spf::Selection::found) {
    const bool over = root.lookups > options.lookup_limit || root.void_lookups > options.void_limit;
    const std::size_t strings = root.string_count();
    const std::string lookups = spf::count_text(root.lookups) + "/" + std::to_string(options.lookup_limit) +
                                " DNS lookups, " + spf::count_text(root.void_lookups) + "/" +
                                std::to_string(options.void_limit) + " void lookups";
    const std::string answer = "TXT answer " + std::to_string(root.response_size) + "/" +
                               std::to_string(options.max_answer_bytes) + " bytes";
    out << "  record   " << util::printable(root.record_text) << "\n";
    out << "  lookups  " << (over ? style.red(lookups) : lookups) << "\n";
    out << "  size     " << root.record_text.size() << " bytes in " << strings
        << (strings == 1 ? " string; " : " strings; ")
        << (root.response_size > options.max_answer_bytes ? style.red(answer) : answer) << "\n";
    if (!root.terms.empty()) {
      out << "  tree\n";
      print_tree(out, style, root, "    ", std::min(tree_width(root, 4) + 2, k_max_count_column));
    }
  }
  for (const auto& problem : expansion.problems) {
    const std::string tag =
        problem.severity == spf::Severity::error ? style.red("error") : style.yellow("warning");
    out << "  " << tag << ": " << indented(util::printable(problem.message, true), "    ") << "\n";
  }
}

// A policy that passes a large part of the internet protects nothing there: an error, as +all is.
void report_wide_ranges(plan::PolicyMapper& mapper, spf::ExpansionTree& expansion) {
  const spf::ExpansionNode& root = expansion.root;
  if (!root.record) return;
  const plan::RecordMap policy = mapper.evaluate(*root.record, root.domain);
  if (!policy.ok()) return;  // the expansion reports why
  if (const std::string wide = plan::wide_ranges_text(policy, *root.record); !wide.empty())
    expansion.problems.push_back({spf::Severity::error, root.domain,
                                  "the policy of " + root.domain + " authorises " + wide +
                                      ", wider than /8 (IPv4) or /16 (IPv6): a large part of the internet "
                                      "may send as it; list the senders' own networks"});
}

}  // namespace

int run_check(const GlobalOptions& globals, const std::vector<std::string>& arguments) {
  std::vector<std::string> domains;
  for (const std::string& argument : arguments) domains.push_back(checked_domain(argument));
  // No domain named: every configured domain, as published.
  const bool configured = domains.empty();
  if (configured) {
    if (!std::filesystem::exists(globals.config))
      throw Error(
          "'spfctl check' needs DOMAIN, or a configuration whose domains to check: " + globals.config +
          " does not exist (name the domains, 'spfctl check example.com', or give -c FILE; run "
          "'spfctl check --help')");
    const config::Config config = config::load_config(globals.config, {providers::provider_problems});
    for (const config::DomainPolicy& policy : config.domains) domains.push_back(policy.name);
    if (domains.empty())
      throw Error(globals.config +
                  " configures no domain, so there is nothing to check: name the domains "
                  "to check ('spfctl check example.com') or add [[domain]] tables");
  }
  RunResolver resolver(globals);
  const spf::ExpandOptions options;
  const Style style(globals);
  nlohmann::json report = {{"domains", nlohmann::json::array()}};
  bool all_healthy = true;
  std::vector<bool> healthy_flags;
  plan::PolicyMapper mapper(resolver.get());
  for (std::size_t i = 0; i < domains.size(); ++i) {
    spf::ExpansionTree expansion = spf::expand(resolver.get(), domains[i], options);
    report_wide_ranges(mapper, expansion);
    all_healthy = all_healthy && expansion.healthy();
    healthy_flags.push_back(expansion.healthy());
    if (globals.json) {
      report["domains"].push_back(domain_json(expansion, options));
    } else {
      if (i) std::cout << "\n";
      print_text(std::cout, style, globals, expansion, options);
    }
  }
  std::size_t healthy = 0;
  for (const bool ok : healthy_flags) healthy += ok ? 1 : 0;
  if (!globals.json && (configured || domains.size() > 1)) {
    const std::size_t problems = domains.size() - healthy;
    const std::string with = std::to_string(problems) + " with problems";
    std::cout << "\n"
              << domains.size() << (domains.size() == 1 ? " domain: " : " domains: ")
              << style.green(std::to_string(healthy) + " healthy") << ", "
              << (problems ? style.red(with) : with) << "\n";
  }
  if (!globals.json && globals.verbose > 0) std::cout << "\n" << resolver.queries_sent() << " DNS queries\n";
  if (globals.json) {
    report["totals"] = {
        {"domains", domains.size()}, {"healthy", healthy}, {"with_problems", domains.size() - healthy}};
    report["healthy"] = all_healthy;
    report["dns_queries"] = resolver.queries_sent();
    std::cout << report.dump(2) << "\n";
  }
  return all_healthy ? 0 : 1;
}

}  // namespace spfctl::cli
