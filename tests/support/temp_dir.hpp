// A fresh directory under the system's temporary directory for one test, removed with everything
// in it when the object goes away.
#pragma once

#include <stdlib.h>

#include <filesystem>
#include <fstream>
#include <stdexcept>
#include <string>

namespace spfctl::testing {

class TempDir {
 public:
  explicit TempDir(const std::string& prefix = "spfctl-test") {
    std::string pattern = (std::filesystem::temp_directory_path() / (prefix + "-XXXXXX")).string();
    if (mkdtemp(pattern.data()) == nullptr) throw std::runtime_error("cannot create a temporary directory");
    dir = pattern;
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  ~TempDir() {
    std::error_code ignored;
    if (!m_kept) std::filesystem::remove_all(dir, ignored);
  }

  // Leaves the directory in place when this object goes (to look at it afterwards).
  void keep() { m_kept = true; }

  // Writes `text` to `name` in the directory and returns the file's path.
  std::string write(const std::string& name, const std::string& text) const {
    std::ofstream(dir / name) << text;
    return (dir / name).string();
  }

  std::filesystem::path dir;

 private:
  bool m_kept = false;
};

}  // namespace spfctl::testing
