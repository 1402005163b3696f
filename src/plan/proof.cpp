#include "plan/proof.hpp"

#include <algorithm>

#include "config/checks.hpp"
#include "dns/message_size.hpp"
#include "dns/overlay_resolver.hpp"
#include "plan/split.hpp"
#include "spf/counts.hpp"
#include "spf/expansion.hpp"
#include "spf/parser.hpp"
#include "spf/select.hpp"

namespace spfctl::plan {

namespace {

// Reads the SPF record at `name` in `overlay` as receivers will, into `out.record`; otherwise says
// why there is none to evaluate, about "the record" or "the planned record" (`what`).
std::string read_record(dns::OverlayResolver& overlay, const std::string& name, const std::string& what,
                        PublishedPolicy& out) {
  const spf::SelectedRecord selected = spf::select_record(overlay.query(name, dns::RrType::TXT), name);
  out.map.selection = selected.outcome;
  if (selected.outcome != spf::Selection::found)
    return "receivers would not find " + what + ": " + selected.message;
  const spf::ParseResult parsed = spf::parse_record(selected.text);
  if (!parsed)
    return what + " for " + name +
           " does not parse: " + spf::format_parse_error(selected.text, parsed.error());
  out.record = parsed.record();
  return {};
}

// Why `state` cannot be carried by DNS within `settings` ("" when it can).
std::string size_problem(const TxtState& state, const FlattenSettings& settings) {
  for (const auto& [name, values] : state) {
    for (const auto& strings : values)
      for (const std::string& s : strings)
        if (s.size() > dns::k_max_character_string)
          return "a string at " + name + " is " + std::to_string(s.size()) + " bytes, over DNS's 255";
    const std::size_t answer = dns::txt_response_size(name, values);
    if (answer > settings.max_answer_bytes)
      return "the TXT answer at " + name + " would be " + std::to_string(answer) +
             " bytes, over the limit of " + std::to_string(settings.max_answer_bytes);
  }
  return {};
}

}  // namespace

TxtState published_state(const std::vector<DesiredRecord>& records,
                         const std::vector<std::vector<std::string>>& other_txt) {
  TxtState state;
  if (records.empty()) return state;
  state[dns::normalize_name(records.front().name)] = other_txt;
  for (const DesiredRecord& record : records)
    state[dns::normalize_name(record.name)].push_back(record.strings);
  return state;
}

PublishedPolicy evaluate_state(PolicyMapper& mapper, std::string_view domain, const TxtState& state) {
  PublishedPolicy out;
  const std::string name = dns::normalize_name(domain);
  dns::OverlayResolver overlay(mapper.snapshot(), state);
  if (std::string error = read_record(overlay, name, "the record", out); !error.empty()) {
    out.map.error = std::move(error);
    return out;
  }
  out.map = mapper.evaluate(*out.record, name, overlay);
  return out;
}

Proof prove(PolicyMapper& mapper, std::string_view domain, const PolicyMap& policy, const TxtState& state,
            const FlattenSettings& settings) {
  Proof proof;
  const std::string name = dns::normalize_name(domain);
  if (!state.contains(name)) {
    proof.error = "the planned records do not start with the record at " + name;
    return proof;
  }
  if (std::string problem = size_problem(state, settings); !problem.empty()) {
    proof.error = "the planned records do not fit DNS: " + problem;
    return proof;
  }
  dns::OverlayResolver overlay(mapper.snapshot(), state);
  PublishedPolicy planned;
  if (std::string error = read_record(overlay, name, "the planned record", planned); !error.empty()) {
    proof.error = std::move(error);
    return proof;
  }
  planned.map = mapper.evaluate(*planned.record, name, overlay);
  if (!planned.map.ok()) {
    proof.error = "the planned records cannot be evaluated: " + planned.map.error;
    return proof;
  }
  if (!policy.equal(planned.map.map)) {
    proof.differences = describe_differences(mapper, policy, planned.map.map, 3);
    proof.error = "the planned records are not equivalent to the policy: ";
    for (std::size_t i = 0; i < proof.differences.size(); ++i)
      proof.error += (i ? "; " : "") + proof.differences[i];
    return proof;
  }

  // Kept includes are snapshot records the mapper has already walked, with the counts the
  // expansion tree would find; only the planned records themselves need expanding again.
  spf::ExpandOptions options;
  const std::vector<std::string> shadowed = overlay.names();
  options.known_subtree = [&](const std::string& target) -> std::optional<spf::SubtreeCounts> {
    if (overlay.overlays(target)) return std::nullopt;
    const auto known = mapper.published(target);
    if (!known->ok()) return std::nullopt;
    for (const std::string& read : known->txt_names)
      if (std::binary_search(shadowed.begin(), shadowed.end(), read)) return std::nullopt;
    return spf::SubtreeCounts{known->lookups, known->void_lookups};
  };
  const spf::ExpansionTree expansion = spf::expand(overlay, name, options);
  if (expansion.incomplete) {
    proof.error = "the lookups of the planned records cannot be counted: a DNS question failed";
    return proof;
  }
  proof.lookups = expansion.root.lookups;
  proof.void_lookups = expansion.root.void_lookups;
  if (proof.lookups > settings.lookup_budget || proof.void_lookups > settings.void_lookup_budget) {
    proof.error = "the planned records cost receivers " + spf::count_text(proof.lookups) +
                  " DNS lookups and " + spf::count_text(proof.void_lookups) +
                  " void lookups, over the budgets of " + std::to_string(settings.lookup_budget) + " and " +
                  std::to_string(settings.void_lookup_budget);
    return proof;
  }
  proof.equivalent = true;
  return proof;
}

Proof prove(PolicyMapper& mapper, std::string_view domain, const PolicyMap& policy,
            const std::vector<DesiredRecord>& records, const std::vector<std::vector<std::string>>& other_txt,
            const FlattenSettings& settings) {
  if (records.empty() || dns::normalize_name(records.front().name) != dns::normalize_name(domain)) {
    Proof proof;
    proof.error = "the planned records do not start with the record at " + dns::normalize_name(domain);
    return proof;
  }
  return prove(mapper, domain, policy, published_state(records, other_txt), settings);
}

std::vector<std::string> wide_ranges(const RecordMap& policy, const spf::Record& intended) {
  // Where the policy ends in pass, whatever conditions come first ("fail if exists:... matches,
  // otherwise pass" passes the rest of the internet), and where a sender it includes does: such an
  // include is a condition here, but the sender passes those addresses. (A pass that only a
  // condition gives, as in "pass if exists:%{i}.list matches, otherwise fail", is the
  // condition's to limit.)
  const auto ends_in_pass = [](const Outcome& o) { return o.result == spf::Result::pass; };
  std::vector<net::IpSet> by_term(intended.terms.size());
  net::IpSet passing = policy.map.ranges_where(ends_in_pass);
  for (std::size_t i = 0; i < intended.terms.size() && i < policy.terms.size(); ++i) {
    const TermMap& term = policy.terms[i];
    const spf::Mechanism* m = intended.terms[i].mechanism();
    if (m && m->qualifier != spf::Qualifier::pass) continue;
    by_term[i] = term.addresses;
    if (m && m->kind == spf::MechanismKind::all) by_term[i] = net::IpSet::everything();
    if (term.target) {
      by_term[i].add(term.target->map.ranges_where(ends_in_pass));
      passing.add(term.target->map.ranges_where(ends_in_pass));
    }
  }
  std::vector<std::string> out;
  for (const net::Cidr& block : passing.to_cidrs()) {
    const int widest = block.network.is_v4() ? config::k_min_ip4_prefix : config::k_min_ip6_prefix;
    if (block.prefix >= widest) continue;
    net::IpSet wide;
    wide.add(block);
    std::string from;
    for (std::size_t i = 0; i < by_term.size(); ++i) {
      net::IpSet matched = by_term[i];
      matched.intersect(wide);
      if (!matched.empty()) from += (from.empty() ? "" : ", ") + spf::to_string(intended.terms[i]);
    }
    out.push_back(block.to_string() + (from.empty() ? "" : " (" + from + ")"));
  }
  return out;
}

std::string wide_ranges_text(const RecordMap& policy, const spf::Record& intended) {
  constexpr std::size_t k_shown = 4;
  const std::vector<std::string> wide = wide_ranges(policy, intended);
  std::string out;
  for (std::size_t i = 0; i < wide.size() && i < k_shown; ++i)
    out += (i == 0 ? "" : i + 1 == wide.size() ? " and " : ", ") + wide[i];
  if (wide.size() > k_shown) out += " and " + std::to_string(wide.size() - k_shown) + " more";
  return out;
}

}  // namespace spfctl::plan
