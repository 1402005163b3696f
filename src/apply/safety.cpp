#include "apply/safety.hpp"

#include <algorithm>
#include <map>
#include <optional>
#include <set>

#include "dns/resolver.hpp"
#include "net/ip_set.hpp"
#include "plan/diff.hpp"
#include "spf/parser.hpp"
#include "spf/select.hpp"
#include "util/text.hpp"

namespace spfctl::apply {

namespace {

using spf::Mechanism;
using spf::MechanismKind;
using spf::Qualifier;

// The final 'all' of a published policy.
struct Reading {
  bool comparable = false;  // the apex holds one SPF record that parses
  std::optional<Qualifier> all;
  bool all_known = true;  // false when the final result comes from another domain (redirect=)
};

// The SPF values (joined) at each name of `state`.
std::map<std::string, std::vector<std::string>> spf_values(const plan::TxtState& state) {
  std::map<std::string, std::vector<std::string>> out;
  for (const auto& [name, values] : state)
    for (const std::vector<std::string>& strings : values) {
      std::string joined;
      for (const std::string& s : strings) joined += s;
      if (spf::is_spf_record(joined)) out[name].push_back(std::move(joined));
    }
  return out;
}

int strength(std::optional<Qualifier> all) {
  if (!all) return 1;  // no 'all': neutral
  switch (*all) {
    case Qualifier::fail:
      return 3;
    case Qualifier::softfail:
      return 2;
    case Qualifier::neutral:
      return 1;
    case Qualifier::pass:
      return 0;
  }
  return 1;
}

std::string all_text(std::optional<Qualifier> all) {
  if (!all) return "no 'all' (neutral)";
  return std::string(1, static_cast<char>(*all)) + "all";
}

class Reader {
 public:
  Reader(std::string apex, std::string prefix, const plan::TxtState& state)
      : m_apex(std::move(apex)), m_prefix(std::move(prefix)), m_state(spf_values(state)) {}

  Reading read() {
    m_reading.comparable = visit(m_apex, true);
    return m_reading;
  }

 private:
  // Reads the record at `name`; `top`: its final 'all' is the policy's (the apex, or a redirect
  // target), and it follows chained redirects and includes to find it. False when `name` does not
  // hold exactly one SPF record that parses.
  bool visit(const std::string& name, bool top) {
    if (!m_visited.insert(name).second) return true;
    const auto it = m_state.find(name);
    if (it == m_state.end() || it->second.size() != 1) return false;
    const spf::ParseResult parsed = spf::parse_record(it->second.front());
    if (!parsed) return false;
    const spf::Record& record = parsed.record();
    bool has_all = false;
    for (const spf::Term& term : record.terms) {
      const Mechanism* mechanism = term.mechanism();
      if (!mechanism) continue;
      if (mechanism->kind == MechanismKind::all) {
        if (top) m_reading.all = mechanism->qualifier;
        has_all = true;
        break;  // terms after 'all' are never reached
      }
    }
    if (has_all) return true;
    if (const spf::Modifier* redirect = record.redirect()) {
      const std::string target = dns::normalize_name(redirect->value);
      if (is_chained(target)) return visit(target, top);
      if (top) m_reading.all_known = false;
    }
    return true;
  }

  bool is_chained(const std::string& name) const { return plan::is_chained_name(name, m_apex, m_prefix); }

  std::string m_apex;
  std::string m_prefix;
  std::map<std::string, std::vector<std::string>> m_state;
  std::set<std::string> m_visited;
  Reading m_reading;
};

std::string joined_list(const std::vector<std::string>& items, std::size_t limit) {
  std::string out;
  for (std::size_t i = 0; i < items.size() && i < limit; ++i) out += (i ? ", " : "") + items[i];
  if (items.size() > limit) out += " and " + std::to_string(items.size() - limit) + " more";
  return out;
}

// The terms whose match depends on more than the address that can pass somewhere in `map`, and
// opaque redirect= targets: ids of PolicyMapper::term_text.
std::set<std::uint32_t> opaque_passes(const plan::PolicyMapper& mapper, const plan::PolicyMap& map) {
  std::set<std::uint32_t> seen_lists, out;
  for (const net::Family family : {net::Family::v4, net::Family::v6})
    for (const auto& segment : map.segments(family)) {
      const plan::Outcome& outcome = segment.value;
      if (outcome.redirect) out.insert(outcome.redirect);
      if (outcome.guards == 0 || !seen_lists.insert(outcome.guards).second) continue;
      for (const plan::Guard& guard : mapper.guards(outcome.guards))
        if (guard.qualifier == Qualifier::pass) out.insert(guard.term);
    }
  return out;
}

// "203.0.113.1 (ip4:203.0.113.1)": a lost block with the published terms that passed it.
std::string lost_block(const net::Cidr& block, const plan::PublishedPolicy& published) {
  net::IpSet lost;
  lost.add(block);
  std::string from;
  const spf::Record& record = *published.record;
  for (std::size_t i = 0; i < record.terms.size() && i < published.map.terms.size(); ++i) {
    const plan::TermMap& term = published.map.terms[i];
    net::IpSet matched;
    if (const Mechanism* m = record.terms[i].mechanism()) {
      if (m->qualifier != Qualifier::pass) continue;
      matched = m->kind == MechanismKind::all ? net::IpSet::everything() : term.addresses;
    } else if (term.target) {  // a redirect= that applies: what its target passes
      matched = term.target->pass;
    }
    matched.intersect(lost);
    if (!matched.empty()) from += (from.empty() ? "" : ", ") + spf::to_string(record.terms[i]);
  }
  const bool host = block.prefix == block.network.bits();
  return (host ? block.network.to_string() : block.to_string()) + (from.empty() ? "" : " (" + from + ")");
}

}  // namespace

DomainSafety check_domain(plan::PolicyMapper& mapper, std::string_view domain, std::string_view chain_prefix,
                          const plan::TxtState& before, const plan::TxtState& after) {
  DomainSafety safety;
  const std::string apex = dns::normalize_name(domain);
  const std::string prefix = util::lowercase(chain_prefix);
  Reading old_policy = Reader(apex, prefix, before).read();
  if (!old_policy.comparable) old_policy = Reading{true, std::nullopt, true};  // nothing, or permerror
  const Reading new_policy = Reader(apex, prefix, after).read();
  if (old_policy.all_known && new_policy.all_known && strength(new_policy.all) < strength(old_policy.all))
    safety.problems.push_back("weakens its final 'all' from " + all_text(old_policy.all) + " to " +
                              all_text(new_policy.all));

  const plan::PublishedPolicy published = plan::evaluate_state(mapper, apex, before);
  if (!published.record) return safety;  // no single SPF record that parses: it authorises nothing
  if (!published.map.ok()) {
    safety.problems.push_back("cannot tell what the published record authorises (" + published.map.error +
                              "), so it cannot tell what the new one stops authorising");
    return safety;
  }
  const plan::PublishedPolicy planned = plan::evaluate_state(mapper, apex, after);
  if (!planned.map.ok()) return safety;  // not publishable at all: the re-proof refuses it

  // What the published policy passes through its terms; a final +all names no sender.
  net::IpSet named;
  for (std::size_t i = 0; i < published.record->terms.size() && i < published.map.terms.size(); ++i) {
    const plan::TermMap& term = published.map.terms[i];
    const Mechanism* m = published.record->terms[i].mechanism();
    if (m && m->qualifier == Qualifier::pass && m->kind != MechanismKind::all) named.add(term.addresses);
    if (!m && term.target) named.add(term.target->pass);
  }
  net::IpSet lost = published.map.pass;
  lost.intersect(named);
  lost.subtract(planned.map.pass);
  std::vector<std::string> dropped;
  for (const net::Cidr& block : lost.to_cidrs()) dropped.push_back(lost_block(block, published));
  const std::set<std::uint32_t> kept = opaque_passes(mapper, planned.map.map);
  for (std::uint32_t term : opaque_passes(mapper, published.map.map))
    if (!kept.contains(term)) dropped.push_back(mapper.term_text(term));
  if (!dropped.empty())
    safety.problems.push_back("stops authorising " + joined_list(dropped, 12) +
                              ", which the published record authorises");
  return safety;
}

}  // namespace spfctl::apply
