// A planned domain's changes laid onto what its provider publishes at the moment of applying.
//
// A plan is reviewed, then applied later, maybe from a file. Between the two, people and other
// tools may change DNS. Rebasing checks that every name the plan changes still holds exactly the SPF
// values the plan was made against, and rewrites each change's `before` and `others` from the fresh
// read, so adapters compare and write back what is published now, byte for byte.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "plan/diff.hpp"
#include "plan/proof.hpp"
#include "publish/records.hpp"

namespace spfctl::apply {

struct Rebased {
  // The changes, in the same order, with `before` and `others` as published now. Empty when there
  // is drift.
  std::vector<publish::Change> changes;
  // One line per drifted name: what the plan expected there and what is published now. Empty when
  // the plan still applies.
  std::vector<std::string> drift;

  bool ok() const { return drift.empty(); }
};

// Rebases `planned` (one domain's changes, in plan order) onto `live`, which must hold every name
// the changes touch and every name of `records`. `records` are the SPF records the plan publishes
// (PlannedDomain::records; may be empty for plans that do not list them): those at names no change
// touches must be published as planned, or that is drift too. Values are compared as plan files
// store them (plan::as_plan_text), so a plan read back from JSON matches what it was made from.
Rebased rebase(const std::vector<publish::Change>& planned, const plan::LiveRecords& live,
               const std::vector<plan::DesiredRecord>& records = {});

// True when `live` already publishes what `planned` leads to: every record of `records` alone (as
// the only SPF value at its name, with the TTL its change sets), and no SPF value at a name the plan
// deletes from. A saved plan that an interrupted or partly failed run applied to some domains is
// then done for those, not stale. False without `records` (nothing to compare).
bool already_applied(const std::vector<publish::Change>& planned, const plan::LiveRecords& live,
                     const std::vector<plan::DesiredRecord>& records);

// SPF values for messages: "'v=spf1 a -all' and 'v=spf1 mx -all'", or "no SPF record".
std::string describe_spf_values(const std::vector<std::string>& values);

// Every TXT value at each name of `live` once `changes` are applied over it (a name the changes
// empty is kept, with no values): what the re-proof and the safety checks evaluate. Names the
// changes do not touch keep their live values.
plan::TxtState published_after(const plan::LiveRecords& live, const std::vector<publish::Change>& changes);

// The SPF values (joined) at each name once `changes` are applied over `live`, sorted: what
// verification expects to read back. Names left without SPF values are left out.
std::map<std::string, std::vector<std::string>> expected_spf(const plan::LiveRecords& live,
                                                             const std::vector<publish::Change>& changes);

}  // namespace spfctl::apply
