// The meaning of an SPF policy as a function from client address to result, over the whole IPv4
// and IPv6 space, computed through a resolver: what flattening must keep, and what the proof
// compares.
//
// Terms whose match depends on more than the client address (a macro in a domain-spec, exists,
// ptr, an include whose target's result does) are kept exactly as opaque guards: an address's
// outcome is the ordered list of (opaque term, qualifier) met before it was decided, then the
// result reached when none of them matches. Outcomes are normalized by dropping guards whose
// qualifier gives the final result anyway (they cannot change it, DNS errors aside), so two
// policies mean the same for every sender and address exactly when their maps are equal.
//
// IPv4-mapped IPv6 clients (::ffff:0:0/96) are evaluated as IPv4 by receivers. The maps keep that
// block as ordinary IPv6 space, where ip6 terms and AAAA records put it; both sides of a comparison
// are computed the same way, and no receiver ever consults that part of a map.
//
// Evaluation fails closed: a SERVFAIL or timeout, an include or redirect= target without an SPF
// record, several SPF records, a record that does not parse, an include loop or more than 10 MX
// names make the result an error naming what failed, never a map with a sender missing.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "dns/overlay_resolver.hpp"
#include "dns/resolver.hpp"
#include "net/ip_range_map.hpp"
#include "spf/record.hpp"
#include "spf/select.hpp"

namespace spfctl::plan {

// An opaque term met before an address was decided: when it matches, the result is its qualifier's.
struct Guard {
  std::uint32_t term = 0;  // PolicyMapper::term_text()
  spf::Qualifier qualifier = spf::Qualifier::pass;
  auto operator<=>(const Guard&) const = default;
};

// What a policy gives one address.
struct Outcome {
  std::uint32_t guards = 0;                // PolicyMapper::guards(): the opaque terms met first; 0: none
  spf::Result result = spf::Result::none;  // none: not decided (only while evaluating)
  std::uint32_t redirect = 0;              // nonzero: decided by an opaque redirect= (its term id)

  bool decided() const { return result != spf::Result::none || redirect != 0; }
  bool operator==(const Outcome&) const = default;
};

using PolicyMap = net::IpRangeMap<Outcome>;

enum class TermClass : std::uint8_t {
  address,      // ip4, ip6
  flattenable,  // include, a, mx, redirect=: matches a set of addresses that DNS gives today
  opaque,       // depends on more than the client address: kept verbatim
  all,
  modifier,  // exp=, unknown modifiers, and a redirect= that an 'all' makes unused
};

struct RecordMap;

// What one term of an evaluated record does.
struct TermMap {
  TermClass kind = TermClass::modifier;
  spf::Qualifier qualifier = spf::Qualifier::pass;
  net::IpSet addresses;                     // address and flattenable mechanisms: where the term matches
  std::shared_ptr<const RecordMap> target;  // include and redirect=: the target's map
  int lookups = 0;                          // DNS lookups receivers count for it, its target's included
  int void_lookups = 0;
  std::string reason;  // opaque: why it cannot be flattened
};

struct RecordMap {
  std::string error;  // set when the evaluation failed: what failed, e.g. "include:x: TXT lookup ... failed"
  spf::Selection selection = spf::Selection::found;  // for a published record: what was found
  PolicyMap map;
  bool guarded = false;     // some outcome has guards or comes from an opaque redirect=
  std::string opaque_term;  // when guarded: the first term responsible, for messages
  net::IpSet pass;          // where the outcome is pass without guards: what include: matches
  int lookups = 0;          // DNS lookups receivers count for the whole tree (RFC 7208 4.6.4)
  int void_lookups = 0;
  std::vector<TermMap> terms;          // one per term of an evaluated record (empty for published())
  std::vector<std::string> txt_names;  // every name whose TXT records were read, sorted
  // The error comes from the walk's bounds (nesting deeper than spf::k_max_nesting, more than
  // spf::k_max_questions_per_walk DNS questions in one evaluation): it depends on where the walk
  // started, so it is never memoized for the name.
  bool cut = false;

  bool ok() const { return error.empty(); }
};

namespace detail {
class Walker;
}

// Evaluates policies over one DNS snapshot (a resolver, normally a dns::CachingResolver). The map
// of each published record is computed once and shared by every evaluation through this mapper;
// all members are thread-safe.
class PolicyMapper {
 public:
  // `snapshot` must outlive the mapper.
  explicit PolicyMapper(dns::Resolver& snapshot) : m_snapshot(snapshot) {}
  PolicyMapper(const PolicyMapper&) = delete;
  PolicyMapper& operator=(const PolicyMapper&) = delete;

  dns::Resolver& snapshot() const { return m_snapshot; }

  // The map of `record` as the policy of `domain` (which need not publish it), with what each of
  // its terms does. An include of `domain` itself is a loop.
  RecordMap evaluate(const spf::Record& record, std::string_view domain);
  // The same where TXT questions for the names `overlay` holds are answered from it: the map of a
  // planned record set. `overlay` must wrap snapshot().
  RecordMap evaluate(const spf::Record& record, std::string_view domain, dns::OverlayResolver& overlay);

  // The map of the policy published at `name` (memoized for the mapper's life). An error when it
  // has no SPF record (`selection` says so), several, or one that cannot be evaluated.
  std::shared_ptr<const RecordMap> published(std::string_view name);

  // The text of a guard's term ("exists:%{i}._spf.example.com") and a guard list.
  std::string term_text(std::uint32_t term) const;
  std::vector<Guard> guards(std::uint32_t id) const;
  // An outcome for people: "softfail", or "pass if exists:%{i}.x matches, otherwise fail".
  std::string describe(const Outcome& outcome) const;

 private:
  friend class detail::Walker;
  std::uint32_t intern_term(const std::string& key);
  std::uint32_t intern_guards(const std::vector<Guard>& guards);
  std::shared_ptr<const RecordMap> memoized(const std::string& name) const;
  std::shared_ptr<const RecordMap> memoize(const std::string& name, RecordMap map);

  dns::Resolver& m_snapshot;
  mutable std::mutex m_mutex;
  std::unordered_map<std::string, std::shared_ptr<const RecordMap>> m_published;
  std::vector<std::string> m_terms{""};  // id 0 unused
  std::unordered_map<std::string, std::uint32_t> m_term_ids;
  std::vector<std::vector<Guard>> m_guards{{}};  // id 0: no guards
  std::map<std::vector<Guard>, std::uint32_t> m_guard_ids;
};

// The addresses where two maps differ, as text for messages: up to `limit` ranges with both
// outcomes, e.g. "192.0.2.0/24: pass in the policy, fail in the records".
std::vector<std::string> describe_differences(const PolicyMapper& mapper, const PolicyMap& policy,
                                              const PolicyMap& records, std::size_t limit);

// A range as one CIDR block when it is one ("192.0.2.0/24"), otherwise "first-last".
std::string range_text(const net::AddressRange& range);

}  // namespace spfctl::plan
