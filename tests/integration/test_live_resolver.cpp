// The live resolver against a real knotd serving the fixture zones, compared answer by answer with
// the zone resolver reading the same files.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <catch2/catch.hpp>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include "dns/live_resolver.hpp"
#include "dns/zone_resolver.hpp"
#include "knot_server.hpp"

using namespace std::string_literals;
using namespace spfctl::dns;
using spfctl::testing::KnotConfig;
using spfctl::testing::KnotServer;

namespace {

const std::filesystem::path k_zones = std::filesystem::path(SPFCTL_TEST_DATA) / "zones";
const std::vector<std::pair<std::string, std::string>> k_fixture_zones = {
    {"example.com", "example.com.zone"},
    {"example.net", "example.net.zone"},
    {"2.0.192.in-addr.arpa", "2.0.192.in-addr.arpa.zone"},
};

std::string read_text(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

KnotConfig fixture_config() {
  KnotConfig config;
  for (const auto& [apex, file] : k_fixture_zones) config.zone(apex, read_text(k_zones / file));
  return config;
}

std::vector<std::filesystem::path> fixture_paths() {
  std::vector<std::filesystem::path> paths;
  for (const auto& [apex, file] : k_fixture_zones) paths.push_back(k_zones / file);
  return paths;
}

// An answer in a form that compares as DNS does: RRsets are unordered.
std::string canonical(Answer answer) {
  std::sort(answer.txt.begin(), answer.txt.end());
  std::sort(answer.addresses.begin(), answer.addresses.end());
  std::sort(answer.mx.begin(), answer.mx.end(), [](const MxRecord& a, const MxRecord& b) {
    return std::tie(a.preference, a.exchange) < std::tie(b.preference, b.exchange);
  });
  std::sort(answer.names.begin(), answer.names.end());
  std::ostringstream out;
  out << to_string(answer.status) << " ttl=" << answer.ttl;
  for (const auto& rr : answer.txt) {
    out << " txt[";
    for (const auto& s : rr) out << render_character_string(s);
    out << "]";
  }
  for (const auto& a : answer.addresses) out << " " << a.to_string();
  for (const auto& mx : answer.mx) out << " mx " << mx.preference << " " << mx.exchange;
  for (const auto& n : answer.names) out << " name " << n;
  return out.str();
}

struct Question {
  std::string name;
  RrType type;
  Status expected;
};

const std::vector<Question> k_questions = {
    {"example.com", RrType::TXT, Status::ok},
    {"EXAMPLE.com.", RrType::MX, Status::ok},
    {"example.com", RrType::A, Status::nodata},
    {"mail.example.com", RrType::A, Status::ok},
    {"mail.example.com", RrType::AAAA, Status::ok},
    {"mail.example.com", RrType::TXT, Status::nodata},
    {"multi.example.com", RrType::TXT, Status::ok},
    {"escapes.example.com", RrType::TXT, Status::ok},
    {"unquoted.example.com", RrType::TXT, Status::ok},
    {"longest.example.com", RrType::TXT, Status::ok},
    {"big.example.com", RrType::TXT, Status::ok},
    {"a._spf.example.com", RrType::TXT, Status::ok},
    {"_spf.example.com", RrType::TXT, Status::nodata},
    {"nothere._spf.example.com", RrType::TXT, Status::nxdomain},
    {"nothere.example.com", RrType::TXT, Status::nxdomain},
    {"alias.example.com", RrType::A, Status::ok},
    {"alias.example.com", RrType::TXT, Status::nodata},
    {"alias.example.com", RrType::CNAME, Status::ok},
    {"alias-out.example.com", RrType::TXT, Status::ok},
    {"alias-out.example.com", RrType::A, Status::ok},
    {"alias-out.example.com", RrType::MX, Status::nodata},
    {"back.example.net", RrType::AAAA, Status::ok},
    {"dangling.example.com", RrType::TXT, Status::nxdomain},
    {"mx-only.example.com", RrType::MX, Status::ok},
    {"mx-only.example.com", RrType::TXT, Status::nodata},
    {"old-spf.example.com", RrType::SPF, Status::ok},
    {"old-spf.example.com", RrType::TXT, Status::nodata},
    {"_sip._tcp.example.com", RrType::TXT, Status::nodata},
    {"_tcp.example.com", RrType::TXT, Status::nodata},
    {"target.example.net", RrType::TXT, Status::ok},
    {"nothere.example.net", RrType::A, Status::nxdomain},
    {"25.2.0.192.in-addr.arpa", RrType::PTR, Status::ok},
    {"26.2.0.192.in-addr.arpa", RrType::PTR, Status::ok},
    {"27.2.0.192.in-addr.arpa", RrType::PTR, Status::nxdomain},
};

// A UDP socket that receives questions and never answers them.
class SilentServer {
 public:
  SilentServer() {
    m_fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t length = sizeof addr;
    REQUIRE(bind(m_fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0);
    REQUIRE(getsockname(m_fd, reinterpret_cast<sockaddr*>(&addr), &length) == 0);
    m_port = ntohs(addr.sin_port);
  }
  ~SilentServer() { close(m_fd); }
  std::string address() const { return "127.0.0.1:" + std::to_string(m_port); }

 private:
  int m_fd = -1;
  std::uint16_t m_port = 0;
};

// An unsigned RFC 2136 update adding one TXT record; the response's RCODE, or -1 without one.
int add_txt_by_update(std::uint16_t port, std::string_view zone, std::string_view name,
                      std::string_view text) {
  using spfctl::testing::detail::append_name;
  using spfctl::testing::detail::append_u16;
  std::vector<unsigned char> message;
  // Header: opcode UPDATE; one zone, no prerequisite, one update, no additional record.
  for (unsigned field : {unsigned{spfctl::testing::next_message_id()}, 5u << 11, 1u, 0u, 1u, 0u})
    append_u16(message, field);
  append_name(message, zone);
  append_u16(message, 6);  // SOA
  append_u16(message, 1);  // IN
  append_name(message, name);
  append_u16(message, 16);  // TXT
  append_u16(message, 1);
  append_u16(message, 0);  // TTL 300
  append_u16(message, 300);
  append_u16(message, static_cast<unsigned>(text.size() + 1));
  message.push_back(static_cast<unsigned char>(text.size()));
  message.insert(message.end(), text.begin(), text.end());
  const auto response = spfctl::testing::udp_exchange(port, message, std::chrono::seconds(2));
  return response ? (*response)[3] & 0x0f : -1;
}

}  // namespace

TEST_CASE("the knotd harness configures update ACLs, with and without a TSIG key", "[integration][dns]") {
  const std::string zone =
      "$ORIGIN example.org.\n$TTL 300\n@ SOA ns hostmaster 1 3600 600 86400 60\n@ NS ns\n";
  {
    KnotServer open(KnotConfig().zone("example.org", zone).allow_updates());
    CHECK(add_txt_by_update(open.port(), "example.org", "added.example.org", "v=spf1 -all") == 0);
    LiveResolver live({{open.address()}, 1000, 2});
    CHECK(live.query("added.example.org", RrType::TXT).txt ==
          std::vector<std::vector<std::string>>{{"v=spf1 -all"}});
  }
  {
    KnotServer keyed(KnotConfig()
                         .zone("example.org", zone)
                         .tsig_key({"spfkey", "hmac-sha256", "c3BmY3RsLXRlc3Qta2V5LTAxMjM0NTY3ODlhYmNkZWY="})
                         .allow_updates());
    // Without the key the update is refused (NOTAUTH or REFUSED).
    const int rcode = add_txt_by_update(keyed.port(), "example.org", "added.example.org", "v=spf1 -all");
    CHECK((rcode == 9 || rcode == 5));
    LiveResolver live({{keyed.address()}, 1000, 2});
    CHECK(live.query("added.example.org", RrType::TXT).status == Status::nxdomain);
  }
}

TEST_CASE("live and zone resolvers give the same answers for the fixture zones", "[integration][dns]") {
  KnotServer knot(fixture_config());
  LiveResolver live({{knot.address()}, 1000, 2});
  ZoneResolver zone(fixture_paths());

  for (const auto& q : k_questions) {
    INFO(q.name << "/" << to_string(q.type));
    const Answer from_live = live.query(q.name, q.type);
    const Answer from_zone = zone.query(q.name, q.type);
    INFO("live detail: " << from_live.detail);
    CHECK(from_live.status == q.expected);
    CHECK(canonical(from_live) == canonical(from_zone));
  }

  // Spot checks that the shared answers hold what the files say.
  const Answer multi = live.query("multi.example.com", RrType::TXT);
  CHECK(std::count(multi.txt.begin(), multi.txt.end(),
                   std::vector<std::string>{"v=spf1 ip4:198.51.100.0/24", " ip4:198.51.101.0/24", " -all"}) ==
        1);
  const Answer escapes = live.query("escapes.example.com", RrType::TXT);
  REQUIRE(escapes.txt.size() == 1);
  CHECK(escapes.txt[0] ==
        std::vector<std::string>{"quote \" backslash \\ semicolon ; bytes \x80\xff nul \0 tab \t end"s});
  const Answer big = live.query("big.example.com", RrType::TXT);
  REQUIRE(big.txt.size() == 3);
  for (const auto& rr : big.txt) CHECK(rr.size() == 2);
  CHECK(live.query("alias-out.example.com", RrType::TXT).ttl == 300);  // the CNAME's, below the target's 600
}

TEST_CASE("a TXT answer beyond 512 bytes is truncated over UDP and completed over TCP",
          "[integration][dns]") {
  KnotServer knot(fixture_config());
  const auto udp = spfctl::testing::udp_query(knot.port(), "big.example.com", 16, std::chrono::seconds(2));
  REQUIRE(udp);
  CHECK(((*udp)[2] & 0x02) != 0);  // TC: the UDP answer does not hold the RRset

  LiveResolver live({{knot.address()}, 1000, 2});
  const Answer big = live.query("big.example.com", RrType::TXT);
  CHECK(big.status == Status::ok);
  std::size_t bytes = 0;
  for (const auto& rr : big.txt)
    for (const auto& s : rr) bytes += s.size() + 1;
  CHECK(bytes > 1000);
  CHECK(canonical(big) == canonical(ZoneResolver(fixture_paths()).query("big.example.com", RrType::TXT)));
}

TEST_CASE("EDNS0: an answer up to 1232 bytes comes over UDP, a larger one over TCP", "[integration][dns]") {
  // Strings of 200 bytes: four make an answer of about 900 bytes, eight of about 1,700.
  const std::string piece(200, 'x');
  std::string zone =
      "$ORIGIN edns.test.\n$TTL 300\n@ SOA ns hostmaster 1 3600 600 86400 300\n@ NS ns\n"
      "ns A 192.0.2.1\n";
  zone += "medium TXT";
  for (int i = 0; i < 4; ++i) zone += " \"" + piece + "\"";
  zone += "\nlarge TXT";
  for (int i = 0; i < 8; ++i) zone += " \"" + piece + "\"";
  zone += "\n";
  KnotServer knot(KnotConfig().zone("edns.test", zone));
  LiveResolver live({{knot.address()}, 1000, 2});

  const Answer medium = live.query("medium.edns.test", RrType::TXT);
  REQUIRE(medium.status == Status::ok);
  CHECK(medium.txt == std::vector<std::vector<std::string>>{std::vector<std::string>(4, piece)});
  CHECK(live.tcp_connections() == 0);  // over 512 bytes, yet one UDP answer

  const Answer large = live.query("large.edns.test", RrType::TXT);
  REQUIRE(large.status == Status::ok);
  CHECK(large.txt == std::vector<std::vector<std::string>>{std::vector<std::string>(8, piece)});
  CHECK(live.tcp_connections() == 1);
}

TEST_CASE("the CNAME chain limit is counted over the whole chain, the same live and from zone files",
          "[integration][dns]") {
  // Chains that cross between two zones at every hop, so knotd answers one CNAME per message and
  // the resolver asks again each time: "fits" follows 8 CNAMEs, "long" 9, "loop" returns to its start.
  std::string a =
      "$ORIGIN a.test.\n$TTL 300\n@ SOA ns hostmaster 1 3600 600 86400 300\n@ NS ns\nns A 192.0.2.1\n";
  std::string b =
      "$ORIGIN b.test.\n$TTL 300\n@ SOA ns hostmaster 1 3600 600 86400 300\n@ NS ns\nns A 192.0.2.1\n";
  const auto chain = [&](const std::string& name, int cnames) {
    for (int i = 0; i < cnames; ++i) {
      std::string& zone = i % 2 == 0 ? a : b;
      zone += name + std::to_string(i) + " CNAME " + name + std::to_string(i + 1) +
              (i % 2 == 0 ? ".b.test.\n" : ".a.test.\n");
    }
    (cnames % 2 == 0 ? a : b) += name + std::to_string(cnames) + " TXT \"v=spf1 -all\"\n";
  };
  chain("fits", 8);
  chain("long", 9);
  a += "loop0 CNAME loop1.b.test.\n";
  b += "loop1 CNAME loop0.a.test.\n";

  KnotServer knot(KnotConfig().zone("a.test", a).zone("b.test", b));
  LiveResolver live({{knot.address()}, 1000, 2});
  const std::filesystem::path dir =
      std::filesystem::temp_directory_path() / ("spfctl-cname-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  std::ofstream(dir / "a.test.zone") << a;
  std::ofstream(dir / "b.test.zone") << b;
  ZoneResolver zones({dir / "a.test.zone", dir / "b.test.zone"});
  std::filesystem::remove_all(dir);

  const Answer fits_live = live.query("fits0.a.test", RrType::TXT);
  const Answer fits_zone = zones.query("fits0.a.test", RrType::TXT);
  CHECK(fits_live.status == Status::ok);
  CHECK(fits_live.txt == std::vector<std::vector<std::string>>{{"v=spf1 -all"}});
  CHECK(canonical(fits_live) == canonical(fits_zone));
  CHECK(live.queries_sent() == 9);  // one message per hop

  for (const auto& [name, word] :
       {std::pair{"long0.a.test", "too long"}, std::pair{"loop0.a.test", "loops"}}) {
    INFO(name);
    const Answer from_live = live.query(name, RrType::TXT);
    const Answer from_zone = zones.query(name, RrType::TXT);
    CHECK(from_live.status == Status::servfail);
    CHECK(from_zone.status == Status::servfail);
    CHECK_THAT(from_live.detail, Catch::Contains("CNAME chain "s + word));
    CHECK_THAT(from_zone.detail, Catch::Contains("CNAME chain "s + word));
  }
}

TEST_CASE("CNAMEs to another zone are followed with one more question", "[integration][dns]") {
  KnotServer knot(fixture_config());
  LiveResolver live({{knot.address()}, 1000, 2});
  // Inside the zone knotd answers CNAME and target together: one question.
  CHECK(live.query("alias.example.com", RrType::A).status == Status::ok);
  CHECK(live.queries_sent() == 1);
  // To example.net knotd answers with the CNAME only: the resolver asks for the target.
  const Answer out = live.query("alias-out.example.com", RrType::TXT);
  CHECK(out.txt == std::vector<std::vector<std::string>>{{"v=spf1 ip4:203.0.113.0/24 -all"}});
  CHECK(live.queries_sent() == 3);
  // example.net → example.com → (in zone) mail.example.com.
  CHECK(live.query("back.example.net", RrType::A).addresses.size() == 2);
  CHECK(live.queries_sent() == 5);
}

TEST_CASE("a server that never answers gives a timeout within the configured time", "[integration][dns]") {
  SilentServer silent;
  LiveResolver live({{silent.address()}, 200, 2});
  const auto start = std::chrono::steady_clock::now();
  const Answer answer = live.query("example.com", RrType::TXT);
  const auto elapsed = std::chrono::steady_clock::now() - start;
  CHECK(answer.status == Status::timeout);
  CHECK_THAT(answer.detail, Catch::Matchers::Contains(silent.address()));
  // Two rounds: 200 ms, then 400 ms.
  CHECK(elapsed >= std::chrono::milliseconds(550));
  CHECK(elapsed < std::chrono::seconds(5));  // and then gives up; generous for a loaded machine
}

TEST_CASE("questions from many threads wait for their answers together, not in turn", "[integration][dns]") {
  SilentServer silent;
  LiveResolver live({{silent.address()}, 1000, 1});
  constexpr int k_threads = 20;
  std::atomic<int> timeouts{0};
  std::vector<std::thread> threads;
  const auto start = std::chrono::steady_clock::now();
  for (int i = 0; i < k_threads; ++i) {
    threads.emplace_back([&, i] {
      if (live.query("q" + std::to_string(i) + ".example.com", RrType::TXT).status == Status::timeout)
        ++timeouts;
    });
  }
  for (auto& thread : threads) thread.join();
  const auto elapsed = std::chrono::steady_clock::now() - start;
  CHECK(timeouts == k_threads);
  CHECK(live.queries_sent() == k_threads);
  // One after another they would take 20 × 1 s; together, about 1 s.
  CHECK(elapsed < std::chrono::seconds(10));
}

TEST_CASE("a question for a zone the server does not serve is REFUSED, reported as servfail",
          "[integration][dns]") {
  KnotServer knot(fixture_config());
  LiveResolver live({{knot.address()}, 1000, 1});
  const Answer answer = live.query("example.org", RrType::TXT);
  CHECK(answer.status == Status::servfail);
  CHECK_THAT(answer.detail, Catch::Matchers::Contains("REFUSED"));
  CHECK_THAT(answer.detail, Catch::Matchers::Contains("example.org/TXT"));
}

TEST_CASE("200 questions from several threads are all answered", "[integration][dns]") {
  KnotServer knot(fixture_config());
  LiveResolver live({{knot.address()}, 2000, 2});
  ZoneResolver zone(fixture_paths());

  constexpr int k_threads = 8;
  constexpr int k_per_thread = 25;
  std::atomic<int> matching{0};
  std::vector<std::string> mismatches[k_threads];
  std::vector<std::thread> threads;
  const auto start = std::chrono::steady_clock::now();
  for (int t = 0; t < k_threads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < k_per_thread; ++i) {
        const Question& q = k_questions[static_cast<std::size_t>(t * k_per_thread + i) % k_questions.size()];
        const std::string got = canonical(live.query(q.name, q.type));
        if (got == canonical(zone.query(q.name, q.type))) {
          ++matching;
        } else {
          mismatches[t].push_back(q.name + ": " + got);
        }
      }
    });
  }
  for (auto& thread : threads) thread.join();
  const auto elapsed = std::chrono::steady_clock::now() - start;
  for (const auto& list : mismatches)
    for (const auto& m : list) FAIL_CHECK(m);
  CHECK(matching == k_threads * k_per_thread);
  CHECK(live.queries_sent() >= static_cast<std::uint64_t>(k_threads * k_per_thread));
  CHECK(elapsed < std::chrono::seconds(60));
}

TEST_CASE("the real-world zone served from one zone \".\" answers as the zone resolver reads it",
          "[integration][dns]") {
  const std::string realworld = read_text(SPFCTL_REALWORLD_ZONE);
  REQUIRE(!realworld.empty());
  KnotServer knot(KnotConfig().zone(".",
                                    "$ORIGIN .\n$TTL 300\n"
                                    "@ SOA ns.invalid. hostmaster.invalid. 1 3600 600 86400 300\n"
                                    "@ NS ns.invalid.\n" +
                                        realworld));
  LiveResolver live({{knot.address()}, 1000, 2});
  ZoneResolver zone({std::filesystem::path(SPFCTL_REALWORLD_ZONE)});

  const std::vector<std::pair<std::string, Status>> names = {
      {"gmail.com", Status::ok},
      {"_spf.google.com", Status::ok},
      {"amazonses.com", Status::ok},  // three TXT records
      {"github.com", Status::ok},     // two strings, split inside a token
      {"spf-0.secureserver.net", Status::ok},
      {"7593890.spf10.hubspotemail.net", Status::ok},
      {"spf10.hubspotemail.net", Status::nodata},  // empty non-terminal
      {"nothere.google.com", Status::nxdomain},
  };
  for (const auto& [name, expected] : names) {
    INFO(name);
    const Answer from_live = live.query(name, RrType::TXT);
    CHECK(from_live.status == expected);
    CHECK(canonical(from_live) == canonical(zone.query(name, RrType::TXT)));
  }
  CHECK(live.query("amazonses.com", RrType::TXT).txt.size() == 3);
  CHECK(live.query("github.com", RrType::TXT).txt.at(0).size() == 2);
}

TEST_CASE("query_all keeps many questions in flight and answers each as query() does", "[integration][dns]") {
  KnotServer knot(fixture_config());
  LiveResolver live({{knot.address()}, 2000, 2});
  ZoneResolver zone(fixture_paths());
  // More questions than LiveResolver keeps in flight at once, distinct names among them, so the
  // window moves on as answers come back.
  std::vector<std::pair<std::string, RrType>> questions;
  for (std::size_t i = 0; questions.size() < 3 * LiveResolver::k_max_in_flight; ++i) {
    const Question& q = k_questions[i % k_questions.size()];
    questions.emplace_back(i < k_questions.size() ? q.name : "n" + std::to_string(i) + "." + q.name, q.type);
  }
  const std::vector<Answer> answers = live.query_all(questions);
  REQUIRE(answers.size() == questions.size());
  std::size_t matching = 0;
  for (std::size_t i = 0; i < questions.size(); ++i) {
    const std::string expected = canonical(zone.query(questions[i].first, questions[i].second));
    if (canonical(answers[i]) == expected)
      ++matching;
    else
      FAIL_CHECK(questions[i].first << ": " << canonical(answers[i]) << " instead of " << expected);
  }
  CHECK(matching == questions.size());
  CHECK(live.queries_sent() >= questions.size());
}
