// An HTTP server inside the test process, for tests of code that calls HTTP APIs (the http client,
// provider adapters). It listens on 127.0.0.1 at a free port, serves from a background thread, and
// records every request its routes receive so tests can assert on what was sent.
//
//   spfctl::testing::FakeHttpServer server;
//   server.get("/zones", [](const httplib::Request&, httplib::Response& res) {
//     res.set_content(R"({"result": []})", "application/json");
//   });
//   server.start();
//   ... send to server.base_url() + "/zones" ...
//   CHECK(server.requests().at(0).header("Authorization") == "Bearer t");
//
// Register routes before start(): httplib's route tables are not safe to change while serving.
// Requests that match no route get httplib's 404 and are not recorded.
#pragma once

#include <httplib.h>

#include <atomic>
#include <chrono>
#include <memory>
#include <mutex>
#include <stdexcept>
#include <string>
#include <thread>
#include <utility>
#include <vector>

namespace spfctl::testing {

struct RecordedRequest {
  std::string method;
  std::string path;    // without the query
  std::string target;  // as sent: path and query
  httplib::Headers headers;
  std::string body;

  // The first value of header `name` (case-insensitive), or "" when absent.
  std::string header(const std::string& name) const {
    auto found = headers.find(name);
    return found == headers.end() ? std::string() : found->second;
  }
  bool has_header(const std::string& name) const { return headers.find(name) != headers.end(); }
};

class FakeHttpServer {
 public:
  using Handler = httplib::Server::Handler;

  // A plain http server; pass an httplib::SSLServer and "https" for TLS.
  explicit FakeHttpServer(std::unique_ptr<httplib::Server> server = std::make_unique<httplib::Server>(),
                          std::string scheme = "http")
      : m_server(std::move(server)), m_scheme(std::move(scheme)) {
    // Bounds how long a worker lingers on an idle connection, and so how long stopping can take.
    m_server->set_keep_alive_timeout(1);
  }

  FakeHttpServer(const FakeHttpServer&) = delete;
  FakeHttpServer& operator=(const FakeHttpServer&) = delete;

  ~FakeHttpServer() {
    if (!m_thread.joinable()) return;
    m_server->stop();
    m_thread.join();
  }

  FakeHttpServer& get(const std::string& pattern, Handler handler) {
    m_server->Get(pattern, recorded(std::move(handler)));
    return *this;
  }
  FakeHttpServer& post(const std::string& pattern, Handler handler) {
    m_server->Post(pattern, recorded(std::move(handler)));
    return *this;
  }
  FakeHttpServer& put(const std::string& pattern, Handler handler) {
    m_server->Put(pattern, recorded(std::move(handler)));
    return *this;
  }
  FakeHttpServer& patch(const std::string& pattern, Handler handler) {
    m_server->Patch(pattern, recorded(std::move(handler)));
    return *this;
  }
  FakeHttpServer& del(const std::string& pattern, Handler handler) {
    m_server->Delete(pattern, recorded(std::move(handler)));
    return *this;
  }

  // For settings beyond routes (timeouts, default headers); before start().
  httplib::Server& server() { return *m_server; }

  // Binds 127.0.0.1 at a free port and returns once the server accepts connections.
  void start() {
    if (!m_server->is_valid())
      throw std::runtime_error("fake http server: the server is not valid (bad TLS setup?)");
    m_port = m_server->bind_to_any_port("127.0.0.1");
    if (m_port <= 0) throw std::runtime_error("fake http server: cannot bind a port on 127.0.0.1");
    m_thread = std::thread([this] {
      m_server->listen_after_bind();
      m_listen_returned = true;
    });
    // stop() only takes effect once the accept loop runs, so wait for it.
    while (!m_server->is_running()) {
      if (m_listen_returned) {
        m_thread.join();
        throw std::runtime_error("fake http server: could not start listening");
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
  }

  int port() const { return m_port; }
  // "http://127.0.0.1:PORT" (or https), without a trailing slash.
  std::string base_url() const { return m_scheme + "://127.0.0.1:" + std::to_string(m_port); }

  // The requests the routes received so far, in arrival order.
  std::vector<RecordedRequest> requests() const {
    std::lock_guard lock(m_mutex);
    return m_requests;
  }
  // "METHOD path?query" of each request after the first `from`.
  std::vector<std::string> targets(std::size_t from = 0) const {
    std::lock_guard lock(m_mutex);
    std::vector<std::string> out;
    for (std::size_t i = from; i < m_requests.size(); ++i)
      out.push_back(m_requests[i].method + " " + m_requests[i].target);
    return out;
  }
  std::size_t request_count() const {
    std::lock_guard lock(m_mutex);
    return m_requests.size();
  }

 private:
  // Recorded before the test's handler runs, so the record exists by the time the client has
  // its response.
  Handler recorded(Handler handler) {
    return [this, handler = std::move(handler)](const httplib::Request& req, httplib::Response& res) {
      {
        std::lock_guard lock(m_mutex);
        m_requests.push_back({req.method, req.path, req.target, req.headers, req.body});
      }
      handler(req, res);
    };
  }

  std::unique_ptr<httplib::Server> m_server;
  std::string m_scheme;
  int m_port = 0;
  std::thread m_thread;
  std::atomic<bool> m_listen_returned{false};
  mutable std::mutex m_mutex;
  std::vector<RecordedRequest> m_requests;
};

}  // namespace spfctl::testing
