#include "publish/records.hpp"

#include "publish/provider.hpp"

namespace spfctl::publish {

std::string TxtValue::joined() const {
  std::string out;
  for (const std::string& s : strings) out += s;
  return out;
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

std::string_view to_string(Failure failure) {
  switch (failure) {
    case Failure::failed:
      return "failed";
    case Failure::refused:
      return "refused";
    case Failure::drift:
      return "drift";
    case Failure::transient:
      return "transient";
    case Failure::unknown_outcome:
      return "unknown-outcome";
  }
  return "?";
}

}  // namespace spfctl::publish
