// Reading a DNS host's JSON answer without trusting its shape. Every getter checks the member's
// type, and a number's range before converting it; a member of another shape throws spfctl::Error
// naming where the answer came from and the member: "cloudflare: zone example.com: reading the TXT
// records at example.com: the answer has result[0].ttl as a string where a whole number belongs".
// Adapters read every field through it, so a malformed answer fails that domain, never the run.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>

namespace spfctl::providers {

class JsonAnswer {
 public:
  using Json = nlohmann::json;

  // `source` starts every message: the provider, the zone and what was asked.
  explicit JsonAnswer(std::string source) : m_source(std::move(source)) {}

  // `text` parsed; discarded (Json::is_discarded) when it is not JSON, numbers too large for a
  // double included.
  static Json parse(std::string_view text);

  // The member `key` of `object`, found at `path` in the answer ("" for the top, "result[2]"):
  // nullopt (or nullptr) when `object` is not an object, or the member is absent or null; an
  // error when it is there with another type.
  std::optional<std::string> string(const Json& object, std::string_view path, const char* key) const;
  std::optional<bool> boolean(const Json& object, std::string_view path, const char* key) const;
  // A whole number from `min` to `max` (a number with a fraction, or outside, is an error).
  std::optional<std::int64_t> integer(const Json& object, std::string_view path, const char* key,
                                      std::int64_t min, std::int64_t max) const;
  const Json* array(const Json& object, std::string_view path, const char* key) const;
  const Json* object(const Json& object, std::string_view path, const char* key) const;

  // The same, for a member that must be there.
  std::string required_string(const Json& object, std::string_view path, const char* key) const;

  // Throws the error for `what` at `path`: "the answer has <path> <what>".
  [[noreturn]] void fail(std::string_view path, const std::string& what) const;

  // "result[2]" from "result" and 2, for paths in messages.
  static std::string at(std::string_view path, std::size_t index);
  static std::string member(std::string_view path, const char* key);

 private:
  const Json* find(const Json& object, const char* key) const;
  [[noreturn]] void wrong_type(std::string_view path, const char* key, const Json& value,
                               const char* expected) const;

  std::string m_source;
};

}  // namespace spfctl::providers
