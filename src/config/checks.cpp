#include "config/checks.hpp"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <optional>

#include "util/text.hpp"

namespace spfctl::config {

namespace {

bool is_label_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_';
}

bool is_printable_word(std::string_view text) {
  return !text.empty() && std::all_of(text.begin(), text.end(), [](char c) { return c > ' ' && c < 127; });
}

// A CIDR length: decimal digits only, within [0, max].
std::optional<int> parse_prefix(std::string_view text, int max) {
  if (text.empty() || text.size() > 3) return std::nullopt;
  int value = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size() || value < 0 || value > max) return std::nullopt;
  return value;
}

std::string_view family_name(net::Family family) {
  return family == net::Family::v4 ? "ip4" : "ip6";
}

}  // namespace

Checked check_domain_name(std::string_view text) {
  if (text.empty()) return {{}, "the domain name is empty"};
  if (std::any_of(text.begin(), text.end(), [](char c) { return static_cast<unsigned char>(c) >= 0x80; }))
    return {{}, "domain name " + util::quoted(text) + " is not ASCII; write its punycode form (xn--...)"};
  std::string name = util::lowercase(text);
  if (name.back() == '.') name.pop_back();
  if (const auto address = net::IpAddress::parse(name))
    return {{},
            util::quoted(text) + " is an IP address, not a domain name; list it under " +
                std::string(family_name(address->family()))};
  if (name.empty() || name.front() == '.')
    return {{}, "domain name " + util::quoted(text) + " has an empty label"};
  if (name.size() > 253) return {{}, "domain name " + util::quoted(text) + " is longer than 253 characters"};
  std::size_t labels = 0;
  std::string_view last_label;
  std::string_view rest = name;
  while (true) {
    const std::size_t dot = rest.find('.');
    const std::string_view label = rest.substr(0, dot);
    if (label.empty()) return {{}, "domain name " + util::quoted(text) + " has an empty label"};
    if (label.size() > 63)
      return {{},
              "label " + util::quoted(label) + " of " + util::quoted(text) + " is longer than 63 characters"};
    if (!std::all_of(label.begin(), label.end(), is_label_char))
      return {{},
              "domain name " + util::quoted(text) +
                  " may only hold letters, digits, hyphens, underscores and dots"};
    if (label.front() == '-' || label.back() == '-')
      return {{},
              "label " + util::quoted(label) + " of " + util::quoted(text) + " starts or ends with a hyphen"};
    ++labels;
    last_label = label;
    if (dot == std::string_view::npos) break;
    rest.remove_prefix(dot + 1);
  }
  if (labels < 2)
    return {
        {},
        "domain name " + util::quoted(text) + " is not fully qualified; write it with its top-level domain"};
  if (std::all_of(last_label.begin(), last_label.end(), [](char c) { return c >= '0' && c <= '9'; }))
    return {{}, "domain name " + util::quoted(text) + " has an all-numeric top-level label"};
  return {name, {}};
}

Checked check_domain_spec(std::string_view text) {
  if (text.find('%') == std::string_view::npos) return check_domain_name(text);
  if (!is_printable_word(text))
    return {{}, "macro domain " + util::quoted(text) + " must be one word of printable ASCII"};
  return {std::string(text), {}};
}

Checked check_network(std::string_view text, net::Family family) {
  const std::string_view kind = family_name(family);
  const std::size_t slash = text.find('/');
  const std::string_view address_text = text.substr(0, slash);
  const auto address = net::IpAddress::parse(address_text);
  if (!address) {
    const std::string_view expected = family == net::Family::v4 ? "an IPv4" : "an IPv6";
    return {{}, util::quoted(text) + " is not " + std::string(expected) + " address or network"};
  }
  if (address->family() != family) {
    return {{},
            util::quoted(text) + " is an " + (address->is_v4() ? "IPv4" : "IPv6") + " " +
                (slash == std::string_view::npos ? "address" : "network") + "; list it under " +
                std::string(family_name(address->family()))};
  }
  const int bits = address->bits();
  int prefix = bits;
  if (slash != std::string_view::npos) {
    const auto parsed = parse_prefix(text.substr(slash + 1), bits);
    if (!parsed)
      return {{},
              "prefix length in " + util::quoted(text) + " is out of range for " + std::string(kind) +
                  " (0-" + std::to_string(bits) + ")"};
    prefix = *parsed;
  }
  const int min_prefix = family == net::Family::v4 ? k_min_ip4_prefix : k_min_ip6_prefix;
  if (prefix < min_prefix)
    return {{},
            util::quoted(text) + " covers too much of the internet (shorter than /" +
                std::to_string(min_prefix) + "); list the networks your senders really use"};
  const net::IpAddress network = address->masked(prefix);
  std::string canonical = network.to_string();
  if (prefix != bits) canonical += "/" + std::to_string(prefix);
  if (network != *address)
    return {{},
            std::string(kind) + " " + util::quoted(text) + " has host bits set; did you mean " +
                util::quoted(canonical) + "?"};
  return {canonical, {}};
}

Checked check_host_spec(std::string_view text) {
  std::string_view host = text;
  std::string cidr;
  const std::size_t double_slash = host.find("//");
  if (double_slash != std::string_view::npos) {
    const std::string_view length = host.substr(double_slash + 2);
    const auto prefix = parse_prefix(length, 128);
    if (!prefix) return {{}, "ip6 prefix length in " + util::quoted(text) + " is out of range (0-128)"};
    if (*prefix < k_min_ip6_prefix)
      return {{},
              util::quoted(text) + " covers too much of the internet (ip6 shorter than /" +
                  std::to_string(k_min_ip6_prefix) + ")"};
    cidr = "//" + std::to_string(*prefix);
    host = host.substr(0, double_slash);
  }
  const std::size_t slash = host.find('/');
  if (slash != std::string_view::npos) {
    const auto prefix = parse_prefix(host.substr(slash + 1), 32);
    if (!prefix) return {{}, "ip4 prefix length in " + util::quoted(text) + " is out of range (0-32)"};
    if (*prefix < k_min_ip4_prefix)
      return {{},
              util::quoted(text) + " covers too much of the internet (ip4 shorter than /" +
                  std::to_string(k_min_ip4_prefix) + ")"};
    cidr = "/" + std::to_string(*prefix) + cidr;
    host = host.substr(0, slash);
  }
  if (host == "@") return {cidr, {}};
  if (host.empty())
    return {{}, util::quoted(text) + " names no host; write a domain name, or \"@\" for the domain itself"};
  Checked checked = check_domain_spec(host);
  if (checked.ok()) checked.value += cidr;
  return checked;
}

Checked check_raw_term(std::string_view text) {
  if (text.empty()) return {{}, "the raw term is empty"};
  if (!is_printable_word(text))
    return {{},
            "raw term " + util::quoted(text) +
                " must be a single SPF term without spaces; write one term per entry"};
  const std::string lower = util::lowercase(text);
  if (lower == "v=spf1") return {{}, "raw terms exclude the version 'v=spf1'; spfctl writes it"};
  std::string_view mechanism = lower;
  if (!mechanism.empty() && (mechanism.front() == '+' || mechanism.front() == '-' ||
                             mechanism.front() == '~' || mechanism.front() == '?'))
    mechanism.remove_prefix(1);
  if (mechanism == "all")
    return {{},
            "raw term " + util::quoted(text) + " is an 'all' mechanism; set the domain's policy key instead"};
  if (mechanism.starts_with("redirect="))
    return {{}, "raw term " + util::quoted(text) + " would replace the whole policy; use include: instead"};
  return {std::string(text), {}};
}

Checked check_chain_prefix(std::string_view text) {
  const std::string prefix = util::lowercase(text);
  if (prefix.empty() || prefix.size() > 60)
    return {{}, "chain_prefix " + util::quoted(text) + " must be 1 to 60 characters long"};
  if (!std::all_of(prefix.begin(), prefix.end(), is_label_char))
    return {{},
            "chain_prefix " + util::quoted(text) + " may only hold letters, digits, hyphens and underscores"};
  if (prefix.front() == '-')
    return {{}, "chain_prefix " + util::quoted(text) + " must not start with a hyphen"};
  if (prefix.back() == '-' || (prefix.back() >= '0' && prefix.back() <= '9'))
    return {{},
            "chain_prefix " + util::quoted(text) +
                " must not end with a digit or hyphen (a number is appended to it)"};
  return {prefix, {}};
}

CheckedTimeout check_timeout_seconds(std::string_view text) {
  const auto is_digit = [](char c) { return c >= '0' && c <= '9'; };
  const std::size_t dot = text.find('.');
  const std::string_view whole = text.substr(0, dot);
  const std::string_view fraction = dot == std::string_view::npos ? std::string_view() : text.substr(dot + 1);
  const bool digits = !whole.empty() && whole.size() <= 6 &&
                      std::all_of(whole.begin(), whole.end(), is_digit) &&
                      (dot == std::string_view::npos ||
                       (!fraction.empty() && std::all_of(fraction.begin(), fraction.end(), is_digit)));
  double seconds = 0;
  if (digits) std::from_chars(text.data(), text.data() + text.size(), seconds);
  const auto milliseconds = static_cast<std::int64_t>(std::llround(seconds * 1000));
  if (!digits || milliseconds < 1 || seconds > k_max_timeout_seconds)
    return {{},
            "must be a number of seconds above 0 and at most " + std::to_string(k_max_timeout_seconds) +
                " (such as 30, or \"2.5\" for a fraction), not " + util::quoted(text)};
  return {std::chrono::milliseconds(milliseconds), {}};
}

bool is_env_var_name(std::string_view text) {
  if (text.empty() || (text.front() >= '0' && text.front() <= '9')) return false;
  return std::all_of(text.begin(), text.end(),
                     [](char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '_'; });
}

bool looks_like_secret(std::string_view key) {
  const std::string lower = util::lowercase(key);
  std::vector<std::string_view> words;
  std::string_view rest = lower;
  while (!rest.empty()) {
    const std::size_t cut = rest.find_first_of("_-");
    if (cut != 0) words.push_back(rest.substr(0, cut));
    if (cut == std::string_view::npos) break;
    rest.remove_prefix(cut + 1);
  }
  if (words.empty()) return false;
  const std::string_view last = words.back();
  // These only point at a credential kept elsewhere.
  if (last == "env" || last == "file" || last == "path" || last == "name") return false;
  if (last == "key" || last == "apikey") return true;
  for (const std::string_view word : words)
    if (word == "token" || word == "secret" || word == "password" || word == "passwd" ||
        word == "credential" || word == "credentials")
      return true;
  return false;
}

}  // namespace spfctl::config
