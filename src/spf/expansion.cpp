#include "spf/expansion.hpp"

#include <algorithm>

#include "dns/message_size.hpp"

namespace spfctl::spf {

namespace {

constexpr std::size_t k_max_string_bytes = 255;
constexpr std::size_t k_max_mx_names = 10;

class Expander {
 public:
  Expander(dns::Resolver& resolver, const ExpandOptions& options)
      : m_resolver(resolver), m_options(options) {}

  ExpansionNode node(const std::string& domain, const std::string& via, std::vector<std::string>& ancestors);
  std::vector<Problem> problems;
  bool incomplete = false;

 private:
  void problem(Severity severity, const std::string& domain, std::string message) {
    problems.push_back({severity, domain, std::move(message)});
  }
  void read_record(ExpansionNode& n);
  void walk_terms(ExpansionNode& n, std::vector<std::string>& ancestors);
  void follow(ExpansionNode& n, const std::string& term, const std::string& target,
              std::vector<std::string>& ancestors);
  // Asks a question a/mx/exists would ask; true when it was void. Failures are reported.
  bool ask_void(ExpansionNode& n, const std::string& term, const std::string& name, dns::RrType type,
                dns::Answer* out = nullptr);

  dns::Resolver& m_resolver;
  const ExpandOptions& m_options;
};

void Expander::read_record(ExpansionNode& n) {
  n.txt = m_resolver.query(n.domain, dns::RrType::TXT);
  n.response_size = dns::txt_response_size(n.domain, n.txt.txt);
  const SelectedRecord selected = select_record(n.txt, n.domain);
  n.selection = selected.outcome;
  n.record_text = selected.text;
}

ExpansionNode Expander::node(const std::string& domain, const std::string& via,
                             std::vector<std::string>& ancestors) {
  ExpansionNode n;
  n.domain = dns::normalize_name(domain);
  n.via = via;
  read_record(n);
  const std::string where = via.empty() ? n.domain : "'" + via + "'";
  switch (n.selection) {
    case Selection::failed:
      incomplete = true;
      problem(Severity::error, n.domain,
              "TXT lookup for " + n.domain + " failed (" + std::string(dns::to_string(n.txt.status)) +
                  (n.txt.detail.empty() ? "" : ": " + n.txt.detail) + "): receivers return temperror");
      return n;
    case Selection::none:
      if (!via.empty() && n.txt.is_void()) ++n.void_lookups;
      problem(Severity::error, n.domain,
              via.empty() ? "no SPF record at " + n.domain
                          : where + " points to " + n.domain +
                                ", which has no SPF record: receivers return permerror");
      return n;
    case Selection::multiple:
      problem(Severity::error, n.domain,
              "several SPF records at " + n.domain + ": receivers return permerror; keep exactly one");
      return n;
    case Selection::found:
      break;
  }
  for (const auto& strings : n.txt.txt)
    for (const std::string& s : strings)
      if (s.size() > k_max_string_bytes)
        problem(Severity::error, n.domain,
                "a TXT string at " + n.domain + " is " + std::to_string(s.size()) +
                    " bytes; DNS allows 255 per string: split it into several strings");
  if (n.response_size > m_options.max_answer_bytes)
    problem(Severity::warning, n.domain,
            "the TXT answer at " + n.domain + " is " + std::to_string(n.response_size) + " bytes, over " +
                std::to_string(m_options.max_answer_bytes) + ": receivers without EDNS must retry over TCP");

  ParseResult parsed = parse_record(n.record_text);
  if (!parsed) {
    n.parse_error = parsed.error();
    problem(Severity::error, n.domain,
            "the SPF record at " + n.domain + " does not parse, receivers return permerror: " +
                format_parse_error(n.record_text, parsed.error()));
    return n;
  }
  n.record = parsed.record();
  ancestors.push_back(n.domain);
  walk_terms(n, ancestors);
  ancestors.pop_back();

  n.lookups = n.own_lookups;
  for (const ExpansionNode& child : n.children) {
    n.lookups += child.lookups;
    n.void_lookups += child.void_lookups;
  }
  return n;
}

bool Expander::ask_void(ExpansionNode& n, const std::string& term, const std::string& name, dns::RrType type,
                        dns::Answer* out) {
  dns::Answer answer = m_resolver.query(name, type);
  if (answer.failed()) {
    incomplete = true;
    problem(Severity::error, n.domain,
            "'" + term + "': " + std::string(dns::to_string(type)) + " lookup for " + name + " failed (" +
                std::string(dns::to_string(answer.status)) + "): receivers return temperror");
  }
  const bool is_void = answer.is_void();
  if (out) *out = std::move(answer);
  return is_void;
}

void Expander::follow(ExpansionNode& n, const std::string& term, const std::string& target,
                      std::vector<std::string>& ancestors) {
  const std::string name = dns::normalize_name(target);
  if (std::find(ancestors.begin(), ancestors.end(), name) != ancestors.end()) {
    problem(Severity::error, n.domain,
            "'" + term + "' at " + n.domain + " loops back to " + name + ": receivers return permerror");
    return;
  }
  if (m_options.known_subtree) {
    if (const std::optional<SubtreeCounts> counts = m_options.known_subtree(name)) {
      ExpansionNode leaf;
      leaf.domain = name;
      leaf.via = term;
      leaf.selection = Selection::found;
      leaf.lookups = counts->lookups;
      leaf.void_lookups = counts->void_lookups;
      n.children.push_back(std::move(leaf));
      return;
    }
  }
  n.children.push_back(node(name, term, ancestors));
}

void Expander::walk_terms(ExpansionNode& n, std::vector<std::string>& ancestors) {
  const Record& record = *n.record;
  bool has_all = false;
  for (const Term& term : record.terms) {
    const Mechanism* m = term.mechanism();
    if (!m) continue;
    const std::string text = to_string(term);
    if (m->counts_as_lookup()) ++n.own_lookups;
    const bool dynamic = m->domain && m->domain->find('%') != std::string::npos;
    if (dynamic) {
      n.macro_terms.push_back(text);
      continue;
    }
    const std::string target = m->domain ? *m->domain : n.domain;
    switch (m->kind) {
      case MechanismKind::include:
        follow(n, text, target, ancestors);
        break;
      case MechanismKind::a: {
        const bool v4_void = ask_void(n, text, target, dns::RrType::A);
        const bool v6_void = ask_void(n, text, target, dns::RrType::AAAA);
        if (v4_void && v6_void) {
          ++n.void_lookups;
          problem(Severity::warning, n.domain,
                  "'" + text + "': " + dns::normalize_name(target) +
                      " has no A or AAAA record; it authorises nothing");
        }
        break;
      }
      case MechanismKind::mx: {
        dns::Answer mx;
        if (ask_void(n, text, target, dns::RrType::MX, &mx)) {
          ++n.void_lookups;
          problem(
              Severity::warning, n.domain,
              "'" + text + "': " + dns::normalize_name(target) + " has no MX record; it authorises nothing");
        } else if (mx.mx.size() > k_max_mx_names) {
          problem(Severity::error, n.domain,
                  "'" + text + "': " + dns::normalize_name(target) + " has " + std::to_string(mx.mx.size()) +
                      " MX names, over the limit of 10: receivers return permerror");
        }
        break;
      }
      case MechanismKind::exists:
        if (ask_void(n, text, target, dns::RrType::A)) ++n.void_lookups;
        break;
      case MechanismKind::ptr:
        problem(Severity::warning, n.domain,
                "'" + text +
                    "' uses ptr, which RFC 7208 5.5 says not to use: slow, unreliable, and some "
                    "receivers ignore it; list the senders' addresses or includes instead");
        break;
      case MechanismKind::all:
        has_all = true;
        if (m->qualifier == Qualifier::pass)
          problem(Severity::error, n.domain,
                  "'" + text + "' at " + n.domain +
                      " authorises every address on the internet; use -all or ~all");
        else if (m->qualifier == Qualifier::neutral)
          problem(Severity::warning, n.domain,
                  "'" + text + "' at " + n.domain +
                      " gives unlisted senders neutral, which protects nothing; use -all or ~all");
        break;
      case MechanismKind::ip4:
      case MechanismKind::ip6:
        break;
    }
  }
  if (const Modifier* redirect = record.redirect()) {
    const std::string text = to_string(*redirect);
    if (has_all) {
      problem(Severity::warning, n.domain,
              "'" + text + "' at " + n.domain + " is never used because the record has an 'all' term");
    } else {
      ++n.own_lookups;
      if (redirect->value.find('%') != std::string::npos)
        n.macro_terms.push_back(text);
      else
        follow(n, text, redirect->value, ancestors);
    }
  } else if (!has_all && n.via.empty()) {
    problem(Severity::warning, n.domain,
            "the record at " + n.domain +
                " has no 'all' term: unlisted senders get neutral; end it with -all or ~all");
  }
}

}  // namespace

Expansion expand(dns::Resolver& resolver, std::string_view domain, const ExpandOptions& options) {
  Expander expander(resolver, options);
  std::vector<std::string> ancestors;
  Expansion result;
  result.root = expander.node(std::string(domain), "", ancestors);
  result.problems = std::move(expander.problems);
  result.incomplete = expander.incomplete;
  const ExpansionNode& root = result.root;
  if (root.lookups > options.lookup_limit)
    result.problems.insert(
        result.problems.begin(),
        {Severity::error, root.domain,
         std::to_string(root.lookups) + " DNS lookups, over RFC 7208's limit of " +
             std::to_string(options.lookup_limit) +
             ": receivers return permerror; flatten includes (spfctl flatten " + root.domain + ")"});
  if (root.void_lookups > options.void_limit)
    result.problems.insert(result.problems.begin(),
                           {Severity::error, root.domain,
                            std::to_string(root.void_lookups) + " void lookups, over RFC 7208's limit of " +
                                std::to_string(options.void_limit) + ": receivers return permerror"});
  return result;
}

}  // namespace spfctl::spf
