// A real pdns_server (PowerDNS Authoritative with its HTTP API) for one test: serves the given
// zones from a fresh sqlite3 database on 127.0.0.1, DNS and the API each at a free high port, from
// a temporary directory, with an API key made for this server; it is killed (only the process this
// object started) with the directory removed when the object goes away.
//
//   spfctl::testing::PdnsServer pdns(spfctl::testing::PdnsConfig()
//                                        .zone("example.com")
//                                        .record("example.com", "example.com", "TXT", 3600, "\"MS=ms1\""));
//   ... an adapter pointed at pdns.api_url() with pdns.api_key() ...
//   LiveResolver resolver({{pdns.address()}, 1000, 2});
//
// Zones are made with pdnsutil (create-zone, and SOA-EDIT-API DEFAULT so API edits move the
// serial), records added with pdnsutil add-record, before the server starts. pdns_server runs as the
// user running the tests (as root it stays root: no setuid is configured), in the foreground.
#pragma once

#include <fcntl.h>
#include <httplib.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <optional>
#include <random>
#include <sstream>
#include <stdexcept>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

#include "knot_server.hpp"  // free_port(), udp_query()

extern char** environ;

namespace spfctl::testing {

struct PdnsRecord {
  std::string zone;  // the zone apex, lowercase, no trailing dot
  std::string name;  // absolute, lowercase, no trailing dot
  std::string type;  // "TXT", "A", ...
  std::uint32_t ttl = 3600;
  std::string content;  // as pdnsutil add-record takes it: TXT content in double quotes
};

class PdnsConfig {
 public:
  // A native zone with an SOA and one NS record (ns1.<apex>), created by pdnsutil.
  PdnsConfig& zone(std::string apex) {
    zones.push_back(std::move(apex));
    return *this;
  }
  // A record added to `zone` before the server starts.
  PdnsConfig& record(std::string zone, std::string name, std::string type, std::uint32_t ttl,
                     std::string content) {
    records.push_back({std::move(zone), std::move(name), std::move(type), ttl, std::move(content)});
    return *this;
  }

  std::vector<std::string> zones;
  std::vector<PdnsRecord> records;
};

class PdnsServer {
 public:
  explicit PdnsServer(const PdnsConfig& config,
                      std::chrono::milliseconds start_timeout = std::chrono::seconds(20))
      : m_config(config), m_api_key(random_key()) {
    if (config.zones.empty()) throw std::invalid_argument("PdnsServer needs at least one zone");
    std::string pattern = (std::filesystem::temp_directory_path() / "spfctl-pdns-XXXXXX").string();
    if (mkdtemp(pattern.data()) == nullptr)
      throw std::runtime_error("cannot create a directory for pdns_server");
    m_dir = pattern;
    try {
      start(start_timeout);
    } catch (...) {
      stop();
      throw;
    }
  }

  ~PdnsServer() { stop(); }
  PdnsServer(const PdnsServer&) = delete;
  PdnsServer& operator=(const PdnsServer&) = delete;

  // The DNS port.
  std::uint16_t port() const { return m_port; }
  // "127.0.0.1:PORT" (DNS), as --resolver takes it.
  std::string address() const { return "127.0.0.1:" + std::to_string(m_port); }
  std::uint16_t web_port() const { return m_web_port; }
  // "http://127.0.0.1:WEBPORT", the api_url of a powerdns provider.
  std::string api_url() const { return "http://127.0.0.1:" + std::to_string(m_web_port); }
  // The api-key in pdns.conf: 32 random hex digits, new for each server.
  const std::string& api_key() const { return m_api_key; }
  const std::filesystem::path& directory() const { return m_dir; }
  // What pdns_server wrote to stdout and stderr so far.
  std::string log() const { return read_file(m_dir / "pdns.log"); }

 private:
  static std::string random_key() {
    std::random_device device;
    std::string key;
    for (int i = 0; i < 32; ++i) key += "0123456789abcdef"[device() % 16];
    return key;
  }

  static std::string read_file(const std::filesystem::path& path) {
    std::ifstream in(path, std::ios::binary);
    std::ostringstream text;
    text << in.rdbuf();
    return text.str();
  }

  void write_file(const std::string& name, const std::string& text) const {
    const auto path = m_dir / name;
    std::ofstream out(path, std::ios::binary);
    out << text;
    out.close();
    if (!out) throw std::runtime_error("cannot write " + path.string());
  }

  std::string config_text() const {
    const std::string dir = m_dir.string();
    std::ostringstream conf;
    conf << "launch=gsqlite3\n"
         << "gsqlite3-database=" << dir << "/pdns.sqlite3\n"
         << "local-address=127.0.0.1\n"
         << "local-port=" << m_port << "\n"
         << "api=yes\n"
         << "api-key=" << m_api_key << "\n"
         << "webserver=yes\n"
         << "webserver-address=127.0.0.1\n"
         << "webserver-port=" << m_web_port << "\n"
         << "webserver-allow-from=127.0.0.1\n"
         << "socket-dir=" << dir << "\n"
         << "guardian=no\n"
         << "daemon=no\n"
         << "disable-syslog=yes\n"
         // No security-status lookups: tests run without the internet.
         << "security-poll-suffix=\n";
    return conf.str();
  }

  // Runs a tool to completion with its output in tools.log; throws with that log when it fails.
  void run_tool(const std::string& program, const std::vector<std::string>& args,
                const std::optional<std::filesystem::path>& input = std::nullopt) const {
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    const std::string log_path = (m_dir / "tools.log").string();
    posix_spawn_file_actions_addopen(&actions, 1, log_path.c_str(), O_WRONLY | O_APPEND | O_CREAT, 0600);
    posix_spawn_file_actions_addopen(&actions, 2, log_path.c_str(), O_WRONLY | O_APPEND | O_CREAT, 0600);
    const std::string input_path = input ? input->string() : "/dev/null";
    posix_spawn_file_actions_addopen(&actions, 0, input_path.c_str(), O_RDONLY, 0);
    std::vector<char*> argv{const_cast<char*>(program.c_str())};
    for (const std::string& arg : args) argv.push_back(const_cast<char*>(arg.c_str()));
    argv.push_back(nullptr);
    pid_t pid = -1;
    const int spawned = posix_spawn(&pid, program.c_str(), &actions, nullptr, argv.data(), environ);
    posix_spawn_file_actions_destroy(&actions);
    if (spawned != 0)
      throw std::runtime_error("cannot start " + program +
                               " (install pdns-server, pdns-backend-sqlite3, sqlite3)");
    int status = 0;
    waitpid(pid, &status, 0);
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
      std::string command = program;
      for (const std::string& arg : args) command += " " + arg;
      throw std::runtime_error(command + " failed; its output:\n" + read_file(log_path));
    }
  }

  void pdnsutil(std::vector<std::string> args) const {
    args.insert(args.begin(), "--config-dir=" + m_dir.string());
    run_tool("/usr/bin/pdnsutil", args);
  }

  // pdnsutil add-record takes names relative to the zone, "@" for the apex.
  static std::string relative_name(const std::string& name, const std::string& zone) {
    if (name == zone) return "@";
    if (name.size() > zone.size() && name.ends_with("." + zone))
      return name.substr(0, name.size() - zone.size() - 1);
    throw std::invalid_argument("record " + name + " is not in zone " + zone);
  }

  void start(std::chrono::milliseconds timeout) {
    // The ports do not matter to pdnsutil, which only reads the database settings.
    write_file("pdns.conf", config_text());
    run_tool("/usr/bin/sqlite3", {(m_dir / "pdns.sqlite3").string()},
             std::filesystem::path("/usr/share/pdns-backend-sqlite3/schema/schema.sqlite3.sql"));
    for (const std::string& zone : m_config.zones) {
      pdnsutil({"create-zone", zone, "ns1." + zone});
      pdnsutil({"set-meta", zone, "SOA-EDIT-API", "DEFAULT"});
    }
    for (const PdnsRecord& r : m_config.records)
      pdnsutil(
          {"add-record", r.zone, relative_name(r.name, r.zone), r.type, std::to_string(r.ttl), r.content});
    // A free port can be taken by someone else before pdns_server binds it: then try others.
    for (int attempt = 1;; ++attempt) {
      m_port = free_port();
      do m_web_port = free_port();
      while (m_web_port == m_port);
      write_file("pdns.conf", config_text());
      write_file("pdns.log", "");
      spawn();
      if (wait_until_ready(timeout)) return;
      terminate();
      if (attempt == 3) throw std::runtime_error("pdns_server found no free ports; its last log:\n" + log());
    }
  }

  void spawn() {
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    const std::string log_path = (m_dir / "pdns.log").string();
    posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_addopen(&actions, 1, log_path.c_str(), O_WRONLY | O_APPEND, 0);
    posix_spawn_file_actions_addopen(&actions, 2, log_path.c_str(), O_WRONLY | O_APPEND, 0);
    const std::string config_dir = "--config-dir=" + m_dir.string();
    char* argv[] = {const_cast<char*>("pdns_server"), const_cast<char*>(config_dir.c_str()), nullptr};
    const int spawned = posix_spawn(&m_pid, "/usr/sbin/pdns_server", &actions, nullptr, argv, environ);
    posix_spawn_file_actions_destroy(&actions);
    if (spawned != 0) {
      m_pid = -1;
      throw std::runtime_error("cannot start /usr/sbin/pdns_server (install pdns-server)");
    }
  }

  // True when the API answers this server's key and every zone answers its SOA with NOERROR;
  // false when a port was taken (pdns_server exits when it cannot bind DNS, but only logs it when it
  // cannot bind the webserver). Throws for any other failure, with pdns_server's log.
  bool wait_until_ready(std::chrono::milliseconds timeout) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    httplib::Client api("127.0.0.1", m_web_port);
    api.set_connection_timeout(std::chrono::milliseconds(200));
    api.set_read_timeout(std::chrono::seconds(2));
    bool api_ready = false;
    std::size_t zones_ready = 0;
    while (!api_ready || zones_ready < m_config.zones.size()) {
      int status = 0;
      if (waitpid(m_pid, &status, WNOHANG) == m_pid) {
        m_pid = -1;
        const std::string text = log();
        if (text.find("Unable to bind") != std::string::npos) return false;
        throw std::runtime_error("pdns_server exited while starting; its log:\n" + text);
      }
      if (log().find("Listening on HTTP socket failed") != std::string::npos) return false;
      if (std::chrono::steady_clock::now() > deadline)
        throw std::runtime_error("pdns_server did not answer on " + address() + " and " + api_url() +
                                 " within " + std::to_string(timeout.count()) + " ms; its log:\n" + log());
      if (!api_ready) {
        const auto answer = api.Get("/api/v1/servers/localhost", {{"X-API-Key", m_api_key}});
        // Another server on the port would refuse this key.
        if (answer && answer->status == 401) return false;
        api_ready = answer && answer->status == 200;
      } else {
        const auto response =
            udp_query(m_port, m_config.zones[zones_ready], 6, std::chrono::milliseconds(200));
        if (response && ((*response)[3] & 0x0f) == 0) {
          ++zones_ready;
          continue;
        }
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    return true;
  }

  void terminate() {
    if (m_pid <= 0) return;
    kill(m_pid, SIGTERM);
    int status = 0;
    bool exited = false;
    for (int i = 0; i < 100 && !exited; ++i) {
      exited = waitpid(m_pid, &status, WNOHANG) == m_pid;
      if (!exited) std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    if (!exited) {
      kill(m_pid, SIGKILL);
      waitpid(m_pid, &status, 0);
    }
    m_pid = -1;
  }

  void stop() {
    terminate();
    std::error_code ignored;
    if (!m_dir.empty()) std::filesystem::remove_all(m_dir, ignored);
  }

  PdnsConfig m_config;
  std::string m_api_key;
  std::filesystem::path m_dir;
  std::uint16_t m_port = 0;
  std::uint16_t m_web_port = 0;
  pid_t m_pid = -1;
};

}  // namespace spfctl::testing
