// What the planner decides for one domain: the TXT records spfctl should publish, and why.
#pragma once

#include <string>
#include <vector>

namespace spfctl::plan {

// One SPF record to publish: its owner name and its character-strings (each at most 255 bytes,
// split only between terms).
struct DesiredRecord {
  std::string name;  // lowercase, no trailing dot
  std::vector<std::string> strings;

  std::string value() const;  // the strings joined with no separator: the record as receivers read it
  bool operator==(const DesiredRecord&) const = default;
};

struct DomainPlan {
  std::string domain;
  // Set when the domain could not be planned (a DNS failure, a sender without SPF record, a policy
  // over budget with flatten = "off", a failed proof): no records are planned then.
  std::string error;
  std::vector<DesiredRecord> records;  // records[0] is the domain itself, then its chained records
  int lookups = 0;                     // DNS lookups a receiver spends on the published set
  int void_lookups = 0;
  int lookups_unflattened = 0;         // what the policy would cost published as written
  bool equivalent = false;             // the proof held: same result as the policy for every address
  std::vector<std::string> flattened;  // the terms replaced by addresses, e.g. "include:sendgrid.net"
  std::vector<std::string> notes;      // why: "flattened include:sendgrid.net (2 lookups, +143 bytes)"
  std::vector<std::string> warnings;   // for people; do not make the plan fail
  std::uint64_t dns_queries = 0;       // questions this domain sent through the run's cache (dns::QuestionTally)

  bool ok() const { return error.empty(); }
};

}  // namespace spfctl::plan
