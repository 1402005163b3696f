// Errors that end a command. `Error` is what a user can act on: main() prints it once as
// "spfctl: error: <message>" and exits 1. Expected failures (NXDOMAIN, a bad record in a
// domain that is being audited) are values, not exceptions.
#pragma once

#include <stdexcept>
#include <string>

namespace spfctl {

class Error : public std::runtime_error {
 public:
  explicit Error(const std::string& message) : std::runtime_error(message) {}
};

}  // namespace spfctl
