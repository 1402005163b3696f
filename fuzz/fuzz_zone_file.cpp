// RFC 1035 master files: the parser either returns records or throws spfctl::Error; a zone that
// parses can be served by the zone resolver.
#include <cstddef>
#include <cstdint>
#include <string>

#include "dns/zone_file.hpp"
#include "dns/zone_resolver.hpp"
#include "error.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace spfctl;
  const std::string text(reinterpret_cast<const char*>(data), size);
  try {
    const dns::ZoneFile zone = dns::parse_zone(text, "fuzz.zone", "example.com");
    dns::ZoneResolver resolver({zone});
    for (const dns::ZoneRecord& record : zone.records) {
      (void)resolver.query(record.owner, dns::RrType::TXT);
      (void)resolver.query(record.owner, dns::RrType::A);
    }
  } catch (const Error&) {
  }
  return 0;
}
