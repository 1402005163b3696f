#include "plan/diff.hpp"

#include <algorithm>
#include <cctype>
#include <functional>
#include <map>
#include <optional>
#include <set>

#include "dns/resolver.hpp"
#include "spf/select.hpp"
#include "util/text.hpp"

namespace spfctl::plan {

using publish::Change;
using publish::TxtValue;

namespace {

std::string lower(std::string_view text) {
  std::string out(text);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

}  // namespace

bool is_chained_name(std::string_view name, std::string_view domain, std::string_view prefix) {
  if (name.size() <= prefix.size() + domain.size() + 1 || !name.starts_with(prefix) ||
      !name.ends_with(domain) || name[name.size() - domain.size() - 1] != '.')
    return false;
  const std::string_view number = name.substr(prefix.size(), name.size() - domain.size() - 1 - prefix.size());
  return !number.empty() && number.front() != '0' && std::all_of(number.begin(), number.end(), [](char c) {
    return std::isdigit(static_cast<unsigned char>(c));
  });
}

std::vector<TxtValue> LiveRecords::spf_values(const std::string& name) const {
  std::vector<TxtValue> out;
  if (const auto it = sets.find(name); it != sets.end())
    for (const TxtValue& value : it->second.values)
      if (spf::is_spf_record(value.joined())) out.push_back(value);
  return out;
}

std::vector<TxtValue> LiveRecords::other_values(const std::string& name) const {
  std::vector<TxtValue> out;
  if (const auto it = sets.find(name); it != sets.end())
    for (const TxtValue& value : it->second.values)
      if (!spf::is_spf_record(value.joined())) out.push_back(value);
  return out;
}

std::vector<std::string> chained_targets(std::string_view value, std::string_view domain,
                                         std::string_view chain_prefix) {
  const std::string apex = dns::normalize_name(domain);
  const std::string prefix = lower(chain_prefix);
  std::vector<std::string> targets;
  std::size_t start = 0;
  while (start < value.size()) {
    std::size_t end = value.find(' ', start);
    if (end == std::string_view::npos) end = value.size();
    std::string term = lower(value.substr(start, end - start));
    start = end + 1;
    if (!term.empty() && std::string_view("+-~?").find(term.front()) != std::string_view::npos)
      term.erase(0, 1);
    std::string target;
    if (term.starts_with("include:")) {
      target = term.substr(8);
    } else if (term.starts_with("redirect=")) {
      target = term.substr(9);
    } else {
      continue;
    }
    target = dns::normalize_name(target);
    if (is_chained_name(target, apex, prefix) &&
        std::find(targets.begin(), targets.end(), target) == targets.end())
      targets.push_back(target);
  }
  return targets;
}

void read_managed(LiveRecords& live, std::string_view domain, std::string_view chain_prefix,
                  const std::vector<std::string>& wanted, const ListFunction& list) {
  const std::string apex = dns::normalize_name(domain);
  std::vector<std::string> pending = {apex};
  for (const std::string& name : wanted) pending.push_back(dns::normalize_name(name));
  while (true) {
    std::vector<std::string> to_read;
    for (const std::string& name : pending)
      if (!live.sets.contains(name) && std::find(to_read.begin(), to_read.end(), name) == to_read.end())
        to_read.push_back(name);
    if (to_read.empty()) return;
    std::vector<publish::TxtRecordSet> sets = list(to_read);
    for (const std::string& name : to_read) live.sets[name] = publish::TxtRecordSet{name, 0, {}, {}};
    for (publish::TxtRecordSet& set : sets) {
      set.name = dns::normalize_name(set.name);
      live.sets[set.name] = std::move(set);
    }
    pending.clear();
    for (const std::string& name : to_read)
      for (const TxtValue& value : live.spf_values(name))
        for (std::string& target : chained_targets(value.joined(), apex, chain_prefix))
          pending.push_back(std::move(target));
  }
}

DomainDiff diff_domain(const DomainPlan& plan, std::uint32_t ttl, std::string_view chain_prefix,
                       const LiveRecords& live) {
  DomainDiff diff;
  if (plan.records.empty()) return diff;
  const std::string apex = dns::normalize_name(plan.domain);

  std::map<std::string, const DesiredRecord*> desired;
  std::set<std::string> referenced;  // chained names the desired records point to
  for (const DesiredRecord& record : plan.records) {
    desired[record.name] = &record;
    for (std::string& target : chained_targets(record.value(), apex, chain_prefix))
      referenced.insert(std::move(target));
  }

  // A chained record is written before the records that point to it, so no published record ever
  // points to a name that is not there yet.
  std::vector<const DesiredRecord*> order;
  std::set<std::string> visited;
  std::function<void(const DesiredRecord&)> visit = [&](const DesiredRecord& record) {
    if (!visited.insert(record.name).second) return;
    for (const std::string& target : chained_targets(record.value(), apex, chain_prefix))
      if (const auto it = desired.find(target); it != desired.end() && target != plan.records.front().name)
        visit(*it->second);
    order.push_back(&record);
  };
  visited.insert(plan.records.front().name);
  for (std::size_t i = 1; i < plan.records.size(); ++i) visit(plan.records[i]);
  order.push_back(&plan.records.front());

  auto live_ttl = [&](const std::string& name) {
    const auto it = live.sets.find(name);
    return it == live.sets.end() ? ttl : it->second.ttl;
  };

  // Deletes every SPF value at `name` but the one at `keep` (none: all), each change carrying the
  // values that stay.
  auto delete_values = [&](const std::string& name, const std::vector<TxtValue>& spf,
                           std::optional<std::size_t> keep) {
    std::vector<bool> gone(spf.size(), false);
    for (std::size_t j = 0; j < spf.size(); ++j) {
      if (keep && j == *keep) continue;
      gone[j] = true;
      Change change;
      change.action = Change::Action::remove;
      change.name = name;
      change.ttl = live_ttl(name);
      change.before = spf[j];
      change.others = live.other_values(name);
      for (std::size_t k = 0; k < spf.size(); ++k)
        if (!gone[k]) change.others.push_back(spf[k]);
      diff.changes.push_back(std::move(change));
    }
  };

  for (const DesiredRecord* record : order) {
    const std::string& name = record->name;
    const TxtValue wanted{record->strings};
    const std::vector<TxtValue> spf = live.spf_values(name);
    if (spf.empty()) {
      Change change;
      change.action = Change::Action::create;
      change.name = name;
      change.ttl = ttl;
      change.after = wanted;
      change.others = live.other_values(name);
      diff.changes.push_back(std::move(change));
      continue;
    }
    std::size_t keep = 0;
    for (std::size_t j = 0; j < spf.size(); ++j)
      if (spf[j].joined() == record->value()) {
        keep = j;
        break;
      }
    if (spf.size() > 1) {
      diff.notes.push_back(std::to_string(spf.size()) + " SPF records at " + name +
                           " (receivers fail them all with permerror): keeping one, deleting " +
                           std::to_string(spf.size() - 1));
      delete_values(name, spf, keep);
    }
    if (spf[keep].joined() != record->value() || live_ttl(name) != ttl) {
      Change change;
      change.action = Change::Action::update;
      change.name = name;
      change.ttl = ttl;
      change.before = spf[keep];
      change.after = wanted;
      change.others = live.other_values(name);
      diff.changes.push_back(std::move(change));
    }
  }

  for (const auto& [name, set] : live.sets) {
    if (desired.contains(name) || referenced.contains(name) ||
        !is_chained_name(name, apex, lower(chain_prefix)))
      continue;
    const std::vector<TxtValue> spf = live.spf_values(name);
    if (spf.empty()) continue;
    diff.notes.push_back("deleting " + name + ": nothing published points to it any more");
    delete_values(name, spf, std::nullopt);
  }
  return diff;
}

std::string check_capabilities(const DomainPlan& plan, std::uint32_t ttl,
                               const publish::Capabilities& capabilities) {
  if (ttl < capabilities.min_ttl || ttl > capabilities.max_ttl)
    return "ttl " + std::to_string(ttl) + " is outside what the provider accepts (" +
           std::to_string(capabilities.min_ttl) + " to " + std::to_string(capabilities.max_ttl) +
           "): set ttl within that range";
  for (const DesiredRecord& record : plan.records) {
    const std::string value = record.value();
    if (value.size() > capabilities.max_value_bytes)
      return "the record at " + util::quoted(record.name) + " has " + std::to_string(value.size()) +
             " bytes; the provider stores at most " + std::to_string(capabilities.max_value_bytes);
    // A provider that stores one string per value stores the whole value in it.
    if (!capabilities.multi_string && value.size() > capabilities.max_string_bytes)
      return "the record at " + util::quoted(record.name) + " has " + std::to_string(value.size()) +
             " bytes; the provider stores one string of at most " +
             std::to_string(capabilities.max_string_bytes) + " bytes per value";
    for (const std::string& s : record.strings)
      if (s.size() > capabilities.max_string_bytes)
        return "a string of the record at " + util::quoted(record.name) + " has " + std::to_string(s.size()) +
               " bytes; the provider stores strings of at most " +
               std::to_string(capabilities.max_string_bytes);
  }
  return "";
}

}  // namespace spfctl::plan
