// Runs every test of the RFC 7208 conformance suite through check_host(), one section per
// scenario and test so a failure names it.
#include <algorithm>
#include <catch2/catch.hpp>
#include <filesystem>
#include <map>
#include <sstream>

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
  const std::optional<std::string> suite_file = test_support::suite_for_test();
  if (!suite_file) return;
  const std::string& path = *suite_file;
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

TEST_CASE("suite scenarios render as master files holding the TXT records the resolver serves",
          "[spf][rfc7208]") {
  const std::optional<std::string> suite_file = test_support::suite_for_test();
  if (!suite_file) return;
  const std::string& path = *suite_file;
  auto joined = [](const std::vector<std::string>& strings) {
    std::string text;
    for (const std::string& piece : strings) text += piece;
    return text;
  };
  int compared = 0;
  for (const SuiteScenario& scenario : suite(path)) {
    INFO("scenario: " << scenario.description);
    std::istringstream rendered(test_support::master_file(scenario));
    std::map<std::string, std::vector<std::string>> from_file;
    for (const auto& [owner, strings] : test_support::master_file_txt_records(rendered))
      from_file[dns::normalize_name(owner)].push_back(joined(strings));
    dns::MemoryResolver resolver;
    test_support::fill_resolver(scenario, resolver);
    for (const test_support::SuiteName& name : scenario.zonedata) {
      const dns::Answer answer = resolver.query(name.name, dns::RrType::TXT);
      // Names reached through a CNAME, or written with \DDD escapes, are not compared here.
      const bool alias =
          std::any_of(name.records.begin(), name.records.end(),
                      [](const test_support::SuiteRecord& record) { return record.type == "CNAME"; });
      if (answer.failed() || alias || name.name.find_first_of(" :/%") != std::string::npos) continue;
      std::vector<std::string> served;
      for (const auto& strings : answer.txt) served.push_back(joined(strings));
      INFO("name: " << name.name);
      CHECK(from_file[dns::normalize_name(name.name)] == served);
      ++compared;
    }
    CHECK(test_support::has_timeouts(scenario) ==
          (test_support::master_file(scenario).find("TIMEOUT") != std::string::npos));
  }
  CHECK(compared > 150);
}
