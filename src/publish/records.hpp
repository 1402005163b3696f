// What spfctl publishes and reads back at a DNS host: TXT values and record sets, the changes the
// diff makes, and what a host can store. Plain data shared by the planner, apply and the adapters
// in providers/, which all include it from here.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "dns/message_size.hpp"

namespace spfctl::publish {

// One TXT value as published: its character-strings, each at most 255 bytes.
struct TxtValue {
  std::vector<std::string> strings;
  std::string joined() const;  // as receivers read it: the strings with no separator
  bool operator==(const TxtValue&) const = default;
};

// `text` as a DNS server stores a long string: cut into character-strings of at most 255 bytes
// (one empty string for empty text).
std::vector<std::string> cut_into_strings(std::string_view text);

// The TXT records at one name.
struct TxtRecordSet {
  std::string name;  // lowercase, no trailing dot
  std::uint32_t ttl = 0;
  std::vector<TxtValue> values;
  std::vector<std::string> ids;  // the provider's ids, parallel to `values` (empty where it has none)
};

// What a provider can and cannot store; checked while planning, before any API call.
struct Capabilities {
  std::uint32_t min_ttl = 1;
  std::uint32_t max_ttl = 2147483647;
  std::size_t max_string_bytes = dns::k_max_character_string;  // longest character-string it accepts
  std::size_t max_value_bytes = 65535;  // longest TXT value (all strings of one record)
  bool multi_string = true;             // stores a value as several strings
  bool batch = false;                   // applies several changes in one call
  bool replaces_rrset = false;          // a write replaces every TXT value at the name
  // Zones apply writes at once through one provider of this type unless its write_concurrency
  // setting says otherwise: what the host takes safely (a sqlite3-backed PowerDNS, one writer).
  int write_concurrency = 4;
};

// One change to the SPF value at one name. `others` are the other TXT values at that name as they
// were read: an adapter whose API writes whole RRsets writes them back unchanged, and no adapter
// ever changes them.
struct Change {
  enum class Action : std::uint8_t { create, update, remove };
  Action action = Action::create;
  std::string name;
  std::uint32_t ttl = 0;
  std::optional<TxtValue> before;  // update, remove: the SPF value being replaced
  std::optional<TxtValue> after;   // create, update: the SPF value to publish
  std::vector<TxtValue> others;
};
std::string_view to_string(Change::Action action);  // "create", "update", "delete"

}  // namespace spfctl::publish
