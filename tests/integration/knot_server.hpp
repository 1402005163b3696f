// A real knotd for one test: serves the given zones on 127.0.0.1 at a free high port, from a fresh
// temporary directory, and is killed (only the process this object started) with the directory
// removed when the object goes away.
//
//   spfctl::testing::KnotServer knot(spfctl::testing::KnotConfig()
//                                        .zone("example.com", "$ORIGIN example.com.\n...")
//                                        .tsig_key({"spfkey", "hmac-sha256", "BASE64..."})
//                                        .allow_updates());
//   LiveResolver resolver({{knot.address()}, 1000, 2});
//
// As root, knotd drops to knot:knot, so the directory and its files are handed to that user; as
// another user, knotd runs as that user.
#pragma once

#include <arpa/inet.h>
#include <fcntl.h>
#include <grp.h>
#include <netinet/in.h>
#include <poll.h>
#include <pwd.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <optional>
#include <sstream>
#include <stdexcept>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

extern char** environ;

namespace spfctl::testing {

struct TsigKey {
  std::string name;
  std::string algorithm = "hmac-sha256";
  std::string secret;  // base64, as `keymgr -t NAME hmac-sha256` prints it
};

class KnotConfig {
 public:
  // A zone served from `master_text` (an RFC 1035 master file with SOA and NS at the apex).
  // `apex` "." makes one zone that can hold records of many unrelated domains.
  KnotConfig& zone(std::string apex, std::string master_text) {
    zones.emplace_back(std::move(apex), std::move(master_text));
    return *this;
  }
  // A zone knotd is configured for but whose master file does not load (pass text that is no
  // zone): knotd answers SERVFAIL for every name in it, as a broken authoritative server does.
  // Startup does not wait for it.
  KnotConfig& failing_zone(std::string apex, std::string master_text) {
    failing.push_back(apex);
    return zone(std::move(apex), std::move(master_text));
  }
  // Declares a TSIG key (`key:` section).
  KnotConfig& tsig_key(TsigKey key) {
    tsig = std::move(key);
    return *this;
  }
  // Lets clients send RFC 2136 updates and zone transfers to every zone: signed with the TSIG key
  // when one is declared, otherwise from 127.0.0.1.
  KnotConfig& allow_updates() {
    updates = true;
    return *this;
  }
  // Like allow_updates(), with other ACL actions: "transfer" alone lets the key sign queries and
  // transfer zones but not update them.
  KnotConfig& allow_actions(std::string actions) {
    updates = true;
    acl_actions = std::move(actions);
    return *this;
  }

  std::vector<std::pair<std::string, std::string>> zones;
  std::vector<std::string> failing;  // apexes of zones expected not to load
  std::optional<TsigKey> tsig;
  bool updates = false;
  std::string acl_actions = "update, transfer";
};

namespace detail {

inline void append_u16(std::vector<unsigned char>& out, unsigned value) {
  out.push_back(static_cast<unsigned char>(value >> 8));
  out.push_back(static_cast<unsigned char>(value & 0xff));
}

// `name` as uncompressed wire-format labels.
inline void append_name(std::vector<unsigned char>& out, std::string_view name) {
  while (!name.empty() && name != ".") {
    const auto dot = name.find('.');
    const std::string_view label = name.substr(0, dot);
    out.push_back(static_cast<unsigned char>(label.size()));
    out.insert(out.end(), label.begin(), label.end());
    name = dot == std::string_view::npos ? std::string_view() : name.substr(dot + 1);
  }
  out.push_back(0);
}

// A DNS question in wire format (class IN, recursion not desired).
inline std::vector<unsigned char> make_query(std::uint16_t id, std::string_view name, std::uint16_t type) {
  std::vector<unsigned char> out;
  for (unsigned field : {unsigned{id}, 0u, 1u, 0u, 0u, 0u}) append_u16(out, field);  // header, one question
  append_name(out, name);
  append_u16(out, type);
  append_u16(out, 1);
  return out;
}

}  // namespace detail

// A fresh message id.
inline std::uint16_t next_message_id() {
  static std::atomic<std::uint16_t> next_id{0x5f00};
  return next_id++;
}

// Sends a DNS message over UDP to 127.0.0.1:port and returns the response with the same id, or
// nullopt when none came within `timeout`.
inline std::optional<std::vector<unsigned char>> udp_exchange(std::uint16_t port,
                                                              const std::vector<unsigned char>& query,
                                                              std::chrono::milliseconds timeout) {
  if (query.size() < 12) return std::nullopt;
  const int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return std::nullopt;
  sockaddr_in to{};
  to.sin_family = AF_INET;
  to.sin_port = htons(port);
  to.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  const unsigned id = static_cast<unsigned>(query[0] << 8 | query[1]);
  std::optional<std::vector<unsigned char>> response;
  if (sendto(fd, query.data(), query.size(), 0, reinterpret_cast<const sockaddr*>(&to), sizeof to) ==
      static_cast<ssize_t>(query.size())) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (!response) {
      const auto left =
          std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
      if (left.count() <= 0) break;
      pollfd p{fd, POLLIN, 0};
      if (poll(&p, 1, static_cast<int>(left.count())) <= 0) break;
      std::vector<unsigned char> buffer(65535);
      const ssize_t n = recv(fd, buffer.data(), buffer.size(), 0);
      if (n >= 12 && buffer[0] == (id >> 8) && buffer[1] == (id & 0xff)) {
        buffer.resize(static_cast<std::size_t>(n));
        response = std::move(buffer);
      }
    }
  }
  close(fd);
  return response;
}

// Sends one question (class IN) over UDP to 127.0.0.1:port; the raw response or nullopt.
inline std::optional<std::vector<unsigned char>> udp_query(std::uint16_t port, std::string_view name,
                                                           std::uint16_t type,
                                                           std::chrono::milliseconds timeout) {
  return udp_exchange(port, detail::make_query(next_message_id(), name, type), timeout);
}

// A port on 127.0.0.1 free for both UDP and TCP at the time of the call.
inline std::uint16_t free_port() {
  for (int attempt = 0; attempt < 50; ++attempt) {
    const int udp = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t length = sizeof addr;
    if (bind(udp, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
        getsockname(udp, reinterpret_cast<sockaddr*>(&addr), &length) != 0) {
      close(udp);
      continue;
    }
    const int tcp = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    const bool tcp_free = bind(tcp, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
    const std::uint16_t port = ntohs(addr.sin_port);
    close(tcp);
    close(udp);
    if (tcp_free && port >= 1024) return port;
  }
  throw std::runtime_error("no free port on 127.0.0.1 for knotd");
}

class KnotServer {
 public:
  explicit KnotServer(const KnotConfig& config,
                      std::chrono::milliseconds start_timeout = std::chrono::seconds(15))
      : m_config(config) {
    if (config.zones.empty()) throw std::invalid_argument("KnotServer needs at least one zone");
    std::string pattern = (std::filesystem::temp_directory_path() / "spfctl-knot-XXXXXX").string();
    if (mkdtemp(pattern.data()) == nullptr) throw std::runtime_error("cannot create a directory for knotd");
    m_dir = pattern;
    try {
      start(start_timeout);
    } catch (...) {
      stop();
      throw;
    }
  }

  ~KnotServer() { stop(); }
  KnotServer(const KnotServer&) = delete;
  KnotServer& operator=(const KnotServer&) = delete;

  std::uint16_t port() const { return m_port; }
  // "127.0.0.1:PORT", as --resolver takes it.
  std::string address() const { return "127.0.0.1:" + std::to_string(m_port); }
  const std::filesystem::path& directory() const { return m_dir; }
  // Where knotd keeps the zone (it rewrites the file after updates).
  std::filesystem::path zone_file(std::string_view apex) const { return m_dir / file_name(apex); }
  // What knotd wrote to stderr so far.
  std::string log() const {
    std::ifstream in(m_dir / "knotd.log");
    std::ostringstream text;
    text << in.rdbuf();
    return text.str();
  }

 private:
  static std::string file_name(std::string_view apex) {
    if (apex.empty() || apex == ".") return "root.zone";
    std::string name(apex);
    if (name.back() == '.') name.pop_back();
    return name + ".zone";
  }

  void write_file(const std::string& name, const std::string& text) const {
    const auto path = m_dir / name;
    std::ofstream out(path, std::ios::binary);
    out << text;
    out.close();
    if (!out) throw std::runtime_error("cannot write " + path.string());
    hand_over(path);
  }

  // As root, knotd runs as knot:knot and must be able to write its directory and zone files.
  void hand_over(const std::filesystem::path& path) const {
    if (geteuid() != 0) return;
    const passwd* user = getpwnam("knot");
    const group* grp = getgrnam("knot");
    if (user == nullptr || grp == nullptr)
      throw std::runtime_error("user knot:knot not found (install knot)");
    if (chown(path.c_str(), user->pw_uid, grp->gr_gid) != 0)
      throw std::runtime_error("cannot hand " + path.string() + " to knot:knot");
  }

  std::string config_text() const {
    const std::string dir = m_dir.string();
    std::ostringstream conf;
    conf << "server:\n"
         << "    rundir: \"" << dir << "\"\n"
         << "    listen: 127.0.0.1@" << m_port << "\n";
    if (geteuid() == 0) conf << "    user: knot:knot\n";
    conf << "log:\n"
         << "  - target: stderr\n"
         << "    any: info\n"
         << "database:\n"
         << "    storage: \"" << dir << "\"\n";
    if (m_config.tsig) {
      conf << "key:\n"
           << "  - id: " << m_config.tsig->name << "\n"
           << "    algorithm: " << m_config.tsig->algorithm << "\n"
           << "    secret: " << m_config.tsig->secret << "\n";
    }
    if (m_config.updates) {
      conf << "acl:\n"
           << "  - id: spf_update\n";
      if (m_config.tsig) {
        conf << "    key: " << m_config.tsig->name << "\n";
      } else {
        conf << "    address: 127.0.0.1\n";
      }
      conf << "    action: [" << m_config.acl_actions << "]\n";
    }
    conf << "zone:\n";
    for (const auto& [apex, text] : m_config.zones) {
      conf << "  - domain: \"" << (apex.empty() ? "." : apex) << "\"\n"
           << "    storage: \"" << dir << "\"\n"
           << "    file: \"" << file_name(apex) << "\"\n";
      if (m_config.updates) conf << "    acl: spf_update\n";
    }
    return conf.str();
  }

  void start(std::chrono::milliseconds timeout) {
    hand_over(m_dir);
    for (const auto& [apex, text] : m_config.zones) write_file(file_name(apex), text);
    // The free port can be taken by someone else before knotd binds it: then try another.
    for (int attempt = 1;; ++attempt) {
      m_port = free_port();
      write_file("knot.conf", config_text());
      write_file("knotd.log", "");
      spawn();
      if (wait_until_ready(timeout)) return;
      if (attempt == 3) throw std::runtime_error("knotd found no free port; its last log:\n" + log());
    }
  }

  void spawn() {
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    const std::string log_path = (m_dir / "knotd.log").string();
    posix_spawn_file_actions_addopen(&actions, 1, log_path.c_str(), O_WRONLY | O_APPEND, 0);
    posix_spawn_file_actions_addopen(&actions, 2, log_path.c_str(), O_WRONLY | O_APPEND, 0);
    const std::string conf = (m_dir / "knot.conf").string();
    char* argv[] = {const_cast<char*>("knotd"), const_cast<char*>("-c"), const_cast<char*>(conf.c_str()),
                    nullptr};
    const int spawned = posix_spawn(&m_pid, "/usr/sbin/knotd", &actions, nullptr, argv, environ);
    posix_spawn_file_actions_destroy(&actions);
    if (spawned != 0) {
      m_pid = -1;
      throw std::runtime_error("cannot start /usr/sbin/knotd (install the knot package)");
    }
  }

  bool expected_to_fail(const std::string& apex) const {
    return std::find(m_config.failing.begin(), m_config.failing.end(), apex) != m_config.failing.end();
  }

  // True when a zone that should load could not: a "failed to load zone" line not about a zone
  // configured with failing_zone().
  bool unexpected_load_failure(const std::string& text) const {
    std::istringstream lines(text);
    for (std::string line; std::getline(lines, line);) {
      if (line.find("failed to load zone") == std::string::npos) continue;
      bool expected = false;
      for (const std::string& apex : m_config.failing)
        expected = expected || line.find("[" + apex + ".]") != std::string::npos;
      if (!expected) return true;
    }
    return false;
  }

  // True when every zone (but the failing ones) answers its SOA with NOERROR; false when knotd
  // exited because its port was taken. Throws for any other failure, with knotd's log.
  bool wait_until_ready(std::chrono::milliseconds timeout) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    std::size_t ready = 0;
    while (ready < m_config.zones.size()) {
      if (expected_to_fail(m_config.zones[ready].first)) {
        ++ready;
        continue;
      }
      int status = 0;
      if (waitpid(m_pid, &status, WNOHANG) == m_pid) {
        m_pid = -1;
        const std::string text = log();
        if (text.find("cannot bind address") != std::string::npos) return false;
        throw std::runtime_error("knotd exited while starting; its log:\n" + text);
      }
      if (const std::string text = log(); unexpected_load_failure(text))
        throw std::runtime_error("knotd could not load a zone; its log:\n" + text);
      if (std::chrono::steady_clock::now() > deadline)
        throw std::runtime_error("knotd did not answer on " + address() + " within " +
                                 std::to_string(timeout.count()) + " ms; its log:\n" + log());
      const auto response = udp_query(m_port, m_config.zones[ready].first, 6, std::chrono::milliseconds(200));
      if (response && ((*response)[3] & 0x0f) == 0) {
        ++ready;
      } else if (response) {
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
      }
    }
    return true;
  }

  void stop() {
    if (m_pid > 0) {
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
    std::error_code ignored;
    if (!m_dir.empty()) std::filesystem::remove_all(m_dir, ignored);
  }

  KnotConfig m_config;
  std::filesystem::path m_dir;
  std::uint16_t m_port = 0;
  pid_t m_pid = -1;
};

}  // namespace spfctl::testing
