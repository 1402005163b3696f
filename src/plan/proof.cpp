#include "plan/proof.hpp"

#include <algorithm>
#include <map>

#include "dns/overlay_resolver.hpp"
#include "spf/expansion.hpp"
#include "spf/parser.hpp"
#include "spf/select.hpp"

namespace spfctl::plan {

Proof prove(PolicyMapper& mapper, std::string_view domain, const PolicyMap& policy,
            const std::vector<DesiredRecord>& records,
            const std::vector<std::vector<std::string>>& other_txt) {
  Proof proof;
  const std::string name = dns::normalize_name(domain);
  if (records.empty() || dns::normalize_name(records.front().name) != name) {
    proof.error = "the planned records do not start with the record at " + name;
    return proof;
  }
  std::map<std::string, std::vector<std::vector<std::string>>> published;
  published[name] = other_txt;
  for (const DesiredRecord& record : records)
    published[dns::normalize_name(record.name)].push_back(record.strings);
  dns::OverlayResolver overlay(mapper.snapshot(), published);

  // Read back as receivers will: the one SPF record among the TXT records at the domain.
  const spf::SelectedRecord selected = spf::select_record(overlay.query(name, dns::RrType::TXT), name);
  if (selected.outcome != spf::Selection::found) {
    proof.error = "receivers would not find the planned record: " + selected.message;
    return proof;
  }
  const std::string& text = selected.text;
  const spf::ParseResult parsed = spf::parse_record(text);
  if (!parsed) {
    proof.error = "the planned record for " + name +
                  " does not parse: " + spf::format_parse_error(text, parsed.error());
    return proof;
  }
  const RecordMap planned = mapper.evaluate(parsed.record(), name, overlay);
  if (!planned.ok()) {
    proof.error = "the planned records cannot be evaluated: " + planned.error;
    return proof;
  }
  if (!policy.equal(planned.map)) {
    proof.differences = describe_differences(mapper, policy, planned.map, 3);
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
  proof.equivalent = true;
  return proof;
}

}  // namespace spfctl::plan
