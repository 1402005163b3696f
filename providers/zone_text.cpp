#include "providers/zone_text.hpp"

#include <algorithm>
#include <cctype>
#include <cstring>
#include <map>
#include <optional>
#include <set>
#include <sstream>

#include "dns/message_size.hpp"
#include "error.hpp"
#include "spf/select.hpp"
#include "util/text.hpp"

namespace spfctl::providers {

namespace {

std::string joined(const dns::ZoneRecord& record) {
  std::string text;
  for (const std::string& s : std::get<dns::TxtRdata>(record.rdata).strings) text += s;
  return text;
}

bool is_spf_txt(const dns::ZoneRecord& record) {
  return record.type == dns::RrType::TXT && spf::is_spf_record(joined(record));
}

// ---- the text as lines

struct Lines {
  std::vector<std::string> text;    // each line without its line ending
  std::vector<std::string> ending;  // "\n", "\r\n", or "" for a last line without one
  std::string eol = "\n";           // what the file ends its lines with

  explicit Lines(std::string_view all) {
    std::size_t start = 0;
    bool eol_seen = false;
    while (start < all.size()) {
      const std::size_t newline = all.find('\n', start);
      std::size_t end = newline == std::string_view::npos ? all.size() : newline;
      std::string ending = newline == std::string_view::npos ? "" : "\n";
      if (!ending.empty() && end > start && all[end - 1] == '\r') {
        --end;
        ending = "\r\n";
      }
      if (!eol_seen && !ending.empty()) {
        eol = ending;
        eol_seen = true;
      }
      text.emplace_back(all.substr(start, end - start));
      this->ending.push_back(ending);
      start = newline == std::string_view::npos ? all.size() : newline + 1;
    }
  }

  const std::string& at(int line) const { return text[static_cast<std::size_t>(line - 1)]; }
  std::string& at(int line) { return text[static_cast<std::size_t>(line - 1)]; }
  int count() const { return static_cast<int>(text.size()); }
};

bool starts_blank(std::string_view line) {
  return !line.empty() && (line[0] == ' ' || line[0] == '\t');
}

// A word or quoted string of one line, by byte offsets.
struct Token {
  std::size_t begin = 0;
  std::size_t end = 0;
  bool quoted = false;
};

struct LineScan {
  std::vector<Token> tokens;                     // parentheses are not tokens
  std::size_t comment = std::string_view::npos;  // where a ';' comment starts
};

LineScan scan_line(std::string_view line) {
  LineScan scan;
  std::size_t i = 0;
  const std::size_t n = line.size();
  while (i < n) {
    const char c = line[i];
    if (c == ' ' || c == '\t' || c == '\r' || c == '(' || c == ')') {
      ++i;
      continue;
    }
    if (c == ';') {
      scan.comment = i;
      break;
    }
    Token token;
    token.begin = i;
    if (c == '"') {
      token.quoted = true;
      ++i;
      while (i < n && line[i] != '"') i += line[i] == '\\' ? 2 : 1;
      if (i < n) ++i;
    } else {
      while (i < n && std::strchr(" \t\r;()\"", line[i]) == nullptr) i += line[i] == '\\' ? 2 : 1;
    }
    token.end = std::min(i, n);
    scan.tokens.push_back(token);
  }
  return scan;
}

std::string upper(std::string_view text) {
  std::string out(text);
  for (char& c : out) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return out;
}

bool is_class(std::string_view text) {
  const std::string u = upper(text);
  return u == "IN" || u == "CH" || u == "CS" || u == "HS";
}

// The part of a TXT record's first line before its rdata: owner field, TTL, class, "TXT". New and
// replaced records are written with the head of an existing line, so they look like their
// neighbours.
struct Head {
  std::string line;
  std::size_t fields = 0;  // where the first field after the owner starts
  std::size_t rdata = 0;   // where the rdata starts
  std::optional<Token> ttl;
};

std::optional<Head> txt_head(std::string_view line) {
  const LineScan scan = scan_line(line);
  std::size_t k = starts_blank(line) ? 0 : 1;
  if (k >= scan.tokens.size()) return std::nullopt;
  Head head;
  head.line = std::string(line);
  head.fields = scan.tokens[k].begin;
  for (; k < scan.tokens.size(); ++k) {
    const Token& token = scan.tokens[k];
    if (token.quoted) return std::nullopt;
    const std::string_view text = line.substr(token.begin, token.end - token.begin);
    if (!head.ttl && std::isdigit(static_cast<unsigned char>(text.front()))) {
      head.ttl = token;
    } else if (is_class(text)) {
      continue;
    } else if (upper(text) == "TXT") {
      std::size_t pos = token.end;
      while (pos < line.size() && (line[pos] == ' ' || line[pos] == '\t')) ++pos;
      head.rdata = pos;
      return head;
    } else {
      return std::nullopt;
    }
  }
  return std::nullopt;
}

// `head` with the owner field replaced by `owner` (when given) and the TTL written when `ttl` is set
// or left out when it is not.
std::string render_head(const Head& head, const std::optional<std::string>& owner,
                        std::optional<std::uint32_t> ttl) {
  std::string owner_field = head.line.substr(0, head.fields);
  if (owner) {
    if (owner_field.find('\t') != std::string::npos)
      owner_field = *owner + "\t";
    else if (owner->size() < head.fields)
      owner_field = *owner + std::string(head.fields - owner->size(), ' ');
    else
      owner_field = *owner + " ";
  }
  std::string rest = head.line.substr(head.fields, head.rdata - head.fields);
  if (head.ttl) {
    const std::size_t begin = head.ttl->begin - head.fields;
    const std::size_t end = head.ttl->end - head.fields;
    if (ttl) {
      rest.replace(begin, end - begin, std::to_string(*ttl));
    } else {
      std::size_t after = end;
      while (after < rest.size() && (rest[after] == ' ' || rest[after] == '\t')) ++after;
      rest.erase(begin, after - begin);
    }
  } else if (ttl) {
    rest.insert(0, std::to_string(*ttl) + " ");
  }
  if (rest.empty() || (rest.back() != ' ' && rest.back() != '\t')) rest += ' ';
  return owner_field + rest;
}

const Head& default_head() {
  static const Head head = *txt_head("@       IN TXT  \"\"");
  return head;
}

// Strings of at most 255 bytes; a longer one is cut after the last space that fits (between terms),
// or at 255 bytes when there is none. Receivers join the strings, so the value is the same.
std::vector<std::string> fit_strings(const std::vector<std::string>& strings) {
  std::vector<std::string> out;
  for (std::string rest : strings) {
    while (rest.size() > dns::k_max_character_string) {
      std::size_t cut = rest.rfind(' ', dns::k_max_character_string - 1);
      cut = cut == std::string::npos || cut == 0 ? dns::k_max_character_string : cut + 1;
      out.push_back(rest.substr(0, cut));
      rest.erase(0, cut);
    }
    out.push_back(rest);
  }
  if (out.empty()) out.emplace_back();
  return out;
}

// One value as rdata: one quoted string, or several in parentheses, one per line, aligned under the
// first.
std::string render_rdata(const std::vector<std::string>& strings, std::string_view head,
                         const std::string& eol) {
  if (strings.size() == 1) return dns::render_character_string(strings.front());
  std::string indent;
  for (const char c : head) indent += c == '\t' ? '\t' : ' ';
  indent += "  ";
  std::string out = "( " + dns::render_character_string(strings.front());
  for (std::size_t i = 1; i < strings.size(); ++i)
    out += eol + indent + dns::render_character_string(strings[i]);
  return out + " )";
}

// The owner as written relative to `origin`.
std::string owner_text(const std::string& name, const std::string& origin) {
  if (name == origin) return "@";
  if (!origin.empty() && dns::in_zone(name, origin)) return name.substr(0, name.size() - origin.size() - 1);
  return name + ".";
}

// The TTL a record without one would get if written after line `line`: what the parser gives a
// probe record placed there.
std::uint32_t implicit_ttl_after(const Lines& lines, int line, const std::string& file,
                                 const std::string& apex) {
  std::string text;
  for (int i = 1; i <= line; ++i) text += lines.at(i) + "\n";
  text += "spfctl-probe. TXT \"\"\n";
  return dns::parse_zone(text, file, apex).records.back().ttl;
}

// ---- applying changes to the SPF values of the file

struct Slot {
  std::string name;
  std::optional<std::size_t> record;         // its record in the original file; none for a created value
  std::optional<providers::TxtValue> value;  // none once deleted
  std::uint32_t ttl = 0;
  bool changed = false;
};

std::string published_values(const std::vector<Slot>& slots, const std::string& name) {
  std::string text;
  for (const Slot& slot : slots) {
    if (slot.name != name || !slot.value) continue;
    text += (text.empty() ? "" : ", ") + util::quoted(slot.value->joined());
  }
  return text.empty() ? "none" : text;
}

void apply_change(std::vector<Slot>& slots, const Change& change, const std::string& file) {
  const std::string name = dns::normalize_name(change.name);
  const std::string replan = "; the zone changed since the plan was made: run plan again";
  if (change.action == Change::Action::create) {
    if (!change.after) throw Error("create of " + util::quoted(name) + " without a value");
    const bool exists =
        std::any_of(slots.begin(), slots.end(), [&](const Slot& s) { return s.name == name && s.value; });
    if (exists)
      throw ProviderError(Failure::drift, file + ": " + util::quoted(name) + " already has an SPF record (" +
                                              published_values(slots, name) + ")" + replan);
    slots.push_back({name, std::nullopt, change.after, change.ttl, true});
    return;
  }
  if (!change.before)
    throw Error(std::string(to_string(change.action)) + " of " + util::quoted(name) +
                " without the value it replaces");
  if (change.action == Change::Action::update && !change.after)
    throw Error("update of " + util::quoted(name) + " without a value");
  const std::string before = change.before->joined();
  const auto slot = std::find_if(slots.begin(), slots.end(), [&](const Slot& s) {
    return s.name == name && s.value && s.value->joined() == before;
  });
  if (slot == slots.end())
    throw ProviderError(Failure::drift, file + ": the SPF record at " + util::quoted(name) +
                                            " is not the one planned (" + util::quoted(before) +
                                            "); published: " + published_values(slots, name) + replan);
  slot->changed = true;
  if (change.action == Change::Action::remove) {
    slot->value.reset();
  } else {
    slot->value = change.after;
    slot->ttl = change.ttl;
  }
}

// ---- checking the result

bool same_record(const dns::ZoneRecord& a, const dns::ZoneRecord& b) {
  return a.owner == b.owner && a.type == b.type && a.ttl == b.ttl && a.rdata == b.rdata;
}

std::string describe(const dns::ZoneRecord& record) {
  return std::string(dns::to_string(record.type)) + " record at " + util::quoted(record.owner) + " (" +
         record.source.file + ":" + std::to_string(record.source.first_line) + ")";
}

void verify(const dns::ZoneFile& before, const dns::ZoneFile& after, const std::set<std::string>& names,
            const std::vector<Slot>& slots, std::optional<std::uint32_t> new_serial, const std::string& apex,
            const std::string& file) {
  auto managed = [&](const dns::ZoneRecord& r) { return names.contains(r.owner) && is_spf_txt(r); };
  std::vector<dns::ZoneRecord> kept_before;
  std::vector<dns::ZoneRecord> kept_after;
  for (dns::ZoneRecord r : before.records) {
    if (managed(r)) continue;
    if (r.type == dns::RrType::SOA && r.owner == apex && new_serial)
      std::get<dns::SoaRdata>(r.rdata).serial = *new_serial;
    kept_before.push_back(std::move(r));
  }
  for (const dns::ZoneRecord& r : after.records)
    if (!managed(r)) kept_after.push_back(r);
  const std::string advice =
      " (records without a TTL take the TTL of the record before them when the file has no $TTL line: add "
      "\"$TTL 3600\" at the top of the file, or write the TTL on each record)";
  const std::string changed_others =
      file +
      ": rewriting the SPF records would change the other records of the zone; the file was left as it was";
  if (kept_before.size() != kept_after.size()) throw Error(changed_others);
  for (std::size_t i = 0; i < kept_before.size(); ++i) {
    if (same_record(kept_before[i], kept_after[i])) continue;
    const bool ttl_only = kept_before[i].owner == kept_after[i].owner &&
                          kept_before[i].type == kept_after[i].type &&
                          kept_before[i].rdata == kept_after[i].rdata;
    throw Error(file + ": rewriting the SPF records would also change the " + describe(kept_before[i]) +
                "; the file was left as it was" + (ttl_only ? advice : ""));
  }
  const bool skipped_same =
      std::equal(before.skipped.begin(), before.skipped.end(), after.skipped.begin(), after.skipped.end(),
                 [](const dns::SkippedRecord& a, const dns::SkippedRecord& b) {
                   return a.owner == b.owner && a.type == b.type;
                 });
  if (!skipped_same) throw Error(changed_others);
  for (const std::string& name : names) {
    std::vector<std::pair<std::string, std::uint32_t>> expected;
    for (const Slot& slot : slots)
      if (slot.name == name && slot.value) expected.emplace_back(slot.value->joined(), slot.ttl);
    std::vector<std::pair<std::string, std::uint32_t>> actual;
    for (const dns::ZoneRecord& r : after.records)
      if (r.owner == name && is_spf_txt(r)) actual.emplace_back(joined(r), r.ttl);
    std::sort(expected.begin(), expected.end());
    std::sort(actual.begin(), actual.end());
    if (expected == actual) continue;
    const bool ttl_only = std::equal(expected.begin(), expected.end(), actual.begin(), actual.end(),
                                     [](const auto& a, const auto& b) { return a.first == b.first; });
    throw Error(file + ": the rewritten file would not hold the planned SPF record at " + util::quoted(name) +
                "; the file was left as it was" + (ttl_only ? advice : ""));
  }
}

// Where the SOA serial is written: its line and byte range.
struct SerialPlace {
  int line = 0;
  Token token;
};

std::optional<SerialPlace> find_serial(const Lines& lines, const dns::SourceSpan& span) {
  bool owner_skipped = starts_blank(lines.at(span.first_line));
  bool soa_seen = false;
  int after_soa = 0;
  for (int line = span.first_line; line <= span.last_line; ++line) {
    const std::string& text = lines.at(line);
    for (const Token& token : scan_line(text).tokens) {
      if (!owner_skipped) {
        owner_skipped = true;
        continue;
      }
      if (!soa_seen) {
        soa_seen = !token.quoted &&
                   upper(std::string_view(text).substr(token.begin, token.end - token.begin)) == "SOA";
        continue;
      }
      if (++after_soa == 3) return SerialPlace{line, token};
    }
  }
  return std::nullopt;
}

}  // namespace

ZoneTxt::ZoneTxt(dns::ZoneFile zone) : m_zone(std::move(zone)) {
  for (std::size_t i = 0; i < m_zone.records.size(); ++i)
    if (m_zone.records[i].type == dns::RrType::TXT) m_txt[m_zone.records[i].owner].push_back(i);
}

std::vector<TxtRecordSet> ZoneTxt::sets(const std::vector<std::string>& names) const {
  std::vector<TxtRecordSet> sets;
  for (const std::string& wanted : names) {
    const std::string name = dns::normalize_name(wanted);
    if (std::any_of(sets.begin(), sets.end(), [&](const TxtRecordSet& s) { return s.name == name; }))
      continue;
    const auto found = m_txt.find(name);
    if (found == m_txt.end()) continue;
    TxtRecordSet set;
    set.name = name;
    std::optional<std::uint32_t> spf_ttl;
    for (const std::size_t index : found->second) {
      const dns::ZoneRecord& record = m_zone.records[index];
      if (set.values.empty()) set.ttl = record.ttl;
      if (!spf_ttl && is_spf_txt(record)) spf_ttl = record.ttl;
      set.values.push_back({std::get<dns::TxtRdata>(record.rdata).strings});
      set.ids.push_back(record.source.file + ":" + std::to_string(record.source.first_line));
    }
    if (spf_ttl) set.ttl = *spf_ttl;
    sets.push_back(std::move(set));
  }
  return sets;
}

std::vector<TxtRecordSet> txt_sets(const dns::ZoneFile& zone, const std::vector<std::string>& names) {
  return ZoneTxt(zone).sets(names);
}

std::uint32_t next_soa_serial(std::uint32_t serial, std::uint32_t today) {
  const std::uint32_t date = serial / 100;
  const std::uint32_t month = date / 100 % 100;
  const std::uint32_t day = date % 100;
  const bool looks_like_date = serial >= 1970010100u && month >= 1 && month <= 12 && day >= 1 && day <= 31;
  if (looks_like_date) {
    const std::uint64_t first_today = std::uint64_t{today} * 100;
    if (first_today > serial && first_today <= 0xffffffffu) return static_cast<std::uint32_t>(first_today);
  }
  return serial == 0xffffffffu ? 1 : serial + 1;
}

std::string rewrite_zone_text(std::string_view text, const std::string& file, std::string_view zone,
                              const std::vector<Change>& changes, std::uint32_t today) {
  const std::string apex = dns::normalize_name(zone);
  const dns::ZoneFile parsed = dns::parse_zone(text, file, apex);
  if (changes.empty()) return std::string(text);
  Lines lines(text);

  std::set<std::string> names;
  for (const Change& change : changes) {
    const std::string name = dns::normalize_name(change.name);
    if (!dns::in_zone(name, apex))
      throw Error(file + ": " + util::quoted(name) + " is not in the zone " + util::quoted(apex) +
                  " this file holds");
    names.insert(name);
  }
  std::vector<Slot> slots;
  for (std::size_t i = 0; i < parsed.records.size(); ++i) {
    const dns::ZoneRecord& record = parsed.records[i];
    if (names.contains(record.owner) && is_spf_txt(record))
      slots.push_back(
          {record.owner, i, TxtValue{std::get<dns::TxtRdata>(record.rdata).strings}, record.ttl, false});
  }
  for (const Change& change : changes) apply_change(slots, change, file);
  for (const std::string& name : names) {
    const auto count =
        std::count_if(slots.begin(), slots.end(), [&](const Slot& s) { return s.name == name && s.value; });
    if (count > 1)
      throw Error(file + ": the changes would leave " + std::to_string(count) + " SPF records at " +
                  util::quoted(name) + " (" + published_values(slots, name) +
                  "); receivers reject that: run plan again");
  }

  // Every entry in file order, to find records whose owner came from a record that is deleted.
  struct Entry {
    int first_line;
    int last_line;
    std::string owner;
    std::optional<std::string> origin;  // unknown for records of types the parser skips
  };
  std::vector<Entry> entries;
  for (const dns::ZoneRecord& r : parsed.records)
    entries.push_back({r.source.first_line, r.source.last_line, r.owner, r.origin});
  for (const dns::SkippedRecord& r : parsed.skipped)
    entries.push_back({r.source.first_line, r.source.last_line, r.owner, std::nullopt});
  std::sort(entries.begin(), entries.end(),
            [](const Entry& a, const Entry& b) { return a.first_line < b.first_line; });

  std::set<int> deleted_lines;  // first lines of deleted records
  for (const Slot& slot : slots)
    if (slot.record && !slot.value) deleted_lines.insert(parsed.records[*slot.record].source.first_line);
  std::map<int, std::string> explicit_owner;  // first line → owner to write out
  for (std::size_t i = 1; i < entries.size(); ++i) {
    const Entry& entry = entries[i];
    if (deleted_lines.contains(entry.first_line) || !starts_blank(lines.at(entry.first_line))) continue;
    if (!deleted_lines.contains(entries[i - 1].first_line)) continue;
    explicit_owner[entry.first_line] =
        entry.origin ? owner_text(entry.owner, *entry.origin) : entry.owner + ".";
  }

  std::optional<std::uint32_t> new_serial;
  for (const dns::ZoneRecord& record : parsed.records) {
    if (record.type != dns::RrType::SOA || record.owner != apex) continue;
    const auto place = find_serial(lines, record.source);
    const std::uint32_t serial = std::get<dns::SoaRdata>(record.rdata).serial;
    std::string& line = lines.at(place ? place->line : record.source.first_line);
    if (!place || line.substr(place->token.begin, place->token.end - place->token.begin)
                          .find_first_not_of("0123456789") != std::string::npos)
      throw Error(file + ":" + std::to_string(record.source.first_line) +
                  ": cannot find the SOA serial to bump (write the SOA record's fields on its lines without "
                  "escapes)");
    new_serial = next_soa_serial(serial, today);
    line.replace(place->token.begin, place->token.end - place->token.begin, std::to_string(*new_serial));
    break;
  }

  // What replaces the lines of changed records, and what goes after which line.
  struct Edit {
    int last_line = 0;
    std::optional<std::string> text;  // none: the lines are removed
  };
  std::map<int, Edit> edits;                        // by first line
  std::map<int, std::vector<std::string>> inserts;  // after line
  std::optional<Head> first_txt_head;
  for (const dns::ZoneRecord& record : parsed.records) {
    if (record.type == dns::RrType::TXT && (first_txt_head = txt_head(lines.at(record.source.first_line))))
      break;
  }
  const int last_line = entries.empty() ? lines.count() : entries.back().last_line;
  for (const Slot& slot : slots) {
    if (!slot.changed) continue;
    if (slot.record) {
      const dns::ZoneRecord& record = parsed.records[*slot.record];
      const dns::SourceSpan& span = record.source;
      if (!slot.value) {
        edits[span.first_line] = {span.last_line, std::nullopt};
        continue;
      }
      const auto own = txt_head(lines.at(span.first_line));
      const Head& head = own ? *own : default_head();
      std::optional<std::string> owner;
      if (!own) owner = owner_text(record.owner, record.origin);
      if (const auto it = explicit_owner.find(span.first_line); it != explicit_owner.end())
        owner = it->second;
      const bool had_ttl = own && own->ttl;
      const bool write_ttl = had_ttl || slot.ttl != record.ttl || !own;
      std::string line = render_head(head, owner, write_ttl ? std::optional(slot.ttl) : std::nullopt);
      line += render_rdata(fit_strings(slot.value->strings), line, lines.eol);
      std::string comments;
      for (int l = span.first_line; l <= span.last_line; ++l) {
        const std::string& original = lines.at(l);
        const LineScan scan = scan_line(original);
        if (scan.comment != std::string::npos)
          comments += (comments.empty() ? "" : " ") + original.substr(scan.comment);
      }
      if (!comments.empty()) line += " " + comments;
      edits[span.first_line] = {span.last_line, line};
      continue;
    }
    // A created value: after the last record at its name, else after the last record of the file.
    const dns::ZoneRecord* anchor = nullptr;
    for (const dns::ZoneRecord& record : parsed.records)
      if (record.owner == slot.name && (!anchor || record.source.last_line > anchor->source.last_line))
        anchor = &record;
    int after = last_line;
    std::string origin;
    const Head* style = first_txt_head ? &*first_txt_head : &default_head();
    std::optional<Head> anchor_head;
    if (anchor) {
      after = anchor->source.last_line;
      origin = anchor->origin;
      if (anchor->type == dns::RrType::TXT && (anchor_head = txt_head(lines.at(anchor->source.first_line))))
        style = &*anchor_head;
    } else {
      const auto last =
          std::find_if(parsed.records.begin(), parsed.records.end(),
                       [&](const dns::ZoneRecord& r) { return r.source.last_line == last_line; });
      origin = last != parsed.records.end() ? last->origin : "";
    }
    const std::string owner = owner_text(slot.name, origin);
    const bool write_ttl = after == 0 || implicit_ttl_after(lines, after, file, apex) != slot.ttl;
    std::string line = render_head(*style, owner, write_ttl ? std::optional(slot.ttl) : std::nullopt);
    line += render_rdata(fit_strings(slot.value->strings), line, lines.eol);
    inserts[after].push_back(line);
  }

  std::string out;
  auto emit_inserts = [&](int after) {
    const auto it = inserts.find(after);
    if (it == inserts.end()) return;
    if (!out.empty() && out.back() != '\n') out += lines.eol;
    for (const std::string& line : it->second) out += line + lines.eol;
  };
  emit_inserts(0);
  for (int line = 1; line <= lines.count();) {
    if (const auto edit = edits.find(line); edit != edits.end()) {
      if (edit->second.text)
        out += *edit->second.text + lines.ending[static_cast<std::size_t>(edit->second.last_line - 1)];
      emit_inserts(edit->second.last_line);
      line = edit->second.last_line + 1;
      continue;
    }
    if (const auto owner = explicit_owner.find(line); owner != explicit_owner.end()) out += owner->second;
    out += lines.at(line) + lines.ending[static_cast<std::size_t>(line - 1)];
    emit_inserts(line);
    ++line;
  }

  const dns::ZoneFile rewritten = dns::parse_zone(out, file, apex);
  verify(parsed, rewritten, names, slots, new_serial, apex, file);
  return out;
}

}  // namespace spfctl::providers
