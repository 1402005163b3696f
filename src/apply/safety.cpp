#include "apply/safety.hpp"

#include <algorithm>
#include <optional>
#include <set>

#include "dns/resolver.hpp"
#include "net/ip_set.hpp"
#include "plan/diff.hpp"
#include "spf/parser.hpp"
#include "util/text.hpp"

namespace spfctl::apply {

namespace {

using spf::Mechanism;
using spf::MechanismKind;
using spf::Qualifier;

// What a published policy authorises, as far as apply compares it.
struct Reading {
  bool comparable = false;  // the apex holds one SPF record that parses
  std::optional<Qualifier> all;
  bool all_known = true;          // false when the final result comes from another domain (redirect=)
  std::set<std::string> senders;  // "include:sendgrid.net", "a:example.com", "redirect=other.example"
  net::IpSet addresses;           // of pass ip4: and ip6: terms
};

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

// The sender a lookup term names, as text a receiver would treat as the same: lowercase, the
// implied domain of a, mx and ptr written out, no qualifier.
std::string sender_key(Mechanism mechanism, const std::string& owner) {
  mechanism.qualifier = Qualifier::pass;
  mechanism.explicit_qualifier = false;
  if (!mechanism.domain && (mechanism.kind == MechanismKind::a || mechanism.kind == MechanismKind::mx ||
                            mechanism.kind == MechanismKind::ptr))
    mechanism.domain = owner;
  return util::lowercase(spf::to_string(mechanism));
}

class Reader {
 public:
  Reader(std::string apex, std::string prefix, const std::map<std::string, std::vector<std::string>>& state)
      : m_apex(std::move(apex)), m_prefix(std::move(prefix)), m_state(state) {}

  Reading read() {
    m_reading.comparable = visit(m_apex, true);
    return m_reading;
  }

 private:
  // Reads the record at `name`; `top`: its final 'all' is the policy's (the apex, or a redirect
  // target). False when `name` does not hold exactly one SPF record that parses.
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
      if (mechanism->kind == MechanismKind::include && mechanism->domain) {
        const std::string target = dns::normalize_name(*mechanism->domain);
        if (is_chained(target)) {
          visit(target, false);
          continue;
        }
      }
      if (mechanism->qualifier != Qualifier::pass) continue;
      if (mechanism->kind == MechanismKind::ip4 || mechanism->kind == MechanismKind::ip6) {
        const int bits = mechanism->kind == MechanismKind::ip4 ? mechanism->cidr4.value_or(32)
                                                               : mechanism->cidr6.value_or(128);
        m_reading.addresses.add(mechanism->network, bits);
      } else {
        m_reading.senders.insert(sender_key(*mechanism, name));
      }
    }
    if (has_all) return true;
    if (const spf::Modifier* redirect = record.redirect()) {
      const std::string target = dns::normalize_name(redirect->value);
      if (is_chained(target)) return visit(target, top);
      // A redirect to a sender authorises what an include of it does (and more): one sender.
      m_reading.senders.insert("include:" + util::lowercase(redirect->value));
      if (top) m_reading.all_known = false;
    }
    return true;
  }

  bool is_chained(const std::string& name) const { return plan::is_chained_name(name, m_apex, m_prefix); }

  std::string m_apex;
  std::string m_prefix;
  const std::map<std::string, std::vector<std::string>>& m_state;
  std::set<std::string> m_visited;
  Reading m_reading;
};

std::string joined_list(const std::vector<std::string>& items, std::size_t limit) {
  std::string out;
  for (std::size_t i = 0; i < items.size() && i < limit; ++i) out += (i ? ", " : "") + items[i];
  if (items.size() > limit) out += " and " + std::to_string(items.size() - limit) + " more";
  return out;
}

}  // namespace

DomainSafety check_domain(std::string_view domain, std::string_view chain_prefix,
                          const std::map<std::string, std::vector<std::string>>& before,
                          const std::map<std::string, std::vector<std::string>>& after,
                          const std::vector<std::string>& flattened) {
  DomainSafety safety;
  const std::string apex = dns::normalize_name(domain);
  const std::string prefix = util::lowercase(chain_prefix);
  const Reading old_policy = Reader(apex, prefix, before).read();
  if (!old_policy.comparable) return safety;
  const Reading new_policy = Reader(apex, prefix, after).read();

  if (old_policy.all_known && new_policy.all_known && strength(new_policy.all) < strength(old_policy.all))
    safety.problems.push_back("weakens its final 'all' from " + all_text(old_policy.all) + " to " +
                              all_text(new_policy.all));

  std::set<std::string> kept = new_policy.senders;
  for (const std::string& term : flattened) {
    const spf::ParseResult parsed = spf::parse_record("v=spf1 " + term);
    if (!parsed) continue;
    for (const spf::Term& t : parsed.record().terms)
      if (const Mechanism* mechanism = t.mechanism()) kept.insert(sender_key(*mechanism, apex));
  }
  std::vector<std::string> dropped;
  for (const std::string& sender : old_policy.senders) {
    if (kept.contains(sender)) continue;
    // Shown as written at the apex: "mx" rather than "mx:example.com".
    const std::string implied = ":" + apex;
    const bool own_name =
        sender.ends_with(implied) && sender.find('/') == std::string::npos &&
        (sender.starts_with("a:") || sender.starts_with("mx:") || sender.starts_with("ptr:"));
    dropped.push_back(own_name ? sender.substr(0, sender.size() - implied.size()) : sender);
  }
  net::IpSet uncovered = old_policy.addresses;
  uncovered.subtract(new_policy.addresses);
  if (!uncovered.empty()) {
    std::vector<std::string> blocks;
    for (const net::Cidr& cidr : uncovered.to_cidrs())
      blocks.push_back((cidr.network.is_v4() ? "ip4:" : "ip6:") + cidr.to_string());
    if (!flattened.empty()) {
      safety.notes.push_back("no longer lists " + joined_list(blocks, 8) +
                             " (flattened senders publish different addresses now)");
    } else if (!new_policy.senders.empty()) {
      // Addresses a flattened record used to list may now come through an include: or mx of the
      // new records, which this check does not resolve; the plan's proof covers the policy.
      safety.notes.push_back("no longer lists " + joined_list(blocks, 8) +
                             " as addresses (the new record's include:, a and mx terms may authorise them)");
    } else {
      dropped.insert(dropped.end(), blocks.begin(), blocks.end());
    }
  }
  if (!dropped.empty())
    safety.problems.push_back("stops authorising " + joined_list(dropped, 12) +
                              ", which the published record authorises");
  return safety;
}

}  // namespace spfctl::apply
