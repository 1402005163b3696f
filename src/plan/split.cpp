#include "plan/split.hpp"

#include <optional>

#include "dns/message_size.hpp"

namespace spfctl::plan {

namespace {

// The largest count in [low, high] for which `holds` is true, given that it holds at `low` and,
// once false, stays false for every larger count: found by bisection.
template <typename Predicate>
std::size_t largest_that_holds(std::size_t low, std::size_t high, const Predicate& holds) {
  while (low < high) {
    const std::size_t middle = low + (high - low + 1) / 2;
    if (holds(middle))
      low = middle;
    else
      high = middle - 1;
  }
  return low;
}

constexpr std::string_view k_version = "v=spf1";

std::size_t answer_bytes(std::string_view name, const std::vector<std::string>& strings,
                         const std::vector<std::vector<std::string>>& other_txt) {
  std::vector<std::vector<std::string>> records = other_txt;
  records.push_back(strings);
  return dns::txt_response_size(name, records);
}

std::vector<std::string> with_version(const std::vector<std::string>& terms) {
  std::vector<std::string> out;
  out.reserve(terms.size() + 1);
  out.emplace_back(k_version);
  out.insert(out.end(), terms.begin(), terms.end());
  return out;
}

}  // namespace

std::vector<std::string> to_strings(const std::vector<std::string>& terms) {
  const std::vector<std::string> words = with_version(terms);
  std::vector<std::string> out;
  std::string current;
  for (std::size_t i = 0; i < words.size(); ++i) {
    std::string piece = words[i] + (i + 1 < words.size() ? " " : "");
    if (!current.empty() && current.size() + piece.size() > dns::k_max_character_string) {
      out.push_back(std::move(current));
      current.clear();
    }
    while (piece.size() >
           dns::k_max_character_string) {  // longer than any string: only a cut inside can carry it
      out.push_back(piece.substr(0, dns::k_max_character_string));
      piece.erase(0, dns::k_max_character_string);
    }
    current += piece;
  }
  if (!current.empty()) out.push_back(std::move(current));
  return out;
}

std::string chain_name(std::string_view prefix, std::size_t index, std::string_view domain) {
  return std::string(prefix) + std::to_string(index) + "." + std::string(domain);
}

SplitResult split_records(std::string_view domain, const RecordTerms& record, const SplitSettings& settings,
                          const std::vector<std::vector<std::string>>& other_txt) {
  SplitResult result;
  const std::string apex(domain);
  std::vector<std::string> strings = to_strings(record.terms);
  result.unsplit_answer_bytes = answer_bytes(apex, strings, other_txt);
  if (result.unsplit_answer_bytes <= settings.max_answer_bytes) {
    result.records.push_back({apex, std::move(strings)});
    return result;
  }

  // The domain keeps the first `kept` terms of the run, then the include of the first chain.
  const auto run_begin = record.terms.begin() + static_cast<std::ptrdiff_t>(record.run_begin);
  const auto run_end = record.terms.begin() + static_cast<std::ptrdiff_t>(record.run_end);
  auto apex_terms = [&](std::size_t kept) {
    std::vector<std::string> terms(record.terms.begin(), run_begin + static_cast<std::ptrdiff_t>(kept));
    terms.push_back("include:" + chain_name(settings.chain_prefix, 1, apex));
    terms.insert(terms.end(), run_end, record.terms.end());
    return terms;
  };
  // With all of the run kept the record is larger than unsplit, which did not fit: keep fewer.
  // Keeping fewer never makes it larger, so the most that fit is found by bisection.
  const std::size_t run = record.run_end - record.run_begin;
  auto fits = [&](std::size_t count) {
    return answer_bytes(apex, to_strings(apex_terms(count)), other_txt) <= settings.max_answer_bytes;
  };
  std::optional<std::size_t> kept;
  if (run > 0 && fits(0)) {
    kept = largest_that_holds(0, run - 1, fits);
  }
  if (!kept) {
    const std::size_t smallest = answer_bytes(apex, to_strings(apex_terms(0)), other_txt);
    result.error = "the TXT answer at " + apex + " would need " + std::to_string(smallest) +
                   " bytes even with every movable address in chained records, over the limit of " +
                   std::to_string(settings.max_answer_bytes) +
                   (other_txt.empty() ? "" : " (the other TXT records there count too)") +
                   "; raise max_answer_bytes or remove terms that cannot be flattened";
    return result;
  }
  result.records.push_back({apex, to_strings(apex_terms(*kept))});

  std::vector<std::string> rest(run_begin + static_cast<std::ptrdiff_t>(*kept), run_end);
  std::size_t next = 0;
  for (std::size_t index = 1; next < rest.size(); ++index) {
    const std::string name = chain_name(settings.chain_prefix, index, apex);
    auto chain = [&](std::size_t count, bool last) {
      std::vector<std::string> terms(rest.begin() + static_cast<std::ptrdiff_t>(next),
                                     rest.begin() + static_cast<std::ptrdiff_t>(next + count));
      if (!last) terms.push_back("include:" + chain_name(settings.chain_prefix, index + 1, apex));
      terms.push_back("-all");
      return to_strings(terms);
    };
    std::vector<std::string> chosen = chain(rest.size() - next, true);
    std::size_t count = rest.size() - next;
    if (answer_bytes(name, chosen, {}) > settings.max_answer_bytes) {
      // The most terms that fit with the include of the next record, by bisection.
      auto chain_fits = [&](std::size_t n) {
        return answer_bytes(name, chain(n, false), {}) <= settings.max_answer_bytes;
      };
      count = largest_that_holds(0, rest.size() - next - 1, chain_fits);
      if (count == 0) {
        result.error = "the term '" + rest[next] + "' does not fit a chained record of " +
                       std::to_string(settings.max_answer_bytes) + " bytes";
        result.records.clear();
        return result;
      }
      chosen = chain(count, false);
    }
    result.records.push_back({name, std::move(chosen)});
    next += count;
    ++result.chains;
  }
  return result;
}

}  // namespace spfctl::plan
