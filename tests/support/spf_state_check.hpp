// Whether a published TXT state (api_fake.hpp's TxtState: name -> values as receivers read them)
// is a working SPF deployment for a domain, for tests that check every state a client passed
// through while it changed records, not only the last:
//
//   for (const auto& state : fake.txt_history("example.com"))
//     CHECK(published_state_problems(state, "example.com") == std::vector<std::string>{});
//
// Header-only; uses the project's SPF parser.
#pragma once

#include <algorithm>
#include <cctype>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "dns/resolver.hpp"
#include "spf/parser.hpp"
#include "spf/record.hpp"
#include "spf/select.hpp"

namespace spfctl::testing {

namespace spf_state_detail {

class Walk {
 public:
  Walk(const std::map<std::string, std::vector<std::string>>& txt, const std::string& domain,
       const std::string& chain_prefix)
      : m_domain(dns::normalize_name(domain)), m_prefix(dns::normalize_name(chain_prefix)) {
    for (const auto& [name, values] : txt) {
      auto& merged = m_txt[dns::normalize_name(name)];
      merged.insert(merged.end(), values.begin(), values.end());
    }
  }

  std::vector<std::string> run() {
    visit(m_domain, "");
    return m_problems;
  }

 private:
  // `<prefix><digits>.<domain>`, as the planner names chained records.
  bool chained(const std::string& name) const {
    const std::string suffix = "." + m_domain;
    if (!name.ends_with(suffix)) return false;
    const std::string label = name.substr(0, name.size() - suffix.size());
    if (!label.starts_with(m_prefix) || label.size() == m_prefix.size()) return false;
    return std::all_of(label.begin() + static_cast<std::ptrdiff_t>(m_prefix.size()), label.end(),
                       [](char c) { return std::isdigit(static_cast<unsigned char>(c)) != 0; });
  }

  // The one SPF record at `name`, parsed; nullopt (and a problem) when there is not exactly one
  // or it does not parse. `why` says how the walk got there, for messages.
  std::optional<spf::Record> record_at(const std::string& name, const std::string& why) {
    std::vector<std::string> spf;
    auto found = m_txt.find(name);
    if (found != m_txt.end())
      for (const auto& value : found->second)
        if (spf::is_spf_record(value)) spf.push_back(value);
    if (spf.size() != 1) {
      std::string problem = spf.empty() ? "no SPF record at " + name
                                        : std::to_string(spf.size()) + " SPF records at " + name + " (";
      for (std::size_t i = 0; i < spf.size(); ++i) problem += (i ? ", '" : "'") + spf[i] + "'";
      if (!spf.empty()) problem += ")";
      m_problems.push_back(problem + why);
      return std::nullopt;
    }
    spf::ParseResult parsed = spf::parse_record(spf[0]);
    if (!parsed) {
      m_problems.push_back("the SPF record at " + name + " does not parse: " + parsed.error().message +
                           ": '" + spf::printable(spf[0]) + "'" + why);
      return std::nullopt;
    }
    return parsed.record();
  }

  void visit(const std::string& name, const std::string& why) {
    m_on_path.push_back(name);
    m_seen.push_back(name);
    if (auto record = record_at(name, why)) {
      for (const auto& term : record->terms) {
        std::string target;
        std::string written;
        if (const auto* mechanism = term.mechanism();
            mechanism && mechanism->kind == spf::MechanismKind::include && mechanism->domain) {
          target = *mechanism->domain;
          written = "include:" + target;
        } else if (const auto* modifier = term.modifier(); modifier && modifier->name == "redirect") {
          target = modifier->value;
          written = "redirect=" + target;
        } else {
          continue;
        }
        target = dns::normalize_name(target);
        if (target != m_domain && !chained(target)) continue;  // someone else's record
        auto on_path = std::find(m_on_path.begin(), m_on_path.end(), target);
        if (on_path != m_on_path.end()) {
          std::string loop = "loop among chained records: ";
          for (auto it = on_path; it != m_on_path.end(); ++it) loop += *it + " -> ";
          m_problems.push_back(loop + target);
        } else if (std::find(m_seen.begin(), m_seen.end(), target) == m_seen.end()) {
          visit(target, " (named by " + written + " at " + name + ")");
        }
      }
    }
    m_on_path.pop_back();
  }

  std::string m_domain;
  std::string m_prefix;
  std::map<std::string, std::vector<std::string>> m_txt;
  std::vector<std::string> m_on_path;  // the names from the domain to the one being visited
  std::vector<std::string> m_seen;
  std::vector<std::string> m_problems;
};

}  // namespace spf_state_detail

// Why `txt` (owner name -> TXT values, each the record's character-strings joined) is not a valid
// SPF deployment for `domain`; empty when it is. A problem is reported when
// - `domain` has not exactly one value that is an SPF record (RFC 7208 4.5: "v=spf1", any case,
//   then a space or the end), or that value does not parse;
// - an include: or redirect= names a chained record, `<chain_prefix>N.<domain>`, and that name
//   has not exactly one SPF value, or it does not parse;
// - the domain and its chained records include or redirect to each other in a loop.
// Names are compared without case or trailing dot. Other domains' records are not followed, so
// their absence is no problem; neither are lookup counts or sizes checked.
inline std::vector<std::string> published_state_problems(
    const std::map<std::string, std::vector<std::string>>& txt, const std::string& domain,
    const std::string& chain_prefix = "_spf") {
  return spf_state_detail::Walk(txt, domain, chain_prefix).run();
}

}  // namespace spfctl::testing
