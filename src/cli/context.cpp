#include "cli/context.hpp"

#include <unistd.h>

#include <cmath>
#include <cstdlib>
#include <filesystem>

#include "dns/live_resolver.hpp"
#include "dns/zone_resolver.hpp"

namespace spfctl::cli {

RunResolver::RunResolver(const GlobalOptions& globals) {
  if (!globals.zones.empty()) {
    std::vector<std::filesystem::path> paths(globals.zones.begin(), globals.zones.end());
    m_source = std::make_unique<dns::ZoneResolver>(paths);
    m_offline = true;
  } else {
    dns::LiveResolverOptions options;
    options.servers = globals.resolvers;
    options.timeout_ms = static_cast<int>(std::lround(globals.timeout_seconds * 1000));
    options.tries = globals.retries + 1;
    m_source = std::make_unique<dns::LiveResolver>(options);
  }
  m_cache = std::make_unique<dns::CachingResolver>(*m_source);
}

Style::Style(const GlobalOptions& globals) {
  const char* no_color = std::getenv("NO_COLOR");
  m_color = !globals.no_color && !globals.json && (no_color == nullptr || *no_color == '\0') &&
            isatty(STDOUT_FILENO);
}

std::string Style::wrap(const char* code, std::string_view text) const {
  if (!m_color) return std::string(text);
  return std::string("\x1b[") + code + "m" + std::string(text) + "\x1b[0m";
}

}  // namespace spfctl::cli
