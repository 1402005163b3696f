#include "plan/flatten.hpp"

#include <algorithm>
#include <numeric>
#include <utility>

#include "spf/counts.hpp"
#include "spf/parser.hpp"

namespace spfctl::plan {

namespace {

// Exact subset search up to this many candidates; a greedy choice beyond.
constexpr std::size_t k_exact_candidates = 20;
// Subsets of one size ranked by bytes in the exact search, and layouts tried per size.
constexpr std::size_t k_max_ranked_subsets = 400000;
constexpr std::size_t k_max_layouts_per_size = 32;

// Dotted-quad text without the C library's formatted printing, which dominates when thousands of
// domains flatten the same senders.
void append_v4(std::string& out, std::uint32_t value) {
  for (int shift = 24; shift >= 0; shift -= 8) {
    const unsigned octet = (value >> shift) & 0xff;
    if (octet >= 100) out += static_cast<char>('0' + octet / 100);
    if (octet >= 10) out += static_cast<char>('0' + octet / 10 % 10);
    out += static_cast<char>('0' + octet % 10);
    if (shift) out += '.';
  }
}

std::string address_term(const net::Cidr& cidr, spf::Qualifier qualifier) {
  std::string out;
  out.reserve(24);
  if (qualifier != spf::Qualifier::pass) out += static_cast<char>(qualifier);
  if (cidr.network.is_v4()) {
    out += "ip4:";
    append_v4(out, cidr.network.v4_value());
  } else {
    out += "ip6:";
    out += cidr.network.to_string();
  }
  if (cidr.prefix != cidr.network.bits()) out += "/" + std::to_string(cidr.prefix);
  return out;
}

std::string all_term(spf::Qualifier qualifier) {
  spf::Mechanism all;
  all.qualifier = qualifier;
  all.kind = spf::MechanismKind::all;
  return spf::to_string(all);
}

// One piece of a record being laid out: a set of addresses with one qualifier, or a term as written.
struct Element {
  bool is_run = false;
  spf::Qualifier qualifier = spf::Qualifier::pass;
  net::IpSet set;
  std::string text;
  bool is_all = false;
  bool removed = false;
};

std::size_t terms_bytes(const net::IpSet& set) {
  std::size_t bytes = 0;
  for (const net::Cidr& cidr : set.to_cidrs()) bytes += address_term(cidr, spf::Qualifier::pass).size() + 1;
  return bytes;
}

std::string plural(std::size_t n, const std::string& word) {
  return std::to_string(n) + " " + word + (n == 1 ? "" : "s");
}

// A lookup count with its word: "1 lookup", "12 lookups", "1000000+ lookups".
std::string counted(int n, const std::string& word) {
  return spf::count_text(n) + " " + word + (n == 1 ? "" : "s");
}

// "31 ip4 ranges", "2 ip4 and 6 ip6 ranges", "no addresses".
std::string ranges_text(const net::IpSet& set) {
  std::size_t v4 = 0, v6 = 0;
  for (const net::Cidr& cidr : set.to_cidrs()) (cidr.network.is_v4() ? v4 : v6)++;
  if (v4 == 0 && v6 == 0) return "no addresses";
  if (v6 == 0) return std::to_string(v4) + " ip4 " + (v4 == 1 ? "range" : "ranges");
  if (v4 == 0) return std::to_string(v6) + " ip6 " + (v6 == 1 ? "range" : "ranges");
  return std::to_string(v4) + " ip4 and " + std::to_string(v6) + " ip6 ranges";
}

// Where the mechanisms receivers reach end: the index of the first 'all', or the number of terms.
std::size_t reach(const spf::Record& record) {
  for (std::size_t i = 0; i < record.terms.size(); ++i)
    if (const spf::Mechanism* m = record.terms[i].mechanism(); m && m->kind == spf::MechanismKind::all)
      return i;
  return record.terms.size();
}

class Planner {
 public:
  Planner(std::string_view domain, const spf::Record& intended, const RecordMap& map,
          const FlattenSettings& settings, const std::vector<std::vector<std::string>>& other_txt)
      : m_domain(domain), m_intended(intended), m_map(map), m_settings(settings), m_other_txt(other_txt) {
    for (std::size_t i = 0; i < intended.terms.size(); ++i) {
      const TermMap& t = map.terms[i];
      if (!reached(i)) continue;
      if (t.kind == TermClass::flattenable) {
        m_candidates.push_back(i);
        m_candidate_bytes.push_back(terms_bytes(t.addresses));
      } else {
        m_fixed_lookups = spf::add_counts(m_fixed_lookups, t.lookups);
        m_fixed_void = spf::add_counts(m_fixed_void, t.void_lookups);
      }
      m_all_lookups = spf::add_counts(m_all_lookups, t.lookups);
      m_all_void = spf::add_counts(m_all_void, t.void_lookups);
    }
  }

  Flattening run();

 private:
  // True for the terms receivers evaluate: mechanisms up to the first 'all', and redirect= without one.
  bool reached(std::size_t i) const {
    const std::size_t end = reach(m_intended);
    const spf::Term& term = m_intended.terms[i];
    if (term.mechanism()) return i <= end;
    return end == m_intended.terms.size() && term.modifier() == m_intended.redirect();
  }

  struct Attempt {
    std::vector<std::size_t> flattened;  // indexes into m_candidates
    SplitResult split;
    int lookups = 0;
    int void_lookups = 0;
    bool fits = false;
  };

  // What the terms kept cost receivers when the candidates `chosen` (ascending) are flattened,
  // before chained records are counted. Saturating: never computed by subtraction.
  std::pair<int, int> kept_counts(const std::vector<std::size_t>& chosen) const;
  Attempt attempt(const std::vector<std::size_t>& chosen) const;
  bool within_budget_before_chains(const std::vector<std::size_t>& chosen) const;
  std::optional<Attempt> search_exact() const;
  std::optional<Attempt> search_greedy() const;
  Flattening finish(Attempt attempt, std::vector<std::string> notes) const;
  std::string over_budget(const Attempt& attempt, const std::string& why) const;

  std::string m_domain;
  const spf::Record& m_intended;
  const RecordMap& m_map;
  const FlattenSettings& m_settings;
  const std::vector<std::vector<std::string>>& m_other_txt;
  std::vector<std::size_t> m_candidates;  // term indexes, ascending
  std::vector<std::size_t> m_candidate_bytes;
  int m_fixed_lookups = 0;
  int m_fixed_void = 0;
  int m_all_lookups = 0;
  int m_all_void = 0;
};

std::pair<int, int> Planner::kept_counts(const std::vector<std::size_t>& chosen) const {
  int lookups = m_fixed_lookups, void_lookups = m_fixed_void;
  std::size_t next = 0;
  for (std::size_t c = 0; c < m_candidates.size(); ++c) {
    if (next < chosen.size() && chosen[next] == c) {
      ++next;
      continue;
    }
    lookups = spf::add_counts(lookups, m_map.terms[m_candidates[c]].lookups);
    void_lookups = spf::add_counts(void_lookups, m_map.terms[m_candidates[c]].void_lookups);
  }
  return {lookups, void_lookups};
}

Planner::Attempt Planner::attempt(const std::vector<std::size_t>& chosen) const {
  Attempt out;
  out.flattened = chosen;
  std::vector<bool> flatten(m_intended.terms.size(), false);
  for (std::size_t c : chosen) flatten[m_candidates[c]] = true;
  std::tie(out.lookups, out.void_lookups) = kept_counts(chosen);
  out.split = split_records(m_domain, flattened_terms(m_intended, m_map, flatten),
                            {m_settings.max_answer_bytes, m_settings.chain_prefix}, m_other_txt);
  out.lookups = spf::add_counts(out.lookups, static_cast<int>(out.split.chains));
  out.fits = out.split.error.empty() && out.lookups <= m_settings.lookup_budget &&
             out.void_lookups <= m_settings.void_lookup_budget;
  return out;
}

bool Planner::within_budget_before_chains(const std::vector<std::size_t>& chosen) const {
  const auto [lookups, void_lookups] = kept_counts(chosen);
  return lookups <= m_settings.lookup_budget && void_lookups <= m_settings.void_lookup_budget;
}

// For each size from 0 up, the subsets whose savings could fit, cheapest in bytes first (then the
// earliest terms), each laid out until one fits with its chained records counted.
std::optional<Planner::Attempt> Planner::search_exact() const {
  const std::size_t n = m_candidates.size();
  for (std::size_t k = 0; k <= n; ++k) {
    std::vector<std::pair<std::size_t, std::vector<std::size_t>>> ranked;
    std::vector<std::size_t> chosen(k);
    std::iota(chosen.begin(), chosen.end(), std::size_t{0});
    while (true) {
      if (within_budget_before_chains(chosen)) {
        std::size_t bytes = 0;
        for (std::size_t c : chosen) bytes += m_candidate_bytes[c];
        ranked.emplace_back(bytes, chosen);
        if (ranked.size() > k_max_ranked_subsets) return std::nullopt;
      }
      // The next combination in lexicographic order.
      std::size_t i = k;
      while (i > 0 && chosen[i - 1] == n - k + i - 1) --i;
      if (i == 0) break;
      ++chosen[i - 1];
      for (std::size_t j = i; j < k; ++j) chosen[j] = chosen[j - 1] + 1;
    }
    std::sort(ranked.begin(), ranked.end());
    for (std::size_t r = 0; r < ranked.size() && r < k_max_layouts_per_size; ++r) {
      Attempt a = attempt(ranked[r].second);
      if (a.fits) return a;
    }
  }
  return std::nullopt;
}

// The terms that save the most lookups first (fewer bytes breaking ties), until the set fits.
std::optional<Planner::Attempt> Planner::search_greedy() const {
  std::vector<std::size_t> order(m_candidates.size());
  std::iota(order.begin(), order.end(), std::size_t{0});
  std::stable_sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) {
    const TermMap& ta = m_map.terms[m_candidates[a]];
    const TermMap& tb = m_map.terms[m_candidates[b]];
    if (ta.lookups != tb.lookups) return ta.lookups > tb.lookups;
    return m_candidate_bytes[a] < m_candidate_bytes[b];
  });
  std::vector<std::size_t> chosen;
  for (std::size_t k = 0; k <= order.size(); ++k) {
    if (k > 0) chosen.push_back(order[k - 1]);
    if (!within_budget_before_chains(chosen)) continue;
    std::vector<std::size_t> sorted = chosen;
    std::sort(sorted.begin(), sorted.end());
    Attempt a = attempt(sorted);
    if (a.fits) return a;
  }
  return std::nullopt;
}

std::string Planner::over_budget(const Attempt& a, const std::string& why) const {
  std::string out;
  if (a.lookups > m_settings.lookup_budget)
    out = counted(a.lookups, "DNS lookup") + " " + why + ", over the budget of " +
          std::to_string(m_settings.lookup_budget);
  else
    out = counted(a.void_lookups, "void lookup") + " " + why + ", over the budget of " +
          std::to_string(m_settings.void_lookup_budget);
  std::vector<std::string> kept;
  for (std::size_t i = 0; i < m_map.terms.size(); ++i) {
    const TermMap& t = m_map.terms[i];
    if (t.kind == TermClass::opaque && t.lookups > 0 && reached(i))
      kept.push_back("'" + spf::to_string(m_intended.terms[i]) + "' (" + counted(t.lookups, "lookup") + ": " +
                     t.reason + ")");
  }
  if (!kept.empty()) {
    out += "; cannot be flattened: ";
    for (std::size_t i = 0; i < kept.size(); ++i) out += (i ? ", " : "") + kept[i];
  }
  if (a.split.chains > 0) out += "; " + plural(a.split.chains, "chained record") + " count too";
  return out;
}

Flattening Planner::finish(Attempt a, std::vector<std::string> notes) const {
  Flattening out;
  for (std::size_t c : a.flattened) out.flattened.push_back(m_candidates[c]);
  for (std::size_t i : out.flattened) {
    const TermMap& t = m_map.terms[i];
    notes.push_back("flattened " + spf::to_string(m_intended.terms[i]) + ": saves " +
                    counted(t.lookups, "lookup") +
                    (t.void_lookups ? " and " + counted(t.void_lookups, "void lookup") : "") + ", adds " +
                    ranges_text(t.addresses));
  }
  for (std::size_t i = 0; i < m_map.terms.size(); ++i) {
    const TermMap& t = m_map.terms[i];
    if (t.kind == TermClass::opaque && reached(i))
      notes.push_back("kept " + spf::to_string(m_intended.terms[i]) + " as written: " + t.reason);
  }
  if (a.split.chains > 0) {
    std::string names;
    for (std::size_t i = 1; i < a.split.records.size(); ++i)
      names += (i > 1 ? ", " : "") + a.split.records[i].name;
    notes.push_back("split into " + plural(a.split.chains, "chained record") + " (" + names +
                    "): the TXT answer at " + m_domain + " would be " +
                    std::to_string(a.split.unsplit_answer_bytes) + " bytes, over the limit of " +
                    std::to_string(m_settings.max_answer_bytes));
  }
  out.records = std::move(a.split.records);
  out.chains = a.split.chains;
  out.lookups = a.lookups;
  out.void_lookups = a.void_lookups;
  out.notes = std::move(notes);
  return out;
}

Flattening Planner::run() {
  std::vector<std::string> notes;
  std::vector<std::size_t> every(m_candidates.size());
  std::iota(every.begin(), every.end(), std::size_t{0});
  const std::string as_written = "as written: " + counted(m_all_lookups, "DNS lookup") + " (budget " +
                                 std::to_string(m_settings.lookup_budget) + "), " +
                                 counted(m_all_void, "void lookup") + " (budget " +
                                 std::to_string(m_settings.void_lookup_budget) + ")";
  Flattening failed;
  switch (m_settings.mode) {
    case config::FlattenMode::off: {
      Attempt a = attempt({});
      if (!a.split.error.empty()) {
        failed.error = a.split.error;
        return failed;
      }
      if (!a.fits) {
        failed.error =
            over_budget(a, "needed") + "; flatten is \"off\": set flatten = \"auto\" to flatten includes";
        return failed;
      }
      notes.push_back(as_written + "; flatten is \"off\"");
      return finish(std::move(a), std::move(notes));
    }
    case config::FlattenMode::full: {
      Attempt a = attempt(every);
      if (!a.split.error.empty()) {
        failed.error = a.split.error;
        return failed;
      }
      if (!a.fits) {
        failed.error = over_budget(a, "needed even with everything flattened");
        return failed;
      }
      notes.push_back(as_written + "; flatten is \"full\": every term that can be is flattened");
      return finish(std::move(a), std::move(notes));
    }
    case config::FlattenMode::automatic:
      break;
  }
  std::optional<Attempt> found;
  if (m_candidates.size() <= k_exact_candidates) found = search_exact();
  if (!found) found = search_greedy();
  if (!found) {
    Attempt a = attempt(every);
    failed.error =
        a.split.error.empty() ? over_budget(a, "needed even with everything flattened") : a.split.error;
    return failed;
  }
  if (found->flattened.empty())
    notes.push_back(as_written + ": every include kept");
  else
    notes.push_back(as_written +
                    ": flattened the fewest terms that fit, preferring those adding the fewest bytes");
  return finish(std::move(*found), std::move(notes));
}

}  // namespace

FlattenSettings FlattenSettings::of(const config::DomainPolicy& policy) {
  FlattenSettings settings;
  settings.mode = policy.flatten;
  settings.lookup_budget = policy.lookup_budget;
  settings.void_lookup_budget = policy.void_lookup_budget;
  settings.max_answer_bytes = static_cast<std::size_t>(policy.max_answer_bytes);
  settings.chain_prefix = policy.chain_prefix;
  settings.allow_wide_ranges = policy.allow_wide_ranges;
  return settings;
}

IntendedRecord intended_record(const config::DomainPolicy& policy) {
  IntendedRecord out;
  std::string text = "v=spf1";
  for (const config::SenderTerm& term : policy.terms) text += " " + term.text();
  text += " " + all_term(policy.policy);
  spf::ParseResult parsed = spf::parse_record(text);
  if (parsed) {
    out.record = std::move(std::get<spf::Record>(parsed.value));
    return out;
  }
  // Name the term, and where it came from, with the caret under it in that term alone.
  for (const config::SenderTerm& term : policy.terms) {
    const std::string written = "v=spf1 " + term.text();
    const spf::ParseResult alone = spf::parse_record(written);
    if (!alone) {
      out.error = "the term '" + term.text() + "' from " + term.origin +
                  " is not valid SPF: " + spf::format_parse_error(written, alone.error());
      return out;
    }
  }
  out.error = "the record does not parse: " + spf::format_parse_error(text, parsed.error());
  return out;
}

RecordTerms flattened_terms(const spf::Record& intended, const RecordMap& map,
                            const std::vector<bool>& flatten) {
  std::vector<Element> elements;
  std::vector<std::string> modifiers;
  auto add_run = [&](spf::Qualifier qualifier, const net::IpSet& set) {
    if (!elements.empty() && elements.back().is_run && elements.back().qualifier == qualifier)
      elements.back().set.add(set);
    else
      elements.push_back({true, qualifier, set, {}, false, false});
  };
  const std::size_t end = reach(intended);
  const bool has_all = end < intended.terms.size();
  for (std::size_t i = 0; i <= end && i < intended.terms.size(); ++i) {
    const spf::Mechanism* m = intended.terms[i].mechanism();
    if (!m) continue;
    const TermMap& t = map.terms[i];
    if (t.kind == TermClass::address || (t.kind == TermClass::flattenable && flatten[i]))
      add_run(m->qualifier, t.addresses);
    else
      elements.push_back(
          {false, m->qualifier, {}, spf::to_string(*m), m->kind == spf::MechanismKind::all, false});
  }
  for (std::size_t i = 0; i < intended.terms.size(); ++i) {
    const spf::Modifier* modifier = intended.terms[i].modifier();
    if (!modifier) continue;
    if (modifier != intended.redirect()) {
      modifiers.push_back(spf::to_string(*modifier));
      continue;
    }
    if (has_all) continue;
    const TermMap& t = map.terms[i];
    if (!(t.kind == TermClass::flattenable && flatten[i])) {
      modifiers.insert(modifiers.begin(), spf::to_string(*modifier));
      continue;
    }
    // The target's map in place of redirect=: its largest class (fewest blocks for the others) as 'all'.
    const spf::Qualifier qualifiers[] = {spf::Qualifier::fail, spf::Qualifier::softfail,
                                         spf::Qualifier::neutral, spf::Qualifier::pass};
    std::vector<net::IpSet> sets;
    std::vector<std::size_t> blocks;
    for (spf::Qualifier q : qualifiers) {
      sets.push_back(t.target->map.ranges_with(Outcome{0, spf::to_result(q), 0}));
      blocks.push_back(sets.back().to_cidrs().size());
    }
    const std::size_t total = std::accumulate(blocks.begin(), blocks.end(), std::size_t{0});
    std::size_t best = 0;
    for (std::size_t q = 1; q < 4; ++q)
      if (total - blocks[q] < total - blocks[best]) best = q;
    for (std::size_t q : {std::size_t{3}, std::size_t{0}, std::size_t{1}, std::size_t{2}})
      if (q != best && !sets[q].empty()) add_run(qualifiers[q], sets[q]);
    elements.push_back({false, qualifiers[best], {}, all_term(qualifiers[best]), true, false});
  }

  // Pass runs move forward into the first pass run before them, across pass-qualified terms.
  std::optional<std::size_t> home;
  net::IpSet blocked;
  for (std::size_t j = 0; j < elements.size(); ++j) {
    Element& e = elements[j];
    if (e.is_run && e.qualifier == spf::Qualifier::pass) {
      if (home) {
        net::IpSet moved = e.set;
        moved.subtract(blocked);
        elements[*home].set.add(moved);
        e.removed = true;
      } else {
        home = j;
        blocked = net::IpSet();
      }
    } else if (e.is_run) {
      if (home) blocked.add(e.set);
    } else if (e.qualifier != spf::Qualifier::pass) {
      home.reset();
    }
  }
  std::vector<Element> merged;
  for (Element& e : elements) {
    if (e.removed || (e.is_run && e.set.empty())) continue;
    if (e.is_run && !merged.empty() && merged.back().is_run && merged.back().qualifier == e.qualifier)
      merged.back().set.add(e.set);
    else
      merged.push_back(std::move(e));
  }
  // A run just before an 'all' of its own qualifier decides nothing 'all' would not.
  for (std::size_t j = 1; j < merged.size(); ++j) {
    if (!merged[j].is_all) continue;
    while (j > 0 && merged[j - 1].is_run && merged[j - 1].qualifier == merged[j].qualifier) {
      merged.erase(merged.begin() + static_cast<std::ptrdiff_t>(j - 1));
      --j;
    }
  }

  RecordTerms out;
  std::size_t best_bytes = 0;
  for (const Element& e : merged) {
    if (!e.is_run) {
      out.terms.push_back(e.text);
      continue;
    }
    const std::size_t begin = out.terms.size();
    std::size_t bytes = 0;
    for (const net::Cidr& cidr : e.set.to_cidrs()) {
      out.terms.push_back(address_term(cidr, e.qualifier));
      bytes += out.terms.back().size() + 1;
    }
    if (e.qualifier == spf::Qualifier::pass && bytes > best_bytes) {
      best_bytes = bytes;
      out.run_begin = begin;
      out.run_end = out.terms.size();
    }
  }
  out.terms.insert(out.terms.end(), modifiers.begin(), modifiers.end());
  return out;
}

Flattening flatten(std::string_view domain, const spf::Record& intended, const RecordMap& map,
                   const FlattenSettings& settings, const std::vector<std::vector<std::string>>& other_txt) {
  return Planner(domain, intended, map, settings, other_txt).run();
}

}  // namespace spfctl::plan
