// The SPF record model (RFC 7208 section 12): terms as parsed, ready to print, evaluate or flatten.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "net/ip.hpp"

namespace spfctl::spf {

// The results of check_host() (RFC 7208 section 2.6).
enum class Result : std::uint8_t { none, neutral, pass, fail, softfail, temperror, permerror };
std::string_view to_string(Result result);

enum class Qualifier : char { pass = '+', fail = '-', softfail = '~', neutral = '?' };
Result to_result(Qualifier qualifier);

enum class MechanismKind : std::uint8_t { all, include, a, mx, ptr, ip4, ip6, exists };
std::string_view to_string(MechanismKind kind);

struct Mechanism {
  Qualifier qualifier = Qualifier::pass;
  bool explicit_qualifier = false;  // "+" written out; kept so the printer round-trips
  MechanismKind kind = MechanismKind::all;
  // The domain-spec as written (a macro-string): required for include and exists, optional for
  // a, mx and ptr (absent means the current domain), unused for the others.
  std::optional<std::string> domain;
  net::IpAddress network;  // ip4 and ip6
  // Dual CIDR lengths; nullopt when not written (meaning /32 and /128).
  std::optional<int> cidr4;
  std::optional<int> cidr6;

  // True for include, a, mx, ptr, exists (and redirect=): the terms RFC 7208 4.6.4 counts.
  bool counts_as_lookup() const;
  bool operator==(const Mechanism&) const = default;
};

struct Modifier {
  std::string name;   // lowercase: "redirect", "exp", or an unknown modifier's name
  std::string value;  // the macro-string as written
  bool operator==(const Modifier&) const = default;
};

struct Term {
  std::variant<Mechanism, Modifier> value;
  std::size_t offset = 0;  // byte offset of the term in the record text, for messages
  bool operator==(const Term& other) const { return value == other.value; }

  const Mechanism* mechanism() const { return std::get_if<Mechanism>(&value); }
  const Modifier* modifier() const { return std::get_if<Modifier>(&value); }
};

struct Record {
  std::vector<Term> terms;  // in order, modifiers included

  // The redirect= / exp= values, if present (RFC 7208 6: each at most once).
  const Modifier* redirect() const;
  const Modifier* exp() const;
  bool operator==(const Record&) const = default;
};

// The record as text, "v=spf1" and the terms separated by single spaces. Round-trips through
// parse_record() (src/spf/parser.hpp): parsing the printed text gives an equal Record. ip4/ip6
// networks print in canonical form; domain-specs and modifier values print as written.
std::string to_string(const Record& record);
std::string to_string(const Mechanism& mechanism);
std::string to_string(const Modifier& modifier);
std::string to_string(const Term& term);

// `text` with every byte outside printable ASCII written as \xHH, for messages that quote records.
std::string printable(std::string_view text);

}  // namespace spfctl::spf
