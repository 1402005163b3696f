// The expansion tree of a published SPF policy: every record a receiver may fetch while
// evaluating it (include and redirect targets, recursively), with lookups counted as RFC 7208 4.6.4
// counts them, void lookups, sizes and problems. It is what `check` shows and what the planner
// counts before and after flattening. It does not depend on the client address: terms whose
// target depends on macros are reported, not followed.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "dns/resolver.hpp"
#include "spf/parser.hpp"
#include "spf/record.hpp"
#include "spf/select.hpp"

namespace spfctl::spf {

enum class Severity : std::uint8_t { error, warning };

struct Problem {
  Severity severity = Severity::error;
  std::string domain;   // the record the problem was found in
  std::string message;  // lowercase, specific: "include:foo.example has no SPF record"
};

struct ExpansionNode {
  std::string domain;  // the name whose TXT records were read
  std::string via;     // the term that led here ("include:x", "redirect=x"); empty for the root
  Selection selection = Selection::none;
  std::string record_text;       // the SPF record when found
  std::optional<Record> record;  // when found and parsed
  std::optional<ParseError> parse_error;
  dns::Answer txt;                       // the whole TXT answer at `domain` (for sizes)
  std::size_t response_size = 0;         // the TXT response on the wire, all TXT records at the name
  int own_lookups = 0;                   // DNS-querying terms in this record, redirect= included
  int lookups = 0;                       // own_lookups plus every child's `lookups`
  int void_lookups = 0;                  // this record's void lookups plus every child's
  std::vector<std::string> macro_terms;  // terms not followed: their target depends on macros
  std::vector<ExpansionNode> children;
};

// The counts of a whole subtree, as ExpansionNode::lookups and void_lookups give them.
struct SubtreeCounts {
  int lookups = 0;
  int void_lookups = 0;
};

struct ExpandOptions {
  int lookup_limit = 10;
  int void_limit = 2;
  std::size_t max_answer_bytes = 512;
  // When set, asked before an include or redirect= target is fetched: counts it returns for the
  // target's whole (healthy) subtree make the node a leaf with those counts, found but not read
  // again. Lets a caller that expanded the same records over the same snapshot before (the
  // planner, counting thousands of domains that include the same senders) skip the work.
  std::function<std::optional<SubtreeCounts>(const std::string& name)> known_subtree;
};

struct Expansion {
  ExpansionNode root;
  std::vector<Problem> problems;  // every problem found anywhere in the tree, in tree order
  bool healthy() const { return problems.empty(); }
  // True when a DNS question failed (SERVFAIL, timeout): the tree is incomplete.
  bool incomplete = false;
};

// Fetches and expands the policy published at `domain`. Never throws for DNS or record problems:
// they are reported as problems. Include loops are cut and reported.
Expansion expand(dns::Resolver& resolver, std::string_view domain, const ExpandOptions& options = {});

}  // namespace spfctl::spf
