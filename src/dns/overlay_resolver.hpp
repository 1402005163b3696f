// A resolver that answers TXT questions for a few names from records given to it, and every other
// question from the resolver it wraps: DNS as it will be once a planned record set is published,
// over the snapshot it was planned from.
#pragma once

#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "dns/resolver.hpp"

namespace spfctl::dns {

class OverlayResolver : public Resolver {
 public:
  // `txt` maps names (any case, with or without a trailing dot) to the whole set of TXT records a
  // TXT question for them answers, each record the list of its character-strings. `base` must
  // outlive this resolver.
  OverlayResolver(Resolver& base, const std::map<std::string, std::vector<std::vector<std::string>>>& txt);

  // TXT for an overlaid name: NOERROR with its records (NODATA when the list is empty). Anything
  // else, including other types at overlaid names, goes to `base`. Thread-safe if `base` is.
  Answer query(std::string_view name, RrType type) override;
  std::uint64_t queries_sent() const override { return m_base.queries_sent(); }

  // True when TXT questions for `name` are answered from the overlay.
  bool overlays(std::string_view name) const;
  // The overlaid names, normalized, ascending.
  std::vector<std::string> names() const;

 private:
  Resolver& m_base;
  std::map<std::string, std::vector<std::vector<std::string>>> m_txt;
};

}  // namespace spfctl::dns
