#include "http/client.hpp"

#include <algorithm>

namespace spfctl::http {

std::string_view to_string(Method method) {
  switch (method) {
    case Method::get:
      return "GET";
    case Method::post:
      return "POST";
    case Method::put:
      return "PUT";
    case Method::patch:
      return "PATCH";
    case Method::delete_:
      return "DELETE";
  }
  return "GET";
}

bool is_idempotent(Method method) {
  return method == Method::get || method == Method::put || method == Method::delete_;
}

namespace {

bool iequals(std::string_view a, std::string_view b) {
  auto lower = [](char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; };
  return std::ranges::equal(a, b, [&](char x, char y) { return lower(x) == lower(y); });
}

}  // namespace

std::optional<std::string_view> find_header(const Headers& headers, std::string_view name) {
  for (const auto& header : headers)
    if (iequals(header.name, name)) return header.value;
  return std::nullopt;
}

std::string_view to_string(TransportError error) {
  switch (error) {
    case TransportError::none:
      return "no error";
    case TransportError::resolve:
      return "host name not resolved";
    case TransportError::connect:
      return "connection failed";
    case TransportError::tls:
      return "tls failure";
    case TransportError::timeout:
      return "timeout";
    case TransportError::io:
      return "connection broken";
    case TransportError::other:
      return "transport failure";
  }
  return "transport failure";
}

Response Response::transport_failure(TransportError error, std::string message, bool request_sent) {
  Response response;
  response.transport_error = error;
  response.transport_message = std::move(message);
  response.request_sent = request_sent;
  return response;
}

}  // namespace spfctl::http
