// The one way spfctl asks DNS questions. Implementations: the live c-ares resolver, the zone-file
// resolver (offline, from RFC 1035 master files), the in-memory store tests fill, and the caching
// decorator that every run wraps around whichever it uses.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "net/ip.hpp"

namespace spfctl::dns {

enum class RrType : std::uint16_t {
  A = 1,
  NS = 2,
  CNAME = 5,
  SOA = 6,
  PTR = 12,
  MX = 15,
  TXT = 16,
  AAAA = 28,
  SPF = 99,
};

std::string_view to_string(RrType type);

// How a question ended. The distinction matters to SPF: NXDOMAIN and NODATA are "void" answers,
// SERVFAIL and timeouts are temporary errors.
enum class Status : std::uint8_t {
  ok,        // NOERROR with at least one record of the asked type
  nodata,    // NOERROR, the name exists but holds no record of that type
  nxdomain,  // the name does not exist
  servfail,  // SERVFAIL, REFUSED, FORMERR or any other failure answer
  timeout,   // no answer within the configured timeout and retries
};

std::string_view to_string(Status status);

struct MxRecord {
  std::uint16_t preference = 0;
  std::string exchange;  // lowercase, no trailing dot
  bool operator==(const MxRecord&) const = default;
};

// One answer. Only the vector for the asked type is filled.
struct Answer {
  Status status = Status::nxdomain;
  // TXT and SPF: one entry per resource record, each the list of its character-strings (raw bytes).
  std::vector<std::vector<std::string>> txt;
  std::vector<net::IpAddress> addresses;  // A or AAAA
  std::vector<MxRecord> mx;
  std::vector<std::string> names;  // PTR targets: lowercase, no trailing dot
  std::uint32_t ttl = 0;           // smallest TTL in the answer
  std::string detail;              // for servfail/timeout: what failed, for messages

  bool failed() const { return status == Status::servfail || status == Status::timeout; }
  bool is_void() const { return status == Status::nodata || status == Status::nxdomain; }
};

class Resolver {
 public:
  virtual ~Resolver() = default;

  // Asks one question and waits for the answer. CNAMEs are followed as a recursive resolver does
  // (the answer holds the records of the chain's target). `name` is case-insensitive and may end
  // with a dot. Never throws for DNS failures: they come back as the answer's status.
  // Thread-safe: many threads may ask at once, and implementations keep many queries in flight.
  virtual Answer query(std::string_view name, RrType type) = 0;

  // Number of questions this resolver sent to its source (for -v and --json reports).
  virtual std::uint64_t queries_sent() const = 0;

  // Asks every question of `questions` and returns their answers in the same order. Resolvers
  // that can keep many questions in flight from one thread (the live one) ask them together, so
  // a batch costs about one round trip rather than one per question; the others ask in turn.
  virtual std::vector<Answer> query_all(const std::vector<std::pair<std::string, RrType>>& questions);
};

// The most CNAMEs one question follows, over the whole chain whatever the number of messages it
// takes; one more, or a name met twice, and the answer is SERVFAIL ("CNAME chain too long at X",
// "CNAME chain loops at X"). Every resolver applies it, so --zone and live DNS agree.
inline constexpr std::size_t k_max_cname_chain = 8;

// Lowercase, without a trailing dot: the form names are compared and cached in.
std::string normalize_name(std::string_view name);

// True when `name` can be put in a DNS question: labels of 1 to 63 octets, at most 253 octets in
// all (one trailing dot allowed).
bool is_queryable(std::string_view name);

// True when `name` is `zone` or a name below it, both in normalize_name's form; the root (an empty
// zone) holds every name.
bool in_zone(std::string_view name, std::string_view zone);

}  // namespace spfctl::dns
