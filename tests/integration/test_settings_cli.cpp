// Provider settings through the CLI: every provider type's settings are checked when the
// configuration is loaded, all problems at once in one format, before spfctl sends anything.
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <regex>
#include <string>
#include <vector>

#include "providers/registry.hpp"
#include "tests/support/spfctl_process.hpp"
#include "tests/support/temp_dir.hpp"

namespace {

namespace fs = std::filesystem;

// A TCP and a UDP socket on one loopback port that never answer: whatever reaches them, a DNS
// question, an update or an HTTP connection, is left waiting and seen by received_anything().
class Listener {
 public:
  Listener() {
    m_tcp = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    REQUIRE(bind(m_tcp, reinterpret_cast<sockaddr*>(&address), sizeof address) == 0);
    REQUIRE(listen(m_tcp, 16) == 0);
    socklen_t length = sizeof address;
    REQUIRE(getsockname(m_tcp, reinterpret_cast<sockaddr*>(&address), &length) == 0);
    m_port = ntohs(address.sin_port);
    m_udp = socket(AF_INET, SOCK_DGRAM, 0);
    REQUIRE(bind(m_udp, reinterpret_cast<sockaddr*>(&address), sizeof address) == 0);
  }
  ~Listener() {
    close(m_tcp);
    close(m_udp);
  }
  Listener(const Listener&) = delete;
  Listener& operator=(const Listener&) = delete;

  int port() const { return m_port; }
  bool received_anything() const {
    pollfd fds[2] = {{m_tcp, POLLIN, 0}, {m_udp, POLLIN, 0}};
    return poll(fds, 2, 0) > 0;
  }

 private:
  int m_tcp = -1;
  int m_udp = -1;
  int m_port = 0;
};

}  // namespace

TEST_CASE(
    "every provider type's unknown setting is reported in one format with its place, before any "
    "traffic",
    "[cli][providers][settings]") {
  spfctl::testing::TempDir temp{"spfctl-settings-cli"};
  Listener listener;
  const std::string here = "127.0.0.1:" + std::to_string(listener.port());
  const std::string url = "http://" + here;
  // Each provider: its required settings, pointed at the listener, and one misspelt timeout.
  const std::vector<std::pair<std::string, std::string>> providers = {
      {"zonefile", "directory = \"zones\"\n"},
      {"powerdns", "api_url = \"" + url + "\"\napi_key_env = \"PDNS_KEY\"\n"},
      {"rfc2136", "server = \"" + here + "\"\n"},
      {"cloudflare", "api_url = \"" + url + "/client/v4\"\ntoken_env = \"CF_TOKEN\"\n"},
      {"godaddy", "api_url = \"" + url + "\"\nkey_env = \"GD_KEY\"\nsecret_env = \"GD_SECRET\"\n"},
  };
  REQUIRE(providers.size() == spfctl::providers::provider_table().size());  // a new type is added here
  std::string config;
  std::vector<int> timeout_lines;
  int line = 0;
  const auto add = [&](const std::string& text) {
    config += text;
    for (char c : text) line += c == '\n';
  };
  for (const auto& [type, settings] : providers) {
    add("[providers.p_" + type + "]\ntype = \"" + type + "\"\n" + settings);
    add("timeot = 5\n");
    timeout_lines.push_back(line);
  }
  for (const auto& [type, settings] : providers)
    add("[[domain]]\nname = \"" + type + ".example\"\nsenders = [\"mailchimp\"]\nprovider = \"p_" + type +
        "\"\n");
  const fs::path path = temp.dir / "spfctl.toml";
  std::ofstream(path) << config;

  spfctl::test_support::ProcessOptions options;
  options.env = {{"PDNS_KEY", "k"}, {"CF_TOKEN", "t"}, {"GD_KEY", "k"}, {"GD_SECRET", "s"}};
  const auto result =
      spfctl::test_support::run_spfctl({"plan", "-c", path.string(), "--resolver", here}, options);
  INFO(result.err);
  CHECK(result.exit_code == 1);
  CHECK(result.out.empty());
  CHECK_THAT(result.err, Catch::Contains(std::to_string(providers.size()) + " errors in the configuration:"));
  for (std::size_t i = 0; i < providers.size(); ++i) {
    const std::string& type = providers[i].first;
    INFO(type);
    // The same words for every type, at the key's line and column.
    const std::regex expected(path.string() + ":" + std::to_string(timeout_lines[i]) +
                              ":1: unknown setting 'timeot' in \\[providers\\.p_" + type + "\\] \\(type " +
                              type + "\\); (did you mean 'timeout'\\? It takes|it takes): [a-z_, ]+\n");
    CHECK(std::regex_search(result.err, expected));
  }
  CHECK_FALSE(listener.received_anything());
}
