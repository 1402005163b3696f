#include "plan/desired.hpp"

namespace spfctl::plan {

std::string DesiredRecord::value() const {
  std::string joined;
  for (const std::string& s : strings) joined += s;
  return joined;
}

}  // namespace spfctl::plan
