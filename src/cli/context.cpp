#include "cli/context.hpp"

#include <unistd.h>

#include <cmath>
#include <cstdlib>
#include <filesystem>

#include "config/checks.hpp"
#include "dns/live_resolver.hpp"
#include "dns/zone_resolver.hpp"
#include "error.hpp"
#include "net/ip.hpp"

namespace spfctl::cli {

std::string checked_domain(std::string_view text) {
  if (const auto address = net::IpAddress::parse(text))
    throw Error("'" + std::string(text) + "' is an IP address, not a domain name");
  const config::Checked checked = config::check_domain_name(text);
  if (!checked.ok()) throw Error(checked.error);
  return checked.value;
}

RunResolver::RunResolver(const GlobalOptions& globals) {
  for (const std::string& server : globals.resolvers) dns::parse_server_address(server);
  for (const std::string& zone : globals.zones) {
    std::error_code error;
    if (std::filesystem::is_directory(zone, error))
      throw Error("--zone '" + zone +
                  "' is a directory; give an RFC 1035 master file (e.g. example.com.zone)");
    if (!std::filesystem::exists(zone, error)) throw Error("--zone file '" + zone + "' does not exist");
  }
  if (!globals.zones.empty()) {
    std::vector<std::filesystem::path> paths(globals.zones.begin(), globals.zones.end());
    m_source = std::make_unique<dns::ZoneResolver>(paths);
    m_offline = true;
  } else {
    dns::LiveResolverOptions options;
    options.servers = globals.resolvers;
    options.timeout_ms = static_cast<int>(std::lround(globals.timeout_seconds * 1000));
    options.tries = globals.retries + 1;
    auto live = std::make_unique<dns::LiveResolver>(options);
    m_live = live.get();
    m_source = std::move(live);
  }
  m_cache = std::make_unique<dns::CachingResolver>(*m_source);
}

Style::Style(const GlobalOptions& globals)
    : m_color(use_color(globals, std::getenv("NO_COLOR"), isatty(STDOUT_FILENO) == 1)) {}

bool Style::use_color(const GlobalOptions& globals, const char* no_color_env, bool stdout_is_terminal) {
  // no-color.org: NO_COLOR set to any non-empty value turns colour off.
  const bool no_color_set = no_color_env != nullptr && *no_color_env != '\0';
  return stdout_is_terminal && !no_color_set && !globals.no_color && !globals.json;
}

std::string Style::wrap(const char* code, std::string_view text) const {
  if (!m_color) return std::string(text);
  return std::string("\x1b[") + code + "m" + std::string(text) + "\x1b[0m";
}

}  // namespace spfctl::cli
