// spfctl_bench_cli: times `spfctl plan` end to end, as a user runs it, over the generated agency
// workload of bench/planner_workload.hpp. Each measurement is a fresh spfctl process: DNS through a
// real knotd (directly, or behind a delay proxy), the published records in zone files or behind the
// Cloudflare and GoDaddy API fakes (tests/support), read through the API or, with plan_reads =
// "dns", from knotd. Reports wall time, CPU, peak memory, DNS questions, TCP connections and API
// requests. docs/PERFORMANCE.md has the results and how to read them.
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <spawn.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <deque>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iostream>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <regex>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "bench/planner_workload.hpp"
#include "config/config.hpp"
#include "providers/registry.hpp"
#include "tests/integration/knot_server.hpp"
#include "tests/support/cloudflare_fake.hpp"
#include "tests/support/godaddy_fake.hpp"
#include "tests/support/temp_dir.hpp"

extern char** environ;

namespace {

using namespace spfctl;
using Clock = std::chrono::steady_clock;
namespace fs = std::filesystem;

double seconds_since(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

std::string read_text(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error("cannot read " + path);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

void write_text(const fs::path& path, const std::string& text) {
  std::ofstream out(path, std::ios::binary);
  out << text;
  if (!out) throw std::runtime_error("cannot write " + path.string());
}

// A DNS proxy on 127.0.0.1 that holds every answer `delay` before passing it on: knotd as if it
// were a round trip away. UDP and TCP (for answers too large for UDP) on one port.
class DelayProxy {
 public:
  DelayProxy(std::uint16_t upstream_port, std::chrono::milliseconds delay)
      : m_upstream(upstream_port), m_delay(delay) {
    m_udp = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    sockaddr_in address = loopback(0);
    if (bind(m_udp, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0)
      throw std::runtime_error("delay proxy: cannot bind");
    socklen_t length = sizeof address;
    getsockname(m_udp, reinterpret_cast<sockaddr*>(&address), &length);
    m_port = ntohs(address.sin_port);
    m_tcp = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    const int yes = 1;
    setsockopt(m_tcp, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof yes);
    address = loopback(m_port);
    if (bind(m_tcp, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0 || listen(m_tcp, 64) != 0)
      throw std::runtime_error("delay proxy: cannot listen on TCP");
    m_threads.emplace_back([this] { serve_udp(); });
    m_threads.emplace_back([this] { serve_tcp(); });
  }
  ~DelayProxy() {
    m_stop = true;
    for (std::thread& thread : m_threads) thread.join();
    close(m_udp);
    close(m_tcp);
  }
  std::string address() const { return "127.0.0.1:" + std::to_string(m_port); }

 private:
  static sockaddr_in loopback(std::uint16_t port) {
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    address.sin_port = htons(port);
    return address;
  }

  // Each question goes to knotd from a socket of its own; the answer waits in `due` until its time.
  void serve_udp() {
    struct Pending {
      int socket;
      sockaddr_in client;
    };
    struct Due {
      Clock::time_point at;
      std::vector<unsigned char> message;
      sockaddr_in client;
    };
    std::vector<Pending> pending;
    std::deque<Due> due;
    unsigned char buffer[65536];
    while (!m_stop) {
      std::vector<pollfd> fds = {{m_udp, POLLIN, 0}};
      for (const Pending& p : pending) fds.push_back({p.socket, POLLIN, 0});
      int wait_ms = 50;
      if (!due.empty())
        wait_ms = std::max(
            0, static_cast<int>(
                   std::chrono::ceil<std::chrono::milliseconds>(due.front().at - Clock::now()).count()));
      poll(fds.data(), fds.size(), std::min(wait_ms, 50));
      if (fds[0].revents & POLLIN) {
        sockaddr_in client{};
        socklen_t length = sizeof client;
        const ssize_t got =
            recvfrom(m_udp, buffer, sizeof buffer, 0, reinterpret_cast<sockaddr*>(&client), &length);
        if (got > 0) {
          const int upstream = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
          const sockaddr_in knot = loopback(m_upstream);
          sendto(upstream, buffer, static_cast<std::size_t>(got), 0, reinterpret_cast<const sockaddr*>(&knot),
                 sizeof knot);
          pending.push_back({upstream, client});
        }
      }
      for (std::size_t i = 1; i < fds.size(); ++i) {
        if (!(fds[i].revents & POLLIN)) continue;
        Pending& p = pending[i - 1];
        const ssize_t got = recv(p.socket, buffer, sizeof buffer, 0);
        if (got > 0) due.push_back({Clock::now() + m_delay, {buffer, buffer + got}, p.client});
        close(p.socket);
        p.socket = -1;
      }
      std::erase_if(pending, [](const Pending& p) { return p.socket < 0; });
      while (!due.empty() && due.front().at <= Clock::now()) {
        const Due& d = due.front();
        sendto(m_udp, d.message.data(), d.message.size(), 0, reinterpret_cast<const sockaddr*>(&d.client),
               sizeof d.client);
        due.pop_front();
      }
    }
    for (const Pending& p : pending) close(p.socket);
  }

  void serve_tcp() {
    std::vector<std::thread> connections;
    while (!m_stop) {
      pollfd fd{m_tcp, POLLIN, 0};
      if (poll(&fd, 1, 50) <= 0) continue;
      const int client = accept4(m_tcp, nullptr, nullptr, SOCK_CLOEXEC);
      if (client < 0) continue;
      connections.emplace_back([this, client] { relay(client); });
    }
    for (std::thread& thread : connections) thread.join();
  }

  // One TCP connection: each length-prefixed question to knotd, its answer back after the delay.
  void relay(int client) {
    const int upstream = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    const sockaddr_in knot = loopback(m_upstream);
    if (connect(upstream, reinterpret_cast<const sockaddr*>(&knot), sizeof knot) == 0) {
      const auto read_message = [](int from, std::vector<unsigned char>& out) {
        unsigned char size[2];
        if (recv(from, size, 2, MSG_WAITALL) != 2) return false;
        const std::size_t length = static_cast<std::size_t>(size[0]) << 8 | size[1];
        out.assign(size, size + 2);
        out.resize(2 + length);
        return length == 0 || recv(from, out.data() + 2, length, MSG_WAITALL) == static_cast<ssize_t>(length);
      };
      std::vector<unsigned char> message;
      while (!m_stop && read_message(client, message)) {
        send(upstream, message.data(), message.size(), MSG_NOSIGNAL);
        if (!read_message(upstream, message)) break;
        std::this_thread::sleep_for(m_delay);
        send(client, message.data(), message.size(), MSG_NOSIGNAL);
      }
    }
    close(upstream);
    close(client);
  }

  std::uint16_t m_upstream;
  std::chrono::milliseconds m_delay;
  int m_udp = -1;
  int m_tcp = -1;
  std::uint16_t m_port = 0;
  std::atomic<bool> m_stop{false};
  std::vector<std::thread> m_threads;
};

struct Options {
  std::string spfctl;
  std::vector<std::size_t> domains = {1000, 10000, 100000};
  std::vector<std::string> scenarios = {"shared",      "files",          "delay",         "godaddy-api",
                                        "godaddy-dns", "cloudflare-api", "cloudflare-dns"};
  int delay_ms = 30;
  std::uint64_t seed = 1;
  int workers = 0;  // 0: spfctl's default
  std::string snapshot = SPFCTL_SENDERS_ZONE;
  bool keep = false;          // keep each run's directory and print its command
  std::string spflat_config;  // write sender-policy-flattener's settings for the largest count here
};

// sender-policy-flattener's settings (JSON) for the same domains: each domain's includes as "txt",
// its a and mx terms as "a" and "mx", asked of knotd (which must then listen on port 53: spflat
// takes resolver addresses without ports). Own ip4/ip6 ranges are left out: spflat's static_ips
// apply to every domain at once.
std::string spflat_settings(std::size_t count, std::uint64_t seed) {
  const config::Config config = config::load_config_text(bench::workload_config(count, seed), "bench.toml");
  nlohmann::json domains = nlohmann::json::object();
  for (const config::DomainPolicy& policy : config.domains) {
    nlohmann::json senders = nlohmann::json::object();
    for (const config::SenderTerm& term : policy.terms) {
      const std::string target = term.value.empty() || term.value.starts_with("/") ? policy.name : term.value;
      if (term.kind == config::TermKind::include) senders[term.value] = "txt";
      if (term.kind == config::TermKind::a) senders[target] = "a";
      if (term.kind == config::TermKind::mx) senders[target] = "mx";
    }
    domains[policy.name] = senders;
  }
  return nlohmann::json{
             {"sending domains", domains}, {"resolvers", {"127.0.0.1"}}, {"output", "spflat-sums.json"}}
             .dump(2) +
         "\n";
}

// What one spfctl run cost.
struct Measurement {
  int exit_code = -1;
  double wall = 0;
  double cpu = 0;
  double peak_mb = 0;
  long long questions = -1;
  long long tcp = -1;
  std::size_t api_listing = 0;  // zone or domain listing requests
  std::size_t api_records = 0;  // records requests
  std::string error;            // the last lines of stderr when spfctl failed
};

// Runs `args` (args[0] is the program) with extra environment variables, stdout discarded; stderr
// copied to the file `stderr_copy` when given.
Measurement run_spfctl(const std::vector<std::string>& args,
                       const std::map<std::string, std::string>& extra_env,
                       const std::string& stderr_copy = "") {
  std::vector<std::string> env_text;
  for (char** e = environ; *e; ++e) env_text.emplace_back(*e);
  for (const auto& [name, value] : extra_env) env_text.push_back(name + "=" + value);
  std::vector<char*> envp;
  for (std::string& e : env_text) envp.push_back(e.data());
  envp.push_back(nullptr);
  std::vector<char*> argv;
  for (const std::string& arg : args) argv.push_back(const_cast<char*>(arg.c_str()));
  argv.push_back(nullptr);

  int err[2];
  if (pipe2(err, O_CLOEXEC) != 0) throw std::runtime_error("cannot make a pipe");
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0);
  posix_spawn_file_actions_adddup2(&actions, err[1], 2);
  const Clock::time_point start = Clock::now();
  pid_t pid = -1;
  const int spawned = posix_spawn(&pid, args[0].c_str(), &actions, nullptr, argv.data(), envp.data());
  posix_spawn_file_actions_destroy(&actions);
  close(err[1]);
  if (spawned != 0) {
    close(err[0]);
    throw std::runtime_error("cannot start " + args[0]);
  }
  std::string text;
  char buffer[65536];
  for (ssize_t n; (n = read(err[0], buffer, sizeof buffer)) > 0;)
    text.append(buffer, static_cast<std::size_t>(n));
  close(err[0]);
  if (!stderr_copy.empty()) write_text(stderr_copy, text);
  int status = 0;
  rusage usage{};
  wait4(pid, &status, 0, &usage);
  Measurement m;
  m.wall = seconds_since(start);
  m.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  auto seconds = [](const timeval& tv) { return static_cast<double>(tv.tv_sec) + tv.tv_usec / 1e6; };
  m.cpu = seconds(usage.ru_utime) + seconds(usage.ru_stime);
  m.peak_mb = static_cast<double>(usage.ru_maxrss) / 1024.0;
  static const std::regex summary("spfctl: ([0-9]+) DNS questions sent(, ([0-9]+) over TCP)?");
  std::smatch match;
  for (auto it = std::sregex_iterator(text.begin(), text.end(), summary); it != std::sregex_iterator(); ++it)
    match = *it;
  if (!match.empty()) {
    m.questions = std::stoll(match[1]);
    m.tcp = match[3].matched ? std::stoll(match[3]) : 0;
  }
  if (m.exit_code != 0) {
    // The first lines that say why (stderr also holds -v's line per domain).
    std::istringstream lines(text);
    for (std::string line; std::getline(lines, line) && m.error.size() < 600;)
      if (line.find("error") != std::string::npos) m.error += line + "\n";
  }
  return m;
}

std::string apex_zone_file(const std::string& name, const std::vector<std::string>& txt) {
  std::string out = "$ORIGIN " + name + ".\n$TTL 300\n@ SOA ns hostmaster 1 3600 600 86400 300\n@ NS ns\n";
  for (const std::string& value : txt) out += "@ TXT \"" + value + "\"\n";
  return out;
}

std::string cloudflare_content(const std::string& value) {
  std::string out;
  for (std::size_t at = 0; at < value.size() || at == 0; at += 255)
    out += (out.empty() ? "\"" : " \"") + value.substr(at, 255) + "\"";
  return out;
}

bool is_listing(const std::string& target) {
  return target.find("/zones?") != std::string::npos || target.find("/v1/domains?") != std::string::npos;
}

void count_requests(const std::vector<std::string>& targets, std::size_t& listing, std::size_t& records) {
  for (const std::string& target : targets) {
    if (is_listing(target))
      ++listing;
    else
      ++records;
  }
}

// Requests the provider must send for `domains` with these reads, and its quota; 0 quota: none.
struct QuotaCheck {
  std::size_t requests = 0;
  std::size_t capacity = 0;
  double window_s = 0;
};

QuotaCheck quota_of(const std::string& scenario, std::size_t domains) {
  const bool api = scenario.ends_with("-api");
  const std::string type = scenario.substr(0, scenario.find('-'));
  const providers::ProviderType* row = providers::find_provider_type(type);
  if (!row || !row->quota) return {};
  // The account listing's pages (GoDaddy: 1,000 domains a page, ending on an empty one;
  // Cloudflare: 50 zones a page), then a records request per zone with API reads.
  const std::size_t listing = type == "godaddy" ? domains / 1000 + 1 : (domains + 49) / 50;
  return {listing + (api ? domains : 0), row->quota->capacity,
          std::chrono::duration<double>(row->quota->window).count()};
}

void print_row(const std::string& scenario, std::size_t domains, const Measurement& m) {
  std::printf("%-15s %7zu %7.2f %6.2f %7.1f %6.2f %9lld %4lld %7zu %7zu   %s\n", scenario.c_str(), domains,
              m.wall, m.cpu, m.peak_mb, m.peak_mb * 1024 / static_cast<double>(domains), m.questions, m.tcp,
              m.api_listing, m.api_records,
              m.exit_code == 0 ? "ok" : ("exit " + std::to_string(m.exit_code)).c_str());
  if (!m.error.empty()) std::printf("%s", m.error.c_str());
  std::fflush(stdout);
}

int run(const Options& options) {
  const std::size_t largest = *std::max_element(options.domains.begin(), options.domains.end());
  const auto wants = [&](const std::string& name) {
    return std::find(options.scenarios.begin(), options.scenarios.end(), name) != options.scenarios.end();
  };
  Clock::time_point start = Clock::now();
  testing::KnotConfig zones;
  zones.zone(".",
             "$ORIGIN .\n$TTL 300\n@ SOA ns.invalid. hostmaster.invalid. 1 3600 600 86400 300\n"
             "@ NS ns.invalid.\n" +
                 read_text(options.snapshot));
  const std::string workload_zone = bench::workload_zone(largest, options.seed);
  zones.zone(std::string(bench::k_workload_zone), workload_zone);
  testing::KnotServer knot(zones, std::chrono::seconds(300));
  std::unique_ptr<DelayProxy> proxy;
  if (wants("delay"))
    proxy = std::make_unique<DelayProxy>(knot.port(), std::chrono::milliseconds(options.delay_ms));
  std::printf(
      "spfctl %s; knotd on %s serving the senders and %zu generated domains, ready in %.1f s%s\n\n",
      options.spfctl.c_str(), knot.address().c_str(), largest, seconds_since(start),
      proxy ? (", delay proxy " + std::to_string(options.delay_ms) + " ms on " + proxy->address()).c_str()
            : "");
  std::printf("%-15s %7s %7s %6s %7s %6s %9s %4s %7s %7s\n", "scenario", "domains", "wall", "cpu", "peak",
              "KB/dom", "DNS", "TCP", "API", "API");
  std::printf("%-15s %7s %7s %6s %7s %6s %9s %4s %7s %7s\n", "", "", "s", "s", "MB", "", "questions", "",
              "listing", "records");

  bool healthy = true;
  for (const std::size_t domains : options.domains) {
    const auto apex_txt = bench::workload_apex_txt(domains, options.seed);
    for (const std::string& scenario : options.scenarios) {
      const QuotaCheck quota = quota_of(scenario, domains);
      if (quota.capacity > 0 && quota.requests > quota.capacity) {
        const double minutes = static_cast<double>(quota.requests - quota.capacity) /
                               static_cast<double>(quota.capacity) * quota.window_s / 60;
        std::printf(
            "%-15s %7zu   not run: %zu API requests, over the quota of %zu per %.0f s: %.0f minutes\n",
            scenario.c_str(), domains, quota.requests, quota.capacity, quota.window_s, std::ceil(minutes));
        std::fflush(stdout);
        continue;
      }
      testing::TempDir dir("spfctl-bench-cli");
      std::string provider_block;
      std::map<std::string, std::string> env;
      std::unique_ptr<testing::GoDaddyFake> godaddy;
      std::unique_ptr<testing::CloudflareFake> cloudflare;
      const std::string reads = scenario.ends_with("-dns")
                                    ? "plan_reads = \"dns\"\nplan_reads_server = \"" + knot.address() + "\"\n"
                                    : "";
      if (scenario == "shared" || scenario == "delay") {
        fs::create_directories(dir.dir / "zones");
        // The provider's zone holds this run's domains; knotd serves the largest run's.
        write_text(dir.dir / "zones" / (std::string(bench::k_workload_zone) + ".zone"),
                   domains == largest ? workload_zone : bench::workload_zone(domains, options.seed));
        provider_block = "[providers.p]\ntype = \"zonefile\"\ndirectory = \"zones\"\n";
      } else if (scenario == "files") {
        fs::create_directories(dir.dir / "zones");
        for (const auto& [name, txt] : apex_txt)
          write_text(dir.dir / "zones" / (name + ".zone"), apex_zone_file(name, txt));
        provider_block = "[providers.p]\ntype = \"zonefile\"\ndirectory = \"zones\"\n";
      } else if (scenario.starts_with("godaddy")) {
        godaddy = std::make_unique<testing::GoDaddyFake>();
        for (const auto& [name, txt] : apex_txt) {
          godaddy->add_domain(name);
          for (const std::string& value : txt) godaddy->add_record(name, "@", value, 300);
        }
        provider_block = "[providers.p]\ntype = \"godaddy\"\napi_url = \"" + godaddy->api_url() +
                         "\"\nkey_env = \"BENCH_GD_KEY\"\nsecret_env = \"BENCH_GD_SECRET\"\n" + reads;
        env = {{"BENCH_GD_KEY", godaddy->key()}, {"BENCH_GD_SECRET", godaddy->secret()}};
      } else if (scenario.starts_with("cloudflare")) {
        cloudflare = std::make_unique<testing::CloudflareFake>();
        for (const auto& [name, txt] : apex_txt) {
          cloudflare->add_zone(name);
          for (const std::string& value : txt)
            cloudflare->add_record(name, name, cloudflare_content(value), 300);
        }
        provider_block = "[providers.p]\ntype = \"cloudflare\"\napi_url = \"" + cloudflare->api_url() +
                         "\"\ntoken_env = \"BENCH_CF_TOKEN\"\n" + reads;
        env = {{"BENCH_CF_TOKEN", cloudflare->token()}};
      } else {
        throw std::runtime_error("unknown scenario '" + scenario + "'");
      }
      write_text(dir.dir / "spfctl.toml",
                 provider_block + "\n" + bench::workload_config(domains, options.seed, "p"));
      std::vector<std::string> args = {
          options.spfctl, "plan",
          "-q",           "-v",
          "-c",           (dir.dir / "spfctl.toml").string(),
          "--resolver",   scenario == "delay" ? proxy->address() : knot.address()};
      if (options.workers > 0) args.insert(args.end(), {"--workers", std::to_string(options.workers)});
      if (options.keep) {
        dir.keep();
        std::string command;
        for (const std::string& arg : args) command += (command.empty() ? "" : " ") + arg;
        std::printf("  %s\n", command.c_str());
      }
      Measurement m = run_spfctl(args, env, options.keep ? (dir.dir / "stderr.txt").string() : "");
      if (godaddy) count_requests(godaddy->server().targets(), m.api_listing, m.api_records);
      if (cloudflare) count_requests(cloudflare->server().targets(), m.api_listing, m.api_records);
      print_row(scenario, domains, m);
      healthy = healthy && m.exit_code == 0;
    }
  }
  return healthy ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) {
  Options options;
  options.spfctl = (fs::read_symlink("/proc/self/exe").parent_path() / "spfctl").string();
  CLI::App app{"Times `spfctl plan` end to end over generated agency workloads (docs/PERFORMANCE.md).",
               "spfctl_bench_cli"};
  app.add_option("--spfctl", options.spfctl, "the spfctl binary to time (default: the one beside this)")
      ->check(CLI::ExistingFile);
  app.add_option("--domains", options.domains, "domain counts, each scenario in a fresh spfctl process")
      ->delimiter(',')
      ->check(CLI::Range(std::size_t{1}, std::size_t{100'000}));
  app.add_option("--scenarios", options.scenarios,
                 "shared, files, delay, godaddy-api, godaddy-dns, cloudflare-api, cloudflare-dns")
      ->delimiter(',');
  app.add_option("--delay-ms", options.delay_ms, "the delay proxy's added round trip")
      ->check(CLI::Range(0, 5000));
  app.add_option("--seed", options.seed, "seed of the generated domains");
  app.add_option("--workers", options.workers, "spfctl --workers (default: spfctl's)")
      ->check(CLI::Range(1, 1024));
  app.add_option("--snapshot", options.snapshot, "master file of the senders' records")
      ->check(CLI::ExistingFile);
  app.add_flag("--keep", options.keep, "keep each run's directory, and print the spfctl command it ran");
  app.add_option("--spflat-config", options.spflat_config,
                 "also write sender-policy-flattener's settings for the largest domain count to this file");
  CLI11_PARSE(app, argc, argv);
  try {
    if (!options.spflat_config.empty())
      write_text(
          options.spflat_config,
          spflat_settings(*std::max_element(options.domains.begin(), options.domains.end()), options.seed));
    return run(options);
  } catch (const std::exception& e) {
    std::cerr << "spfctl_bench_cli: error: " << e.what() << "\n";
    return 1;
  }
}
