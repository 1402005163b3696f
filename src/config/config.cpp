#include "config/config.hpp"

#include <algorithm>
#include <utility>

#include "util/text.hpp"

namespace spfctl::config {

std::string SourceLocation::to_string() const {
  if (line == 0) return file;
  return file + ":" + std::to_string(line) + ":" + std::to_string(column);
}

namespace {

std::string format_diagnostics(const std::vector<Diagnostic>& diagnostics) {
  if (diagnostics.size() == 1) return diagnostics.front().to_string();
  std::string text = std::to_string(diagnostics.size()) + " errors in the configuration:";
  for (const Diagnostic& diagnostic : diagnostics) text += "\n" + diagnostic.to_string();
  return text;
}

}  // namespace

ConfigError::ConfigError(std::vector<Diagnostic> diagnostics)
    : Error(format_diagnostics(diagnostics)), m_diagnostics(std::move(diagnostics)) {}

std::string_view to_string(FlattenMode mode) {
  switch (mode) {
    case FlattenMode::automatic:
      return "auto";
    case FlattenMode::full:
      return "full";
    case FlattenMode::off:
      return "off";
  }
  return "?";
}

std::string_view to_string(TermKind kind) {
  switch (kind) {
    case TermKind::include:
      return "include";
    case TermKind::ip4:
      return "ip4";
    case TermKind::ip6:
      return "ip6";
    case TermKind::a:
      return "a";
    case TermKind::mx:
      return "mx";
    case TermKind::raw:
      return "raw";
  }
  return "?";
}

std::string SenderTerm::text() const {
  if (kind == TermKind::raw) return value;
  std::string out(to_string(kind));
  // a and mx for the configured domain itself: "a", "mx/24".
  if (value.empty() || value.front() == '/') return out + value;
  return out + ":" + value;
}

std::optional<std::string_view> sender_alias(std::string_view name) {
  static constexpr std::pair<std::string_view, std::string_view> k_aliases[] = {
      {"1und1", "ionos"},
      {"1and1", "ionos"},
      {"1-and-1", "ionos"},
      {"office365", "microsoft365"},
      {"o365", "microsoft365"},
      {"m365", "microsoft365"},
      {"outlook", "microsoft365"},
      {"exchange-online", "microsoft365"},
      {"gsuite", "google-workspace"},
      {"g-suite", "google-workspace"},
      {"google", "google-workspace"},
      {"gmail", "google-workspace"},
      {"sendinblue", "brevo"},
      {"ses", "amazon-ses"},
      {"aws-ses", "amazon-ses"},
      {"mailchimp-transactional", "mandrill"},
  };
  const std::string lower = util::lowercase(name);
  for (const auto& [alias, canonical] : k_aliases)
    if (lower == alias) return canonical;
  return std::nullopt;
}

}  // namespace spfctl::config
