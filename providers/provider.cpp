#include "providers/provider.hpp"

#include <cstdlib>

#include "error.hpp"
#include "providers/settings.hpp"

namespace spfctl::providers {

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

}  // namespace spfctl::providers
