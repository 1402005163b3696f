#include "http/redact.hpp"

#include <algorithm>
#include <array>

#include "http/client.hpp"
#include "util/text.hpp"

namespace spfctl::http {

namespace {

// The spelling a JSON encoder may give the secret inside a string (some escape '/').
std::string json_escape(std::string_view text) {
  std::string out;
  for (char c : text) {
    if (c == '"' || c == '\\' || c == '/') out += '\\';
    out += c;
  }
  return out;
}

void replace_all(std::string& text, std::string_view needle, std::string_view replacement) {
  std::size_t at = 0;
  while ((at = text.find(needle, at)) != std::string::npos) {
    text.replace(at, needle.size(), replacement);
    at += replacement.size();
  }
}

std::string one_line(std::string_view text) {
  std::string out;
  bool space = false;
  for (char c : text) {
    if (c == '\n' || c == '\r' || c == '\t' || c == ' ') {
      space = !out.empty();
      continue;
    }
    if (space) out += ' ';
    space = false;
    out += c;
  }
  return out;
}

}  // namespace

bool is_secret_name(std::string_view name) {
  static constexpr std::array<std::string_view, 9> k_markers = {
      "auth", "key", "token", "secret", "password", "passwd", "cookie", "signature", "credential"};
  std::string lower = util::lowercase(name);
  return std::ranges::any_of(k_markers,
                             [&](std::string_view m) { return lower.find(m) != std::string::npos; });
}

std::string redact_url(std::string_view url) {
  std::size_t scheme_end = url.find("://");
  if (scheme_end == std::string_view::npos) return std::string(url);
  std::size_t authority_start = scheme_end + 3;
  std::size_t authority_end = url.find_first_of("/?#", authority_start);
  if (authority_end == std::string_view::npos) authority_end = url.size();

  std::string out(url.substr(0, authority_start));
  std::string_view authority = url.substr(authority_start, authority_end - authority_start);
  if (std::size_t at = authority.rfind('@'); at != std::string_view::npos) {
    std::string_view userinfo = authority.substr(0, at);
    std::size_t colon = userinfo.find(':');
    out += colon == std::string_view::npos ? userinfo : userinfo.substr(0, colon + 1);
    if (colon != std::string_view::npos) out += k_redacted;
    out += authority.substr(at);
  } else {
    out += authority;
  }

  std::string_view rest = url.substr(authority_end);
  std::size_t query_start = rest.find('?');
  if (query_start == std::string_view::npos) return out + std::string(rest);
  std::size_t query_end = rest.find('#', query_start);
  if (query_end == std::string_view::npos) query_end = rest.size();
  out += rest.substr(0, query_start + 1);

  std::string_view query = rest.substr(query_start + 1, query_end - query_start - 1);
  bool first = true;
  while (true) {
    std::size_t amp = query.find('&');
    std::string_view pair = query.substr(0, amp);
    if (!first) out += '&';
    first = false;
    std::size_t eq = pair.find('=');
    if (eq != std::string_view::npos && is_secret_name(pair.substr(0, eq))) {
      out += pair.substr(0, eq + 1);
      out += k_redacted;
    } else {
      out += pair;
    }
    if (amp == std::string_view::npos) break;
    query.remove_prefix(amp + 1);
  }
  out += rest.substr(query_end);
  return out;
}

Redactor::Redactor(const std::vector<std::string>& secrets) {
  for (const auto& secret : secrets) add_secret(secret);
}

void Redactor::add_secret(std::string_view secret) {
  if (secret.empty()) return;
  for (std::string spelling : {std::string(secret), url_encode(secret), json_escape(secret)})
    if (std::ranges::find(m_secrets, spelling) == m_secrets.end()) m_secrets.push_back(std::move(spelling));
  std::ranges::stable_sort(m_secrets,
                           [](const std::string& a, const std::string& b) { return a.size() > b.size(); });
}

std::string Redactor::redact(std::string_view text) const {
  std::string out(text);
  for (const auto& secret : m_secrets) replace_all(out, secret, k_redacted);
  return out;
}

std::string Redactor::redact_url(std::string_view url) const {
  return redact(http::redact_url(url));
}

std::string Redactor::describe(const Request& request) const {
  std::string out(to_string(request.method));
  out += ' ';
  out += http::redact_url(request.url);
  out += '\n';
  for (const auto& header : request.headers) {
    out += header.name;
    out += ": ";
    out += is_secret_name(header.name) ? k_redacted : std::string_view(header.value);
    out += '\n';
  }
  if (!request.body.empty()) {
    out += '\n';
    out += request.body;
  }
  return redact(out);
}

std::string http_error_message(const Redactor& redactor, std::string_view provider, const Request& request,
                               const Response& response, std::string_view api_message) {
  static constexpr std::size_t k_max_api_message = 300;
  std::string out(provider);
  out += ": ";
  out += to_string(request.method);
  out += ' ';
  out += http::redact_url(request.url);
  std::string detail;
  if (response.transport_failed()) {
    out += " failed: ";
    out += to_string(response.transport_error);
    detail = response.transport_message;
  } else {
    out += " answered ";
    out += std::to_string(response.status);
    if (auto phrase = reason_phrase(response.status); !phrase.empty()) {
      out += ' ';
      out += phrase;
    }
    detail = std::string(api_message);
  }
  // Redact before cutting, so no part of a secret survives the cut.
  detail = one_line(redactor.redact(detail));
  if (detail.size() > k_max_api_message) {
    detail.resize(k_max_api_message);
    detail += "...";
  }
  if (!detail.empty()) {
    out += ": ";
    out += detail;
  }
  if (response.attempts > 1) out += " (after " + std::to_string(response.attempts) + " attempts)";
  return redactor.redact(out);
}

std::string_view reason_phrase(int status) {
  switch (status) {
    case 400:
      return "bad request";
    case 401:
      return "unauthorized";
    case 403:
      return "forbidden";
    case 404:
      return "not found";
    case 405:
      return "method not allowed";
    case 409:
      return "conflict";
    case 410:
      return "gone";
    case 413:
      return "content too large";
    case 415:
      return "unsupported media type";
    case 422:
      return "unprocessable content";
    case 429:
      return "too many requests";
    case 500:
      return "internal server error";
    case 501:
      return "not implemented";
    case 502:
      return "bad gateway";
    case 503:
      return "service unavailable";
    case 504:
      return "gateway timeout";
    default:
      return "";
  }
}

}  // namespace spfctl::http
