#include "spf/counts.hpp"

namespace spfctl::spf {

std::string count_text(int count) {
  return count >= k_count_ceiling ? std::to_string(k_count_ceiling) + "+" : std::to_string(count);
}

}  // namespace spfctl::spf
