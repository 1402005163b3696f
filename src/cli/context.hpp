// What commands share: the resolver a run asks through, and how output is styled.
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include "cli/app.hpp"
#include "dns/caching_resolver.hpp"
#include "dns/live_resolver.hpp"
#include "dns/resolver.hpp"

namespace spfctl::cli {

// The resolver of one run: the zone resolver when --zone is given (offline), else the live c-ares
// resolver (--resolver servers or /etc/resolv.conf), always behind the cache so each (name, type)
// is asked once. Throws spfctl::Error for missing, unreadable or malformed zone files (file:line)
// and for bad --resolver addresses, which are checked even when --zone makes them unused.
class RunResolver {
 public:
  explicit RunResolver(const GlobalOptions& globals);
  dns::Resolver& get() { return *m_cache; }
  dns::CachingResolver& cache() { return *m_cache; }
  std::uint64_t queries_sent() const { return m_cache->queries_sent(); }
  bool offline() const { return m_offline; }
  // TCP connections the live resolver opened (answers over 1232 bytes); 0 offline.
  std::uint64_t tcp_connections() const { return m_live ? m_live->tcp_connections() : 0; }

 private:
  std::unique_ptr<dns::Resolver> m_source;
  const dns::LiveResolver* m_live = nullptr;  // m_source, when it is the live resolver
  std::unique_ptr<dns::CachingResolver> m_cache;
  bool m_offline = false;
};

// `text`, a domain name given on the command line, lowercased and without a trailing dot. Throws
// spfctl::Error naming the value and what is wrong with it: empty, an empty label, a label over 63
// or a name over 253 characters, characters other than letters, digits, '-', '_' and '.', a single
// label, or an IP address.
std::string checked_domain(std::string_view text);

// Terminal styling. Colour only when stdout is a terminal, NO_COLOR is unset (or empty) and
// --no-color and --json are not given.
class Style {
 public:
  explicit Style(const GlobalOptions& globals);
  // Colour exactly when `color` is true (for tests and for output that is not stdout).
  explicit Style(bool color) : m_color(color) {}
  // The decision the first constructor makes, from its inputs: `no_color_env` is NO_COLOR's value
  // (nullptr when unset).
  static bool use_color(const GlobalOptions& globals, const char* no_color_env, bool stdout_is_terminal);
  bool color() const { return m_color; }
  std::string bold(std::string_view text) const { return wrap("1", text); }
  std::string red(std::string_view text) const { return wrap("31", text); }
  std::string green(std::string_view text) const { return wrap("32", text); }
  std::string yellow(std::string_view text) const { return wrap("33", text); }
  std::string dim(std::string_view text) const { return wrap("2", text); }

 private:
  std::string wrap(const char* code, std::string_view text) const;
  bool m_color = false;
};

}  // namespace spfctl::cli
