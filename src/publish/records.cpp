#include "publish/records.hpp"

#include <algorithm>

#include "publish/provider.hpp"

namespace spfctl::publish {

std::string TxtValue::joined() const {
  std::string out;
  for (const std::string& s : strings) out += s;
  return out;
}

std::vector<std::string> cut_into_strings(std::string_view text) {
  std::vector<std::string> out;
  do {
    const std::size_t length = std::min(text.size(), dns::k_max_character_string);
    out.emplace_back(text.substr(0, length));
    text.remove_prefix(length);
  } while (!text.empty());
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
