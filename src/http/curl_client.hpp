// The real HttpClient, on libcurl. TLS certificates and host names are always verified; plain
// http is accepted only for loopback hosts (a local PowerDNS, test servers); redirects are not
// followed; proxies named by the usual environment variables (https_proxy, no_proxy) are used.
#pragma once

#include <chrono>
#include <string>
#include <string_view>

#include "http/client.hpp"

namespace spfctl::http {

struct CurlOptions {
  std::chrono::milliseconds connect_timeout{10'000};
  // For the whole exchange, connecting included.
  std::chrono::milliseconds total_timeout{60'000};
  // PEM certificates to trust instead of the system's store: a private API's CA, or a test
  // server's self-signed certificate. Verification stays on either way. Empty: the system store.
  std::string ca_certificates_pem;
};

// Throws spfctl::Error unless `url` is one spfctl may send API requests to: an absolute https URL,
// or an http URL whose host is a loopback address (127.0.0.0/8, ::1, localhost). Adapters call it
// while loading their configuration, so a bad URL is reported before any request.
void check_api_url(std::string_view url);

// The User-Agent spfctl sends: "spfctl/<version>".
std::string_view user_agent();

class CurlHttpClient : public HttpClient {
 public:
  explicit CurlHttpClient(CurlOptions options = {});

  // See HttpClient::send. Throws spfctl::Error for a URL check_api_url() rejects, before any
  // connection. One curl handle per call, so any number of threads may send at once.
  Response send(const Request& request) override;

 private:
  CurlOptions m_options;
};

}  // namespace spfctl::http
