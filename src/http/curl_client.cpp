#include "http/curl_client.hpp"

#include <curl/curl.h>

#include <algorithm>
#include <memory>
#include <mutex>

#include "error.hpp"
#include "http/redact.hpp"
#include "net/ip.hpp"

namespace spfctl::http {

namespace {

// A provider's answer is a page of records; anything this large is a misbehaving endpoint.
constexpr std::size_t k_max_body_bytes = 64u << 20;

struct UrlDeleter {
  void operator()(CURLU* url) const { curl_url_cleanup(url); }
};
struct EasyDeleter {
  void operator()(CURL* easy) const { curl_easy_cleanup(easy); }
};
struct ListDeleter {
  void operator()(curl_slist* list) const { curl_slist_free_all(list); }
};
using UrlHandle = std::unique_ptr<CURLU, UrlDeleter>;
using EasyHandle = std::unique_ptr<CURL, EasyDeleter>;
using HeaderList = std::unique_ptr<curl_slist, ListDeleter>;

std::string url_part(CURLU* url, CURLUPart part) {
  char* value = nullptr;
  if (curl_url_get(url, part, &value, 0) != CURLUE_OK || value == nullptr) return {};
  std::string out(value);
  curl_free(value);
  return out;
}

bool is_loopback_host(std::string host) {
  std::ranges::transform(host, host.begin(),
                         [](char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; });
  if (host == "localhost") return true;
  if (host.size() > 2 && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
  auto address = net::IpAddress::parse(host);
  if (!address) return false;
  net::IpAddress plain = address->unmapped();
  if (plain.is_v4()) return plain.bytes()[0] == 127;
  return plain == *net::IpAddress::parse("::1");
}

// Parsed by libcurl itself, and the same parsed handle is what the transfer uses, so the host
// checked here is the host connected to (libcurl normalises forms like "127.1" or "0x7f.1").
UrlHandle parse_api_url(std::string_view url) {
  UrlHandle handle(curl_url());
  if (!handle) throw std::bad_alloc();
  std::string shown = redact_url(url);
  std::string text(url);
  if (curl_url_set(handle.get(), CURLUPART_URL, text.c_str(), 0) != CURLUE_OK)
    throw Error("api url \"" + shown + "\" is not a valid absolute URL; write it as https://host/path");
  std::string scheme = url_part(handle.get(), CURLUPART_SCHEME);
  if (scheme == "https") return handle;
  if (scheme == "http") {
    if (is_loopback_host(url_part(handle.get(), CURLUPART_HOST))) return handle;
    throw Error("api url \"" + shown +
                "\" uses plain http; API URLs must use https (plain http is accepted only for loopback "
                "hosts: 127.0.0.0/8, ::1, localhost)");
  }
  throw Error("api url \"" + shown + "\" uses the scheme \"" + scheme +
              "\"; API URLs must start with https://");
}

TransportError classify(CURLcode code) {
  switch (code) {
    case CURLE_COULDNT_RESOLVE_HOST:
    case CURLE_COULDNT_RESOLVE_PROXY:
      return TransportError::resolve;
    case CURLE_COULDNT_CONNECT:
      return TransportError::connect;
    case CURLE_SSL_CONNECT_ERROR:
    case CURLE_PEER_FAILED_VERIFICATION:
    case CURLE_SSL_CERTPROBLEM:
    case CURLE_SSL_CIPHER:
    case CURLE_SSL_CACERT_BADFILE:
    case CURLE_SSL_ISSUER_ERROR:
    case CURLE_SSL_PINNEDPUBKEYNOTMATCH:
    case CURLE_SSL_INVALIDCERTSTATUS:
      return TransportError::tls;
    case CURLE_OPERATION_TIMEDOUT:
      return TransportError::timeout;
    case CURLE_SEND_ERROR:
    case CURLE_RECV_ERROR:
    case CURLE_GOT_NOTHING:
    case CURLE_PARTIAL_FILE:
    case CURLE_HTTP2:
    case CURLE_HTTP2_STREAM:
    case CURLE_WEIRD_SERVER_REPLY:
      return TransportError::io;
    default:
      return TransportError::other;
  }
}

struct Transfer {
  Response response;
  bool body_too_large = false;
};

std::size_t on_body(char* data, std::size_t size, std::size_t count, void* user) {
  auto& transfer = *static_cast<Transfer*>(user);
  std::size_t bytes = size * count;
  if (transfer.response.body.size() + bytes > k_max_body_bytes) {
    transfer.body_too_large = true;
    return 0;
  }
  transfer.response.body.append(data, bytes);
  return bytes;
}

std::string_view trim(std::string_view text) {
  while (!text.empty() && (text.front() == ' ' || text.front() == '\t')) text.remove_prefix(1);
  while (!text.empty() &&
         (text.back() == ' ' || text.back() == '\t' || text.back() == '\r' || text.back() == '\n'))
    text.remove_suffix(1);
  return text;
}

std::size_t on_header(char* data, std::size_t size, std::size_t count, void* user) {
  auto& headers = static_cast<Transfer*>(user)->response.headers;
  std::size_t bytes = size * count;
  std::string_view line(data, bytes);
  // Each status line starts a new response (after a 100 Continue or a proxy's CONNECT answer);
  // only the last one's headers belong to the answer.
  if (line.starts_with("HTTP/")) {
    headers.clear();
    return bytes;
  }
  if ((line.front() == ' ' || line.front() == '\t') && !headers.empty()) {
    headers.back().value += ' ';
    headers.back().value += trim(line);
    return bytes;
  }
  std::size_t colon = line.find(':');
  if (colon == std::string_view::npos) return bytes;
  headers.push_back({std::string(trim(line.substr(0, colon))), std::string(trim(line.substr(colon + 1)))});
  return bytes;
}

void append_header(HeaderList& list, const std::string& line) {
  curl_slist* longer = curl_slist_append(list.get(), line.c_str());
  if (longer == nullptr) throw std::bad_alloc();
  (void)list.release();
  list.reset(longer);
}

HeaderList header_list(const Request& request) {
  HeaderList list;
  for (const auto& header : request.headers) {
    if (header.name.find_first_of("\r\n:") != std::string::npos ||
        header.value.find_first_of("\r\n") != std::string::npos)
      throw Error("http header \"" + header.name +
                  "\" has a line break or a colon in its name or value; check where it comes from (e.g. a "
                  "token read from the environment)");
    // "Name;" is libcurl's spelling of a header sent with an empty value.
    append_header(list, header.value.empty() ? header.name + ";" : header.name + ": " + header.value);
  }
  // No "Expect: 100-continue" round trip; no form content type unless the caller chose one.
  append_header(list, "Expect:");
  if (!find_header(request.headers, "Content-Type")) append_header(list, "Content-Type:");
  return list;
}

void global_init() {
  static std::once_flag once;
  std::call_once(once, [] {
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) throw Error("libcurl could not be initialised");
  });
}

}  // namespace

void check_api_url(std::string_view url) {
  parse_api_url(url);
}

std::string_view user_agent() {
  return "spfctl/" SPFCTL_VERSION;
}

CurlHttpClient::CurlHttpClient(CurlOptions options) : m_options(std::move(options)) {
  global_init();
}

Response CurlHttpClient::send(const Request& request) {
  UrlHandle url = parse_api_url(request.url);
  HeaderList headers = header_list(request);
  EasyHandle easy(curl_easy_init());
  if (!easy)
    return Response::transport_failure(TransportError::other, "libcurl could not start a transfer", false);
  CURL* e = easy.get();

  Transfer transfer;
  char error_text[CURL_ERROR_SIZE] = "";
  curl_easy_setopt(e, CURLOPT_CURLU, url.get());
  curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(e, CURLOPT_SSL_VERIFYPEER, 1L);
  curl_easy_setopt(e, CURLOPT_SSL_VERIFYHOST, 2L);
  curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, static_cast<long>(m_options.connect_timeout.count()));
  curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, static_cast<long>(m_options.total_timeout.count()));
  curl_easy_setopt(e, CURLOPT_USERAGENT, user_agent().data());
  curl_easy_setopt(e, CURLOPT_ACCEPT_ENCODING, "");
  curl_easy_setopt(e, CURLOPT_ERRORBUFFER, error_text);
  curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, on_body);
  curl_easy_setopt(e, CURLOPT_WRITEDATA, &transfer);
  curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, on_header);
  curl_easy_setopt(e, CURLOPT_HEADERDATA, &transfer);
  curl_easy_setopt(e, CURLOPT_HTTPHEADER, headers.get());

  curl_blob ca_blob{};
  if (!m_options.ca_certificates_pem.empty()) {
    ca_blob.data = m_options.ca_certificates_pem.data();
    ca_blob.len = m_options.ca_certificates_pem.size();
    ca_blob.flags = CURL_BLOB_COPY;
    curl_easy_setopt(e, CURLOPT_CAINFO_BLOB, &ca_blob);
    curl_easy_setopt(e, CURLOPT_CAPATH, nullptr);
  }

  if (request.method == Method::get) {
    curl_easy_setopt(e, CURLOPT_HTTPGET, 1L);
  } else {
    if (request.method == Method::post)
      curl_easy_setopt(e, CURLOPT_POST, 1L);
    else
      curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, to_string(request.method).data());
    // A DELETE without a body sends no Content-Length; the others always say how long theirs is.
    if (request.method != Method::delete_ || !request.body.empty()) {
      curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(request.body.size()));
      curl_easy_setopt(e, CURLOPT_POSTFIELDS, request.body.data());
    }
  }

  CURLcode code = curl_easy_perform(e);
  if (code != CURLE_OK) {
    if (transfer.body_too_large)
      return Response::transport_failure(TransportError::other, "the response body is larger than 64 MiB",
                                         true);
    TransportError kind = classify(code);
    long request_bytes = 0;
    curl_easy_getinfo(e, CURLINFO_REQUEST_SIZE, &request_bytes);
    bool sent = kind != TransportError::resolve && kind != TransportError::connect &&
                kind != TransportError::tls && request_bytes > 0;
    return Response::transport_failure(kind, error_text[0] != '\0' ? error_text : curl_easy_strerror(code),
                                       sent);
  }
  long status = 0;
  curl_easy_getinfo(e, CURLINFO_RESPONSE_CODE, &status);
  transfer.response.status = static_cast<int>(status);
  return std::move(transfer.response);
}

}  // namespace spfctl::http
