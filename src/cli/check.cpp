// spfctl check: an audit of published SPF records, as receivers will meet them.
#include <CLI/CLI.hpp>
#include <iostream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "cli/commands.hpp"
#include "cli/context.hpp"
#include "spf/expansion.hpp"

namespace spfctl::cli {

namespace {

constexpr int k_tree_width = 52;

std::string lookups_word(int n) { return std::to_string(n) + (n == 1 ? " lookup" : " lookups"); }

nlohmann::json node_json(const spf::ExpansionNode& node) {
  nlohmann::json out = {{"domain", node.domain},
                        {"via", node.via},
                        {"record", node.record_text},
                        {"lookups", node.lookups},
                        {"own_lookups", node.own_lookups},
                        {"void_lookups", node.void_lookups},
                        {"answer_bytes", node.response_size},
                        {"children", nlohmann::json::array()}};
  if (!node.macro_terms.empty()) out["not_followed"] = node.macro_terms;
  for (const auto& child : node.children) out["children"].push_back(node_json(child));
  return out;
}

class TreePrinter {
 public:
  TreePrinter(std::ostream& out, const Style& style) : m_out(out), m_style(style) {}

  // One line per DNS-querying term, in record order; includes and redirect open their subtree.
  void terms(const spf::ExpansionNode& node, const std::string& indent) {
    if (!node.record) return;
    std::vector<std::pair<std::string, const spf::ExpansionNode*>> rows;
    std::size_t child = 0;
    auto take_child = [&](const std::string& text) -> const spf::ExpansionNode* {
      if (child < node.children.size() && node.children[child].via == text) return &node.children[child++];
      return nullptr;
    };
    for (const spf::Term& term : node.record->terms) {
      const spf::Mechanism* m = term.mechanism();
      if (m && m->counts_as_lookup()) {
        const std::string text = spf::to_string(term);
        rows.emplace_back(text, m->kind == spf::MechanismKind::include ? take_child(text) : nullptr);
      }
    }
    if (const spf::Modifier* redirect = node.record->redirect()) {
      const std::string text = spf::to_string(*redirect);
      if (const spf::ExpansionNode* target = take_child(text)) rows.emplace_back(text, target);
    }
    for (std::size_t i = 0; i < rows.size(); ++i) {
      const bool last = i + 1 == rows.size();
      const auto& [text, target] = rows[i];
      const int count = target ? target->lookups + 1 : 1;
      std::string label = indent + (last ? "└── " : "├── ") + text;
      const std::size_t shown = display_width(label);
      std::string pad = shown < k_tree_width ? std::string(k_tree_width - shown, ' ') : " ";
      m_out << label << pad << m_style.dim(lookups_word(count));
      if (target && target->selection != spf::Selection::found) m_out << "  " << m_style.red("no SPF record");
      m_out << "\n";
      if (target) terms(*target, indent + (last ? "    " : "│   "));
    }
  }

 private:
  static std::size_t display_width(const std::string& text) {
    std::size_t width = 0;
    for (unsigned char c : text)
      if ((c & 0xC0) != 0x80) ++width;  // count UTF-8 lead bytes only
    return width;
  }
  std::ostream& m_out;
  const Style& m_style;
};

std::size_t string_count(const spf::ExpansionNode& node) {
  for (const auto& strings : node.txt.txt) {
    std::string joined;
    for (const auto& s : strings) joined += s;
    if (joined == node.record_text) return strings.size();
  }
  return 0;
}

void print_text(std::ostream& out, const Style& style, const spf::Expansion& expansion,
                const spf::ExpandOptions& options) {
  const spf::ExpansionNode& root = expansion.root;
  const bool over = root.lookups > options.lookup_limit || root.void_lookups > options.void_limit;
  out << style.bold(root.domain) << "  "
      << (expansion.healthy() ? style.green("healthy") : style.red("problems found")) << "\n";
  if (root.selection == spf::Selection::found) {
    out << "  record   " << root.record_text << "\n";
    std::string lookups = std::to_string(root.lookups) + "/" + std::to_string(options.lookup_limit) +
                          " DNS lookups, " + std::to_string(root.void_lookups) + "/" +
                          std::to_string(options.void_limit) + " void lookups";
    out << "  lookups  " << (over ? style.red(lookups) : lookups) << "\n";
    out << "  size     " << root.record_text.size() << " bytes in " << string_count(root)
        << " string(s); TXT answer " << root.response_size << "/" << options.max_answer_bytes << " bytes\n";
    if (root.record) {
      out << "  tree\n";
      TreePrinter(out, style).terms(root, "    ");
    }
  }
  for (const auto& problem : expansion.problems) {
    const std::string tag =
        problem.severity == spf::Severity::error ? style.red("error") : style.yellow("warning");
    out << "  " << tag << ": " << problem.message << "\n";
  }
}

int run_check(const GlobalOptions& globals, const std::vector<std::string>& domains) {
  RunResolver resolver(globals);
  const spf::ExpandOptions options;
  const Style style(globals);
  nlohmann::json report = {{"domains", nlohmann::json::array()}};
  bool all_healthy = true;
  for (std::size_t i = 0; i < domains.size(); ++i) {
    const spf::Expansion expansion = spf::expand(resolver.get(), domains[i], options);
    all_healthy = all_healthy && expansion.healthy();
    if (globals.json) {
      nlohmann::json problems = nlohmann::json::array();
      for (const auto& p : expansion.problems)
        problems.push_back({{"severity", p.severity == spf::Severity::error ? "error" : "warning"},
                            {"domain", p.domain},
                            {"message", p.message}});
      report["domains"].push_back({{"domain", expansion.root.domain},
                                   {"healthy", expansion.healthy()},
                                   {"record", expansion.root.record_text},
                                   {"lookups", expansion.root.lookups},
                                   {"void_lookups", expansion.root.void_lookups},
                                   {"answer_bytes", expansion.root.response_size},
                                   {"problems", problems},
                                   {"tree", node_json(expansion.root)}});
    } else {
      if (i) std::cout << "\n";
      print_text(std::cout, style, expansion, options);
    }
  }
  if (globals.json) {
    report["dns_queries"] = resolver.queries_sent();
    std::cout << report.dump(2) << "\n";
  }
  return all_healthy ? 0 : 1;
}

}  // namespace

void setup_check(CLI::App& command, const GlobalOptions& globals, Outcome& outcome) {
  auto domains = std::make_shared<std::vector<std::string>>();
  command.add_option("domains", *domains, "domains whose published SPF to audit")->required();
  command.footer(
      "For each domain: its SPF record, the include tree with the DNS lookups each branch costs,\n"
      "lookups and void lookups against RFC 7208's limits (10 and 2), record and DNS answer sizes, and\n"
      "every problem: permerrors, over 10 lookups, several SPF records, ptr, +all or ?all, includes\n"
      "without an SPF record, strings over 255 bytes, answers over 512 bytes.\n"
      "Exit 0 when every domain is healthy, 1 when any has a problem.\n\n"
      "Examples:\n"
      "  spfctl check example.com example.org\n"
      "  spfctl check github.com --json\n"
      "  spfctl --zone examples/dns/senders.zone --zone examples/zones/example-agency.net.zone check example-agency.net");
  command.callback([&globals, &outcome, domains] { outcome.exit_code = run_check(globals, *domains); });
}

}  // namespace spfctl::cli
