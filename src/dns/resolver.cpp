#include "dns/resolver.hpp"

#include <cctype>

namespace spfctl::dns {

std::string_view to_string(RrType type) {
  switch (type) {
    case RrType::A:
      return "A";
    case RrType::NS:
      return "NS";
    case RrType::CNAME:
      return "CNAME";
    case RrType::SOA:
      return "SOA";
    case RrType::PTR:
      return "PTR";
    case RrType::MX:
      return "MX";
    case RrType::TXT:
      return "TXT";
    case RrType::AAAA:
      return "AAAA";
    case RrType::SPF:
      return "SPF";
  }
  return "?";
}

std::string_view to_string(Status status) {
  switch (status) {
    case Status::ok:
      return "NOERROR";
    case Status::nodata:
      return "NODATA";
    case Status::nxdomain:
      return "NXDOMAIN";
    case Status::servfail:
      return "SERVFAIL";
    case Status::timeout:
      return "timeout";
  }
  return "?";
}

std::string normalize_name(std::string_view name) {
  if (!name.empty() && name.back() == '.') name.remove_suffix(1);
  std::string out(name);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

bool in_zone(std::string_view name, std::string_view zone) {
  if (zone.empty() || name == zone) return true;
  return name.size() > zone.size() && name.ends_with(zone) && name[name.size() - zone.size() - 1] == '.';
}

bool is_queryable(std::string_view name) {
  if (!name.empty() && name.back() == '.') name.remove_suffix(1);
  if (name.empty() || name.size() > 253) return false;
  std::size_t start = 0;
  while (true) {
    const std::size_t dot = name.find('.', start);
    const std::size_t length = (dot == std::string_view::npos ? name.size() : dot) - start;
    if (length == 0 || length > 63) return false;
    if (dot == std::string_view::npos) return true;
    start = dot + 1;
  }
}

std::vector<Answer> Resolver::query_all(const std::vector<std::pair<std::string, RrType>>& questions) {
  std::vector<Answer> answers;
  answers.reserve(questions.size());
  for (const auto& [name, type] : questions) answers.push_back(query(name, type));
  return answers;
}

}  // namespace spfctl::dns
