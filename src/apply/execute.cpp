#include "apply/execute.hpp"

#include <algorithm>
#include <atomic>
#include <cmath>
#include <condition_variable>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <thread>

#include "apply/rebase.hpp"
#include "dns/live_resolver.hpp"
#include "error.hpp"
#include "spf/select.hpp"

namespace spfctl::apply {

using publish::Change;
using publish::TxtValue;

namespace {

// A server may take a moment to serve what its API just stored.
constexpr int k_dns_attempts = 5;
constexpr std::chrono::milliseconds k_dns_pause{300};

// The names to read back: the domain, every name a change touches, and every managed name read
// before applying (chained records the changes leave alone included).
std::vector<std::string> touched_names(const DomainJob& job) {
  std::vector<std::string> names = {dns::normalize_name(job.domain)};
  auto add = [&](const std::string& name) {
    if (std::find(names.begin(), names.end(), name) == names.end()) names.push_back(name);
  };
  for (const Change& change : job.changes) add(change.name);
  for (const auto& [name, set] : job.live.sets) add(name);
  return names;
}

plan::LiveRecords read_back(const DomainJob& job, const std::vector<std::string>& names) {
  plan::LiveRecords fresh;
  plan::read_managed(fresh, job.domain, job.chain_prefix, names, [&](const std::vector<std::string>& wanted) {
    return job.provider->list(job.zone, wanted);
  });
  return fresh;
}

std::vector<std::string> sorted_joined(const std::vector<TxtValue>& values) {
  std::vector<std::string> out;
  for (const TxtValue& value : values) out.push_back(value.joined());
  std::sort(out.begin(), out.end());
  return out;
}

std::vector<std::string> at(const std::map<std::string, std::vector<std::string>>& state,
                            const std::string& name) {
  const auto it = state.find(name);
  return it == state.end() ? std::vector<std::string>{} : it->second;
}

// What differs between what the provider lists now and what `changes` should have left.
std::vector<std::string> differences(const DomainJob& job, const std::vector<Change>& changes,
                                     const plan::LiveRecords& fresh, const std::vector<std::string>& names,
                                     bool check_ttl) {
  const auto expected = expected_spf(job.live, changes);
  std::vector<std::string> found;
  for (const std::string& name : names) {
    const std::vector<std::string> now = sorted_joined(fresh.spf_values(name));
    if (now != at(expected, name))
      found.push_back(name + ": expected " + describe_spf_values(at(expected, name)) + ", read back " +
                      describe_spf_values(now));
    if (sorted_joined(fresh.other_values(name)) != sorted_joined(job.live.other_values(name)))
      found.push_back(name +
                      ": the other TXT values there differ from those read before applying (spfctl "
                      "never writes them: changed by someone else meanwhile?)");
  }
  if (!check_ttl) return found;
  std::map<std::string, std::uint32_t> ttl;
  for (const Change& change : changes)
    if (change.after) ttl[change.name] = change.ttl;
  for (const auto& [name, wanted] : ttl) {
    const auto it = fresh.sets.find(name);
    if (it != fresh.sets.end() && !it->second.values.empty() && it->second.ttl != wanted)
      found.push_back(name + ": expected ttl " + std::to_string(wanted) + ", read back " +
                      std::to_string(it->second.ttl));
  }
  return found;
}

std::string first_lines(const std::vector<std::string>& lines) {
  std::string out;
  for (const std::string& line : lines) out += (out.empty() ? "" : "; ") + line;
  return out;
}

// How many of the job's changes are in effect, judging by what the provider lists now.
std::optional<std::size_t> applied_count(const DomainJob& job) {
  try {
    const std::vector<std::string> names = touched_names(job);
    const plan::LiveRecords fresh = read_back(job, names);
    for (std::size_t k = job.changes.size() + 1; k-- > 0;) {
      const std::vector<Change> prefix(job.changes.begin(),
                                       job.changes.begin() + static_cast<std::ptrdiff_t>(k));
      if (differences(job, prefix, fresh, names, true).empty()) return k;
    }
  } catch (const std::exception&) {
  }
  return std::nullopt;
}

std::string verify_dns(const DomainJob& job, const std::string& server, const DnsCheck& dns,
                       const std::vector<std::string>& names) {
  const auto expected = expected_spf(job.live, job.changes);
  std::vector<std::string> found;
  for (int attempt = 0; attempt < k_dns_attempts; ++attempt) {
    if (attempt > 0) {
      if (dns.pause)
        dns.pause(k_dns_pause);
      else
        std::this_thread::sleep_for(k_dns_pause);
    }
    found.clear();
    try {
      for (const std::string& name : names) {
        std::vector<std::string> now;
        for (const std::string& value : dns.read(server, name))
          if (spf::is_spf_record(value)) now.push_back(value);
        std::sort(now.begin(), now.end());
        if (now != at(expected, name))
          found.push_back(name + ": expected " + describe_spf_values(at(expected, name)) + ", DNS at " +
                          server + " answers " + describe_spf_values(now));
      }
    } catch (const std::exception& e) {
      found = {e.what()};
    }
    if (found.empty()) return "";
  }
  return first_lines(found);
}

DomainOutcome run_job(const DomainJob& job, const DnsCheck& dns) {
  DomainOutcome outcome;
  try {
    if (!job.changes.empty()) job.provider->apply(job.zone, job.changes);
  } catch (const publish::ProviderError& e) {
    outcome.error = e.what();
    outcome.failure = e.failure();
    outcome.applied = applied_count(job);
    return outcome;
  } catch (const Error& e) {
    outcome.error = e.what();
    outcome.applied = applied_count(job);
    return outcome;
  } catch (const std::exception& e) {
    // A bug in an adapter fails its domain, not the whole run (and not from a worker thread).
    outcome.error = std::string("internal error: ") + e.what();
    outcome.applied = applied_count(job);
    return outcome;
  }
  outcome.applied = job.changes.size();
  const std::vector<std::string> names = touched_names(job);
  try {
    const plan::LiveRecords fresh = read_back(job, names);
    const std::vector<std::string> found = differences(job, job.changes, fresh, names, true);
    if (!found.empty()) {
      outcome.verify_error = "read back from the provider: " + first_lines(found);
      return outcome;
    }
  } catch (const std::exception& e) {
    outcome.verify_error = std::string("could not read back from the provider: ") + e.what();
    return outcome;
  }
  outcome.verified_by = "provider";
  if (const std::optional<std::string> server = job.provider->dns_server(); server && dns.read) {
    outcome.verify_error = verify_dns(job, *server, dns, names);
    outcome.verified_by = outcome.verify_error.empty() ? "provider and DNS at " + *server : "";
  }
  return outcome;
}

}  // namespace

DnsReader dns_reader(double timeout_seconds) {
  struct Pool {
    std::mutex mutex;
    std::map<std::string, std::shared_ptr<dns::LiveResolver>> resolvers;
  };
  auto pool = std::make_shared<Pool>();
  const int timeout_ms = static_cast<int>(std::lround(timeout_seconds * 1000));
  return [pool, timeout_ms](const std::string& server, const std::string& name) {
    std::shared_ptr<dns::LiveResolver> resolver;
    {
      const std::lock_guard lock(pool->mutex);
      auto& slot = pool->resolvers[server];
      if (!slot)
        slot = std::make_shared<dns::LiveResolver>(dns::LiveResolverOptions{{server}, timeout_ms, 2});
      resolver = slot;
    }
    const dns::Answer answer = resolver->query(name, dns::RrType::TXT);
    if (answer.failed())
      throw Error("DNS at " + server + " did not answer for " + name + ": " +
                  (answer.detail.empty() ? std::string("no answer") : answer.detail));
    std::vector<std::string> values;
    for (const std::vector<std::string>& strings : answer.txt) values.push_back(TxtValue{strings}.joined());
    return values;
  };
}

// Counts the jobs of each provider running at once, holding a job back while its provider's are at
// its write_concurrency.
class WriteSlots {
 public:
  void acquire(const DomainJob& job) {
    std::unique_lock lock(m_mutex);
    m_free.wait(lock, [&] { return m_running[job.provider_name] < std::max(job.write_concurrency, 1); });
    ++m_running[job.provider_name];
  }
  void release(const DomainJob& job) {
    {
      const std::lock_guard lock(m_mutex);
      --m_running[job.provider_name];
    }
    m_free.notify_all();
  }

 private:
  std::mutex m_mutex;
  std::condition_variable m_free;
  std::map<std::string, int> m_running;
};

std::vector<DomainOutcome> execute(const std::vector<DomainJob>& jobs, int parallel, const DnsCheck& dns,
                                   const std::function<void(std::size_t, const DomainOutcome&)>& done,
                                   const std::atomic<bool>* stop) {
  std::vector<std::vector<std::size_t>> groups;
  std::map<std::string, std::size_t> group_of;
  for (std::size_t i = 0; i < jobs.size(); ++i) {
    // By zone name alone: two configured providers may publish to the same zone (one directory of
    // zone files under two names), and writes to one zone must not race.
    const std::string& key = jobs[i].zone;
    const auto [it, added] = group_of.emplace(key, groups.size());
    if (added) groups.emplace_back();
    groups[it->second].push_back(i);
  }
  std::vector<DomainOutcome> outcomes(jobs.size());
  std::atomic<std::size_t> next{0};
  WriteSlots slots;
  auto worker = [&] {
    for (std::size_t g = next++; g < groups.size(); g = next++)
      for (std::size_t i : groups[g]) {
        slots.acquire(jobs[i]);
        if (stop && stop->load()) {
          outcomes[i].started = false;
          outcomes[i].applied = 0;
          outcomes[i].error = "not applied: apply was interrupted before it started on this domain";
        } else {
          outcomes[i] = run_job(jobs[i], dns);
        }
        slots.release(jobs[i]);
        if (done) done(i, outcomes[i]);
      }
  };
  const std::size_t threads =
      std::min<std::size_t>(groups.size(), static_cast<std::size_t>(std::max(parallel, 1)));
  {
    std::vector<std::jthread> pool;  // joined on the way out, whatever happens
    for (std::size_t t = 1; t < threads; ++t) pool.emplace_back(worker);
    worker();
  }
  return outcomes;
}

}  // namespace spfctl::apply
