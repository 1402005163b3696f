#include "spf/record.hpp"

namespace spfctl::spf {

std::string_view to_string(Result result) {
  switch (result) {
    case Result::none:
      return "none";
    case Result::neutral:
      return "neutral";
    case Result::pass:
      return "pass";
    case Result::fail:
      return "fail";
    case Result::softfail:
      return "softfail";
    case Result::temperror:
      return "temperror";
    case Result::permerror:
      return "permerror";
  }
  return "?";
}

Result to_result(Qualifier qualifier) {
  switch (qualifier) {
    case Qualifier::pass:
      return Result::pass;
    case Qualifier::fail:
      return Result::fail;
    case Qualifier::softfail:
      return Result::softfail;
    case Qualifier::neutral:
      return Result::neutral;
  }
  return Result::neutral;
}

std::string_view to_string(MechanismKind kind) {
  switch (kind) {
    case MechanismKind::all:
      return "all";
    case MechanismKind::include:
      return "include";
    case MechanismKind::a:
      return "a";
    case MechanismKind::mx:
      return "mx";
    case MechanismKind::ptr:
      return "ptr";
    case MechanismKind::ip4:
      return "ip4";
    case MechanismKind::ip6:
      return "ip6";
    case MechanismKind::exists:
      return "exists";
  }
  return "?";
}

bool Mechanism::counts_as_lookup() const {
  switch (kind) {
    case MechanismKind::include:
    case MechanismKind::a:
    case MechanismKind::mx:
    case MechanismKind::ptr:
    case MechanismKind::exists:
      return true;
    case MechanismKind::all:
    case MechanismKind::ip4:
    case MechanismKind::ip6:
      return false;
  }
  return false;
}

namespace {

const Modifier* find_modifier(const Record& record, std::string_view name) {
  for (const Term& term : record.terms)
    if (const Modifier* modifier = term.modifier(); modifier && modifier->name == name) return modifier;
  return nullptr;
}

}  // namespace

const Modifier* Record::redirect() const {
  return find_modifier(*this, "redirect");
}
const Modifier* Record::exp() const {
  return find_modifier(*this, "exp");
}

std::string to_string(const Mechanism& mechanism) {
  std::string out;
  if (mechanism.qualifier != Qualifier::pass || mechanism.explicit_qualifier)
    out += static_cast<char>(mechanism.qualifier);
  out += to_string(mechanism.kind);
  if (mechanism.kind == MechanismKind::ip4 || mechanism.kind == MechanismKind::ip6) {
    out += ':' + mechanism.network.to_string();
    // ip6 keeps its single length in cidr6 but writes it with one slash (RFC 7208 5.6).
    const std::optional<int>& length =
        mechanism.kind == MechanismKind::ip4 ? mechanism.cidr4 : mechanism.cidr6;
    if (length) out += '/' + std::to_string(*length);
    return out;
  }
  if (mechanism.domain) out += ':' + *mechanism.domain;
  if (mechanism.cidr4) out += '/' + std::to_string(*mechanism.cidr4);
  if (mechanism.cidr6) out += "//" + std::to_string(*mechanism.cidr6);
  return out;
}

std::string to_string(const Modifier& modifier) {
  return modifier.name + '=' + modifier.value;
}

std::string to_string(const Term& term) {
  if (const Mechanism* mechanism = term.mechanism()) return to_string(*mechanism);
  return to_string(*term.modifier());
}

std::string to_string(const Record& record) {
  std::string out = "v=spf1";
  for (const Term& term : record.terms) out += ' ' + to_string(term);
  return out;
}

std::string printable(std::string_view text) {
  static constexpr char k_hex[] = "0123456789ABCDEF";
  std::string out;
  for (char c : text) {
    const auto byte = static_cast<unsigned char>(c);
    if (byte >= 0x20 && byte < 0x7f && c != '\\') {
      out += c;
    } else {
      out += "\\x";
      out += k_hex[byte >> 4];
      out += k_hex[byte & 0xf];
    }
  }
  return out;
}

}  // namespace spfctl::spf
