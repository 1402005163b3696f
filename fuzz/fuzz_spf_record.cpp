// SPF records: whatever parses prints back to text that parses to the same record, and a parse
// error formats with its caret line.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "spf/parser.hpp"
#include "spf/record.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  const spfctl::spf::ParseResult parsed = spfctl::spf::parse_record(text);
  if (!parsed) {
    (void)spfctl::spf::format_parse_error(text, parsed.error());
    return 0;
  }
  const std::string printed = spfctl::spf::to_string(parsed.record());
  const spfctl::spf::ParseResult again = spfctl::spf::parse_record(printed);
  if (!again || !(again.record().terms == parsed.record().terms)) std::abort();
  if (spfctl::spf::to_string(again.record()) != printed) std::abort();
  return 0;
}
