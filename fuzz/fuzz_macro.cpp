// Macro strings (RFC 7208 section 7): checking and expanding never crash, and what the checker
// accepts expands.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "net/ip.hpp"
#include "spf/macro.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace spfctl;
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  static const spf::MacroContext v4 = spf::make_macro_context(*net::IpAddress::parse("192.0.2.3"),
                                                              "strong-bad@email.example.com", "mx.example");
  static const spf::MacroContext v6 =
      spf::make_macro_context(*net::IpAddress::parse("2001:db8::cb01"), "", "helo.example.org");
  for (const spf::MacroScope scope : {spf::MacroScope::domain, spf::MacroScope::explanation}) {
    const bool valid = !spf::check_macro_string(text, scope);
    for (const spf::MacroContext* context : {&v4, &v6}) {
      const spf::Expansion expanded = spf::expand_macros(text, *context, scope);
      if (valid && !expanded.ok) std::abort();
    }
  }
  (void)spf::check_domain_spec(text);
  (void)spf::expand_domain_spec(text, v4);
  return 0;
}
