// Sizes of DNS messages on the wire (RFC 1035 4.1), for the 512-byte limit of answers over UDP
// without EDNS.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace spfctl::dns {

// The longest character-string in a TXT record: its length is one octet (RFC 1035 3.3).
inline constexpr std::size_t k_max_character_string = 255;

// Octets of `name` in wire format, uncompressed: one length octet per label, the labels, and the
// root label. "example.com" → 13.
std::size_t wire_name_length(std::string_view name);

// The size of the response to a TXT question for `name` holding `records` (each a list of
// character-strings): header, question, and one answer per record with its owner compressed to a
// pointer to the question. No EDNS OPT record, no authority or additional sections.
std::size_t txt_response_size(std::string_view name, const std::vector<std::vector<std::string>>& records);

}  // namespace spfctl::dns
