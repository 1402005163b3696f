#include "spf/select.hpp"

#include <cctype>

namespace spfctl::spf {

bool is_spf_record(std::string_view text) {
  constexpr std::string_view k_version = "v=spf1";
  if (text.size() < k_version.size()) return false;
  for (std::size_t i = 0; i < k_version.size(); ++i)
    if (std::tolower(static_cast<unsigned char>(text[i])) != k_version[i]) return false;
  return text.size() == k_version.size() || text[k_version.size()] == ' ';
}

SelectedRecord select_record(const dns::Answer& txt_answer, std::string_view name) {
  SelectedRecord selected;
  const std::string where = dns::normalize_name(name);
  if (txt_answer.failed()) {
    selected.outcome = Selection::failed;
    selected.message = "TXT lookup for " + where + " failed (" +
                       std::string(dns::to_string(txt_answer.status)) +
                       (txt_answer.detail.empty() ? "" : ": " + txt_answer.detail) + ")";
    return selected;
  }
  int count = 0;
  for (const std::vector<std::string>& strings : txt_answer.txt) {
    std::string joined;
    for (const std::string& piece : strings) joined += piece;
    if (!is_spf_record(joined)) continue;
    if (++count == 1) selected.text = std::move(joined);
  }
  if (count == 0) {
    selected.outcome = Selection::none;
    selected.message =
        txt_answer.status == dns::Status::nxdomain ? where + " does not exist" : "no SPF record at " + where;
    selected.text.clear();
  } else if (count == 1) {
    selected.outcome = Selection::found;
    selected.message = "SPF record at " + where;
  } else {
    selected.outcome = Selection::multiple;
    selected.message = std::to_string(count) + " SPF records at " + where + " (there must be exactly one)";
    selected.text.clear();
  }
  return selected;
}

}  // namespace spfctl::spf
