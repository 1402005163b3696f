#include "providers/provider.hpp"

namespace spfctl::providers {

std::string TxtValue::joined() const {
  std::string text;
  for (const std::string& s : strings) text += s;
  return text;
}

std::string_view to_string(Change::Action action) {
  switch (action) {
    case Change::Action::create:
      return "create";
    case Change::Action::update:
      return "update";
    case Change::Action::remove:
      return "delete";
  }
  return "?";
}

}  // namespace spfctl::providers
