// The RFC 2136 provider: publishes through DNS UPDATE messages sent over TCP to the primary server of
// a zone (knotd, BIND, PowerDNS, ...), signed with a TSIG key (RFC 8945), and reads what is
// published by asking that server directly over TCP, one TXT query per name (signed the same way,
// so a wrong key shows up at `plan`, before anything is written). It needs only the server's
// `update` permission for the key; no zone transfer.
//
// Writes: one UPDATE message per apply() carries all of a zone's changes, in the order given, and
// the server applies it atomically (all or nothing, one new serial). It never deletes a whole TXT
// RRset: an SPF value is replaced by deleting that one record and adding the new one, so other TXT
// values at the name stay. Each changed name carries a prerequisite that its TXT RRset is still what
// was read (`others` plus `before`): if anything changed there meanwhile, the server refuses the
// whole message and nothing is applied.
//
// Limits: an RRset has one TTL (RFC 2181 §5.2), so setting the SPF record's TTL sets that of the
// other TXT records at the name too; character-strings are at most 255 bytes.
#pragma once

#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <random>
#include <string>
#include <string_view>
#include <vector>

#include "dns/live_resolver.hpp"
#include "http/redact.hpp"
#include "providers/provider.hpp"
#include "providers/rfc2136_message.hpp"
#include "providers/settings.hpp"

namespace spfctl::providers {

// The settings of a [providers.NAME] table of type "rfc2136", validated.
struct Rfc2136Settings {
  std::string provider_name;                 // NAME, for messages
  dns::ServerAddress server;                 // `server`: the primary, port 53 unless given
  std::optional<rfc2136::TsigKey> key;       // `key_name`, `key_algorithm`, the secret; none: unsigned
  std::string key_secret_env;                // `key_secret_env`: the variable the secret came from
  std::string key_secret_text;               // the variable's value, only to keep it out of messages
  std::vector<std::string> zones;            // `zones`, normalized; empty: found with SOA queries
  std::chrono::milliseconds timeout{10000};  // `timeout` in seconds: for each exchange with the server
};

// Problems in the combination of checked settings: key_name without key_secret_env (or the
// reverse), a key name or algorithm that is not one, key_algorithm without a key, zones that are not
// zone names.
std::vector<SettingProblem> check_rfc2136_settings(const ProviderSettings& settings);

// The settings of the adapter, with the TSIG secret read from the environment variable that
// key_secret_env names, through `environment`. Throws spfctl::Error when that variable is unset or
// empty, or does not hold base64. No message ever holds the secret.
Rfc2136Settings rfc2136_settings(const ProviderSettings& settings, const ProviderEnvironment& environment);

class Rfc2136Provider : public Provider {
 public:
  explicit Rfc2136Provider(Rfc2136Settings settings);

  const Capabilities& capabilities() const override;

  // With `zones` set: the longest of them that contains `name`. Otherwise asks the server for the
  // SOA of `name`, then of each parent until it answers authoritatively; the owner of that SOA is
  // the zone. Remembered per name. Throws spfctl::Error when no zone is found.
  std::string zone_for(std::string_view name) override;

  // One TCP query for TXT per name, to the server itself. Throws spfctl::Error naming the server,
  // the zone and what went wrong (refused key, REFUSED, SERVFAIL, timeout, a non-authoritative or
  // unsigned answer).
  std::vector<TxtRecordSet> list(std::string_view zone, const std::vector<std::string>& names) override;

  // One UPDATE message with all `changes` (see the top of this file). On failure nothing was
  // applied — except after a timeout or an unsigned answer, when the error says the outcome is
  // unknown — and the spfctl::Error says why: a refused key, the update ACL, changed records, ...
  void apply(std::string_view zone, const std::vector<Change>& changes) override;

  // The primary server itself.
  std::optional<std::string> dns_server() const override { return m_settings.server.to_string(); }

 private:
  // Signs `message` when a key is set, sends it and returns the decoded answer, whose signature is
  // checked. For errors, `subject` says what the message is ("the update of zone 'x'") and `scope`
  // what it was for ("for zone 'x'"). `may_have_applied`: the message is an update, so a lost
  // answer leaves its outcome unknown.
  rfc2136::Response exchange(rfc2136::Bytes message, const std::string& subject, const std::string& scope,
                             bool may_have_applied);
  std::uint16_t next_id();
  [[noreturn]] void fail(const std::string& message, Failure failure = Failure::failed) const;
  std::string server_text() const;

  Rfc2136Settings m_settings;
  http::Redactor m_redactor;
  std::mutex m_mutex;  // guards the members below
  std::mt19937 m_random;
  std::map<std::string, std::string> m_zones;  // name → zone, as found by zone_for
};

// The adapter for a [providers.NAME] table of type "rfc2136" (for the provider registry).
const Capabilities& rfc2136_capabilities();

std::unique_ptr<Provider> make_rfc2136(const ProviderSettings& settings,
                                       const ProviderEnvironment& environment);

}  // namespace spfctl::providers
