#include "providers/json_answer.hpp"

#include <cmath>

#include "error.hpp"

namespace spfctl::providers {

JsonAnswer::Json JsonAnswer::parse(std::string_view text) {
  return Json::parse(text.begin(), text.end(), nullptr, false);
}

std::string JsonAnswer::at(std::string_view path, std::size_t index) {
  return std::string(path) + "[" + std::to_string(index) + "]";
}

std::string JsonAnswer::member(std::string_view path, const char* key) {
  return path.empty() ? std::string(key) : std::string(path) + "." + key;
}

void JsonAnswer::fail(std::string_view path, const std::string& what) const {
  throw Error(m_source + ": the answer has " + (path.empty() ? std::string("its top") : std::string(path)) +
              " " + what +
              "; the API answered in a shape spfctl does not know, so nothing was done for this zone");
}

void JsonAnswer::wrong_type(std::string_view path, const char* key, const Json& value,
                            const char* expected) const {
  fail(member(path, key), std::string("as ") +
                              (value.is_number()    ? "a number"
                               : value.is_string()  ? "a string"
                               : value.is_boolean() ? "a boolean"
                               : value.is_array()   ? "an array"
                                                    : "an object") +
                              " where " + expected + " belongs");
}

const JsonAnswer::Json* JsonAnswer::find(const Json& object, const char* key) const {
  if (!object.is_object()) return nullptr;
  const auto it = object.find(key);
  if (it == object.end() || it->is_null()) return nullptr;
  return &*it;
}

std::optional<std::string> JsonAnswer::string(const Json& object, std::string_view path,
                                              const char* key) const {
  const Json* value = find(object, key);
  if (!value) return std::nullopt;
  if (!value->is_string()) wrong_type(path, key, *value, "a string");
  return value->get<std::string>();
}

std::optional<bool> JsonAnswer::boolean(const Json& object, std::string_view path, const char* key) const {
  const Json* value = find(object, key);
  if (!value) return std::nullopt;
  if (!value->is_boolean()) wrong_type(path, key, *value, "true or false");
  return value->get<bool>();
}

std::optional<std::int64_t> JsonAnswer::integer(const Json& object, std::string_view path, const char* key,
                                                std::int64_t min, std::int64_t max) const {
  const Json* value = find(object, key);
  if (!value) return std::nullopt;
  const std::string range = "a whole number from " + std::to_string(min) + " to " + std::to_string(max);
  if (value->is_number_unsigned()) {
    const auto n = value->get<std::uint64_t>();
    if (n <= static_cast<std::uint64_t>(max) && static_cast<std::int64_t>(n) >= min)
      return static_cast<std::int64_t>(n);
  } else if (value->is_number_integer()) {
    const auto n = value->get<std::int64_t>();
    if (n >= min && n <= max) return n;
  } else if (value->is_number_float()) {
    // Compared as doubles before any conversion: 1e30 must not reach an integer.
    const double d = value->get<double>();
    if (std::isfinite(d) && d == std::floor(d) && d >= static_cast<double>(min) &&
        d <= static_cast<double>(max))
      return static_cast<std::int64_t>(d);
  } else {
    wrong_type(path, key, *value, range.c_str());
  }
  fail(member(path, key), "as " + value->dump() + " where " + range + " belongs");
}

const JsonAnswer::Json* JsonAnswer::array(const Json& object, std::string_view path, const char* key) const {
  const Json* value = find(object, key);
  if (value && !value->is_array()) wrong_type(path, key, *value, "an array");
  return value;
}

const JsonAnswer::Json* JsonAnswer::object(const Json& object, std::string_view path, const char* key) const {
  const Json* value = find(object, key);
  if (value && !value->is_object()) wrong_type(path, key, *value, "an object");
  return value;
}

std::string JsonAnswer::required_string(const Json& object, std::string_view path, const char* key) const {
  std::optional<std::string> value = string(object, path, key);
  if (!value) fail(member(path, key), "missing where a string belongs");
  return std::move(*value);
}

}  // namespace spfctl::providers
