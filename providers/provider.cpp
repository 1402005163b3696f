#include "providers/provider.hpp"

namespace spfctl::providers {

std::string TxtValue::joined() const {
  std::string out;
  for (const std::string& s : strings) out += s;
  return out;
}

std::string_view to_string(Change::Action action) {
  switch (action) {
    case Change::Action::create: return "create";
    case Change::Action::update: return "update";
    case Change::Action::remove: return "delete";
  }
  return "?";
}

}  // namespace spfctl::providers
