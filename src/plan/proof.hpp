// The proof that a planned record set means what the policy means: both evaluated over the same
// DNS snapshot as PolicyMaps and compared for every IPv4 and IPv6 address.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "plan/desired.hpp"
#include "plan/policy_map.hpp"

namespace spfctl::plan {

struct Proof {
  bool equivalent = false;
  // Set when the records could not be evaluated or are not equivalent; then `differences` lists up
  // to three ranges where they differ, with both outcomes.
  std::string error;
  std::vector<std::string> differences;
  // What receivers spend on the published set, counted by the expansion tree (spf::expand) over
  // the records as they will be published.
  int lookups = 0;
  int void_lookups = 0;
};

// Evaluates `records` (records[0] at `domain`, then its chained records) as if published, with
// `other_txt` beside records[0], over the mapper's snapshot for every other name, and compares the
// result with `policy`, the map of the intended policy of `domain` from the same mapper.
Proof prove(PolicyMapper& mapper, std::string_view domain, const PolicyMap& policy,
            const std::vector<DesiredRecord>& records,
            const std::vector<std::vector<std::string>>& other_txt);

}  // namespace spfctl::plan
