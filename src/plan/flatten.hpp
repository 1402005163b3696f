// Deciding what to flatten. An include, a or mx term is flattened by putting the addresses it
// matches (its PolicyMap) in its place; terms whose match depends on more than the client address
// stay as written. "auto" keeps every include when the published set fits the lookup budget and
// otherwise flattens the fewest terms that make it fit, preferring those that add the fewest
// bytes; "full" flattens all it can; "off" flattens nothing.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "config/config.hpp"
#include "plan/desired.hpp"
#include "plan/policy_map.hpp"
#include "plan/split.hpp"
#include "spf/record.hpp"

namespace spfctl::plan {

struct FlattenSettings {
  config::FlattenMode mode = config::FlattenMode::automatic;
  int lookup_budget = config::k_max_lookups;
  int void_lookup_budget = config::k_max_void_lookups;
  std::size_t max_answer_bytes = config::k_min_answer_bytes;
  std::string chain_prefix = "_spf";
  bool allow_wide_ranges = false;  // config::DomainPolicy::allow_wide_ranges

  static FlattenSettings of(const config::DomainPolicy& policy);
};

struct IntendedRecord {
  std::optional<spf::Record> record;
  // When a term does not parse: the term, where it came from and the parser's caret message.
  std::string error;
};

// A configured domain's policy as a record: its terms in order, then 'all' with the policy's
// qualifier.
IntendedRecord intended_record(const config::DomainPolicy& policy);

// `intended` with the terms whose index is set in `flatten` (flattenable ones, see TermClass)
// replaced by their addresses. Address terms are aggregated into the fewest CIDR blocks: each run
// of one qualifier is one set, and a pass run moves forward into an earlier pass run across
// pass-qualified terms (minus what the non-pass runs in between decide). A flattened redirect=
// becomes its target's map and an 'all'. Terms after 'all', which receivers never reach, and an
// unused redirect= are dropped; other modifiers (exp=) end the record. Deterministic.
RecordTerms flattened_terms(const spf::Record& intended, const RecordMap& map,
                            const std::vector<bool>& flatten);

struct Flattening {
  std::string error;                   // no record set fits the budgets, or the records do not fit DNS
  std::vector<std::size_t> flattened;  // indexes of the flattened terms in `intended.terms`
  std::vector<DesiredRecord> records;  // the domain first, then its chained records
  std::size_t chains = 0;
  int lookups = 0;  // what the kept terms and chain includes cost receivers
  int void_lookups = 0;
  std::vector<std::string> notes;  // which terms were flattened or kept, and why
};

// Chooses what to flatten in `intended` (evaluated as `map` for `domain`) under `settings`, and lays
// the result out in records whose TXT answers, with `other_txt` at the domain, fit.
Flattening flatten(std::string_view domain, const spf::Record& intended, const RecordMap& map,
                   const FlattenSettings& settings, const std::vector<std::vector<std::string>>& other_txt);

}  // namespace spfctl::plan
