#include "providers/provider.hpp"

#include <cstdlib>

namespace spfctl::providers {

std::string TxtValue::joined() const {
  std::string out;
  for (const std::string& s : strings) out += s;
  return out;
}

std::string ProviderEnvironment::read(const std::string& name) const {
  if (getenv) return getenv(name).value_or("");
  const char* value = std::getenv(name.c_str());
  return value ? value : "";
}

std::string_view to_string(Change::Action action) {
  switch (action) {
    case Change::Action::create:
      return "create";
    case Change::Action::update:
      return "update";
    case Change::Action::remove:
      return "delete";
  }
  return "?";
}

}  // namespace spfctl::providers
