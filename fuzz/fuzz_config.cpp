// The configuration: any bytes give a Config or a ConfigError/Error listing what is wrong, never a
// crash; the domains of a valid configuration turn into records to plan.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "config/config.hpp"
#include "error.hpp"
#include "plan/flatten.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace spfctl;
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  try {
    // include_files resolve under a directory that does not exist: nothing outside is read.
    const config::Config config = config::load_config_text(text, "/nonexistent-spfctl-fuzz/spfctl.toml");
    for (const config::DomainPolicy& domain : config.domains) (void)plan::intended_record(domain);
  } catch (const Error&) {
  }
  return 0;
}
