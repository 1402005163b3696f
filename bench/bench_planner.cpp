// spfctl_bench_planner: plans N generated domains (bench/planner_workload.hpp) through a real knotd
// on loopback serving the shipped sender snapshot and the generated zone, and reports wall time,
// DNS questions sent against distinct (name, type) questions asked, the outcome of the plans and
// peak memory. Each run is a fresh child process with a cold cache, so its peak resident memory
// (taken by the parent from wait4) is its own. docs/PERFORMANCE.md has the figures.
//
//   spfctl_bench_planner [--domains 100,1000,10000] [--threads 64] [--repeat 1] [--seed 1]
//                        [--snapshot examples/dns/senders.zone] [--timeout-ms 2000] [--warm]
//
// Exits 1 when a domain could not be planned or a question was sent twice; the time and memory
// targets are reported, not enforced, since the machine may be busy with other work.
#include <spawn.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iostream>
#include <map>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "bench/planner_workload.hpp"
#include "config/config.hpp"
#include "dns/caching_resolver.hpp"
#include "dns/live_resolver.hpp"
#include "plan/planner.hpp"
#include "spf/select.hpp"
#include "tests/integration/knot_server.hpp"

extern char** environ;

namespace {

using namespace spfctl;
using Clock = std::chrono::steady_clock;

// The targets of the 10,000-domain run.
constexpr std::size_t k_target_domains = 10'000;
constexpr double k_target_seconds = 5.0;
constexpr double k_target_megabytes = 300.0;

struct Options {
  std::vector<std::size_t> domains = {100, 1'000, 10'000};
  int threads = 64;
  int repeat = 1;
  std::uint64_t seed = 1;
  std::string snapshot = SPFCTL_SENDERS_ZONE;
  int timeout_ms = 2000;
  bool warm = false;
  // Internal: set in the child process that runs one measurement.
  std::size_t child_domains = 0;
  std::string server;
};

double seconds_since(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

// The other TXT values at the apex, as the plan command reads them before planning.
plan::ApexContext read_apex(dns::Resolver& resolver, const config::DomainPolicy& policy) {
  plan::ApexContext apex;
  const dns::Answer answer = resolver.query(policy.name, dns::RrType::TXT);
  for (const auto& strings : answer.txt) {
    std::string joined;
    for (const std::string& s : strings) joined += s;
    if (!spf::is_spf_record(joined)) apex.other_txt.push_back(strings);
  }
  return apex;
}

// One measurement, in the child: prints "key=value ..." on standard output.
int run_child(const Options& options) {
  const auto start = Clock::now();
  const config::Config config =
      config::load_config_text(bench::workload_config(options.child_domains, options.seed), "generated.toml");
  const double config_seconds = seconds_since(start);

  dns::LiveResolver live({{options.server}, options.timeout_ms, 2});
  dns::CachingResolver cache(live);
  const auto planning = Clock::now();
  plan::PolicyMapper mapper(cache);
  const std::vector<plan::DomainPlan> plans = plan::plan_domains(
      mapper, config.domains, [&](const config::DomainPolicy& policy) { return read_apex(cache, policy); },
      options.threads);
  const double plan_seconds = seconds_since(planning);

  std::size_t ok = 0, equivalent = 0, flattened = 0, chained = 0, over_ten = 0, max_lookups = 0;
  std::vector<std::string> errors;
  for (const plan::DomainPlan& plan : plans) {
    if (plan.lookups_unflattened > config::k_max_lookups) ++over_ten;
    if (!plan.ok()) {
      errors.push_back(plan.domain + ": " + plan.error);
      continue;
    }
    ++ok;
    if (plan.equivalent) ++equivalent;
    if (!plan.flattened.empty()) ++flattened;
    if (plan.records.size() > 1) ++chained;
    max_lookups = std::max(max_lookups, static_cast<std::size_t>(plan.lookups));
  }
  for (std::size_t i = 0; i < errors.size() && i < 5; ++i) std::cerr << "  error: " << errors[i] << "\n";

  // Planning again over the same, now complete, snapshot: the computing part of the wall time.
  std::string warm;
  if (options.warm) {
    const std::uint64_t sent_before = live.queries_sent();
    const auto again = Clock::now();
    plan::PolicyMapper warm_mapper(cache);  // maps computed again, DNS answered from the cache
    const std::size_t replanned =
        plan::plan_domains(
            warm_mapper, config.domains,
            [&](const config::DomainPolicy& policy) { return read_apex(cache, policy); }, options.threads)
            .size();
    warm = " warm_s=" + std::to_string(seconds_since(again)) +
           " warm_sent=" + std::to_string(live.queries_sent() - sent_before) +
           " warm_domains=" + std::to_string(replanned);
  }

  std::cout << "config_s=" << config_seconds << " plan_s=" << plan_seconds << " sent=" << live.queries_sent()
            << " distinct=" << cache.misses() << " hits=" << cache.hits() << " ok=" << ok
            << " errors=" << errors.size() << " equivalent=" << equivalent << " flattened=" << flattened
            << " chained=" << chained << " over_ten=" << over_ten << " max_lookups=" << max_lookups << warm
            << "\n";
  return 0;
}

struct Measurement {
  std::size_t domains = 0;
  double load = 0;  // 1-minute load average before the run
  std::map<std::string, double> values;
  double cpu_seconds = 0;
  double peak_mb = 0;
};

double load_average() {
  double load = 0;
  std::ifstream("/proc/loadavg") >> load;
  return load;
}

std::string machine_description() {
  std::ifstream cpuinfo("/proc/cpuinfo");
  std::string line, model;
  while (std::getline(cpuinfo, line))
    if (line.starts_with("model name")) {
      model = line.substr(line.find(':') + 2);
      break;
    }
  std::ifstream meminfo("/proc/meminfo");
  std::string key;
  long kb = 0;
  meminfo >> key >> kb;
  return model + ", " + std::to_string(std::thread::hardware_concurrency()) + " CPUs, " +
         std::to_string(kb / 1024 / 1024) + " GiB";
}

// Runs one measurement in a fresh child process.
Measurement measure(const Options& options, std::size_t domains, const std::string& server) {
  Measurement result;
  result.domains = domains;
  result.load = load_average();
  std::vector<std::string> args = {"spfctl_bench_planner",
                                   "--child",
                                   std::to_string(domains),
                                   "--server",
                                   server,
                                   "--threads",
                                   std::to_string(options.threads),
                                   "--seed",
                                   std::to_string(options.seed),
                                   "--timeout-ms",
                                   std::to_string(options.timeout_ms)};
  if (options.warm) args.push_back("--warm");
  std::vector<char*> argv;
  for (const std::string& arg : args) argv.push_back(const_cast<char*>(arg.c_str()));
  argv.push_back(nullptr);

  int out[2];
  if (pipe(out) != 0) throw std::runtime_error("cannot make a pipe");
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, out[1], 1);
  posix_spawn_file_actions_addclose(&actions, out[0]);
  posix_spawn_file_actions_addclose(&actions, out[1]);
  pid_t pid = -1;
  // The path rather than /proc/self/exe itself, which under valgrind is valgrind's own binary.
  const std::string self = std::filesystem::read_symlink("/proc/self/exe").string();
  const int spawned = posix_spawn(&pid, self.c_str(), &actions, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  close(out[1]);
  if (spawned != 0) {
    close(out[0]);
    throw std::runtime_error("cannot start a measurement process");
  }
  std::string text;
  char buffer[4096];
  for (ssize_t n; (n = read(out[0], buffer, sizeof buffer)) > 0;)
    text.append(buffer, static_cast<std::size_t>(n));
  close(out[0]);
  int status = 0;
  rusage usage{};
  wait4(pid, &status, 0, &usage);
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
    throw std::runtime_error("the measurement of " + std::to_string(domains) + " domains failed");

  std::istringstream fields(text);
  for (std::string field; fields >> field;) {
    const auto equals = field.find('=');
    if (equals != std::string::npos)
      result.values[field.substr(0, equals)] = std::stod(field.substr(equals + 1));
  }
  auto seconds = [](const timeval& tv) { return static_cast<double>(tv.tv_sec) + tv.tv_usec / 1e6; };
  result.cpu_seconds = seconds(usage.ru_utime) + seconds(usage.ru_stime);
  result.peak_mb = static_cast<double>(usage.ru_maxrss) / 1024.0;  // Linux: kilobytes
  return result;
}

std::string read_text(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error("cannot read the sender snapshot " + path);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

// The table's columns: two header lines, a width, decimals and the value.
struct Column {
  const char* title;
  const char* unit;
  int width;
  int decimals;
  std::function<double(const Measurement&)> value;
};

std::vector<Column> columns(bool warm) {
  auto field = [](const char* key) {
    return [key](const Measurement& m) {
      const auto found = m.values.find(key);
      return found == m.values.end() ? -1.0 : found->second;
    };
  };
  std::vector<Column> out = {
      {"domains", "", 7, 0, [](const Measurement& m) { return static_cast<double>(m.domains); }},
      {"load", "1-min", 6, 2, [](const Measurement& m) { return m.load; }},
      {"config", "s", 7, 3, field("config_s")},
      {"wall", "s", 7, 3, field("plan_s")},
      {"cpu", "s", 6, 2, [](const Measurement& m) { return m.cpu_seconds; }},
      {"queries", "sent", 8, 0, field("sent")},
      {"distinct", "asked", 8, 0, field("distinct")},
      {"cache", "hits", 8, 0, field("hits")},
      {"ok", "", 6, 0, field("ok")},
      {"errors", "", 6, 0, field("errors")},
      {"proved", "", 6, 0, field("equivalent")},
      {">10", "as is", 6, 0, field("over_ten")},
      {"flat", "", 6, 0, field("flattened")},
      {"chain", "", 6, 0, field("chained")},
      {"max", "lookups", 7, 0, field("max_lookups")},
      {"peak", "MB", 7, 1, [](const Measurement& m) { return m.peak_mb; }},
  };
  if (warm) out.insert(out.begin() + 4, {"warm", "s", 7, 3, field("warm_s")});
  return out;
}

void print_header(const std::vector<Column>& table) {
  for (const Column& c : table) std::printf("%*s ", c.width, c.title);
  std::printf("\n");
  for (const Column& c : table) std::printf("%*s ", c.width, c.unit);
  std::printf("\n");
}

void print_row(const std::vector<Column>& table, const Measurement& m) {
  for (const Column& c : table) std::printf("%*.*f ", c.width, c.decimals, c.value(m));
  std::printf("\n");
  std::fflush(stdout);
}

int run_parent(const Options& options) {
  const std::size_t largest = *std::max_element(options.domains.begin(), options.domains.end());
  const auto start = Clock::now();
  testing::KnotConfig zones;
  zones.zone(".",
             "$ORIGIN .\n$TTL 300\n@ SOA ns.invalid. hostmaster.invalid. 1 3600 600 86400 300\n"
             "@ NS ns.invalid.\n" +
                 read_text(options.snapshot));
  zones.zone(std::string(bench::k_workload_zone), bench::workload_zone(largest, options.seed));
  testing::KnotServer knot(zones, std::chrono::seconds(120));
  std::printf("machine: %s; load average %.2f\n", machine_description().c_str(), load_average());
  std::printf("knotd on %s serving %s and %zu generated domains (seed %llu), ready in %.1f s; %d threads\n\n",
              knot.address().c_str(), options.snapshot.c_str(), largest,
              static_cast<unsigned long long>(options.seed), seconds_since(start), options.threads);
  const std::vector<Column> table = columns(options.warm);
  print_header(table);

  bool healthy = true;
  std::vector<Measurement> targets;
  for (const std::size_t domains : options.domains) {
    for (int r = 0; r < options.repeat; ++r) {
      const Measurement m = measure(options, domains, knot.address());
      print_row(table, m);
      healthy = healthy && m.values.at("errors") == 0 && m.values.at("sent") == m.values.at("distinct") &&
                (!options.warm || m.values.at("warm_sent") == 0);
      if (domains == k_target_domains) targets.push_back(m);
    }
  }
  std::printf("\n");
  for (const Measurement& m : targets) {
    const double wall = m.values.at("plan_s");
    std::printf(
        "target %zu domains: wall %.2f s (< %.0f s: %s), queries %.0f for %.0f distinct (%s), "
        "peak %.1f MB (< %.0f MB: %s)\n",
        m.domains, wall, k_target_seconds, wall < k_target_seconds ? "met" : "MISSED", m.values.at("sent"),
        m.values.at("distinct"), m.values.at("sent") == m.values.at("distinct") ? "one each: met" : "MISSED",
        m.peak_mb, k_target_megabytes, m.peak_mb < k_target_megabytes ? "met" : "MISSED");
  }
  if (!healthy) std::printf("FAILED: a domain could not be planned, or a question was sent twice\n");
  return healthy ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) {
  Options options;
  CLI::App app{"Plans generated domains through a real knotd and reports time, DNS queries and memory.",
               "spfctl_bench_planner"};
  app.add_option("--domains", options.domains, "domain counts to measure, each in a fresh process")
      ->delimiter(',')
      ->check(CLI::Range(std::size_t{1}, std::size_t{100'000}));
  app.add_option("--threads", options.threads, "planner workers (they mostly wait on DNS)")
      ->check(CLI::Range(1, 1024));
  app.add_option("--repeat", options.repeat, "measurements of each domain count")->check(CLI::Range(1, 100));
  app.add_option("--seed", options.seed, "seed of the generated domains");
  app.add_option("--snapshot", options.snapshot, "master file of the senders' records")
      ->check(CLI::ExistingFile);
  app.add_option("--timeout-ms", options.timeout_ms, "DNS timeout of the first try")
      ->check(CLI::Range(1, 60'000));
  app.add_flag(
      "--warm", options.warm,
      "plan each domain count a second time over the same, complete, cache and report that time too");
  app.add_option("--child", options.child_domains)->group("");
  app.add_option("--server", options.server)->group("");
  CLI11_PARSE(app, argc, argv);
  try {
    return options.child_domains > 0 ? run_child(options) : run_parent(options);
  } catch (const std::exception& e) {
    std::cerr << "spfctl_bench_planner: error: " << e.what() << "\n";
    return 1;
  }
}
