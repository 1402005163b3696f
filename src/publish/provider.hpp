// The interface between spfctl's core and a DNS host, and the ways a host's call can fail. The
// core (src/plan, src/apply) holds providers through this header only; the adapters in providers/
// implement it.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "error.hpp"
#include "publish/records.hpp"

namespace spfctl::publish {

// Why a provider call failed, as far as the adapter can tell: what apply says to do next.
enum class Failure : std::uint8_t {
  failed,           // anything else: a bad answer, a zone the provider does not serve
  refused,          // the credentials or their permissions: running again changes nothing until fixed
  drift,            // what is published is not what the change expected: someone else wrote there
  transient,        // rate limits, server errors, timeouts, retried until the attempts were spent
  unknown_outcome,  // a write was sent and no answer came back: it may or may not have been made
};
std::string_view to_string(Failure failure);  // "failed", "refused", "drift", "transient", "unknown-outcome"

// What a provider throws: spfctl::Error with its Failure.
class ProviderError : public Error {
 public:
  ProviderError(Failure failure, const std::string& message) : Error(message), m_failure(failure) {}
  Failure failure() const { return m_failure; }

 private:
  Failure m_failure;
};

// Calls for different zones may run on different threads at once; adapters guard what they share.
class Provider {
 public:
  virtual ~Provider() = default;

  virtual const Capabilities& capabilities() const = 0;

  // The zone that holds `name` at this provider (its apex, lowercase). Throws spfctl::Error when
  // the provider serves no zone containing it.
  virtual std::string zone_for(std::string_view name) = 0;

  // The TXT record sets at `names` (all inside `zone`). A name without TXT records has no entry.
  // Throws spfctl::Error (a ProviderError when the adapter knows why) naming the provider, the zone
  // and the API's message on failure.
  virtual std::vector<TxtRecordSet> list(std::string_view zone, const std::vector<std::string>& names) = 0;

  // Every TXT record set in `zone`, read at once (one request, or one per page of the listing),
  // for a plan reading many names of a zone; nullopt when the provider has no cheaper way to read
  // a zone than list() (the caller then asks list()). Throws as list() does.
  virtual std::optional<std::vector<TxtRecordSet>> list_zone(std::string_view /*zone*/) {
    return std::nullopt;
  }

  // Applies `changes` in the order given, each completely before the next. On failure throws
  // spfctl::Error (a ProviderError when the adapter knows why) saying which change failed; the
  // changes before it stay applied (apply again converges, since the plan is recomputed from what
  // is then published).
  virtual void apply(std::string_view zone, const std::vector<Change>& changes) = 0;

  // A server that answers authoritatively for the provider's zones, "ADDR:PORT", which apply asks
  // over DNS to check what it published; nullopt when the provider names none.
  virtual std::optional<std::string> dns_server() const { return std::nullopt; }
};

}  // namespace spfctl::publish
