// Linking a configuration's definitions: templates expanded (their own templates first, cycles
// reported), senders' terms put in, settings layered (defaults, then each template in order, then the
// domain's own), and each [[domain]] as written turned into the DomainPolicy the planner reads.
// Everything here works on structs; load.cpp reads them from TOML.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "config/config.hpp"
#include "config/diagnostics.hpp"

namespace spfctl::config {

// A [[domain]] as written, before templates and senders are resolved.
struct DomainEntry {
  std::string name;
  std::optional<std::string> zone;
  std::vector<NameRef> templates;
  std::vector<NameRef> senders;
  bool says_no_senders = false;  // senders = [] written out
  bool complete = true;          // false when an entry was refused (and reported)
  bool named = true;             // false when the name is missing, invalid or taken (and reported)
  std::vector<SenderTerm> terms;
  Overrides overrides;
  SourceLocation location;
  SourceLocation policy_location;
};

// Field by field, what `over` sets replaces what `base` has.
void overlay(Overrides& base, const Overrides& over);

// Appends to config.domains one DomainPolicy per entry of `entries` (in order), linked against
// config's templates, senders and providers: a template's terms and settings come before its user's
// (settings: the latest set wins, the domain's own last), a sender is its terms, repeated terms are
// kept once. Reports to `diag`: unknown templates, senders and providers (with the closest name),
// senders that cannot be used as they are, template cycles (once each, at the reference closing it),
// a domain including itself, and a domain without senders that does not say so. `default_provider`
// is [defaults] provider when set.
void link_domains(Config& config, const std::optional<NameRef>& default_provider,
                  const std::vector<DomainEntry>& entries, Diagnostics& diag);

}  // namespace spfctl::config
