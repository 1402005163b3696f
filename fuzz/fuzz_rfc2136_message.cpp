// RFC 2136 responses: decoding and TSIG checking any bytes a server (or an attacker on the path)
// sends returns a value or throws spfctl::Error.
#include <cstddef>
#include <cstdint>

#include "error.hpp"
#include "providers/rfc2136_message.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace spfctl::providers::rfc2136;
  const Bytes wire(data, data + size);
  try {
    const Response response = decode_response(wire);
    (void)rcode_name(response.rcode);
  } catch (const spfctl::Error&) {
  }
  static const TsigKey key{"spfctl-key", "hmac-sha256", Bytes(32, 0x5a)};
  (void)tsig_verify(wire, key, Bytes(32, 0x11), 1700000000);
  (void)tsig_verify(wire, key, {}, 1700000000);
  return 0;
}
