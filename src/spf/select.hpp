// Record selection (RFC 7208 4.5): finding the one SPF record among the TXT records at a name.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "dns/resolver.hpp"

namespace spfctl::spf {

enum class Selection : std::uint8_t {
  found,     // exactly one SPF record
  none,      // no SPF record (or no TXT record at all): check_host() gives "none"
  multiple,  // two or more SPF records: check_host() gives "permerror"
  failed,    // the TXT question failed (SERVFAIL, timeout): check_host() gives "temperror"
};

struct SelectedRecord {
  Selection outcome = Selection::none;
  std::string text;     // the record when found: its character-strings joined with no separator
  std::string message;  // what was found, for messages: e.g. "2 SPF records at example.com"
};

// True when `text` starts with "v=spf1" (any case) followed by a space or the end.
bool is_spf_record(std::string_view text);

// Picks the SPF record out of a TXT answer for `name` (used in messages only). The strings of one
// resource record are joined with no separator; records that are not SPF are ignored. Type SPF (99)
// answers are never consulted: RFC 7208 uses TXT only.
SelectedRecord select_record(const dns::Answer& txt_answer, std::string_view name);

}  // namespace spfctl::spf
