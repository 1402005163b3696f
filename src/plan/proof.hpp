// The proof that a record set may be published: it means what the policy means (both evaluated
// over the same DNS snapshot as PolicyMaps and compared for every IPv4 and IPv6 address), and it is
// within every limit RFC 7208 and the domain's settings set. The planner proves what it plans;
// apply proves again, over DNS as it is then, exactly what it is about to publish.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "plan/desired.hpp"
#include "plan/flatten.hpp"
#include "plan/policy_map.hpp"
#include "spf/record.hpp"

namespace spfctl::plan {

// TXT records as they will be published at a few names: name → every TXT value there (SPF or
// not), each as its character-strings. A name with no values has none published.
using TxtState = std::map<std::string, std::vector<std::vector<std::string>>>;

// The state `records` (records[0] at the domain, then its chained records) publish, with
// `other_txt` beside records[0].
TxtState published_state(const std::vector<DesiredRecord>& records,
                         const std::vector<std::vector<std::string>>& other_txt);

struct Proof {
  bool equivalent = false;  // equivalent and within every limit: publishable
  // Set when the records could not be evaluated, are not equivalent or break a limit; when not
  // equivalent, `differences` lists up to three ranges where they differ, with both outcomes.
  std::string error;
  std::vector<std::string> differences;
  // What receivers spend on the published set, counted by the expansion tree (spf::expand) over
  // the records as they will be published.
  int lookups = 0;
  int void_lookups = 0;
};

// Evaluates the policy `state` publishes at `domain` (`state` must hold `domain`; names it does
// not hold are read from the mapper's snapshot) and compares it with `policy`, the map of the
// intended policy of `domain` from the same mapper. Within `settings`: every string at most 255
// bytes, every TXT answer in `state` within max_answer_bytes, exactly one SPF record at `domain`
// that parses, lookups and void lookups within their budgets.
Proof prove(PolicyMapper& mapper, std::string_view domain, const PolicyMap& policy, const TxtState& state,
            const FlattenSettings& settings = {});

// The same for `records` with `other_txt` beside records[0] (published_state).
Proof prove(PolicyMapper& mapper, std::string_view domain, const PolicyMap& policy,
            const std::vector<DesiredRecord>& records, const std::vector<std::vector<std::string>>& other_txt,
            const FlattenSettings& settings = {});

struct PublishedPolicy {
  std::optional<spf::Record> record;  // the SPF record at the domain, when there is one that parses
  RecordMap map;                      // its evaluation (map.terms are record's); error set when none
};

// The policy `state` publishes at `domain`, evaluated over the mapper's snapshot for the names
// `state` does not hold: an error when there is not exactly one SPF record there that parses, or
// it cannot be evaluated.
PublishedPolicy evaluate_state(PolicyMapper& mapper, std::string_view domain, const TxtState& state);

// Breadth: the blocks wider than spfctl accepts as a sender (IPv4 shorter than /8, IPv6 shorter
// than /16, the limits of ip4 and ip6 entries) where `policy`, or a sender it includes, ends in
// pass (conditions met first included), each with the terms of `intended` it comes from:
// "0.0.0.0/0 (include:everyone.example)". Empty when there are none.
std::vector<std::string> wide_ranges(const RecordMap& policy, const spf::Record& intended);

// wide_ranges() as one phrase for messages: "0.0.0.0/0 (+all) and ::/0 (+all)"; "" when none.
std::string wide_ranges_text(const RecordMap& policy, const spf::Record& intended);

}  // namespace spfctl::plan
