// The DNS messages of the RFC 2136 provider, as bytes: UPDATE messages built from changes, the
// queries it reads with, TSIG signatures (RFC 8945) over both, and the parts of a response it reads.
// libldns encodes and decodes the messages; libcrypto computes the HMACs, so every algorithm a
// server may be configured with works (hmac-md5, hmac-sha1, hmac-sha224, hmac-sha256, hmac-sha384,
// hmac-sha512). No I/O here.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "providers/provider.hpp"

namespace spfctl::providers::rfc2136 {

using Bytes = std::vector<std::uint8_t>;

// The classes an UPDATE message uses (RFC 2136 §2.4 and §2.5).
enum class RrClass : std::uint16_t { in = 1, none = 254, any = 255 };

// One TXT record of an UPDATE message's prerequisite or update section.
//   update section:  class IN with a value adds it; class NONE (TTL 0) with a value deletes that one
//                    record; class ANY (TTL 0) without a value would delete the whole TXT RRset,
//                    which this provider never sends.
//   prerequisites:   class IN (TTL 0) with values: the TXT RRset is exactly those values; class
//                    NONE (TTL 0) without a value: the name has no TXT RRset.
struct UpdateRecord {
  std::string name;  // lowercase, no trailing dot
  RrClass rr_class = RrClass::in;
  std::uint32_t ttl = 0;
  std::optional<TxtValue> value;
  bool operator==(const UpdateRecord&) const = default;
};

struct UpdateMessage {
  std::string zone;
  std::vector<UpdateRecord> prerequisites;
  std::vector<UpdateRecord> updates;
};

// The one UPDATE message that applies `changes` to `zone`, in their order:
//  - create: adds `after`;
//  - update: deletes the one record holding `before` and adds `after` (also when they are equal:
//    servers ignore an add of a record they hold, TTL included, so only delete-and-add sets a TTL);
//  - remove: deletes the one record holding `before`.
// Other TXT records are never named in the update section. For the first change at each name a
// prerequisite pins the TXT RRset there to what was read — `others` plus `before` — or to no RRset
// when both are empty, so a server whose records changed since they were read refuses the whole
// message instead of ending up with two SPF records at a name.
// A character-string of more than 255 bytes is split into 255-byte strings (receivers join them).
UpdateMessage build_update(std::string_view zone, const std::vector<Change>& changes);

// `value` with every string over 255 bytes cut into 255-byte pieces; other strings unchanged.
TxtValue wire_strings(const TxtValue& value);

// `message` in wire format with message id `id`, unsigned. Throws spfctl::Error for a name libldns
// cannot encode.
Bytes encode_update(const UpdateMessage& message, std::uint16_t id);

// A query (class IN, recursion not desired) for `name` and `type` in wire format.
Bytes encode_query(std::string_view name, std::uint16_t type, std::uint16_t id);

// A TSIG key as the server knows it.
struct TsigKey {
  std::string name;       // lowercase, no trailing dot
  std::string algorithm;  // one of tsig_algorithms()
  Bytes secret;           // decoded
};

// The algorithm names accepted for key_algorithm, as knotd and BIND spell them.
const std::vector<std::string>& tsig_algorithms();

// The decoded bytes of base64 text (RFC 4648, padding required, no line breaks); nullopt when the
// text is not base64.
std::optional<Bytes> decode_base64(std::string_view text);

// Signs `message` in place: appends a TSIG record for `key` with time `now` (seconds since the
// epoch) and a fudge of 300 s, and counts it in the additional section. Returns the MAC, which
// the response's signature covers.
Bytes tsig_sign(Bytes& message, const TsigKey& key, std::uint64_t now);

// What the TSIG record of a response says.
struct TsigCheck {
  enum class Status : std::uint8_t {
    valid,     // signed by the key over this response and the request's MAC, within the fudge
    missing,   // the response carries no TSIG record
    error,     // the server reports a TSIG error (BADSIG, BADKEY, BADTIME, ...): see `error`
    bad_mac,   // signed, but not by this key over this response
    bad_time,  // signed correctly, but its time is outside the fudge
  };
  Status status = Status::missing;
  std::uint16_t error = 0;  // the TSIG error field (RFC 8945 §5.3), for Status::error
};

// Checks the TSIG record of `response` (wire format) against `key` and the MAC of the request it
// answers, at time `now`. An empty `request_mac` checks a message that answers none (a request).
TsigCheck tsig_verify(const Bytes& response, const TsigKey& key, const Bytes& request_mac, std::uint64_t now);

// "BADSIG", "BADKEY", "BADTIME", "BADTRUNC", or the number.
std::string tsig_error_name(std::uint16_t error);

// One TXT record of a response's answer section.
struct TxtAnswer {
  std::string name;  // lowercase, no trailing dot
  std::uint32_t ttl = 0;
  TxtValue value;
};

// The parts of a response the provider reads.
struct Response {
  std::uint16_t id = 0;
  std::uint8_t rcode = 0;
  bool authoritative = false;
  std::vector<TxtAnswer> txt;               // answer section
  std::vector<std::string> answer_soa;      // owners of the SOA records in the answer section
  std::vector<std::string> authority_soa;   // owners of the SOA records in the authority section
  std::optional<std::uint16_t> tsig_error;  // the TSIG error field, when the response is signed
};

// Decodes a response. Throws spfctl::Error when it is not a well-formed DNS message.
Response decode_response(const Bytes& wire);

// "NOERROR", "SERVFAIL", "NXDOMAIN", "REFUSED", "NOTAUTH", "NXRRSET", ... or "RCODE n".
std::string rcode_name(std::uint8_t rcode);

}  // namespace spfctl::providers::rfc2136
