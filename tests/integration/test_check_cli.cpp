// spfctl check end to end: a real knotd serves the fixture zones of tests/data/zones/check (one
// domain per kind of problem, and a healthy one whose includes nest three levels deep), and the
// binary asks it over the network (--resolver 127.0.0.1:PORT).
#include <algorithm>
#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <memory>
#include <nlohmann/json.hpp>
#include <regex>
#include <sstream>

#include "knot_server.hpp"
#include "tests/support/spfctl_process.hpp"
#include "tests/support/temp_dir.hpp"

using Catch::Matchers::Contains;
using Catch::Matchers::StartsWith;
using spfctl::test_support::ProcessOptions;
using spfctl::test_support::ProcessResult;
using spfctl::test_support::run_spfctl;
using spfctl::testing::KnotConfig;
using spfctl::testing::KnotServer;

namespace {

const std::filesystem::path k_zones = std::filesystem::path(SPFCTL_TEST_DATA) / "zones" / "check";

std::string read_text(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

// One knotd for every test in this file, serving each fixture file as the zone its name gives.
KnotServer& knot() {
  static const std::unique_ptr<KnotServer> server = [] {
    KnotConfig config;
    for (const auto& entry : std::filesystem::directory_iterator(k_zones)) {
      const std::string file = entry.path().filename().string();
      config.zone(file.substr(0, file.size() - std::string(".zone").size()), read_text(entry.path()));
    }
    return std::make_unique<KnotServer>(config);
  }();
  return *server;
}

ProcessResult check(std::vector<std::string> domains, std::vector<std::string> extra = {},
                    const ProcessOptions& options = {}) {
  std::vector<std::string> args = {"check", "--resolver", knot().address(), "--timeout", "2"};
  args.insert(args.end(), domains.begin(), domains.end());
  args.insert(args.end(), extra.begin(), extra.end());
  return run_spfctl(args, options);
}

// `text` with the padding before numbers (the count column) squeezed to two spaces, so that
// column alignment does not matter.
std::string squeezed(const std::string& text) {
  return std::regex_replace(text, std::regex(" {2,}(\\d)"), "  $1");
}

std::vector<std::string> squeezed_lines(const std::string& text) {
  std::vector<std::string> lines;
  std::istringstream in(squeezed(text));
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  return lines;
}

}  // namespace

TEST_CASE("check: a healthy domain shows its include tree with lookups per branch and exits 0",
          "[cli][check][knot]") {
  const ProcessResult run = check({"healthy.test"});
  INFO("stdout:\n" << run.out << "\nstderr:\n" << run.err);
  CHECK(run.exit_code == 0);
  CHECK(run.err.empty());
  const std::vector<std::string> expected = {
      "healthy.test  healthy",
      "  record   v=spf1 mx include:_spf.senders.test ip4:192.0.2.128/26 -all",
      "  lookups  6/10 DNS lookups, 0/2 void lookups",
      "  size  59 bytes in 1 string; TXT answer 102/512 bytes",
      "  tree",
      "    ├── mx  1 lookup",
      "    └── include:_spf.senders.test  5 lookups",
      "        ├── include:eu._spf.senders.test  3 lookups",
      "        │   └── include:relay.eu._spf.senders.test  2 lookups",
      "        │       └── a:relay.senders.test  1 lookup",
      "        └── include:us._spf.senders.test  1 lookup",
  };
  CHECK(squeezed_lines(run.out) == expected);
  // The counts line up in one column.
  std::vector<std::size_t> columns;
  std::istringstream in(run.out);
  const std::regex tree_line("^(.*── \\S+ +)\\d+ lookups?$");
  for (std::string line; std::getline(in, line);)
    if (std::smatch match; std::regex_match(line, match, tree_line))
      columns.push_back(static_cast<std::size_t>(std::count_if(match[1].first, match[1].second, [](char c) {
        return (static_cast<unsigned char>(c) & 0xC0) != 0x80;
      })));
  REQUIRE(columns.size() == 6);
  CHECK(std::all_of(columns.begin(), columns.end(), [&](std::size_t c) { return c == columns.front(); }));
}

TEST_CASE("check: over 10 lookups is flagged with the count and exit 1", "[cli][check][knot]") {
  const ProcessResult run = check({"over.test"});
  INFO("stdout:\n" << run.out << "\nstderr:\n" << run.err);
  CHECK(run.exit_code == 1);
  CHECK(run.err.empty());
  CHECK_THAT(run.out, StartsWith("over.test  problems found\n"));
  CHECK_THAT(run.out, Contains("11/10 DNS lookups"));
  CHECK_THAT(run.out,
             Contains("  error: 11 DNS lookups, over RFC 7208's limit of 10: receivers return permerror"));
  const auto lines = squeezed_lines(run.out);
  CHECK(std::find(lines.begin(), lines.end(), "    └── include:bulk.senders.test  4 lookups") != lines.end());
}

TEST_CASE("check: each kind of problem is reported and makes the exit code 1", "[cli][check][knot]") {
  struct Case {
    std::string domain;
    std::vector<std::string> messages;
  };
  const std::vector<Case> cases = {
      {"twospf.test",
       {"  records  2 SPF records:", "  error: 2 SPF records at twospf.test: receivers return permerror"}},
      {"missing.test",
       {"├── include:gone.senders.test  1 lookup, 1 void  does not exist",
        "└── include:nospf.senders.test  1 lookup  no SPF record",
        "  error: 'include:gone.senders.test' at missing.test: gone.senders.test does not exist (NXDOMAIN): "
        "receivers return permerror",
        "  error: 'include:nospf.senders.test' at missing.test: nospf.senders.test has no SPF record: "
        "receivers "
        "return permerror"}},
      {"plusall.test", {"  error: '+all' at plusall.test authorises every address on the internet"}},
      {"ptr.test", {"  warning: 'ptr' at ptr.test uses ptr, which RFC 7208 5.5 says not to use"}},
      {"big.test",
       {"TXT answer 532/512 bytes", "  warning: the TXT answer at big.test is 532 bytes, over 512"}},
  };
  for (const Case& c : cases) {
    const ProcessResult run = check({c.domain});
    INFO(c.domain << "\nstdout:\n" << run.out << "\nstderr:\n" << run.err);
    CHECK(run.exit_code == 1);
    CHECK(run.err.empty());
    CHECK_THAT(run.out, StartsWith(c.domain + "  problems found\n"));
    for (const std::string& message : c.messages) CHECK_THAT(squeezed(run.out), Contains(message));
  }
  // Several domains: one report each, exit 1 when any has a problem.
  const ProcessResult all = check({"healthy.test", "ptr.test"});
  CHECK(all.exit_code == 1);
  CHECK_THAT(all.out, Contains("healthy.test  healthy\n"));
  CHECK_THAT(all.out, Contains("\n\nptr.test  problems found\n"));
}

TEST_CASE("check --json: the numbers, problems and tree for machines", "[cli][check][knot]") {
  const ProcessResult run = check({"healthy.test", "over.test", "big.test"}, {"--json"});
  INFO("stdout:\n" << run.out << "\nstderr:\n" << run.err);
  CHECK(run.exit_code == 1);
  const nlohmann::json out = nlohmann::json::parse(run.out);
  CHECK(out.at("healthy") == false);
  CHECK(out.at("dns_queries").get<int>() > 0);
  REQUIRE(out.at("domains").size() == 3);
  for (const nlohmann::json& domain : out["domains"])
    for (const char* key : {"domain", "healthy", "record", "spf_records", "record_bytes", "strings",
                            "answer_bytes", "max_answer_bytes", "lookups", "lookup_limit", "void_lookups",
                            "void_limit", "complete", "problems", "tree"})
      CHECK(domain.contains(key));
  const nlohmann::json& healthy = out["domains"][0];
  CHECK(healthy.at("healthy") == true);
  CHECK(healthy.at("lookups") == 6);
  CHECK(healthy.at("answer_bytes") == 102);
  CHECK(healthy.at("complete") == true);
  const nlohmann::json& tree = healthy.at("tree");
  CHECK(tree.at("domain") == "healthy.test");
  CHECK(tree.at("status") == "found");
  REQUIRE(tree.at("terms").size() == 2);
  CHECK(tree["terms"][0] == nlohmann::json({{"term", "mx"}, {"lookups", 1}, {"void_lookups", 0}}));
  const nlohmann::json& esp = tree["terms"][1].at("target");
  CHECK(esp.at("domain") == "_spf.senders.test");
  CHECK(esp.at("record") == "v=spf1 include:eu._spf.senders.test include:us._spf.senders.test ~all");
  CHECK(esp.at("lookups") == 4);

  const nlohmann::json& over = out["domains"][1];
  CHECK(over.at("lookups") == 11);
  REQUIRE(!over.at("problems").empty());
  CHECK(over["problems"][0].at("severity") == "error");
  CHECK_THAT(over["problems"][0].at("message").get<std::string>(), StartsWith("11 DNS lookups, over"));

  const nlohmann::json& big = out["domains"][2];
  CHECK(big.at("answer_bytes") == 532);
  CHECK(big["problems"][0].at("severity") == "warning");
}

TEST_CASE("check: no escape codes when stdout is not a terminal or colour is turned off",
          "[cli][check][knot]") {
  const ProcessResult piped = check({"over.test", "healthy.test"});
  CHECK(piped.out.find('\x1b') == std::string::npos);
  CHECK_THAT(piped.out, Contains("problems found"));
  const ProcessResult no_color = check({"over.test"}, {}, {{{"NO_COLOR", "1"}}});
  CHECK(no_color.out.find('\x1b') == std::string::npos);
  CHECK(no_color.out == check({"over.test"}).out);

  // On a terminal colour is the default, and NO_COLOR or --no-color turn it off.
  ProcessOptions terminal;
  terminal.terminal = true;
  const ProcessResult colored = check({"over.test"}, {}, terminal);
  CHECK(colored.exit_code == 1);
  CHECK_THAT(colored.out, Contains("\x1b[31mproblems found\x1b[0m"));
  terminal.env = {{"NO_COLOR", "1"}};
  const ProcessResult terminal_no_color = check({"over.test"}, {}, terminal);
  CHECK(terminal_no_color.out.find('\x1b') == std::string::npos);
  CHECK_THAT(terminal_no_color.out, Contains("problems found"));
  terminal.env = {};
  const ProcessResult flag = check({"over.test"}, {"--no-color"}, terminal);
  CHECK(flag.out.find('\x1b') == std::string::npos);
  CHECK_THAT(flag.out, Contains("problems found"));
}

TEST_CASE("check and eval against knotd: global options on either side of the command", "[cli][knot]") {
  const ProcessResult before = run_spfctl(
      {"--resolver", knot().address(), "--json", "eval", "--ip", "198.51.100.177", "healthy.test"});
  const ProcessResult after = run_spfctl(
      {"eval", "--ip", "198.51.100.177", "healthy.test", "--resolver", knot().address(), "--json"});
  INFO(before.out << before.err);
  CHECK(before.exit_code == 0);
  CHECK(before.out == after.out);
  const nlohmann::json out = nlohmann::json::parse(before.out);
  CHECK(out.at("result") == "pass");
  CHECK(out.at("lookups") == 5);
  CHECK(out.at("mechanism") == "include:_spf.senders.test");

  // An address no term matches makes receivers walk the whole tree: the 11th lookup is a permerror.
  const ProcessResult over =
      run_spfctl({"--resolver", knot().address(), "eval", "--ip", "198.18.0.1", "over.test"});
  CHECK(over.exit_code == 0);
  CHECK_THAT(over.out, StartsWith("permerror\n"));
}

TEST_CASE("docs/check.md shows check --help and example output as the binary prints them",
          "[cli][check][docs]") {
  const std::filesystem::path source(SPFCTL_SOURCE_DIR);
  const std::string doc = read_text(source / "docs" / "check.md");
  const ProcessResult help = run_spfctl({"check", "--help"});
  CHECK(help.exit_code == 0);
  CHECK_THAT(doc, Contains("```\n" + help.out + "```\n"));
  const auto runs = spfctl::test_support::documented_runs(doc);
  CHECK(runs.size() >= 2);
  for (const auto& documented : runs) {
    std::vector<std::string> args = documented.args;
    for (std::string& arg : args)
      if (arg.starts_with("examples/")) arg = (source / arg).string();
    INFO("spfctl " << Catch::Detail::stringify(documented.args));
    CHECK(run_spfctl(args).out == documented.out);
  }
}

TEST_CASE("check without a domain checks every configured domain, with totals", "[cli][check][knot]") {
  spfctl::testing::TempDir dir("spfctl-check-config");
  const std::string config = dir.write("spfctl.toml",
                                       "[[domain]]\nname = \"healthy.test\"\nip4 = [\"192.0.2.1\"]\n\n"
                                       "[[domain]]\nname = \"over.test\"\nip4 = [\"192.0.2.2\"]\n\n"
                                       "[[domain]]\nname = \"missing.test\"\nip4 = [\"192.0.2.3\"]\n");
  const ProcessResult text = check({}, {"-c", config});
  INFO(text.out << text.err);
  CHECK(text.exit_code == 1);
  CHECK_THAT(text.out, Contains("healthy.test") && Contains("over.test") && Contains("missing.test"));
  CHECK_THAT(text.out, Contains("3 domains: 1 healthy, 2 with problems"));

  const ProcessResult json_run = check({}, {"-c", config, "--json"});
  const auto report = nlohmann::json::parse(json_run.out);
  CHECK(report.at("totals") == nlohmann::json{{"domains", 3}, {"healthy", 1}, {"with_problems", 2}});
  CHECK(report.at("domains").size() == 3);

  // A configuration without domains is an error, not an empty success.
  const std::string empty = dir.write("empty.toml", "[defaults]\npolicy = \"fail\"\n");
  const ProcessResult nothing = check({}, {"-c", empty});
  CHECK(nothing.exit_code == 1);
  CHECK_THAT(nothing.err, Contains("configures no domain, so there is nothing to check"));
}
