// Publishing rebased changes: domains of different zones in parallel, each domain's changes in
// order, then reading back what was published to check it is what was planned.
#pragma once

#include <atomic>
#include <chrono>
#include <cstddef>
#include <functional>
#include <string>
#include <vector>

#include "plan/diff.hpp"
#include "publish/provider.hpp"

namespace spfctl::apply {

// One domain's work.
struct DomainJob {
  std::string domain;
  std::string provider_name;  // the [providers.NAME] key
  std::string zone;
  std::string chain_prefix;
  publish::Provider* provider = nullptr;
  // Jobs of this provider (by provider_name) that run at once at most: its write_concurrency.
  int write_concurrency = 16;
  plan::LiveRecords live;                // as read when the changes were rebased onto it
  std::vector<publish::Change> changes;  // rebased, in apply order
};

struct DomainOutcome {
  // Changes found in effect afterwards; when applying failed, how far it got (read back from the
  // provider), or nullopt when that could not be read either.
  std::optional<std::size_t> applied;
  std::string error;  // why applying failed; empty when the provider took every change
  publish::Failure failure = publish::Failure::failed;  // with `error`: what kind of failure it was
  std::string verified_by;   // "provider" or "provider and DNS at ADDR:PORT", when verified
  std::string verify_error;  // what was read back that differs from the plan
  bool started = true;       // false: stopped before it began (nothing written for it)

  bool ok() const { return error.empty() && verify_error.empty(); }
};

// Reads TXT values at names over DNS from one server ("ADDR:PORT"): each name's values, strings
// joined; throws spfctl::Error when the server does not answer. Tests and the CLI pass the real
// thing (dns_reader()); empty: no DNS verification.
using DnsReader = std::function<std::vector<std::string>(const std::string& server, const std::string& name)>;

// Asks `server` with the live resolver (UDP, TCP on truncation).
DnsReader dns_reader(double timeout_seconds);

// How apply checks what DNS answers after a write: the reader (empty: no DNS verification), and the
// wait between attempts while the server catches up (empty: std::this_thread::sleep_for).
struct DnsCheck {
  DnsReader read{};
  std::function<void(std::chrono::milliseconds)> pause{};
};

// Applies every job: jobs of one zone (by name, whatever provider) one after the other in the given order,
// the others in parallel, at most `parallel` at once and at most each provider's write_concurrency
// of one provider. Once `stop` is set (a signal), no job starts; those running finish, and the
// others' outcomes say they were not started. For each job, provider.apply() gets all its
// changes (which it makes in order); then what the provider lists at the domain's managed names (those
// changed and those read before applying) is
// compared with what the changes should have left there (the SPF values, the other TXT values
// untouched, the TTL of written names), and, when the provider names a DNS server and `dns` is
// set, what that server answers (a few times, with pauses, while it catches up). `done` is called from worker
// threads as each job ends (index into `jobs`). Never throws for a job's failure: it is in its outcome.
std::vector<DomainOutcome> execute(const std::vector<DomainJob>& jobs, int parallel, const DnsCheck& dns,
                                   const std::function<void(std::size_t, const DomainOutcome&)>& done = {},
                                   const std::atomic<bool>* stop = nullptr);

}  // namespace spfctl::apply
