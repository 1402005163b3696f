#include "providers/provider.hpp"

#include <cstdlib>

#include "error.hpp"
#include "http/client.hpp"
#include "providers/settings.hpp"

namespace spfctl::providers {

Failure failure_of(const http::Request& request, const http::Response& response) {
  if (response.transport_failed())
    return response.request_sent && request.method != http::Method::get ? Failure::unknown_outcome
                                                                        : Failure::transient;
  if (response.status == 401 || response.status == 403) return Failure::refused;
  if (response.status == 408 || response.status == 429 || response.status >= 500) return Failure::transient;
  return Failure::failed;
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

}  // namespace spfctl::providers
