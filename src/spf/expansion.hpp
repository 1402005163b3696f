// The expansion tree of a published SPF policy: every record a receiver may fetch while
// evaluating it (include and redirect targets, recursively), with lookups counted as RFC 7208 4.6.4
// counts them, void lookups, sizes and problems. It is what `check` shows and what the planner
// counts before and after flattening. It does not depend on the client address: terms whose
// target depends on macros are counted, reported, and not followed.
//
// Include graphs are DAGs: a target reached a second time is not expanded again. Its node repeats
// the counts of the first expansion and says where that is, so time and memory grow with the
// records, not with the paths through them; counts saturate (spf/counts.hpp).
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
std::string_view to_string(Severity severity);

struct Problem {
  Severity severity = Severity::error;
  std::string domain;   // the record the problem was found in
  std::string message;  // lowercase, specific: "'include:foo.example' at example.com: foo.example ..."
};

// One term of a record that costs a DNS lookup (include a mx ptr exists, and a redirect= that
// applies), in record order, redirect= last.
struct TermLookups {
  std::string text;      // the term as printed: "mx", "include:_spf.example.com", "redirect=x"
  int lookups = 1;       // 1 for the term, plus every lookup below an include or redirect target
  int void_lookups = 0;  // the term's own void lookups plus those below its target
  bool macro = false;    // the target depends on macros: counted, not followed
  bool loop = false;     // include/redirect back to a record being expanded: counted, not followed
  bool cut = false;      // not followed: nested deeper than k_max_nesting, or the walk read
                         // k_max_questions_per_walk DNS questions; counted as over every limit
  std::optional<std::size_t> child;  // the target's node in ExpansionNode::children
};

struct ExpansionNode {
  std::string domain;  // the name whose TXT records were read
  std::string via;     // the term that led here ("include:x", "redirect=x"); empty for the root
  // Set when this target was expanded before elsewhere in the tree: the domain of the record under
  // which it was (the first occurrence). Such a node has the first one's counts and no terms.
  std::string repeat_of;
  Selection selection = Selection::none;
  std::string record_text;               // the SPF record when found
  std::vector<std::string> spf_records;  // every SPF record at the name (several: a permerror)
  std::optional<Record> record;          // when found and parsed
  std::optional<ParseError> parse_error;
  dns::Answer txt;                 // the whole TXT answer at `domain` (for sizes)
  std::size_t response_size = 0;   // the TXT response on the wire, all TXT records at the name
  int own_lookups = 0;             // lookup-costing terms in this record, redirect= included
  int lookups = 0;                 // own_lookups plus every child's `lookups` (saturating)
  int void_lookups = 0;            // void answers to this record's questions (its own TXT question
                                   // when reached through include/redirect) plus every child's
  std::vector<TermLookups> terms;  // the lookup-costing terms, as listed above
  std::vector<ExpansionNode> children;

  // The number of character-strings the SPF record is published as (0 when none was found).
  std::size_t string_count() const;
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

struct ExpansionTree {
  ExpansionNode root;
  std::vector<Problem> problems;  // every problem found anywhere in the tree, in tree order
  bool healthy() const { return problems.empty(); }
  // True when a DNS question failed (SERVFAIL, timeout): the tree is incomplete.
  bool incomplete = false;
};

// Fetches and expands the policy published at `domain`. Never throws for DNS or record problems:
// they are reported as problems, each saying what receivers do about it:
// - errors: no SPF record; several SPF records; a record that does not parse; an include or
//   redirect target that does not exist or has no (or several) SPF records; an include loop; more
//   than `lookup_limit` lookups or `void_limit` void lookups in the whole tree; an MX set of more
//   than 10 names; "+all"; a TXT string over 255 bytes; a failed DNS question (temperror);
// - warnings: ptr (RFC 7208 5.5); "?all" or a missing "all" in the record that decides the policy
//   (the root, or a redirect target of it); a redirect= made useless by "all"; a/mx targets
//   without addresses; a TXT answer over `max_answer_bytes` at `domain` or a name under it (the
//   names its owner publishes; other parties' oversized answers are not reported).
// Lookups are counted as receivers count them (RFC 7208 4.6.4): include, a, mx, ptr, exists and an
// applying redirect= cost one each, wherever they are in the tree; the same include reached twice
// counts twice (shown once: see ExpansionNode::repeat_of). Void lookups are questions a term asks
// that answer NXDOMAIN or no records. Counts saturate at spf::k_count_ceiling.
ExpansionTree expand(dns::Resolver& resolver, std::string_view domain, const ExpandOptions& options = {});

}  // namespace spfctl::spf
