// Plan files: any bytes give a Plan or an spfctl::Error naming the field; a plan read back writes
// out and reads again to the same plan.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "error.hpp"
#include "plan/plan_file.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace spfctl;
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  plan::Plan parsed;
  try {
    parsed = plan::parse_plan(text, "plan.json");
  } catch (const Error&) {
    return 0;
  }
  const std::string written = plan::to_json_text(parsed);
  try {
    const plan::Plan again = plan::parse_plan(written, "plan.json");
    if (plan::to_json_text(again) != written) std::abort();
  } catch (const Error&) {
    std::abort();  // what spfctl writes, it reads
  }
  return 0;
}
