// A plan as data: what `spfctl plan` shows, writes with --out and prints with --json, and what
// `spfctl apply PLANFILE` reads back to apply exactly what was reviewed.
//
// JSON (docs/plan.md):
//   {"format": "spfctl-plan/1", "config_sha256", "created",
//    "domains": [{"domain", "provider", "zone", "status": "in-sync"|"changes"|"error", "error"?,
//                 "lookups", "void_lookups", "equivalent", "lookups_unflattened", "flattened",
//                 "notes", "warnings", "records": [{"name", "value", "strings"}],
//                 "changes": [{"action": "create"|"update"|"delete", "name", "type": "TXT", "ttl",
//                              "before"?, "after"?, "before_strings"?, "after_strings"?,
//                              "others"}]}]}
// before/after are the TXT values as published (strings joined); *_strings are their
// character-strings, and others the other TXT values at the name, so a plan applies exactly.
#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include "plan/desired.hpp"
#include "publish/records.hpp"

namespace spfctl::plan {

inline constexpr std::string_view k_plan_format = "spfctl-plan/1";

enum class DomainStatus : std::uint8_t { in_sync, changes, error };
std::string_view to_string(DomainStatus status);  // "in-sync", "changes", "error"

struct PlannedDomain {
  std::string domain;
  std::string provider;  // the [providers.NAME] key
  std::string zone;      // empty when the domain failed before its zone was known
  std::string error;     // why the domain could not be planned; empty when it was
  int lookups = 0;
  int void_lookups = 0;
  bool equivalent = false;
  int lookups_unflattened = 0;
  std::vector<std::string> flattened;
  std::vector<std::string> notes;
  std::vector<std::string> warnings;
  std::vector<publish::Change> changes;  // in apply order
  // The SPF records published once the changes are applied (records[0] at the domain, then its
  // chained records); apply checks those the changes leave alone are still published as planned.
  std::vector<DesiredRecord> records;

  DomainStatus status() const;
};

struct Plan {
  std::string config_sha256;  // sha256_hex(Config::canonical_bytes) of the configuration planned
  std::string created;        // UTC, "2026-11-01T09:30:00Z"
  std::vector<PlannedDomain> domains;
};

// The plan as JSON text (two-space indent, ending with a newline). Bytes that are not UTF-8 in TXT
// values are written as U+FFFD.
std::string to_json_text(const Plan& plan);

// Reads a plan from JSON text; `source` names it in errors. Throws spfctl::Error saying which field
// of which domain or change is missing or wrong ("plan.json: domains[0].changes[1]: an update
// needs \"after\"").
Plan parse_plan(std::string_view text, const std::string& source);

// `text` as a plan file stores it: bytes that are not UTF-8 become U+FFFD. Values read back from a
// plan are compared with published ones through this.
std::string as_plan_text(std::string_view text);

// Writes `plan` to `path` atomically (util::write_file_atomically): a reader never sees half a
// plan, a symbolic link at `path` is replaced rather than written through, and the file is created
// with mode 0600 (less where the umask says so). Throws spfctl::Error when it cannot.
void write_plan_file(const std::filesystem::path& path, const Plan& plan);

// Reads and checks a plan file; throws spfctl::Error when it cannot be read or is not a valid plan.
Plan read_plan_file(const std::filesystem::path& path);

// The SHA-256 digest of `bytes` as 64 lowercase hex digits.
std::string sha256_hex(std::string_view bytes);

// `time` as UTC RFC 3339 with seconds: "2026-11-01T09:30:00Z".
std::string utc_timestamp(std::chrono::system_clock::time_point time);

}  // namespace spfctl::plan
