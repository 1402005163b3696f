#include "spf/expansion.hpp"

#include <algorithm>
#include <map>

#include "dns/message_size.hpp"
#include "spf/counts.hpp"

namespace spfctl::spf {

namespace {

constexpr std::size_t k_max_mx_names = 10;

std::string joined(const std::vector<std::string>& strings) {
  std::string text;
  for (const std::string& piece : strings) text += piece;
  return text;
}

// What failed, for messages: the resolver's detail names the question and the server's answer.
std::string failure(const dns::Answer& answer) {
  return answer.detail.empty() ? std::string(dns::to_string(answer.status)) : answer.detail;
}

class Expander {
 public:
  Expander(dns::Resolver& resolver, const ExpandOptions& options, std::string root)
      : m_resolver(resolver), m_options(options), m_root(std::move(root)) {}

  // The node for the record at `domain`, reached from `parent` through `via` (both empty for the
  // root). `decides` is true for the records whose "all" is the policy's end: the root and the
  // redirect targets it leads to.
  ExpansionNode node(const std::string& domain, const std::string& via, const std::string& parent,
                     bool decides, std::vector<std::string>& ancestors);
  std::vector<Problem> problems;
  bool incomplete = false;

 private:
  void problem(Severity severity, const std::string& domain, std::string message) {
    problems.push_back({severity, domain, std::move(message)});
  }
  void read_record(ExpansionNode& n);
  bool report_selection(const ExpansionNode& n, const std::string& parent);
  void check_sizes(const ExpansionNode& n);
  void walk_terms(ExpansionNode& n, bool decides, std::vector<std::string>& ancestors);
  void follow(ExpansionNode& n, TermLookups& term, const std::string& target, bool decides,
              std::vector<std::string>& ancestors);
  // Asks a question an a, mx or exists term asks; true when the answer was void. Failures are
  // reported (receivers return temperror).
  bool ask(const ExpansionNode& n, const std::string& term, const std::string& name, dns::RrType type,
           dns::Answer* out = nullptr);

  // True for the root and names under it: records the root's owner publishes.
  bool owned(const std::string& name) const { return name == m_root || name.ends_with("." + m_root); }

  // A target expanded once: its counts, and the record it was first reached from.
  struct Expanded {
    SubtreeCounts counts;
    std::string parent;
  };

  dns::Resolver& m_resolver;
  const ExpandOptions& m_options;
  std::string m_root;
  // Keyed by (name, decides): a redirect target's 'all' is judged, an include target's is not.
  std::map<std::pair<std::string, bool>, Expanded> m_expanded;
  int m_questions = 0;  // DNS questions asked, at most k_max_questions_per_walk
  bool m_over_budget = false;
};

void Expander::read_record(ExpansionNode& n) {
  n.txt = m_resolver.query(n.domain, dns::RrType::TXT);
  n.response_size = dns::txt_response_size(n.domain, n.txt.txt);
  const SelectedRecord selected = select_record(n.txt, n.domain);
  n.selection = selected.outcome;
  n.record_text = selected.text;
  for (const auto& strings : n.txt.txt)
    if (std::string text = joined(strings); is_spf_record(text)) n.spf_records.push_back(std::move(text));
}

// Reports why the record at a node cannot be used; false when it can.
bool Expander::report_selection(const ExpansionNode& n, const std::string& parent) {
  const std::string at = "'" + n.via + "' at " + parent + ": ";
  switch (n.selection) {
    case Selection::found:
      return false;
    case Selection::failed:
      problem(Severity::error, n.domain,
              "TXT lookup for " + n.domain + " failed (" + failure(n.txt) + "): receivers return temperror");
      return true;
    case Selection::none:
      if (n.via.empty())
        problem(Severity::error, n.domain,
                n.txt.status == dns::Status::nxdomain
                    ? n.domain + " does not exist (NXDOMAIN): it has no SPF policy"
                    : "no SPF record at " + n.domain +
                          ": receivers return none; publish one such as 'v=spf1 mx -all'");
      else
        problem(Severity::error, parent,
                at + n.domain +
                    (n.txt.status == dns::Status::nxdomain ? " does not exist (NXDOMAIN)"
                                                           : " has no SPF record") +
                    ": receivers return permerror");
      return true;
    case Selection::multiple:
      problem(Severity::error, n.via.empty() ? n.domain : parent,
              (n.via.empty() ? "" : at) + std::to_string(n.spf_records.size()) + " SPF records at " +
                  n.domain + ": receivers return permerror; keep exactly one");
      return true;
  }
  return true;
}

void Expander::check_sizes(const ExpansionNode& n) {
  for (const auto& strings : n.txt.txt)
    for (const std::string& s : strings)
      if (s.size() > dns::k_max_character_string)
        problem(Severity::error, n.domain,
                "a TXT string at " + n.domain + " is " + std::to_string(s.size()) +
                    " bytes; DNS allows 255 per string: split the record into several strings");
  // Other parties' answer sizes are theirs to fix, and common: reporting them would be noise.
  if (n.response_size > m_options.max_answer_bytes && owned(n.domain))
    problem(Severity::warning, n.domain,
            "the TXT answer at " + n.domain + " is " + std::to_string(n.response_size) + " bytes, over " +
                std::to_string(m_options.max_answer_bytes) +
                ": receivers without EDNS must retry over TCP, and some give up (temperror); shorten the "
                "record or remove other TXT records there");
}

ExpansionNode Expander::node(const std::string& domain, const std::string& via, const std::string& parent,
                             bool decides, std::vector<std::string>& ancestors) {
  ExpansionNode n;
  n.domain = dns::normalize_name(domain);
  n.via = via;
  ++m_questions;
  read_record(n);
  if (n.txt.failed()) incomplete = true;
  if (!via.empty() && n.txt.is_void()) ++n.void_lookups;
  check_sizes(n);
  if (report_selection(n, parent)) return n;

  const std::shared_ptr<const ParseResult> shared = parse_record_shared(n.record_text);
  const ParseResult& parsed = *shared;
  if (!parsed) {
    n.parse_error = parsed.error();
    problem(Severity::error, n.domain,
            "the SPF record at " + n.domain + " does not parse, receivers return permerror: " +
                format_parse_error(n.record_text, parsed.error()));
    return n;
  }
  n.record = parsed.record();
  ancestors.push_back(n.domain);
  walk_terms(n, decides, ancestors);
  ancestors.pop_back();

  n.lookups = n.own_lookups;
  for (const ExpansionNode& child : n.children) {
    n.lookups = add_counts(n.lookups, child.lookups);
    n.void_lookups = add_counts(n.void_lookups, child.void_lookups);
  }
  for (const TermLookups& term : n.terms)
    if (term.cut) n.lookups = k_count_ceiling;  // not followed, and far over every limit
  if (!via.empty()) m_expanded[{n.domain, decides}] = {{n.lookups, n.void_lookups}, parent};
  return n;
}

bool Expander::ask(const ExpansionNode& n, const std::string& term, const std::string& name, dns::RrType type,
                   dns::Answer* out) {
  if (m_questions >= k_max_questions_per_walk) {
    // Not asked: the tree is incomplete, and far over the lookup limit anyway.
    if (!m_over_budget)
      problem(Severity::error, n.domain,
              "'" + term + "' at " + n.domain +
                  " and the terms after it are not looked up: the policy asks more than " +
                  std::to_string(k_max_questions_per_walk) +
                  " DNS questions; receivers return permerror long before");
    incomplete = m_over_budget = true;
    return false;
  }
  ++m_questions;
  dns::Answer answer = m_resolver.query(name, type);
  if (answer.failed()) {
    incomplete = true;
    problem(Severity::error, n.domain,
            "'" + term + "' at " + n.domain + ": " + std::string(dns::to_string(type)) + " lookup for " +
                name + " failed (" + failure(answer) + "): receivers return temperror");
  }
  const bool is_void = answer.is_void();
  if (out) *out = std::move(answer);
  return is_void;
}

void Expander::follow(ExpansionNode& n, TermLookups& term, const std::string& target, bool decides,
                      std::vector<std::string>& ancestors) {
  const std::string name = dns::normalize_name(target);
  if (std::find(ancestors.begin(), ancestors.end(), name) != ancestors.end()) {
    term.loop = true;
    problem(Severity::error, n.domain,
            "'" + term.text + "' at " + n.domain + " loops back to " + name +
                ": receivers recurse until they pass the lookup limit and return permerror");
    return;
  }
  ExpansionNode leaf;
  leaf.domain = name;
  leaf.via = term.text;
  leaf.selection = Selection::found;
  if (const auto seen = m_expanded.find({name, decides}); seen != m_expanded.end()) {
    leaf.lookups = seen->second.counts.lookups;
    leaf.void_lookups = seen->second.counts.void_lookups;
    leaf.repeat_of = seen->second.parent;
    n.children.push_back(std::move(leaf));
  } else if (std::optional<SubtreeCounts> known =
                 m_options.known_subtree ? m_options.known_subtree(name) : std::nullopt) {
    leaf.lookups = known->lookups;
    leaf.void_lookups = known->void_lookups;
    n.children.push_back(std::move(leaf));
  } else if (ancestors.size() >= static_cast<std::size_t>(k_max_nesting) ||
             m_questions >= k_max_questions_per_walk) {
    term.cut = true;
    term.lookups = k_count_ceiling;
    problem(
        Severity::error, n.domain,
        "'" + term.text + "' at " + n.domain + " is not followed: " +
            (m_questions >= k_max_questions_per_walk
                 ? "the policy asks more than " + std::to_string(k_max_questions_per_walk) + " DNS questions"
                 : "includes nest more than " + std::to_string(k_max_nesting) + " deep") +
            ", far over the lookup limit: receivers return permerror");
    return;
  } else {
    n.children.push_back(node(name, term.text, n.domain, decides, ancestors));
  }
  const ExpansionNode& child = n.children.back();
  term.child = n.children.size() - 1;
  term.lookups = add_counts(term.lookups, child.lookups);
  term.void_lookups = add_counts(term.void_lookups, child.void_lookups);
}

void Expander::walk_terms(ExpansionNode& n, bool decides, std::vector<std::string>& ancestors) {
  const Record& record = *n.record;
  bool has_all = false;
  for (const Term& term : record.terms) {
    const Mechanism* m = term.mechanism();
    if (!m) continue;
    const std::string text = to_string(term);
    if (m->kind == MechanismKind::all) {
      has_all = true;
      if (m->qualifier == Qualifier::pass)
        problem(
            Severity::error, n.domain,
            "'" + text + "' at " + n.domain + " authorises every address on the internet; use -all or ~all");
      else if (m->qualifier == Qualifier::neutral && decides)
        problem(Severity::warning, n.domain,
                "'" + text + "' at " + n.domain +
                    " gives unlisted senders neutral, which protects nothing; use -all or ~all");
      continue;
    }
    if (!m->counts_as_lookup()) continue;
    ++n.own_lookups;
    TermLookups lookups;
    lookups.text = text;
    const std::string target = m->domain ? *m->domain : n.domain;
    if (target.find('%') != std::string::npos) {
      lookups.macro = true;
      n.terms.push_back(std::move(lookups));
      continue;
    }
    const std::string name = dns::normalize_name(target);
    switch (m->kind) {
      case MechanismKind::include:
        follow(n, lookups, target, false, ancestors);
        break;
      case MechanismKind::a: {
        const bool v4_void = ask(n, text, name, dns::RrType::A);
        const bool v6_void = ask(n, text, name, dns::RrType::AAAA);
        if (v4_void && v6_void) {
          ++lookups.void_lookups;
          problem(Severity::warning, n.domain,
                  "'" + text + "' at " + n.domain + ": " + name +
                      " has no A or AAAA record, so the term authorises nothing and costs a void lookup");
        }
        break;
      }
      case MechanismKind::mx: {
        dns::Answer mx;
        if (ask(n, text, name, dns::RrType::MX, &mx)) {
          ++lookups.void_lookups;
          problem(Severity::warning, n.domain,
                  "'" + text + "' at " + n.domain + ": " + name +
                      " has no MX record, so the term authorises nothing and costs a void lookup");
        } else if (mx.mx.size() > k_max_mx_names) {
          problem(Severity::error, n.domain,
                  "'" + text + "' at " + n.domain + ": " + name + " has " + std::to_string(mx.mx.size()) +
                      " MX names, over RFC 7208's limit of 10: receivers return permerror");
        }
        break;
      }
      case MechanismKind::exists:
        if (ask(n, text, name, dns::RrType::A)) ++lookups.void_lookups;
        break;
      case MechanismKind::ptr:
        problem(Severity::warning, n.domain,
                "'" + text + "' at " + n.domain +
                    " uses ptr, which RFC 7208 5.5 says not to use: slow, unreliable, and some receivers "
                    "ignore it; list the senders' addresses or includes instead");
        break;
      case MechanismKind::all:
      case MechanismKind::ip4:
      case MechanismKind::ip6:
        break;
    }
    if (!lookups.child) n.void_lookups = add_counts(n.void_lookups, lookups.void_lookups);
    n.terms.push_back(std::move(lookups));
  }
  if (const Modifier* redirect = record.redirect()) {
    const std::string text = to_string(*redirect);
    if (has_all) {
      problem(Severity::warning, n.domain,
              "'" + text + "' at " + n.domain +
                  " is never used because the record has an 'all' term; remove one");
    } else {
      ++n.own_lookups;
      TermLookups lookups;
      lookups.text = text;
      if (redirect->value.find('%') != std::string::npos)
        lookups.macro = true;
      else
        follow(n, lookups, redirect->value, decides, ancestors);
      n.terms.push_back(std::move(lookups));
    }
  } else if (!has_all && decides) {
    problem(Severity::warning, n.domain,
            "the record at " + n.domain +
                " has no 'all' term: unlisted senders get neutral; end it with -all or ~all");
  }
}

}  // namespace

std::string_view to_string(Severity severity) {
  return severity == Severity::error ? "error" : "warning";
}

std::size_t ExpansionNode::string_count() const {
  if (selection != Selection::found) return 0;
  for (const auto& strings : txt.txt)
    if (joined(strings) == record_text) return strings.size();
  return 0;
}

ExpansionTree expand(dns::Resolver& resolver, std::string_view domain, const ExpandOptions& options) {
  Expander expander(resolver, options, dns::normalize_name(domain));
  std::vector<std::string> ancestors;
  ExpansionTree result;
  result.root = expander.node(std::string(domain), "", "", true, ancestors);
  result.problems = std::move(expander.problems);
  result.incomplete = expander.incomplete;
  const ExpansionNode& root = result.root;
  std::vector<Problem> limits;
  if (root.lookups > options.lookup_limit)
    limits.push_back({Severity::error, root.domain,
                      count_text(root.lookups) + " DNS lookups, over RFC 7208's limit of " +
                          std::to_string(options.lookup_limit) +
                          ": receivers return permerror; flatten includes (spfctl flatten " + root.domain +
                          ")"});
  if (root.void_lookups > options.void_limit)
    limits.push_back(
        {Severity::error, root.domain,
         count_text(root.void_lookups) + " void lookups, over RFC 7208's limit of " +
             std::to_string(options.void_limit) +
             ": receivers return permerror; remove the terms that point at names without records"});
  result.problems.insert(result.problems.begin(), limits.begin(), limits.end());
  return result;
}

}  // namespace spfctl::spf
