// check_host() (RFC 7208 sections 4 to 7): the result a receiver computes for a client address and
// a sender, asking DNS through a Resolver.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "dns/resolver.hpp"
#include "net/ip.hpp"
#include "spf/record.hpp"

namespace spfctl::spf {

struct CheckHostInput {
  net::IpAddress ip;   // the SMTP client; an IPv4-mapped IPv6 address is checked as IPv4
  std::string sender;  // MAIL FROM; empty: the HELO identity is checked, as postmaster@<helo>
  std::string helo;    // HELO/EHLO name (%{h}; the checked domain when the sender is empty)
  std::string domain;  // the domain whose policy is checked; empty: the sender's domain, else helo
};

struct CheckHostOptions {
  int lookup_limit = 10;  // terms that query DNS (include a mx ptr exists redirect, %{p}); more: permerror
  int void_limit = 2;     // lookups answering NXDOMAIN or no records; more: permerror
  int mx_limit = 10;      // MX names an mx mechanism may look up; more: permerror
  int ptr_limit = 10;     // PTR names validated by ptr and %{p}; the rest are ignored
  std::string receiver = "unknown";       // %{r}
  std::optional<std::int64_t> timestamp;  // %{t}; the current time when unset
  // Explanation for a fail whose record has no usable exp= (an explain-string: macros expand).
  std::string default_explanation = "%{o} does not designate %{c} as a permitted sender";
};

struct CheckHostResult {
  Result result = Result::none;
  std::string explanation;  // only for fail: the exp= text of the deciding record, or the default
  std::string domain;       // the domain checked
  std::string mechanism;    // the term that decided, as printed (e.g. "-all"); empty when none did
  int lookups = 0;          // DNS-querying terms evaluated, as counted against lookup_limit
  int void_lookups = 0;
  // Why the result is none, temperror or permerror, for people: "more than 10 DNS lookups",
  // "include:foo.example has no SPF record", "TXT lookup for example.com failed (timeout)", ...
  std::string problem;
};

// Evaluates the policy of `input.domain` (RFC 7208 4.6 to 6) for `input`:
// - the domain must be a multi-label name with labels of 1-63 octets, else "none" (4.3); no TXT
//   SPF record there also gives "none", two give "permerror", a failed TXT lookup "temperror";
//   a record with any syntax error gives "permerror" before anything is evaluated;
// - mechanisms are tried in order, the first match decides with its qualifier; include matches on
//   pass, passes on temperror/permerror, and turns "none" into "permerror"; redirect= applies when
//   nothing matched, and a target without a record is "permerror"; no match at all is "neutral";
// - a and mx use A or AAAA by the client's family with the dual CIDR lengths; ptr uses validated
//   names; exists asks for A whatever the family; a failed lookup (SERVFAIL, timeout) is
//   "temperror", except for ptr, which then does not match;
// - limits: more than `lookup_limit` DNS-querying terms, more than `void_limit` void lookups, or
//   an MX set over `mx_limit` is "permerror"; PTR names past `ptr_limit` are ignored;
// - a target whose expansion is no valid DNS name (empty or long label) does not exist;
// - on "fail" the explanation comes from the deciding record's exp= (never from an included record;
//   a redirect target's own); when exp= yields nothing usable the default explanation is used.
// Only TXT records are consulted, never type SPF (99). Thread-safe if the resolver is.
CheckHostResult check_host(dns::Resolver& resolver, const CheckHostInput& input,
                           const CheckHostOptions& options = {});

}  // namespace spfctl::spf
