#include "apply/rebase.hpp"

#include <algorithm>
#include <set>

#include "plan/plan_file.hpp"
#include "spf/select.hpp"

namespace spfctl::apply {

using publish::Change;
using publish::TxtValue;

namespace {

std::string comparable(const TxtValue& value) {
  return plan::as_plan_text(value.joined());
}

// The names `changes` touch, in first-touched order.
std::vector<std::string> touched_names(const std::vector<Change>& changes) {
  std::vector<std::string> names;
  for (const Change& change : changes)
    if (std::find(names.begin(), names.end(), change.name) == names.end()) names.push_back(change.name);
  return names;
}

// The index in `values` of the SPF value equal to `wanted`, or values.size().
std::size_t find_spf(const std::vector<TxtValue>& values, const TxtValue& wanted) {
  const std::string target = comparable(wanted);
  for (std::size_t i = 0; i < values.size(); ++i)
    if (spf::is_spf_record(values[i].joined()) && comparable(values[i]) == target) return i;
  return values.size();
}

}  // namespace

std::string describe_spf_values(const std::vector<std::string>& values) {
  if (values.empty()) return "no SPF record";
  std::string out;
  for (const std::string& value : values) out += (out.empty() ? "" : " and ") + ("'" + value + "'");
  return out;
}

Rebased rebase(const std::vector<Change>& planned, const plan::LiveRecords& live,
               const std::vector<plan::DesiredRecord>& records) {
  Rebased result;
  for (const std::string& name : touched_names(planned)) {
    // The plan was made against the SPF values its first change at the name saw: the one it
    // replaces and those it carried along. A plan deleting an extra SPF value carries the one it
    // keeps unchanged only there, since no change replaces that one.
    const Change& first = *std::find_if(planned.begin(), planned.end(),
                                        [&](const Change& change) { return change.name == name; });
    std::vector<std::string> expected;
    if (first.before) expected.push_back(comparable(*first.before));
    for (const TxtValue& other : first.others)
      if (spf::is_spf_record(other.joined())) expected.push_back(comparable(other));
    std::vector<std::string> published;
    for (const TxtValue& value : live.spf_values(name)) published.push_back(comparable(value));
    std::vector<std::string> expected_sorted = expected;
    std::vector<std::string> published_sorted = published;
    std::sort(expected_sorted.begin(), expected_sorted.end());
    std::sort(published_sorted.begin(), published_sorted.end());
    if (expected_sorted != published_sorted)
      result.drift.push_back(name + ": the plan was made against " + describe_spf_values(expected) +
                             "; published now: " + describe_spf_values(published));
  }
  const std::vector<std::string> touched = touched_names(planned);
  for (const plan::DesiredRecord& record : records) {
    if (std::find(touched.begin(), touched.end(), record.name) != touched.end()) continue;
    std::vector<std::string> published;
    for (const TxtValue& value : live.spf_values(record.name)) published.push_back(comparable(value));
    const std::string wanted = plan::as_plan_text(record.value());
    if (published != std::vector<std::string>{wanted})
      result.drift.push_back(record.name + ": the plan leaves '" + wanted +
                             "' there as it was; published now: " + describe_spf_values(published));
  }
  if (!result.ok()) return result;

  std::map<std::string, std::vector<TxtValue>> current;
  for (const std::string& name : touched_names(planned)) {
    const auto it = live.sets.find(name);
    current[name] = it == live.sets.end() ? std::vector<TxtValue>{} : it->second.values;
  }
  for (const Change& change : planned) {
    std::vector<TxtValue>& values = current[change.name];
    Change rebased = change;
    std::size_t at = values.size();
    if (change.before) {
      at = find_spf(values, *change.before);
      if (at == values.size()) {
        // Only a plan that replaces one value twice gets here; the drift check saw the first.
        result.drift.push_back(change.name + ": the plan replaces '" + comparable(*change.before) +
                               "' more than once");
        result.changes.clear();
        return result;
      }
      rebased.before = values[at];
    }
    rebased.others.clear();
    for (std::size_t i = 0; i < values.size(); ++i)
      if (i != at) rebased.others.push_back(values[i]);
    switch (change.action) {
      case Change::Action::create:
        values.push_back(*change.after);
        break;
      case Change::Action::update:
        values[at] = *change.after;
        break;
      case Change::Action::remove:
        values.erase(values.begin() + static_cast<std::ptrdiff_t>(at));
        break;
    }
    result.changes.push_back(std::move(rebased));
  }
  return result;
}

bool already_applied(const std::vector<Change>& planned, const plan::LiveRecords& live,
                     const std::vector<plan::DesiredRecord>& records) {
  if (records.empty()) return false;
  std::set<std::string> published;
  for (const plan::DesiredRecord& record : records) {
    std::vector<std::string> now;
    for (const TxtValue& value : live.spf_values(record.name)) now.push_back(comparable(value));
    if (now != std::vector<std::string>{plan::as_plan_text(record.value())}) return false;
    published.insert(record.name);
  }
  for (const Change& change : planned) {
    if (!published.contains(change.name)) {
      if (!live.spf_values(change.name).empty()) return false;  // a delete not done yet
      continue;
    }
    const auto set = live.sets.find(change.name);
    if (change.after && (set == live.sets.end() || set->second.ttl != change.ttl)) return false;
  }
  return true;
}

plan::TxtState published_after(const plan::LiveRecords& live, const std::vector<Change>& changes) {
  plan::TxtState state;
  for (const auto& [name, set] : live.sets) {
    std::vector<std::vector<std::string>>& values = state[name];
    for (const TxtValue& value : set.values) values.push_back(value.strings);
  }
  for (const Change& change : changes) {
    std::vector<std::vector<std::string>>& values = state[change.name];
    if (change.before) {
      const std::string replaced = change.before->joined();
      const auto it =
          std::find_if(values.begin(), values.end(), [&](const std::vector<std::string>& strings) {
            return TxtValue{strings}.joined() == replaced && spf::is_spf_record(replaced);
          });
      if (it != values.end()) values.erase(it);
    }
    if (change.after) values.push_back(change.after->strings);
  }
  return state;
}

std::map<std::string, std::vector<std::string>> expected_spf(const plan::LiveRecords& live,
                                                             const std::vector<Change>& changes) {
  std::map<std::string, std::vector<std::string>> out;
  for (const auto& [name, values] : published_after(live, changes)) {
    std::vector<std::string> spf;
    for (const std::vector<std::string>& strings : values)
      if (std::string joined = TxtValue{strings}.joined(); spf::is_spf_record(joined))
        spf.push_back(std::move(joined));
    std::sort(spf.begin(), spf.end());
    if (!spf.empty()) out[name] = std::move(spf);
  }
  return out;
}

}  // namespace spfctl::apply
