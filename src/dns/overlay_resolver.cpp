#include "dns/overlay_resolver.hpp"

namespace spfctl::dns {

OverlayResolver::OverlayResolver(Resolver& base,
                                 const std::map<std::string, std::vector<std::vector<std::string>>>& txt)
    : m_base(base) {
  for (const auto& [name, records] : txt) {
    auto& slot = m_txt[normalize_name(name)];
    slot.insert(slot.end(), records.begin(), records.end());
  }
}

Answer OverlayResolver::query(std::string_view name, RrType type) {
  if (type == RrType::TXT) {
    const auto found = m_txt.find(normalize_name(name));
    if (found != m_txt.end()) {
      Answer answer;
      answer.status = found->second.empty() ? Status::nodata : Status::ok;
      answer.txt = found->second;
      return answer;
    }
  }
  return m_base.query(name, type);
}

bool OverlayResolver::overlays(std::string_view name) const {
  return m_txt.count(normalize_name(name)) != 0;
}

std::vector<std::string> OverlayResolver::names() const {
  std::vector<std::string> out;
  for (const auto& entry : m_txt) out.push_back(entry.first);
  return out;
}

}  // namespace spfctl::dns
