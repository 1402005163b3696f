// The RFC 7208 conformance suite through the command line: each scenario written as a master file,
// each test one `spfctl --zone FILE eval --json` run of the real binary, compared with the suite's
// result and explanation. Scenarios with TIMEOUT entries cannot be written as master files; their
// tests are skipped and counted.
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <nlohmann/json.hpp>
#include <thread>

#include "tests/support/spf_suite.hpp"
#include "tests/support/spfctl_process.hpp"

using namespace spfctl;
using test_support::SuiteScenario;
using test_support::SuiteTest;

namespace {

constexpr unsigned k_workers = 4;

struct Run {
  const SuiteScenario* scenario = nullptr;
  const SuiteTest* test = nullptr;
  std::filesystem::path zone;
  test_support::ProcessResult process;
};

class TempDir {
 public:
  TempDir() {
    std::string pattern = (std::filesystem::temp_directory_path() / "spfctl-suite-XXXXXX").string();
    if (mkdtemp(pattern.data()) == nullptr) throw std::runtime_error("cannot create a temporary directory");
    m_path = pattern;
  }
  ~TempDir() {
    std::error_code ignored;
    std::filesystem::remove_all(m_path, ignored);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::filesystem::path& path() const { return m_path; }

 private:
  std::filesystem::path m_path;
};

std::vector<std::string> eval_args(const Run& run) {
  // "--opt=value" keeps values that start with '-' or are empty from being read as options.
  std::vector<std::string> args = {"--zone", run.zone.string(), "eval", "--json", "--ip=" + run.test->host};
  if (!run.test->mailfrom.empty()) args.push_back("--sender=" + run.test->mailfrom);
  if (!run.test->helo.empty()) args.push_back("--helo=" + run.test->helo);
  return args;
}

}  // namespace

TEST_CASE("spfctl eval gives the RFC 7208 suite's results from master files", "[cli][eval][rfc7208]") {
  const std::optional<std::string> suite_file = test_support::suite_for_test();
  if (!suite_file) return;
  const std::string& path = *suite_file;
  const std::vector<SuiteScenario> scenarios = test_support::load_suite(path);
  TempDir dir;
  std::vector<Run> runs;
  int total = 0;
  int skipped = 0;
  for (std::size_t i = 0; i < scenarios.size(); ++i) {
    const SuiteScenario& scenario = scenarios[i];
    total += static_cast<int>(scenario.tests.size());
    if (test_support::has_timeouts(scenario)) {
      skipped += static_cast<int>(scenario.tests.size());
      continue;
    }
    const std::filesystem::path zone = dir.path() / ("scenario-" + std::to_string(i) + ".zone");
    std::ofstream(zone, std::ios::binary) << test_support::master_file(scenario);
    for (const SuiteTest& test : scenario.tests) runs.push_back({&scenario, &test, zone, {}});
  }

  // Catch2 assertions are not thread-safe: workers only run processes, the checks come after.
  std::atomic<std::size_t> next{0};
  std::vector<std::thread> workers;
  for (unsigned w = 0; w < k_workers; ++w)
    workers.emplace_back([&] {
      for (std::size_t i; (i = next++) < runs.size();)
        runs[i].process = test_support::run_spfctl(eval_args(runs[i]));
    });
  for (std::thread& worker : workers) worker.join();

  int passed = 0;
  for (const Run& run : runs) {
    const SuiteTest& test = *run.test;
    INFO("scenario '" << run.scenario->description << "', test " << test.name << " (spec " << test.spec
                      << "): " << test.description);
    INFO("stdout: " << run.process.out << "\nstderr: " << run.process.err);
    const bool exited_zero = run.process.exit_code == 0;
    CHECK(exited_zero);
    nlohmann::json out;
    try {
      out = nlohmann::json::parse(run.process.out);
    } catch (const nlohmann::json::exception& e) {
      FAIL_CHECK("eval --json printed no JSON: " << e.what());
      continue;
    }
    const std::string word = out.at("result").get<std::string>();
    const bool result_ok = std::find(test.results.begin(), test.results.end(), word) != test.results.end();
    CHECK(result_ok);
    CHECK(out.at("explanation").is_string());
    CHECK(out.at("domain").is_string());
    CHECK(out.at("lookups").is_number_integer());
    CHECK(out.at("void_lookups").is_number_integer());
    bool explanation_ok = true;
    if (test.explanation && *test.explanation == "DEFAULT") {
      // The suite's "DEFAULT" stands for the receiver's own default; eval's is RFC 7208's example text.
      explanation_ok =
          out.at("explanation").get<std::string>().find("does not designate") != std::string::npos;
    } else if (test.explanation) {
      explanation_ok = out.at("explanation") == *test.explanation;
    }
    CHECK(explanation_ok);
    if (exited_zero && result_ok && explanation_ok) ++passed;
  }
  const int ran = static_cast<int>(runs.size());
  WARN("RFC 7208 suite through spfctl eval: " << total << " tests, " << ran << " ran, " << passed
                                              << " passed, " << skipped
                                              << " skipped (scenarios with TIMEOUT entries)");
  CHECK(ran > 0);
  CHECK(ran + skipped == total);
  CHECK(passed == ran);
}

TEST_CASE("docs/eval.md shows eval --help and example output as the binary prints them",
          "[cli][eval][docs]") {
  const std::filesystem::path source(SPFCTL_SOURCE_DIR);
  std::ifstream in(source / "docs" / "eval.md", std::ios::binary);
  const std::string doc{std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
  const test_support::ProcessResult help = test_support::run_spfctl({"eval", "--help"});
  CHECK(help.exit_code == 0);
  CHECK_THAT(doc, Catch::Matchers::Contains("```\n" + help.out + "```\n"));
  const auto runs = test_support::documented_runs(doc);
  CHECK(runs.size() >= 4);
  for (const auto& documented : runs) {
    std::vector<std::string> args = documented.args;
    for (std::string& arg : args)
      if (arg.starts_with("examples/")) arg = (source / arg).string();
    INFO("spfctl " << Catch::Detail::stringify(documented.args));
    CHECK(test_support::run_spfctl(args).out == documented.out);
  }
}

TEST_CASE("the suite tests fail when SPFCTL_SPF_SUITE names a suite that is not there", "[cli][rfc7208]") {
  // This test binary again, running only the suite test, with the variable scripts/test sets
  // pointing nowhere: it must not pass quietly.
  test_support::ProcessOptions options;
  options.env = {{"SPFCTL_SPF_SUITE", "/nonexistent/rfc7208-tests.json"}};
  const test_support::ProcessResult run = test_support::run_process(
      "/proc/self/exe", {"spfctl eval gives the RFC 7208 suite's results from master files"}, options);
  INFO(run.out << run.err);
  CHECK(run.exit_code != 0);
  CHECK_THAT(run.out, Catch::Contains("the RFC 7208 suite is missing at /nonexistent/rfc7208-tests.json"));
}
