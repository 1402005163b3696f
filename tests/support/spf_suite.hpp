// The RFC 7208 conformance suite for tests (shape and runner conventions: README.md beside the
// suite): loading scenarios from its JSON, filling a MemoryResolver with a scenario's zone data,
// rendering that zone data as an RFC 1035 master file, and reading TXT records from master files.
// Header-only so unit and integration tests can both use it.
#pragma once

#include <catch2/catch.hpp>
#include <cctype>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <istream>
#include <nlohmann/json.hpp>
#include <optional>
#include <sstream>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "dns/memory_resolver.hpp"
#include "net/ip.hpp"

namespace spfctl::test_support {

struct SuiteRecord {
  std::string type;  // "TXT", "SPF", "A", "AAAA", "MX", "PTR", "CNAME", or "TIMEOUT" for a bare TIMEOUT
  std::vector<std::string> strings;  // TXT/SPF: the character-strings (raw octets); others: one value
  std::uint16_t preference = 0;      // MX
  bool none = false;                 // {"TXT": "NONE"}: no TXT record at this name
  bool timeout = false;              // {"TYPE": "TIMEOUT"}: questions for this type time out
};

struct SuiteName {
  std::string name;
  std::vector<SuiteRecord> records;
};

struct SuiteTest {
  std::string name;
  std::string description;
  std::string spec;
  std::string helo;
  std::string host;
  std::string mailfrom;
  std::vector<std::string> results;  // any of these is a pass; the first is preferred
  std::optional<std::string> explanation;
};

struct SuiteScenario {
  std::string description;
  std::vector<SuiteTest> tests;
  std::vector<SuiteName> zonedata;
};

// $SPFCTL_SPF_SUITE, else the compile definition SPFCTL_DEFAULT_SPF_SUITE, else "".
inline std::string suite_path() {
  if (const char* path = std::getenv("SPFCTL_SPF_SUITE"); path && *path) return path;
#ifdef SPFCTL_DEFAULT_SPF_SUITE
  return SPFCTL_DEFAULT_SPF_SUITE;
#else
  return {};
#endif
}

// The suite's path, for a test that runs it. A suite that $SPFCTL_SPF_SUITE names must be there
// (scripts/test sets it, so CI never passes without the suite): the test fails. Without the
// variable, a missing suite skips the test with a warning (a checkout without ../shared).
inline std::optional<std::string> suite_for_test() {
  const std::string path = suite_path();
  if (!path.empty() && std::filesystem::is_regular_file(path)) return path;
  const char* required = std::getenv("SPFCTL_SPF_SUITE");
  if (required && *required)
    FAIL("the RFC 7208 suite is missing at " << path << ", where SPFCTL_SPF_SUITE says it is");
  WARN("skipped: RFC 7208 suite not found at " << (path.empty() ? "(no path)" : path)
                                               << " (set SPFCTL_SPF_SUITE)");
  return std::nullopt;
}

// The suite writes raw octets as code points U+0000-U+00FF; JSON parsing gives them as UTF-8.
inline std::string latin1_octets(const std::string& utf8) {
  std::string out;
  for (std::size_t i = 0; i < utf8.size(); ++i) {
    const auto byte = static_cast<unsigned char>(utf8[i]);
    if (byte < 0x80) {
      out += utf8[i];
    } else if ((byte & 0xe0) == 0xc0 && byte <= 0xc3 && i + 1 < utf8.size()) {
      out += static_cast<char>(((byte & 0x03) << 6) | (static_cast<unsigned char>(utf8[i + 1]) & 0x3f));
      ++i;
    } else {
      throw std::runtime_error("suite text holds a code point above U+00FF: " + utf8);
    }
  }
  return out;
}

inline SuiteRecord parse_suite_record(const nlohmann::json& item) {
  SuiteRecord record;
  if (item.is_string()) {
    if (item.get<std::string>() != "TIMEOUT") throw std::runtime_error("unknown record " + item.dump());
    record.type = "TIMEOUT";
    return record;
  }
  if (!item.is_object() || item.size() != 1) throw std::runtime_error("unexpected record " + item.dump());
  const std::string type = item.begin().key();
  const nlohmann::json& value = item.begin().value();
  record.type = type;
  if (value.is_string() && value.get<std::string>() == "TIMEOUT") {
    record.timeout = true;
  } else if ((type == "TXT" || type == "SPF") && value.is_string() && value.get<std::string>() == "NONE") {
    record.none = true;
  } else if (type == "TXT" || type == "SPF") {
    if (value.is_string()) {
      record.strings.push_back(latin1_octets(value.get<std::string>()));
    } else {
      for (const auto& piece : value) record.strings.push_back(latin1_octets(piece.get<std::string>()));
    }
  } else if (type == "MX") {
    record.preference = value.at(0).get<std::uint16_t>();
    record.strings.push_back(value.at(1).get<std::string>());
  } else {
    record.strings.push_back(value.get<std::string>());
  }
  return record;
}

// Throws std::runtime_error (or nlohmann::json::exception) when the file is missing or malformed.
inline std::vector<SuiteScenario> load_suite(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error("cannot open " + path);
  const nlohmann::json document = nlohmann::json::parse(in);
  std::vector<SuiteScenario> scenarios;
  for (const auto& item : document) {
    SuiteScenario scenario;
    scenario.description = item.at("description").get<std::string>();
    for (const auto& [name, test] : item.at("tests").items()) {
      SuiteTest entry;
      entry.name = name;
      entry.description = test.value("description", "");
      entry.spec = test.value("spec", "");
      entry.helo = test.at("helo").get<std::string>();
      entry.host = test.at("host").get<std::string>();
      entry.mailfrom = test.at("mailfrom").get<std::string>();
      const auto& result = test.at("result");
      if (result.is_string()) {
        entry.results.push_back(result.get<std::string>());
      } else {
        for (const auto& word : result) entry.results.push_back(word.get<std::string>());
      }
      if (test.contains("explanation")) entry.explanation = test.at("explanation").get<std::string>();
      scenario.tests.push_back(std::move(entry));
    }
    for (const auto& [name, records] : item.at("zonedata").items()) {
      SuiteName entry{name, {}};
      for (const auto& record : records) entry.records.push_back(parse_suite_record(record));
      scenario.zonedata.push_back(std::move(entry));
    }
    scenarios.push_back(std::move(scenario));
  }
  return scenarios;
}

inline bool lists_txt(const SuiteName& name) {
  for (const SuiteRecord& record : name.records)
    if (record.type == "TXT") return true;
  return false;
}

// Fills `resolver` as the suite's reference harness answers: SPF records also served as TXT unless
// the name lists TXT of its own; a bare TIMEOUT makes questions for types the name lacks time out;
// "TIMEOUT" as a value times out that type; names not listed do not exist.
inline void fill_resolver(const SuiteScenario& scenario, dns::MemoryResolver& resolver) {
  for (const SuiteName& entry : scenario.zonedata) {
    const std::string& name = entry.name;
    const bool own_txt = lists_txt(entry);
    resolver.add_name(name);
    for (const SuiteRecord& record : entry.records) {
      if (record.type == "TIMEOUT") {
        resolver.set_failure_for_missing(name, dns::Status::timeout);
      } else if (record.timeout) {
        if (record.type == "TXT" || record.type == "SPF")
          resolver.set_failure(name, record.type == "TXT" ? dns::RrType::TXT : dns::RrType::SPF,
                               dns::Status::timeout);
        else if (record.type == "A" || record.type == "AAAA" || record.type == "MX" || record.type == "PTR")
          resolver.set_failure(name,
                               record.type == "A"      ? dns::RrType::A
                               : record.type == "AAAA" ? dns::RrType::AAAA
                               : record.type == "MX"   ? dns::RrType::MX
                                                       : dns::RrType::PTR,
                               dns::Status::timeout);
      } else if (record.none) {
        continue;
      } else if (record.type == "TXT") {
        resolver.add_txt(name, record.strings);
      } else if (record.type == "SPF") {
        resolver.add_spf(name, record.strings);
        if (!own_txt) resolver.add_txt(name, record.strings);
      } else if (record.type == "A" || record.type == "AAAA") {
        const auto address = net::IpAddress::parse(record.strings.at(0));
        if (!address) throw std::runtime_error("bad address " + record.strings.at(0) + " at " + name);
        resolver.add_address(name, *address);
      } else if (record.type == "MX") {
        resolver.add_mx(name, record.preference, record.strings.at(0));
      } else if (record.type == "PTR") {
        resolver.add_ptr(name, record.strings.at(0));
      } else if (record.type == "CNAME") {
        resolver.add_cname(name, record.strings.at(0));
      } else {
        throw std::runtime_error("unknown record type " + record.type + " at " + name);
      }
    }
  }
}

// A domain name in master-file syntax: absolute, every byte but letters, digits, '-' and '_'
// written as \DDD. "" is the root.
inline std::string master_file_name(std::string name) {
  if (!name.empty() && name.back() == '.') name.pop_back();
  std::string out;
  for (char c : name) {
    const auto byte = static_cast<unsigned char>(c);
    const bool plain = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                       c == '-' || c == '_' || c == '.';
    if (plain) {
      out += c;
    } else {
      const std::string digits = std::to_string(byte);
      out += '\\' + std::string(3 - digits.size(), '0') + digits;
    }
  }
  return out + ".";
}

// A character-string in master-file syntax: quoted, '"' and '\' escaped, other bytes outside
// printable ASCII as \DDD.
inline std::string master_file_string(const std::string& text) {
  std::string out = "\"";
  for (char c : text) {
    const auto byte = static_cast<unsigned char>(c);
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (byte < 0x20 || byte >= 0x7f) {
      const std::string digits = std::to_string(byte);
      out += '\\' + std::string(3 - digits.size(), '0') + digits;
    } else {
      out += c;
    }
  }
  return out + "\"";
}

inline bool has_timeouts(const SuiteScenario& scenario) {
  for (const SuiteName& entry : scenario.zonedata)
    for (const SuiteRecord& record : entry.records)
      if (record.type == "TIMEOUT" || record.timeout) return true;
  return false;
}

// The scenario's zone data as an RFC 1035 master file with absolute names, following the same
// conventions as fill_resolver() (SPF records are written again as TXT where the name lists no TXT).
// Timeouts cannot be expressed in a master file: they are written as comments (see has_timeouts()).
// A TXT/SPF record of no strings is written as one empty string, which joins to the same text.
inline std::string master_file(const SuiteScenario& scenario) {
  std::ostringstream out;
  out << "; RFC 7208 suite scenario: " << scenario.description << "\n$TTL 300\n";
  auto strings = [](const SuiteRecord& record) {
    if (record.strings.empty()) return std::string("\"\"");
    std::string joined;
    for (const std::string& piece : record.strings)
      joined += (joined.empty() ? "" : " ") + master_file_string(piece);
    return joined;
  };
  for (const SuiteName& entry : scenario.zonedata) {
    const std::string owner = master_file_name(entry.name);
    const bool own_txt = lists_txt(entry);
    for (const SuiteRecord& record : entry.records) {
      if (record.type == "TIMEOUT" || record.timeout) {
        out << "; " << owner << " " << (record.timeout ? record.type + " " : std::string()) << "TIMEOUT\n";
      } else if (record.none) {
        continue;
      } else if (record.type == "TXT" || record.type == "SPF") {
        out << owner << " IN " << record.type << " " << strings(record) << "\n";
        if (record.type == "SPF" && !own_txt) out << owner << " IN TXT " << strings(record) << "\n";
      } else if (record.type == "MX") {
        out << owner << " IN MX " << record.preference << " " << master_file_name(record.strings.at(0))
            << "\n";
      } else if (record.type == "PTR" || record.type == "CNAME") {
        out << owner << " IN " << record.type << " " << master_file_name(record.strings.at(0)) << "\n";
      } else {
        out << owner << " IN " << record.type << " " << record.strings.at(0) << "\n";
      }
    }
    if (entry.records.empty()) out << "; " << owner << " exists without records\n";
  }
  return out.str();
}

// The TXT records of an RFC 1035 master file as (owner, character-strings), in file order. Knows just
// enough of the syntax for spfctl's test material: comments, parentheses, quoted strings with
// \" \\ and \DDD escapes, owner names carried over from the previous record.
inline std::vector<std::pair<std::string, std::vector<std::string>>> master_file_txt_records(
    std::istream& in) {
  std::vector<std::pair<std::string, std::vector<std::string>>> records;
  std::string owner, line, logical;
  int depth = 0;
  auto finish = [&](const std::string& text) {
    std::vector<std::string> tokens;
    std::vector<bool> quoted;
    for (std::size_t i = 0; i < text.size();) {
      if (text[i] == ' ' || text[i] == '\t') {
        ++i;
      } else if (text[i] == '"') {
        std::string value;
        for (++i; i < text.size() && text[i] != '"'; ++i) {
          if (text[i] == '\\' && i + 3 < text.size() &&
              std::isdigit(static_cast<unsigned char>(text[i + 1]))) {
            value += static_cast<char>(std::stoi(text.substr(i + 1, 3)));
            i += 3;
          } else if (text[i] == '\\' && i + 1 < text.size()) {
            value += text[++i];
          } else {
            value += text[i];
          }
        }
        ++i;
        tokens.push_back(value);
        quoted.push_back(true);
      } else {
        const std::size_t end = text.find_first_of(" \t", i);
        tokens.push_back(text.substr(i, end == std::string::npos ? std::string::npos : end - i));
        quoted.push_back(false);
        i = end == std::string::npos ? text.size() : end;
      }
    }
    if (tokens.empty() || tokens.front().starts_with("$")) return;
    if (text.front() != ' ' && text.front() != '\t') owner = tokens.front();
    for (std::size_t i = 0; i < tokens.size(); ++i) {
      if (quoted[i] || tokens[i] != "TXT") continue;
      std::vector<std::string> strings;
      for (std::size_t j = i + 1; j < tokens.size(); ++j)
        if (quoted[j]) strings.push_back(tokens[j]);
      records.emplace_back(owner, std::move(strings));
      return;
    }
  };
  while (std::getline(in, line)) {
    bool in_quotes = false;
    std::string kept;
    for (std::size_t i = 0; i < line.size(); ++i) {
      const char c = line[i];
      if (c == '\\' && in_quotes && i + 1 < line.size()) {
        kept += c;
        kept += line[++i];
        continue;
      }
      if (c == '"') in_quotes = !in_quotes;
      if (!in_quotes && c == ';') break;
      if (!in_quotes && (c == '(' || c == ')')) {
        depth += c == '(' ? 1 : -1;
        kept += ' ';
        continue;
      }
      kept += c;
    }
    logical += (logical.empty() ? "" : " ") + kept;
    if (depth > 0) continue;
    if (!logical.empty()) finish(logical);
    logical.clear();
  }
  return records;
}

inline std::vector<std::pair<std::string, std::vector<std::string>>> master_file_txt_records(
    const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error("cannot open " + path);
  return master_file_txt_records(in);
}

}  // namespace spfctl::test_support
