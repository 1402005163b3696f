// spfctl senders end to end: the catalogue as the binary lists it, offline (--zone), its aliases,
// unknown names, and a configuration's own senders merged in.
#include <catch2/catch.hpp>
#include <fstream>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "config/config.hpp"
#include "tests/support/spfctl_process.hpp"
#include "tests/support/temp_dir.hpp"

using Catch::Matchers::Contains;
using spfctl::test_support::ProcessResult;
using spfctl::test_support::run_spfctl;

namespace {

const std::string k_senders_zone = SPFCTL_SOURCE_DIR "/examples/dns/senders.zone";

}  // namespace

TEST_CASE("senders --json lists every catalogue entry with its docs link and lookups",
          "[integration][senders]") {
  spfctl::testing::TempDir dir("spfctl-senders");  // no configuration here: the built-in catalogue
  const ProcessResult result =
      run_spfctl({"senders", "--json", "--zone", k_senders_zone, "-c", (dir.dir / "none.toml").string()});
  INFO(result.err);
  REQUIRE(result.exit_code == 0);
  const auto listed = nlohmann::json::parse(result.out);
  const spfctl::config::Config builtin = spfctl::config::load_config_text("", "builtin");
  REQUIRE(listed.size() == builtin.senders.size());
  std::set<std::string> names;
  for (const auto& entry : listed) {
    names.insert(entry.at("name").get<std::string>());
    CHECK_THAT(entry.at("docs").get<std::string>(), Contains("https://"));
    CHECK_FALSE(entry.at("description").get<std::string>().empty());
  }
  for (const auto& [name, sender] : builtin.senders) CHECK(names.contains(name));
  // A sender whose records the snapshot holds has its lookups counted.
  for (const auto& entry : listed)
    if (entry.at("name") == "google-workspace") CHECK(entry.at("lookups").get<int>() >= 1);
}

TEST_CASE("senders takes common other names with a note, and suggests for unknown ones",
          "[integration][senders]") {
  const ProcessResult alias = run_spfctl({"senders", "office365", "--zone", k_senders_zone});
  CHECK(alias.exit_code == 0);
  CHECK_THAT(alias.out, Contains("microsoft365") && Contains("include:spf.protection.outlook.com") &&
                            Contains("docs     https://"));
  CHECK_THAT(alias.err, Contains("note: 'office365' is 'microsoft365' in the catalogue"));

  const ProcessResult unknown = run_spfctl({"senders", "sendgird", "--zone", k_senders_zone});
  CHECK(unknown.exit_code == 1);
  CHECK_THAT(unknown.err, Contains("unknown sender 'sendgird'; did you mean 'sendgrid'?"));
}

TEST_CASE("senders lists a configuration's own senders, and where they are defined",
          "[integration][senders]") {
  spfctl::testing::TempDir dir("spfctl-senders");
  const std::string config = dir.write(
      "spfctl.toml", "[senders.crm]\ndescription = \"Our CRM\"\ninclude = [\"_spf.crm.example\"]\n");
  const ProcessResult result = run_spfctl({"senders", "crm", "-c", config, "--zone", k_senders_zone});
  INFO(result.err);
  CHECK(result.exit_code == 0);
  CHECK_THAT(result.out, Contains("crm  Our CRM") && Contains("adds     include:_spf.crm.example") &&
                             Contains("defined  " + config + ":1:"));
}

TEST_CASE("docs/senders.md shows senders --help and example output as the binary prints them",
          "[integration][senders][docs]") {
  std::ifstream in(SPFCTL_SOURCE_DIR "/docs/senders.md");
  std::ostringstream text;
  text << in.rdbuf();
  const std::string doc = text.str();
  const ProcessResult help = run_spfctl({"senders", "--help"});
  CHECK_THAT(doc, Contains("```\n" + help.out + "```\n"));
  const auto runs = spfctl::test_support::documented_runs(doc);
  REQUIRE(runs.size() == 1);
  std::vector<std::string> args = runs[0].args;
  for (std::string& arg : args)
    if (arg.starts_with("examples/")) arg = std::string(SPFCTL_SOURCE_DIR) + "/" + arg;
  CHECK(run_spfctl(args).out == runs[0].out);
}
