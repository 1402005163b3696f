// Runs every test of the RFC 7208 conformance suite through check_host(), one section per
// scenario and test so a failure names it.
#include <algorithm>
#include <catch2/catch.hpp>
#include <filesystem>

#include "spf/evaluator.hpp"
#include "tests/support/spf_suite.hpp"

using namespace spfctl;
using spfctl::test_support::SuiteScenario;

namespace {

const std::vector<SuiteScenario>& suite(const std::string& path) {
  static const std::vector<SuiteScenario> scenarios = test_support::load_suite(path);
  return scenarios;
}

}  // namespace

TEST_CASE("the RFC 7208 conformance suite passes, results and explanations", "[spf][rfc7208]") {
  const std::string path = test_support::suite_path();
  if (path.empty() || !std::filesystem::exists(path)) {
    WARN("skipped: RFC 7208 suite not found at " << (path.empty() ? "(no path)" : path)
                                                 << " (set SPFCTL_SPF_SUITE)");
    return;
  }
  for (const SuiteScenario& scenario : suite(path)) {
    DYNAMIC_SECTION(scenario.description) {
      dns::MemoryResolver resolver;
      test_support::fill_resolver(scenario, resolver);
      for (const test_support::SuiteTest& test : scenario.tests) {
        DYNAMIC_SECTION(test.name) {
          const auto ip = net::IpAddress::parse(test.host);
          REQUIRE(ip);
          spf::CheckHostOptions options;
          options.default_explanation = "DEFAULT";  // what the suite's explanations expect
          const spf::CheckHostResult result =
              spf::check_host(resolver, {*ip, test.mailfrom, test.helo, ""}, options);
          const std::string word(spf::to_string(result.result));
          INFO("spec " << test.spec << ": " << test.description);
          INFO("got " << word << (result.problem.empty() ? "" : " (" + result.problem + ")")
                      << ", explanation '" << result.explanation << "'");
          if (word != test.results.front())
            WARN(test.name << ": " << word << " allowed, " << test.results.front() << " preferred");
          CHECK(std::find(test.results.begin(), test.results.end(), word) != test.results.end());
          if (test.explanation) CHECK(result.explanation == *test.explanation);
        }
      }
    }
  }
}
