// Splitting a record into what DNS can carry: character-strings of at most 255 bytes, TXT answers
// within the answer-size limit, and chained records for what does not fit at the domain itself.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "plan/desired.hpp"

namespace spfctl::plan {

// A record to publish at a domain, as its terms (without "v=spf1"), with the one run of
// pass-qualified address terms, [run_begin, run_end), that may move into chained records: inside an
// include only a pass counts, so only those keep their meaning there.
struct RecordTerms {
  std::vector<std::string> terms;
  std::size_t run_begin = 0;
  std::size_t run_end = 0;
};

struct SplitSettings {
  std::size_t max_answer_bytes = 512;
  std::string chain_prefix = "_spf";
};

struct SplitResult {
  std::string error;                     // set when the record cannot fit even with chains
  std::vector<DesiredRecord> records;    // the domain first, then _spf1, _spf2, ...
  std::size_t chains = 0;                // chained records: each costs receivers one lookup
  std::size_t unsplit_answer_bytes = 0;  // the TXT answer at the domain with everything in one record
};

// "v=spf1 " and the terms as character-strings of at most 255 bytes, cut only between terms (the
// separating space ends a string); a term longer than a string on its own is cut inside.
std::vector<std::string> to_strings(const std::vector<std::string>& terms);

// `<prefix><index>.<domain>`: chain_name("_spf", 1, "example.com") is "_spf1.example.com".
std::string chain_name(std::string_view prefix, std::size_t index, std::string_view domain);

// Lays `record` out at `domain`, whose TXT answer also carries `other_txt`. When the whole answer
// fits settings.max_answer_bytes, one record. Otherwise the domain keeps as many of the movable run's
// terms as fit, followed by include:<prefix>1.<domain> in the run's place, and the rest fill
// chained records in order, each ending with include: of the next, the last with -all; every
// chained TXT answer fits too. Deterministic.
SplitResult split_records(std::string_view domain, const RecordTerms& record, const SplitSettings& settings,
                          const std::vector<std::vector<std::string>>& other_txt);

}  // namespace spfctl::plan
