// Where a configuration value came from, and the error a whole configuration fails with: every
// problem found, each as "FILE:LINE:COLUMN: message", so a user fixes them all in one pass.
#pragma once

#include <algorithm>
#include <compare>
#include <cstdint>
#include <string>
#include <tuple>
#include <vector>

#include "error.hpp"

namespace spfctl::config {

struct SourceLocation {
  std::string file;          // as the user would find it: the path given or built from include_files
  std::uint32_t line = 0;    // 1-based; 0 when the problem concerns the whole file
  std::uint32_t column = 0;  // 1-based

  // "FILE:LINE:COLUMN", or just "FILE" when there is no position.
  std::string to_string() const;
  auto operator<=>(const SourceLocation&) const = default;
};

struct Diagnostic {
  SourceLocation location;
  std::string message;  // lowercase, quotes the bad value, says what to do

  std::string to_string() const { return location.to_string() + ": " + message; }
};

// Thrown by load_config() when the configuration is invalid. what() is the user-facing text: the
// one diagnostic, or a count line followed by one diagnostic per line.
class ConfigError : public Error {
 public:
  explicit ConfigError(std::vector<Diagnostic> diagnostics);
  const std::vector<Diagnostic>& diagnostics() const { return m_diagnostics; }

 private:
  std::vector<Diagnostic> m_diagnostics;
};

// Every problem found while loading, reported together at the end.
class Diagnostics {
 public:
  void error(SourceLocation where, std::string message) {
    m_list.push_back({std::move(where), std::move(message)});
  }
  bool empty() const { return m_list.empty(); }
  std::size_t count() const { return m_list.size(); }
  const std::vector<Diagnostic>& list() const { return m_list; }
  // Sorted by the order the files were read in, then by position.
  [[noreturn]] void raise(const std::vector<std::string>& file_order) {
    auto rank = [&](const Diagnostic& d) {
      const auto it = std::find(file_order.begin(), file_order.end(), d.location.file);
      return std::tuple(it - file_order.begin(), d.location.line, d.location.column);
    };
    std::stable_sort(m_list.begin(), m_list.end(),
                     [&](const Diagnostic& a, const Diagnostic& b) { return rank(a) < rank(b); });
    throw ConfigError(std::move(m_list));
  }

 private:
  std::vector<Diagnostic> m_list;
};

}  // namespace spfctl::config
