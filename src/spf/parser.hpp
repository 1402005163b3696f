// The SPF record parser (RFC 7208 section 12 grammar) with error positions for messages.
#pragma once

#include <cstddef>
#include <memory>
#include <string>
#include <string_view>
#include <variant>

#include "spf/record.hpp"

namespace spfctl::spf {

struct ParseError {
  std::string message;     // what is wrong, naming the term: "unknown mechanism 'foo:bar'"
  std::size_t offset = 0;  // byte offset of the bad term (or part) in the record text
  std::size_t length = 0;  // its length in bytes
  std::string term;        // the bad term as written
};

struct ParseResult {
  std::variant<Record, ParseError> value;

  bool ok() const { return std::holds_alternative<Record>(value); }
  explicit operator bool() const { return ok(); }
  const Record& record() const { return std::get<Record>(value); }         // only when ok()
  const ParseError& error() const { return std::get<ParseError>(value); }  // only when !ok()
};

// Parses one SPF record: "v=spf1" (any case) then terms separated by one or more spaces, trailing
// spaces allowed. Checks everything RFC 7208 lets a receiver check before evaluating:
// - only printable ASCII and spaces (a control character or a non-ASCII byte is an error);
// - the eight mechanisms (names in any case) with an optional qualifier + - ~ ?, each with the
//   arguments its grammar allows: a domain-spec where one is allowed or required, ip4/ip6 networks,
//   CIDR lengths /0-32 and /0-128 without leading zeros, "a"/"mx" dual lengths "/n//m";
// - modifiers name=value where name = ALPHA *( ALPHA / DIGIT / "-" / "_" / "." ); redirect= and
//   exp= take a domain-spec and appear at most once each; unknown modifiers are kept;
// - every domain-spec and macro-string (spf/macro.hpp), the letters c, r and t being refused outside
//   explanation text.
// The first problem found is returned; terms are checked left to right.
ParseResult parse_record(std::string_view text);

// parse_record() for records met again and again in one run (a sender's record, fetched for every
// domain that includes it): each distinct text is parsed once per process and the result shared.
// Thread-safe. At most k_parse_cache_entries texts (of at most k_parse_cache_text_bytes) are kept,
// the first met (senders' records are met by the first domains planned), so neither hostile DNS nor
// many domains' own records grow it without bound (a few MB); beyond that, texts are parsed each time.
inline constexpr std::size_t k_parse_cache_entries = 4096;
inline constexpr std::size_t k_parse_cache_text_bytes = 4096;
std::shared_ptr<const ParseResult> parse_record_shared(std::string_view text);

// The error as a message followed by the record and a caret line under the bad term, e.g.
//   ip4 CIDR length 33 out of range (0-32) in 'ip4:192.0.2.1/33'
//   v=spf1 ip4:192.0.2.1/33 -all
//          ^~~~~~~~~~~~~~~~
// Bytes outside printable ASCII are shown as \xHH in both lines, the caret line following them.
std::string format_parse_error(std::string_view text, const ParseError& error);

}  // namespace spfctl::spf
