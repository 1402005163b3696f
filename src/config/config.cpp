#include "config/config.hpp"

#include <algorithm>

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

}  // namespace spfctl::config
