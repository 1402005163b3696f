#include "dns/message_size.hpp"

#include "dns/resolver.hpp"

namespace spfctl::dns {

std::size_t wire_name_length(std::string_view name) {
  const std::string normalized = normalize_name(name);
  if (normalized.empty()) return 1;
  // Every label gets a length octet: dots become length octets, plus one before the first label
  // and the final root octet.
  return normalized.size() + 2;
}

std::size_t txt_response_size(std::string_view name, const std::vector<std::vector<std::string>>& records) {
  constexpr std::size_t k_header = 12;
  constexpr std::size_t k_question_fixed = 4;     // QTYPE, QCLASS
  constexpr std::size_t k_answer_fixed = 2 + 10;  // name pointer; TYPE CLASS TTL RDLENGTH
  std::size_t size = k_header + wire_name_length(name) + k_question_fixed;
  for (const auto& strings : records) {
    size += k_answer_fixed;
    for (const std::string& s : strings) size += 1 + s.size();
  }
  return size;
}

}  // namespace spfctl::dns
