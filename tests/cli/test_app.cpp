// The command line in process: spfctl::cli::run() with stdout and stderr captured. Every kind of
// bad input gives exactly one "spfctl: error:" line and exit 1; global options work on either side
// of the command; help, version, and the output contracts of eval and check.
#include <unistd.h>

#include <catch2/catch.hpp>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <vector>

#include "cli/app.hpp"

using Catch::Matchers::Contains;
using Catch::Matchers::StartsWith;

namespace {

struct Captured {
  int code = -1;
  std::string out;
  std::string err;
};

// Runs spfctl with `args` (after the program name), NO_COLOR set so output never depends on
// whether the test runs on a terminal.
Captured run_cli(std::vector<std::string> args) {
  args.insert(args.begin(), "spfctl");
  std::vector<char*> argv;
  for (std::string& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  std::ostringstream out, err;
  std::streambuf* old_out = std::cout.rdbuf(out.rdbuf());
  std::streambuf* old_err = std::cerr.rdbuf(err.rdbuf());
  const char* old_no_color = std::getenv("NO_COLOR");
  const std::string saved = old_no_color ? old_no_color : "";
  setenv("NO_COLOR", "1", 1);
  Captured result;
  try {
    result.code = spfctl::cli::run(static_cast<int>(args.size()), argv.data());
  } catch (...) {
    std::cout.rdbuf(old_out);
    std::cerr.rdbuf(old_err);
    throw;
  }
  if (old_no_color)
    setenv("NO_COLOR", saved.c_str(), 1);
  else
    unsetenv("NO_COLOR");
  std::cout.rdbuf(old_out);
  std::cerr.rdbuf(old_err);
  result.out = out.str();
  result.err = err.str();
  return result;
}

// The one error line of a failed run, checked to be one line, after checking the exit code.
std::string error_line(const Captured& run) {
  INFO("stdout: " << run.out << "\nstderr: " << run.err);
  CHECK(run.code == 1);
  CHECK(run.out.empty());
  CHECK_THAT(run.err, StartsWith("spfctl: error: "));
  CHECK(std::count(run.err.begin(), run.err.end(), '\n') == 1);
  CHECK(run.err.back() == '\n');
  return run.err;
}

const std::filesystem::path k_check_zones = std::filesystem::path(SPFCTL_TEST_DATA) / "zones" / "check";

// --zone FILE for every fixture zone of the check command.
std::vector<std::string> zone_args() {
  std::vector<std::string> args;
  for (const auto& entry : std::filesystem::directory_iterator(k_check_zones)) {
    args.push_back("--zone");
    args.push_back(entry.path().string());
  }
  return args;
}

std::vector<std::string> concat(std::vector<std::string> a, const std::vector<std::string>& b) {
  a.insert(a.end(), b.begin(), b.end());
  return a;
}

// A file in a per-process temporary directory, removed with it.
class TempFile {
 public:
  TempFile(const std::string& name, const std::string& text)
      : m_path(std::filesystem::temp_directory_path() /
               ("spfctl-cli-" + std::to_string(getpid()) + "-" + name)) {
    std::ofstream(m_path, std::ios::binary) << text;
  }
  ~TempFile() {
    std::error_code ignored;
    std::filesystem::remove(m_path, ignored);
  }
  TempFile(const TempFile&) = delete;
  TempFile& operator=(const TempFile&) = delete;
  std::string path() const { return m_path.string(); }

 private:
  std::filesystem::path m_path;
};

}  // namespace

TEST_CASE("cli: commands and options that do not exist get one line, with a suggestion", "[cli]") {
  CHECK_THAT(error_line(run_cli({})), Contains("no command given (run 'spfctl --help' for the list)"));
  CHECK_THAT(error_line(run_cli({"chek", "example.com"})),
             Contains("unknown command 'chek'; did you mean 'check'?"));
  CHECK_THAT(error_line(run_cli({"--zone", "x.zone", "evl", "--ip", "192.0.2.1"})),
             Contains("unknown command 'evl'; did you mean 'eval'?"));
  CHECK_THAT(error_line(run_cli({"frobnicate"})),
             Contains("unknown command 'frobnicate' (run 'spfctl --help'"));
  CHECK_THAT(error_line(run_cli({"check", "--frob", "example.com"})),
             Contains("unknown option '--frob' (run 'spfctl check --help')"));
  CHECK_THAT(error_line(run_cli({"--jsno", "check", "example.com"})),
             Contains("unknown option '--jsno'; did you mean '--json'?"));
  CHECK_THAT(error_line(run_cli({"eval", "--ip", "192.0.2.1", "--helo=x.example", "--snder=a@b.example"})),
             Contains("unknown option '--snder'; did you mean '--sender'?"));
  // The option is named, not the value after it.
  CHECK_THAT(error_line(run_cli({"plan", "--outt", "x.json"})),
             Contains("unknown option '--outt'; did you mean '--out'? (run 'spfctl plan --help')"));
  CHECK_THAT(error_line(run_cli({"apply", "plan.json", "--auto-aprove"})),
             Contains("unknown option '--auto-aprove'; did you mean '--auto-approve'?"));
}

TEST_CASE("cli: missing and repeated arguments get one line naming what is missing", "[cli]") {
  CHECK_THAT(error_line(run_cli({"check"})),
             Contains("'spfctl check' needs DOMAIN, or a configuration whose domains to check: spfctl.toml "
                      "does not exist"));
  CHECK_THAT(error_line(run_cli({"eval", "example.com"})), Contains("'spfctl eval' needs --ip"));
  CHECK_THAT(error_line(run_cli({"eval", "--ip"})), Contains("option --ip needs a value"));
  CHECK_THAT(error_line(run_cli({"check", "example.com", "--zone"})),
             Contains("option --zone needs a value"));
  CHECK_THAT(error_line(run_cli({"eval", "--ip", "192.0.2.1", "--ip", "192.0.2.2", "example.com"})),
             Contains("option --ip given more than once"));
  CHECK_THAT(error_line(run_cli({"eval", "--ip", "192.0.2.1", "a.example", "b.example"})),
             Contains("unexpected argument 'b.example' for 'spfctl eval'"));
  CHECK_THAT(error_line(run_cli({"eval", "--ip", "192.0.2.1"})),
             Contains("nothing to check: give a DOMAIN, --sender ADDRESS or --helo NAME"));
  CHECK_THAT(error_line(run_cli({"--json=maybe", "check", "example.com"})),
             Contains("invalid value 'maybe' for --json"));
  CHECK_THAT(error_line(run_cli({"--timeout", "-1", "check", "example.com"})),
             Contains("'-1' is not a number of seconds between 0 and 3600"));
  CHECK_THAT(error_line(run_cli({"--timeout", "soon", "check", "example.com"})),
             Contains("'soon' is not a number of seconds"));
  CHECK_THAT(error_line(run_cli({"check", "example.com", "--retries", "11"})),
             Contains("'11' is not a whole number from 0 to 10"));
  CHECK_THAT(error_line(run_cli({"plan", "--workers", "0"})),
             Contains("'0' is not a whole number from 1 to 1024"));
  CHECK_THAT(error_line(run_cli({"apply", "--workers", "2000"})),
             Contains("'2000' is not a whole number from 1 to 1024"));
}

TEST_CASE("cli: bad domain names are refused with the value and what is wrong", "[cli]") {
  CHECK_THAT(error_line(run_cli({"check", ""})), Contains("the domain name is empty"));
  CHECK_THAT(error_line(run_cli({"check", "a..example"})),
             Contains("domain name 'a..example' has an empty label"));
  CHECK_THAT(error_line(run_cli({"check", ".example.com"})), Contains("has an empty label"));
  const std::string label(64, 'a');
  CHECK_THAT(error_line(run_cli({"check", label + ".example"})),
             Contains("label '" + label + "' of '" + label + ".example' is longer than 63 characters"));
  std::string long_name;
  for (int i = 0; i < 5; ++i) long_name += std::string(60, 'b') + ".";
  long_name += "example";
  CHECK_THAT(error_line(run_cli({"check", long_name})), Contains("is longer than 253 characters"));
  CHECK_THAT(
      error_line(run_cli({"check", "exa mple.com"})),
      Contains("domain name 'exa mple.com' may only hold letters, digits, hyphens, underscores and dots"));
  CHECK_THAT(error_line(run_cli({"check", "ex!ample.com"})), Contains("'ex!ample.com' may only hold"));
  CHECK_THAT(error_line(run_cli({"check", "localhost"})), Contains("'localhost' is not fully qualified"));
  CHECK_THAT(error_line(run_cli({"check", "192.0.2.1"})),
             Contains("'192.0.2.1' is an IP address, not a domain name"));
  CHECK_THAT(error_line(run_cli({"check", "bücher.example"})),
             Contains("is not ASCII; write its punycode form"));
  // Control characters in a value are shown escaped, never sent to the terminal.
  CHECK_THAT(error_line(run_cli({"check", "a\x1b[31mb.example"})),
             Contains("'a\\x1b[31mb.example' may only hold"));
  CHECK_THAT(error_line(run_cli({"check", "a\nb.example"})), Contains("'a\\x0ab.example' may only hold"));
  CHECK_THAT(error_line(run_cli({"eval", "--ip", "192.0.2.1", "no_tld"})),
             Contains("'no_tld' is not fully qualified"));
  // A good name after a bad one: nothing is checked before every name is valid.
  CHECK_THAT(error_line(run_cli(concat(zone_args(), {"check", "healthy.test", "a..b"}))),
             Contains("'a..b' has an empty label"));
}

TEST_CASE("cli: bad addresses and zone files get one line", "[cli]") {
  CHECK_THAT(error_line(run_cli({"eval", "--ip", "192.0.2", "example.com"})),
             Contains("--ip '192.0.2' is not an IPv4 or IPv6 address"));
  CHECK_THAT(error_line(run_cli({"eval", "--ip", "mail.example.com", "example.com"})),
             Contains("--ip 'mail.example.com' is not an IPv4 or IPv6 address"));
  CHECK_THAT(error_line(run_cli({"--resolver", "dns.example", "check", "example.com"})),
             Contains("invalid resolver address 'dns.example'"));
  CHECK_THAT(error_line(run_cli({"check", "example.com", "--resolver", "192.0.2.53:99999"})),
             Contains("'192.0.2.53:99999'"));
  CHECK_THAT(error_line(run_cli({"--zone", "/nonexistent/spfctl.zone", "check", "example.com"})),
             Contains("--zone file '/nonexistent/spfctl.zone' does not exist"));
  CHECK_THAT(error_line(run_cli({"--zone", k_check_zones.string(), "check", "example.com"})),
             Contains("is a directory; give an RFC 1035 master file"));
  const TempFile bad("bad.zone", "$TTL 300\nexample.com. IN TXT \"v=spf1 -all\"\nexample.com. IN BOGUS x\n");
  CHECK_THAT(error_line(run_cli({"check", "example.com", "--zone", bad.path()})),
             Contains(bad.path() + ":3: unknown record type 'BOGUS'"));
  const TempFile open_quote("quote.zone", "example.com. IN TXT \"v=spf1 -all\n");
  CHECK_THAT(error_line(run_cli({"--zone", open_quote.path(), "eval", "--ip", "192.0.2.1", "example.com"})),
             Contains(open_quote.path() + ":1: unterminated quoted string"));
}

TEST_CASE("cli: malformed SPF records are reported, not fatal", "[cli]") {
  const TempFile zone("records.zone",
                      "$ORIGIN example.test.\n$TTL 300\n"
                      "bad IN TXT \"v=spf1 ip4:192.0.2.1/33 -all\"\n"
                      "macro IN TXT \"v=spf1 exists:%{z}.example.test -all\"\n");
  const Captured check = run_cli({"--zone", zone.path(), "check", "bad.example.test", "macro.example.test"});
  INFO(check.out << check.err);
  CHECK(check.code == 1);
  CHECK(check.err.empty());
  CHECK_THAT(check.out, Contains("error: the SPF record at bad.example.test does not parse, receivers return "
                                 "permerror: ip4 CIDR length 33 out of range"));
  CHECK_THAT(check.out, Contains("    v=spf1 ip4:192.0.2.1/33 -all\n           ^~~~~~~~~~~~~~~~"));
  CHECK_THAT(check.out, Contains("the SPF record at macro.example.test does not parse"));

  const Captured eval = run_cli({"--zone", zone.path(), "eval", "--ip", "192.0.2.1", "bad.example.test"});
  CHECK(eval.code == 0);
  CHECK_THAT(eval.out, StartsWith("permerror\n"));
}

TEST_CASE("cli: global options work before or after the command", "[cli]") {
  const std::vector<std::string> zones = zone_args();
  const Captured before = run_cli(concat(zones, {"check", "healthy.test", "over.test"}));
  const Captured after = run_cli(concat({"check", "healthy.test", "over.test"}, zones));
  const Captured between = run_cli(concat(concat({"check", "healthy.test"}, zones), {"over.test"}));
  CHECK(before.code == 1);
  CHECK_THAT(before.out, Contains("healthy.test  healthy"));
  CHECK_THAT(before.out, Contains("over.test  problems found"));
  CHECK(after.code == before.code);
  CHECK(after.out == before.out);
  CHECK(between.out == before.out);

  const Captured json_before = run_cli(concat(concat({"--json"}, zones), {"check", "healthy.test"}));
  const Captured json_after = run_cli(concat(concat({"check", "healthy.test"}, zones), {"--json"}));
  CHECK(json_before.code == 0);
  CHECK(json_before.out == json_after.out);
  CHECK(nlohmann::json::parse(json_after.out).at("domains").at(0).at("domain") == "healthy.test");

  const Captured eval_before =
      run_cli(concat(concat({"--json"}, zones), {"eval", "--ip", "198.51.100.177", "healthy.test"}));
  const Captured eval_after =
      run_cli(concat({"eval", "--ip", "198.51.100.177", "healthy.test", "--json"}, zones));
  CHECK(eval_before.code == 0);
  CHECK(eval_before.out == eval_after.out);
  CHECK(nlohmann::json::parse(eval_before.out).at("result") == "pass");
}

TEST_CASE("cli: help lists the commands; each command's help has an example", "[cli]") {
  const Captured help = run_cli({"--help"});
  CHECK(help.code == 0);
  for (const auto& spec : spfctl::cli::command_table()) {
    INFO(spec.name);
    CHECK_THAT(help.out, Contains(std::string(spec.name) + " ") && Contains(spec.summary));
    const Captured command = run_cli({spec.name, "--help"});
    CHECK(command.code == 0);
    CHECK_THAT(command.out, Contains("Examples:\n  spfctl "));
    CHECK_THAT(command.out, Contains("Global options, before or after the command"));
  }
  const Captured version = run_cli({"--version"});
  CHECK(version.code == 0);
  CHECK(version.out == std::string("spfctl ") + SPFCTL_VERSION + "\n");
}

TEST_CASE("cli: eval prints the result word first, exits 0 whatever the result", "[cli][eval]") {
  const TempFile zone("eval.zone",
                      "$ORIGIN example.test.\n$TTL 300\n"
                      "@ IN TXT \"v=spf1 ip4:192.0.2.0/24 -all exp=why.example.test\"\n"
                      "why IN TXT \"%{i} is not one of %{d}'s senders\"\n"
                      "soft IN TXT \"v=spf1 ip4:192.0.2.0/24 ~all\"\n");
  const Captured pass = run_cli({"--zone", zone.path(), "eval", "--ip", "192.0.2.7", "example.test"});
  CHECK(pass.code == 0);
  CHECK_THAT(pass.out, StartsWith("pass\n"));
  CHECK_THAT(pass.out, Contains("matched: ip4:192.0.2.0/24"));

  const Captured fail = run_cli({"--zone", zone.path(), "eval", "--ip", "198.51.100.1", "--sender",
                                 "alice@example.test", "--helo", "mx.example.net"});
  CHECK(fail.code == 0);
  CHECK_THAT(fail.out, StartsWith("fail\n198.51.100.1 is not one of example.test's senders\n"));

  const Captured soft =
      run_cli({"--zone", zone.path(), "-q", "eval", "--ip", "198.51.100.1", "soft.example.test"});
  CHECK(soft.code == 0);
  CHECK(soft.out == "softfail\n");

  const Captured none = run_cli({"--zone", zone.path(), "eval", "--ip", "192.0.2.7", "nothing.example.test"});
  CHECK(none.code == 0);
  CHECK_THAT(none.out, StartsWith("none\n"));

  const Captured json =
      run_cli({"--zone", zone.path(), "eval", "--json", "--ip", "198.51.100.1", "example.test"});
  CHECK(json.code == 0);
  const nlohmann::json out = nlohmann::json::parse(json.out);
  CHECK(out.at("result") == "fail");
  CHECK(out.at("explanation") == "198.51.100.1 is not one of example.test's senders");
  CHECK(out.at("domain") == "example.test");
  CHECK(out.at("lookups") == 0);
  CHECK(out.at("void_lookups") == 0);
  CHECK(out.at("mechanism") == "-all");
}

TEST_CASE("cli: check --json gives every domain's numbers, problems and tree", "[cli][check]") {
  const Captured run = run_cli(concat(zone_args(), {"check", "--json", "healthy.test", "missing.test"}));
  INFO(run.out << run.err);
  CHECK(run.code == 1);
  const nlohmann::json out = nlohmann::json::parse(run.out);
  CHECK(out.at("healthy") == false);
  REQUIRE(out.at("domains").size() == 2);
  const nlohmann::json& healthy = out["domains"][0];
  CHECK(healthy.at("domain") == "healthy.test");
  CHECK(healthy.at("healthy") == true);
  CHECK(healthy.at("record") == "v=spf1 mx include:_spf.senders.test ip4:192.0.2.128/26 -all");
  CHECK(healthy.at("lookups") == 6);
  CHECK(healthy.at("lookup_limit") == 10);
  CHECK(healthy.at("void_lookups") == 0);
  CHECK(healthy.at("void_limit") == 2);
  CHECK(healthy.at("record_bytes") == 59);
  CHECK(healthy.at("strings") == 1);
  CHECK(healthy.at("answer_bytes").get<int>() > 59);
  CHECK(healthy.at("problems").empty());
  const nlohmann::json& include = healthy.at("tree").at("terms").at(1);
  CHECK(include.at("term") == "include:_spf.senders.test");
  CHECK(include.at("lookups") == 5);
  CHECK(include.at("target").at("domain") == "_spf.senders.test");
  CHECK(include.at("target").at("terms").at(0).at("target").at("terms").at(0).at("lookups") == 2);

  const nlohmann::json& missing = out["domains"][1];
  CHECK(missing.at("healthy") == false);
  CHECK(missing.at("void_lookups") == 1);
  REQUIRE(missing.at("problems").size() == 2);
  CHECK(missing["problems"][0].at("severity") == "error");
  CHECK(missing["problems"][0].at("domain") == "missing.test");
  CHECK_THAT(missing["problems"][0].at("message").get<std::string>(),
             Contains("gone.senders.test does not exist"));
  CHECK(missing.at("tree").at("terms").at(0).at("target").at("status") == "none");
}
