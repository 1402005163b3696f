// Where plan reads what is published (src/plan/live_reads.hpp), against a real knotd: with
// plan_reads = "dns", a zone's TXT records come from its nameservers, found by NS lookup and asked
// without recursion, answers taken only with authority; through the CLI, a plan read from DNS
// equals the one read through the API, and apply still reads each name through the API before
// writing and refuses what it finds changed there.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>
#include <vector>

#include "dns/live_resolver.hpp"
#include "error.hpp"
#include "knot_server.hpp"
#include "plan/live_reads.hpp"
#include "tests/support/godaddy_fake.hpp"
#include "tests/support/spfctl_process.hpp"
#include "tests/support/temp_dir.hpp"

using namespace std::chrono_literals;
using Catch::Matchers::Contains;
using json = nlohmann::json;
using spfctl::testing::GoDaddyFake;
using spfctl::testing::KnotConfig;
using spfctl::testing::KnotServer;
using spfctl::testing::TempDir;

namespace {

const std::string k_old_spf = "v=spf1 ip4:198.51.100.1 -all";
const std::string k_verification = "google-site-verification=Fa9kQ2x7Lm";

std::string example_zone(const std::string& apex_spf = k_old_spf) {
  return "$ORIGIN example.com.\n$TTL 3600\n"
         "@ IN SOA ns1.example.com. hostmaster.example.com. 1 3600 600 86400 300\n"
         "@ IN NS ns1.example.com.\n"
         "ns1 IN A 127.0.0.1\n"
         "@ IN TXT \"" +
         apex_spf + "\"\n@ IN TXT \"" + k_verification +
         "\"\n"
         "_spf1 IN TXT \"v=spf1 ip4:192.0.2.0/24 -all\"\n";
}

// A provider that must not be asked: plan_reads = "dns" makes no API request.
class UnusedProvider : public spfctl::publish::Provider {
 public:
  const spfctl::publish::Capabilities& capabilities() const override { return m_capabilities; }
  std::string zone_for(std::string_view) override { return fail(); }
  std::vector<spfctl::publish::TxtRecordSet> list(std::string_view,
                                                  const std::vector<std::string>&) override {
    fail();
    return {};
  }
  void apply(std::string_view, const std::vector<spfctl::publish::Change>&) override { fail(); }

 private:
  static std::string fail() { throw spfctl::Error("the provider was asked"); }
  spfctl::publish::Capabilities m_capabilities;
};

// A DNS server on 127.0.0.1 that answers every question with one TXT record, without authority
// (AA clear), and remembers whether the question asked for recursion (RD).
class NonAuthoritativeServer {
 public:
  NonAuthoritativeServer() {
    m_socket = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    REQUIRE(bind(m_socket, reinterpret_cast<sockaddr*>(&address), sizeof address) == 0);
    socklen_t length = sizeof address;
    REQUIRE(getsockname(m_socket, reinterpret_cast<sockaddr*>(&address), &length) == 0);
    m_port = ntohs(address.sin_port);
    timeval timeout{0, 100000};
    setsockopt(m_socket, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout);
    m_thread = std::thread([this] { serve(); });
  }
  ~NonAuthoritativeServer() {
    m_stop = true;
    m_thread.join();
    close(m_socket);
  }
  std::string address() const { return "127.0.0.1:" + std::to_string(m_port); }
  int questions() const { return m_questions.load(); }
  int with_recursion() const { return m_with_recursion.load(); }

 private:
  void serve() {
    unsigned char buffer[512];
    while (!m_stop) {
      sockaddr_in from{};
      socklen_t from_length = sizeof from;
      const ssize_t got =
          recvfrom(m_socket, buffer, sizeof buffer, 0, reinterpret_cast<sockaddr*>(&from), &from_length);
      if (got < 12) continue;
      ++m_questions;
      if (buffer[2] & 0x01) ++m_with_recursion;
      // The question ends after its name, type and class.
      std::size_t at = 12;
      while (at < static_cast<std::size_t>(got) && buffer[at] != 0) at += buffer[at] + 1;
      at += 5;
      if (at > static_cast<std::size_t>(got)) continue;
      std::vector<unsigned char> answer(buffer, buffer + at);
      answer[2] = static_cast<unsigned char>(0x80 | (buffer[2] & 0x01));  // QR, RD echoed, AA clear
      answer[3] = 0x80;                                                   // RA, NOERROR
      answer[6] = 0, answer[7] = 1;                                       // one answer
      answer[8] = answer[9] = answer[10] = answer[11] = 0;                // nothing else (no OPT)
      const std::string text = "v=spf1 +all";
      const unsigned char record[] = {0xc0,
                                      12,
                                      0,
                                      16,
                                      0,
                                      1,
                                      0,
                                      0,
                                      0x0e,
                                      0x10,
                                      0,
                                      static_cast<unsigned char>(text.size() + 1),
                                      static_cast<unsigned char>(text.size())};
      answer.insert(answer.end(), record, record + sizeof record);
      answer.insert(answer.end(), text.begin(), text.end());
      sendto(m_socket, answer.data(), answer.size(), 0, reinterpret_cast<sockaddr*>(&from), from_length);
    }
  }

  int m_socket = -1;
  std::uint16_t m_port = 0;
  std::atomic<bool> m_stop{false};
  std::atomic<int> m_questions{0};
  std::atomic<int> m_with_recursion{0};
  std::thread m_thread;
};

std::vector<std::string> joined_values(const spfctl::publish::TxtRecordSet& set) {
  std::vector<std::string> out;
  for (const auto& value : set.values) out.push_back(value.joined());
  std::sort(out.begin(), out.end());
  return out;
}

}  // namespace

TEST_CASE("plan_reads = \"dns\" finds the zone's nameservers and reads its TXT records from them",
          "[integration][reads]") {
  KnotServer knot(KnotConfig().zone("example.com", example_zone()));
  // The run's resolver (a recursive one in real use) finds the NS and its address; the nameserver
  // is then asked directly, at knotd's port.
  spfctl::dns::LiveResolver run_resolver({{knot.address()}, 1000, 2});
  spfctl::plan::LiveReads reads(run_resolver, false, {1000, 2, knot.port()});
  UnusedProvider provider;
  const auto list = reads.lister(provider, "example.com", {true, {}});
  const auto sets = list({"example.com", "_spf1.example.com", "nothing.example.com"});
  REQUIRE(sets.size() == 2);
  CHECK(sets[0].name == "example.com");
  CHECK(joined_values(sets[0]) == std::vector<std::string>{k_verification, k_old_spf});
  CHECK(sets[0].ttl == 3600);
  CHECK(sets[1].name == "_spf1.example.com");
  CHECK(reads.dns_questions() == 3);
  CHECK(reads.zone_listings() == 0);

  // A zone without nameservers in DNS is an error naming it and the way out.
  CHECK_THROWS_WITH(reads.lister(provider, "example.org", {true, {}})({"example.org"}),
                    Contains("plan_reads = \"dns\"") && Contains("example.org") &&
                        Contains("plan_reads = \"api\" reads through the provider's API instead"));
}

TEST_CASE("plan_reads = \"dns\" asks without recursion and refuses an answer without authority",
          "[integration][reads]") {
  NonAuthoritativeServer cache;
  spfctl::dns::LiveResolver unused({{"127.0.0.1:9"}, 200, 1});
  spfctl::plan::LiveReads reads(unused, false, {1000, 1});
  UnusedProvider provider;
  const auto list = reads.lister(provider, "example.com", {true, {cache.address()}});
  CHECK_THROWS_WITH(list({"example.com"}), Contains("reading the TXT records at example.com") &&
                                               Contains("answered without authority") &&
                                               Contains(cache.address()));
  CHECK(cache.questions() >= 1);
  CHECK(cache.with_recursion() == 0);
}

TEST_CASE("plan_reads = \"dns\" asks each provider's own plan_reads_server", "[integration][reads]") {
  KnotServer knot(KnotConfig().zone("example.com", example_zone()));
  NonAuthoritativeServer cache;
  spfctl::dns::LiveResolver unused({{"127.0.0.1:9"}, 200, 1});
  spfctl::plan::LiveReads reads(unused, false, {1000, 1});
  UnusedProvider provider;
  // One provider names knotd and reads from it; another names a server without authority, and is
  // refused rather than served from the first one's.
  CHECK(reads.lister(provider, "example.com", {true, {knot.address()}})({"example.com"}).size() == 1);
  CHECK_THROWS_WITH(reads.lister(provider, "example.com", {true, {cache.address()}})({"example.com"}),
                    Contains("answered without authority"));
}

namespace {

constexpr const char* k_key_env = "SPFCTL_TEST_GD_KEY";
constexpr const char* k_secret_env = "SPFCTL_TEST_GD_SECRET";

struct Account {
  GoDaddyFake fake;
  TempDir dir{"spfctl-plan-reads"};

  Account() {
    fake.add_domain("example.com");
    fake.add_record("example.com", "@", k_old_spf);
    fake.add_record("example.com", "@", k_verification);
    fake.add_record("example.com", "_spf1", "v=spf1 ip4:192.0.2.0/24 -all");
  }

  std::string config(const std::string& reads) {
    return dir.write("spfctl-" + std::to_string(++m_configs) + ".toml",
                     "[providers.gd]\ntype = \"godaddy\"\napi_url = \"" + fake.api_url() +
                         "\"\nkey_env = \"" + k_key_env + "\"\nsecret_env = \"" + k_secret_env + "\"\n" +
                         reads +
                         "\n[[domain]]\nname = \"example.com\"\nprovider = \"gd\"\n"
                         "ip4 = [\"198.51.100.1\", \"198.51.100.7\"]\n");
  }

  spfctl::test_support::ProcessResult run(const std::string& config, std::vector<std::string> args,
                                          const std::string& resolver) {
    args.insert(args.end(), {"-c", config, "--resolver", resolver});
    spfctl::test_support::ProcessOptions options;
    options.env = {{k_key_env, fake.key()}, {k_secret_env, fake.secret()}};
    options.timeout = 60s;
    return spfctl::test_support::run_spfctl(args, options);
  }

  std::vector<std::string> record_reads(std::size_t from) const {
    std::vector<std::string> out;
    for (const std::string& target : fake.server().targets(from))
      if (target.find("/records") != std::string::npos) out.push_back(target);
    return out;
  }

 private:
  int m_configs = 0;
};

json domains_of(const std::string& plan_json) {
  json plan = json::parse(plan_json);
  return plan.at("domains");
}

}  // namespace

TEST_CASE("a plan read from DNS equals the API's, and apply still reads and checks through the API",
          "[integration][reads][cli]") {
  KnotServer knot(KnotConfig().zone("example.com", example_zone()));
  Account account;
  const std::string api = account.config("");
  const std::string from_dns =
      account.config("plan_reads = \"dns\"\nplan_reads_server = \"" + knot.address() + "\"\n");

  const auto api_plan = account.run(api, {"plan", "--json", "--detailed-exitcode"}, knot.address());
  INFO(api_plan.err);
  REQUIRE(api_plan.exit_code == 2);  // changes to make
  const std::size_t before_dns = account.fake.server().request_count();
  const auto dns_plan = account.run(from_dns, {"plan", "--json", "--detailed-exitcode"}, knot.address());
  INFO(dns_plan.err);
  REQUIRE(dns_plan.exit_code == 2);
  CHECK(domains_of(dns_plan.out) == domains_of(api_plan.out));
  // No records request: the account's one domain listing (and its closing empty page) only.
  CHECK(account.record_reads(before_dns).empty());
  CHECK(account.fake.server().request_count() - before_dns <= 2);

  // Someone changes the apex at GoDaddy; DNS does not show it yet. Apply plans from DNS, reads the
  // apex through the API before writing, and refuses: nothing is written.
  account.fake.edit_record("example.com", "@", k_old_spf, "v=spf1 ip4:198.51.100.1 ip4:203.0.113.9 -all");
  const auto history = account.fake.txt_history("example.com").size();
  const std::size_t before_apply = account.fake.server().request_count();
  const auto refused = account.run(from_dns, {"apply", "--auto-approve"}, knot.address());
  INFO(refused.out << refused.err);
  CHECK(refused.exit_code == 1);
  CHECK_THAT(refused.err, Contains("Nothing was applied") && Contains("example.com"));
  CHECK(account.fake.txt_history("example.com").size() == history);
  CHECK_FALSE(account.record_reads(before_apply).empty());

  // Once DNS and the API agree again, apply from DNS publishes, reading each name through the API
  // right before writing it; the next plan from DNS sees the result as soon as DNS serves it.
  account.fake.edit_record("example.com", "@", "v=spf1 ip4:198.51.100.1 ip4:203.0.113.9 -all", k_old_spf);
  const std::size_t before_write = account.fake.server().request_count();
  const auto applied = account.run(from_dns, {"apply", "--auto-approve"}, knot.address());
  INFO(applied.out << applied.err);
  REQUIRE(applied.exit_code == 0);
  const std::vector<std::string> targets = account.fake.server().targets(before_write);
  const auto put = std::find_if(targets.begin(), targets.end(), [](const std::string& t) {
    return t.starts_with("PUT ") && t.ends_with("/@");
  });
  REQUIRE(put != targets.end());
  CHECK(std::find(targets.begin(), put, "GET /v1/domains/example.com/records/TXT/@") != put);
  const auto apex = account.fake.txt_now("example.com").at("example.com");
  CHECK(std::find(apex.begin(), apex.end(), "v=spf1 ip4:198.51.100.1 ip4:198.51.100.7 -all") != apex.end());
}

TEST_CASE("plan says in one line how long GoDaddy's quota makes API reads take",
          "[integration][reads][cli]") {
  GoDaddyFake fake;
  spfctl::testing::TempDir dir("spfctl-quota-note");
  std::string domains;
  for (int i = 0; i < 130; ++i) {
    const std::string name = "client" + std::to_string(i) + ".example";
    fake.add_domain(name);
    domains += "[[domain]]\nname = \"" + name + "\"\nprovider = \"gd\"\nip4 = [\"192.0.2.1\"]\n\n";
  }
  const std::string config =
      dir.write("spfctl.toml", "[providers.gd]\ntype = \"godaddy\"\napi_url = \"" + fake.api_url() +
                                   "\"\nkey_env = \"" + k_key_env + "\"\nsecret_env = \"" + k_secret_env +
                                   "\"\n\n" + domains);
  spfctl::test_support::ProcessOptions options;
  options.env = {{k_key_env, fake.key()}, {k_secret_env, fake.secret()}};
  // The real quota (60 a minute) holds the run back after the first 60 requests: the note comes
  // first, and the run is stopped rather than waited for.
  options.timeout = 5s;
  const auto result = spfctl::test_support::run_spfctl(
      {"plan", "-q", "-c", config, "--zone", SPFCTL_SOURCE_DIR "/examples/dns/senders.zone"}, options);
  CHECK(result.timed_out);
  CHECK_THAT(result.err,
             Contains("note: provider 'gd' reads 130 domains through the godaddy API, about 2 minutes "
                      "at its quota of 60 requests a minute; plan_reads = \"dns\" in [providers.gd]"));
  CHECK(fake.server().request_count() <= 62);  // the listing and 60 requests a minute, no more
}
