#include "providers/provider.hpp"

#include <cstdlib>

#include "error.hpp"
#include "providers/settings.hpp"

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

std::string ProviderEnvironment::secret(const ProviderSettings& settings, std::string_view key) const {
  const auto found = settings.values.find(key);
  const std::string variable = found == settings.values.end() ? std::string() : found->second.text;
  std::string value = read(variable);
  if (value.empty()) {
    const config::SourceLocation& where =
        found == settings.values.end() ? settings.location : found->second.location;
    throw Error(where.to_string() + ": the environment variable " + variable + " named by " +
                std::string(key) + " in " + settings.table() + " is not set or empty: export it with " +
                std::string(found == settings.values.end() ? "the credential" : found->second.holds));
  }
  return value;
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
