#include "dns/live_resolver.hpp"

#include <ares.h>
#include <fcntl.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <cerrno>
#include <charconv>
#include <condition_variable>
#include <cstring>
#include <deque>
#include <functional>
#include <future>
#include <limits>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <thread>

#include "error.hpp"

namespace spfctl::dns {
namespace {

// The EDNS0 UDP payload size advertised (DNS Flag Day 2020): answers up to this size come over
// UDP, larger ones over TCP.
constexpr int k_edns_payload = 1232;
constexpr int k_class_in = 1;
// The UDP receive buffer asked for: room for several windows of LiveResolver::k_max_in_flight
// answers of the EDNS0 size.
constexpr int k_receive_buffer_bytes = 1 << 20;
// The header's third byte holds AA (authoritative answer).
constexpr int k_header_bytes = 12;
constexpr int k_flags_byte = 2;
constexpr unsigned char k_aa_bit = 0x04;

std::string question_text(std::string_view name, RrType type) {
  return std::string(name.empty() ? "." : name) + "/" + std::string(to_string(type));
}

std::string bad_server_message(std::string_view text) {
  return "invalid resolver address '" + std::string(text) +
         "' (write an IP address with an optional port: 192.0.2.53, 192.0.2.53:5353, 2001:db8::53 or "
         "[2001:db8::53]:5353)";
}

std::uint16_t parse_port(std::string_view port, std::string_view whole) {
  unsigned value = 0;
  const auto [end, ec] = std::from_chars(port.data(), port.data() + port.size(), value);
  if (port.empty() || ec != std::errc{} || end != port.data() + port.size() || value == 0 || value > 65535)
    throw Error("invalid port '" + std::string(port) + "' in resolver address '" + std::string(whole) +
                "' (write a number from 1 to 65535)");
  return static_cast<std::uint16_t>(value);
}

// A DNS message as c-ares hands it over. Names are expanded with c-ares (compression pointers).
struct ResourceRecord {
  std::string owner;  // normalized
  std::uint16_t type = 0;
  std::uint32_t ttl = 0;
  const unsigned char* rdata = nullptr;
  std::size_t rdlength = 0;
};

class MessageReader {
 public:
  MessageReader(const unsigned char* message, int length) : m_message(message), m_length(length) {}

  // The answer section; nullopt when the message is malformed.
  std::optional<std::vector<ResourceRecord>> answers() {
    if (m_length < 12) return std::nullopt;
    const unsigned questions = u16(m_message + 4);
    const unsigned answers = u16(m_message + 6);
    m_pos = 12;
    for (unsigned i = 0; i < questions; ++i) {
      if (!name_at(m_message + m_pos)) return std::nullopt;
      m_pos += m_last_encoded + 4;
    }
    std::vector<ResourceRecord> records;
    for (unsigned i = 0; i < answers; ++i) {
      ResourceRecord rr;
      auto owner = name_at(m_message + m_pos);
      if (!owner) return std::nullopt;
      m_pos += m_last_encoded;
      if (m_pos + 10 > static_cast<std::size_t>(m_length)) return std::nullopt;
      rr.owner = normalize_name(*owner);
      rr.type = u16(m_message + m_pos);
      rr.ttl = (static_cast<std::uint32_t>(u16(m_message + m_pos + 4)) << 16) | u16(m_message + m_pos + 6);
      rr.rdlength = u16(m_message + m_pos + 8);
      m_pos += 10;
      if (m_pos + rr.rdlength > static_cast<std::size_t>(m_length)) return std::nullopt;
      rr.rdata = m_message + m_pos;
      m_pos += rr.rdlength;
      records.push_back(std::move(rr));
    }
    return records;
  }

  // The domain name encoded at `at`, expanded; nullopt when malformed.
  std::optional<std::string> name_at(const unsigned char* at) {
    if (at >= m_message + m_length) return std::nullopt;
    char* expanded = nullptr;
    long encoded = 0;
    if (ares_expand_name(at, m_message, m_length, &expanded, &encoded) != ARES_SUCCESS) return std::nullopt;
    std::string name(expanded);
    ares_free_string(expanded);
    m_last_encoded = static_cast<std::size_t>(encoded);
    return name;
  }

  static unsigned u16(const unsigned char* p) { return static_cast<unsigned>(p[0] << 8 | p[1]); }

 private:
  const unsigned char* m_message;
  int m_length;
  std::size_t m_pos = 0;
  std::size_t m_last_encoded = 0;
};

// Adds the data of one record of the asked type to `answer`; false when the rdata is malformed.
bool add_rdata(MessageReader& reader, const ResourceRecord& rr, RrType type, Answer& answer) {
  switch (type) {
    case RrType::TXT:
    case RrType::SPF: {
      std::vector<std::string> strings;
      std::size_t pos = 0;
      while (pos < rr.rdlength) {
        const std::size_t length = rr.rdata[pos];
        if (pos + 1 + length > rr.rdlength) return false;
        strings.emplace_back(reinterpret_cast<const char*>(rr.rdata + pos + 1), length);
        pos += 1 + length;
      }
      answer.txt.push_back(std::move(strings));
      return true;
    }
    case RrType::A: {
      if (rr.rdlength != 4) return false;
      answer.addresses.push_back(net::IpAddress::from_v4(static_cast<std::uint32_t>(
          rr.rdata[0] << 24 | rr.rdata[1] << 16 | rr.rdata[2] << 8 | rr.rdata[3])));
      return true;
    }
    case RrType::AAAA: {
      if (rr.rdlength != 16) return false;
      std::array<std::uint8_t, 16> bytes{};
      std::copy_n(rr.rdata, 16, bytes.begin());
      answer.addresses.push_back(net::IpAddress::from_v6(bytes));
      return true;
    }
    case RrType::MX: {
      if (rr.rdlength < 3) return false;
      auto exchange = reader.name_at(rr.rdata + 2);
      if (!exchange) return false;
      answer.mx.push_back(
          {static_cast<std::uint16_t>(MessageReader::u16(rr.rdata)), normalize_name(*exchange)});
      return true;
    }
    case RrType::PTR:
    case RrType::CNAME:
    case RrType::NS: {
      auto target = reader.name_at(rr.rdata);
      if (!target) return false;
      answer.names.push_back(normalize_name(*target));
      return true;
    }
    case RrType::SOA:
      return true;  // the status is all spfctl uses
  }
  return false;
}

}  // namespace

std::string ServerAddress::to_string() const {
  const std::string host = address.is_v4() ? address.to_string() : "[" + address.to_string() + "]";
  return host + ":" + std::to_string(port);
}

ServerAddress parse_server_address(std::string_view text) {
  ServerAddress server;
  std::string_view host = text;
  if (text.starts_with("[")) {
    const auto close = text.find(']');
    if (close == std::string_view::npos) throw Error(bad_server_message(text));
    host = text.substr(1, close - 1);
    const std::string_view rest = text.substr(close + 1);
    if (!rest.empty()) {
      if (!rest.starts_with(":")) throw Error(bad_server_message(text));
      server.port = parse_port(rest.substr(1), text);
    }
    auto ip = net::IpAddress::parse(host);
    if (!ip || ip->is_v4()) throw Error(bad_server_message(text));
    server.address = *ip;
    return server;
  }
  if (std::count(text.begin(), text.end(), ':') == 1) {
    const auto colon = text.find(':');
    host = text.substr(0, colon);
    server.port = parse_port(text.substr(colon + 1), text);
  }
  auto ip = net::IpAddress::parse(host);
  if (!ip) throw Error(bad_server_message(text));
  server.address = *ip;
  return server;
}

namespace {

// How many servers /etc/resolv.conf names (c-ares falls back to 127.0.0.1 when it names none).
std::size_t count_system_servers() {
  ares_channel probe = nullptr;
  if (ares_init(&probe) != ARES_SUCCESS) return 0;
  ares_addr_port_node* list = nullptr;
  std::size_t count = 0;
  if (ares_get_servers_ports(probe, &list) == ARES_SUCCESS) {
    for (const ares_addr_port_node* node = list; node != nullptr; node = node->next) ++count;
    ares_free_data(list);
  }
  ares_destroy(probe);
  return count;
}

}  // namespace

// The event loop: owns the c-ares channel and every question in flight.
class LiveResolver::Loop {
 public:
  explicit Loop(const LiveResolverOptions& options) {
    if (options.timeout_ms < 1)
      throw Error("invalid resolver timeout " + std::to_string(options.timeout_ms) +
                  " ms (give a positive number of milliseconds)");
    if (options.tries < 1)
      throw Error("invalid resolver tries " + std::to_string(options.tries) + " (give 1 or more)");
    std::vector<ServerAddress> servers;
    for (const auto& text : options.servers) servers.push_back(parse_server_address(text));
    m_servers_text = servers.empty() ? "the servers of /etc/resolv.conf" : "";
    for (const auto& server : servers)
      m_servers_text += (m_servers_text.empty() ? "" : ", ") + server.to_string();
    m_timeout_ms = options.timeout_ms;
    m_tries = options.tries;
    m_authoritative = options.authoritative;

    static std::once_flag library_once;
    static int library_status = ARES_SUCCESS;
    std::call_once(library_once, [] { library_status = ares_library_init(ARES_LIB_INIT_ALL); });
    if (library_status != ARES_SUCCESS)
      throw Error(std::string("cannot start the DNS resolver: ") + ares_strerror(library_status));

    // c-ares 1.18 moves on to the next server after SERVFAIL, REFUSED or NOTIMP, but when none is
    // left it reports ECONNREFUSED and drops the server's answer. With one server there is nothing
    // to move on to, so its answers are taken as they are and reported exactly.
    const std::size_t server_count = servers.empty() ? count_system_servers() : servers.size();
    ares_options ares{};
    ares.flags = ARES_FLAG_EDNS | (server_count == 1 ? ARES_FLAG_NOCHECKRESP : 0) |
                 (options.authoritative ? ARES_FLAG_NORECURSE : 0);
    ares.ednspsz = k_edns_payload;
    ares.timeout = options.timeout_ms;
    ares.tries = options.tries;
    ares.sock_state_cb = &Loop::on_socket_state;
    ares.sock_state_cb_data = this;
    // Room for the answers of every question in flight (query_all keeps many), so a burst of them
    // is not dropped by the kernel while the loop reads (the kernel caps it at net.core.rmem_max).
    ares.socket_receive_buffer_size = k_receive_buffer_bytes;
    const int mask = ARES_OPT_FLAGS | ARES_OPT_EDNSPSZ | ARES_OPT_TIMEOUTMS | ARES_OPT_TRIES |
                     ARES_OPT_SOCK_STATE_CB | ARES_OPT_SOCK_RCVBUF;
    if (const int status = ares_init_options(&m_channel, &ares, mask); status != ARES_SUCCESS)
      throw Error(std::string("cannot start the DNS resolver: ") + ares_strerror(status));
    if (!servers.empty()) {
      std::vector<ares_addr_port_node> nodes(servers.size());
      for (std::size_t i = 0; i < servers.size(); ++i) {
        ares_addr_port_node& node = nodes[i];
        node.next = i + 1 < nodes.size() ? &nodes[i + 1] : nullptr;
        const auto& bytes = servers[i].address.bytes();
        if (servers[i].address.is_v4()) {
          node.family = AF_INET;
          std::memcpy(&node.addr.addr4, bytes.data(), 4);
        } else {
          node.family = AF_INET6;
          std::memcpy(&node.addr.addr6, bytes.data(), 16);
        }
        node.udp_port = node.tcp_port = servers[i].port;
      }
      if (const int status = ares_set_servers_ports(m_channel, nodes.data()); status != ARES_SUCCESS) {
        ares_destroy(m_channel);
        throw Error(std::string("cannot use the resolver addresses: ") + ares_strerror(status));
      }
    }
    if (pipe2(m_wake, O_CLOEXEC | O_NONBLOCK) != 0) {
      ares_destroy(m_channel);
      throw Error(std::string("cannot start the DNS resolver: ") + std::strerror(errno));
    }
    m_thread = std::thread([this] { run(); });
  }

  ~Loop() {
    {
      std::lock_guard lock(m_mutex);
      m_stopping = true;
    }
    wake();
    m_thread.join();
    close(m_wake[0]);
    close(m_wake[1]);
  }

  Answer query(std::string_view name, RrType type) { return submit(name, type).get(); }

  // Hands the question to the loop; the answer comes through the future.
  std::future<Answer> submit(std::string_view name, RrType type) {
    auto promise = std::make_shared<std::promise<Answer>>();
    std::future<Answer> answer = promise->get_future();
    submit(name, type, [promise](Answer&& done) { promise->set_value(std::move(done)); });
    return answer;
  }

  // Hands the question to the loop; `done` gets the answer, on the loop's thread (it must not
  // wait on the loop).
  void submit(std::string_view name, RrType type, std::function<void(Answer&&)> done) {
    auto question = std::make_unique<Question>();
    question->loop = this;
    question->name = normalize_name(name);
    question->current = question->name;
    question->type = type;
    question->done = std::move(done);
    {
      std::lock_guard lock(m_mutex);
      if (!m_stopped) {
        m_queue.push_back(std::move(question));
        question = nullptr;
      }
    }
    if (question) {
      Answer failed;
      failed.status = Status::servfail;
      failed.detail = question_text(question->name, type) + ": the resolver's event loop has stopped";
      question->done(std::move(failed));
      return;
    }
    wake();
  }

  std::uint64_t queries_sent() const { return m_sent.load(); }
  std::uint64_t tcp_connections() const { return m_tcp.load(); }

 private:
  // One query() call, followed through CNAMEs. Owned by c-ares callbacks while in flight.
  struct Question {
    Loop* loop = nullptr;
    std::string name;     // as asked, normalized
    std::string current;  // the name asked now: `name` or a CNAME target
    RrType type = RrType::TXT;
    std::set<std::string> chain;      // every name of the CNAME chain so far, asked or answered
    std::size_t cnames_followed = 0;  // over every message of the chain
    std::uint32_t chain_ttl = std::numeric_limits<std::uint32_t>::max();
    std::function<void(Answer&&)> done;  // called once, with the answer
  };

  void wake() {
    const char byte = 1;
    // A full pipe already wakes the loop; nothing else can fail here that the loop would miss.
    [[maybe_unused]] const auto written = write(m_wake[1], &byte, 1);
  }

  void run() {
    while (true) {
      std::deque<std::unique_ptr<Question>> batch;
      bool stopping = false;
      {
        std::lock_guard lock(m_mutex);
        batch.swap(m_queue);
        stopping = m_stopping;
      }
      for (auto& question : batch) send(question.release());
      if (stopping) break;

      std::vector<pollfd> fds;
      fds.push_back({m_wake[0], POLLIN, 0});
      for (const auto& [fd, events] : m_sockets) fds.push_back({fd, events, 0});
      timeval tv{};
      const timeval* next = ares_timeout(m_channel, nullptr, &tv);
      const int wait_ms =
          next == nullptr ? -1 : static_cast<int>(next->tv_sec * 1000 + (next->tv_usec + 999) / 1000);
      if (poll(fds.data(), fds.size(), wait_ms) < 0 && errno != EINTR) break;

      if (fds[0].revents != 0) {
        char drain[64];
        while (read(m_wake[0], drain, sizeof drain) > 0) {
        }
      }
      for (std::size_t i = 1; i < fds.size(); ++i) {
        const short revents = fds[i].revents;
        if (revents == 0) continue;
        const bool readable = (revents & (POLLIN | POLLERR | POLLHUP)) != 0;
        const bool writable = (revents & POLLOUT) != 0;
        ares_process_fd(m_channel, readable ? fds[i].fd : ARES_SOCKET_BAD,
                        writable ? fds[i].fd : ARES_SOCKET_BAD);
      }
      ares_process_fd(m_channel, ARES_SOCKET_BAD, ARES_SOCKET_BAD);  // timeouts
    }
    // Ends every question still in flight with ARES_EDESTRUCTION.
    ares_destroy(m_channel);
    // When poll() fails the loop ends early: questions queued meanwhile must not wait forever.
    std::lock_guard lock(m_mutex);
    m_stopped = true;
    for (auto& question : m_queue) {
      Answer failed;
      failed.status = Status::servfail;
      failed.detail =
          question_text(question->name, question->type) + ": the resolver's event loop has stopped";
      question->done(std::move(failed));
    }
    m_queue.clear();
  }

  static void on_socket_state(void* data, ares_socket_t fd, int readable, int writable) {
    auto* loop = static_cast<Loop*>(data);
    if (!readable && !writable) {
      loop->m_sockets.erase(fd);
      return;
    }
    const auto [slot, opened] = loop->m_sockets.try_emplace(fd, 0);
    slot->second = static_cast<short>((readable ? POLLIN : 0) | (writable ? POLLOUT : 0));
    int type = 0;
    socklen_t length = sizeof type;
    if (opened && ::getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &length) == 0 && type == SOCK_STREAM)
      ++loop->m_tcp;
  }

  void send(Question* question) {
    ++m_sent;
    question->chain.insert(question->current);
    const std::string name = question->current.empty() ? "." : question->current;
    ares_query(m_channel, name.c_str(), k_class_in, static_cast<int>(question->type), &Loop::on_answer,
               question);
  }

  static void on_answer(void* arg, int status, int /*timeouts*/, unsigned char* message, int length) {
    std::unique_ptr<Question> question(static_cast<Question*>(arg));
    Loop& loop = *question->loop;
    Answer answer;
    std::optional<std::string> follow;
    if (loop.m_authoritative && message != nullptr && length >= k_header_bytes &&
        (message[k_flags_byte] & k_aa_bit) == 0 &&
        (status == ARES_SUCCESS || status == ARES_ENODATA || status == ARES_ENOTFOUND)) {
      answer.status = Status::servfail;
      answer.detail = question_text(question->current, question->type) + ": " + loop.m_servers_text +
                      " answered without authority (is it a nameserver of the zone?)";
    } else if (status == ARES_SUCCESS) {
      follow = loop.read_answer(*question, message, length, answer);
    } else {
      loop.fail(*question, status, answer);
    }
    if (follow) {
      question->current = *follow;
      loop.send(question.release());
      return;
    }
    if (answer.status != Status::ok) answer.ttl = 0;
    question->done(std::move(answer));
  }

  // Fills `answer` from a NOERROR message with answers; returns the name to ask next when the
  // message ends in a CNAME whose target it does not answer for.
  std::optional<std::string> read_answer(Question& question, const unsigned char* message, int length,
                                         Answer& answer) const {
    MessageReader reader(message, length);
    auto records = reader.answers();
    if (!records) {
      answer.status = Status::servfail;
      answer.detail =
          question_text(question.current, question.type) + ": malformed answer from " + m_servers_text;
      return std::nullopt;
    }
    std::string owner = question.current;
    if (question.type != RrType::CNAME) {
      while (true) {
        const auto cname = std::find_if(records->begin(), records->end(), [&](const ResourceRecord& rr) {
          return rr.type == static_cast<std::uint16_t>(RrType::CNAME) && rr.owner == owner;
        });
        if (cname == records->end()) break;
        auto target = reader.name_at(cname->rdata);
        if (!target) break;
        question.chain_ttl = std::min(question.chain_ttl, cname->ttl);
        owner = normalize_name(*target);
        const bool loops = !question.chain.insert(owner).second;
        if (loops || ++question.cnames_followed > k_max_cname_chain) {
          answer.status = Status::servfail;
          answer.detail = question_text(question.name, question.type) + ": CNAME chain " +
                          (loops ? "loops" : "too long") + " at " + owner;
          return std::nullopt;
        }
      }
    }
    answer.ttl = question.chain_ttl;
    bool found = false;
    for (const ResourceRecord& rr : *records) {
      if (rr.owner != owner || rr.type != static_cast<std::uint16_t>(question.type)) continue;
      if (!add_rdata(reader, rr, question.type, answer)) {
        answer = Answer{};
        answer.status = Status::servfail;
        answer.detail =
            question_text(owner, question.type) + ": malformed record in the answer from " + m_servers_text;
        return std::nullopt;
      }
      found = true;
      answer.ttl = std::min(answer.ttl, rr.ttl);
    }
    // Only a CNAME to a name the server does not answer for (another zone): ask for the target.
    if (!found && owner != question.current) return owner;
    answer.status = found ? Status::ok : Status::nodata;
    return std::nullopt;
  }

  void fail(const Question& question, int status, Answer& answer) const {
    const std::string asked = question_text(question.current, question.type);
    switch (status) {
      case ARES_ENODATA:
        answer.status = Status::nodata;
        return;
      case ARES_ENOTFOUND:
        answer.status = Status::nxdomain;
        return;
      case ARES_ETIMEOUT:
        answer.status = Status::timeout;
        answer.detail = asked + ": no answer from " + m_servers_text + " (" + std::to_string(m_tries) +
                        " tries, first timeout " + std::to_string(m_timeout_ms) + " ms)";
        return;
      default:
        break;
    }
    answer.status = Status::servfail;
    switch (status) {
      case ARES_ESERVFAIL:
        answer.detail = asked + ": server answered SERVFAIL";
        break;
      case ARES_EREFUSED:
        answer.detail = asked + ": server answered REFUSED";
        break;
      case ARES_EFORMERR:
        answer.detail = asked + ": server answered FORMERR";
        break;
      case ARES_ENOTIMP:
        answer.detail = asked + ": server answered NOTIMP";
        break;
      case ARES_ECONNREFUSED:
        answer.detail = asked + ": no usable answer from " + m_servers_text +
                        " (connection refused, or every server answered SERVFAIL, REFUSED or NOTIMP)";
        break;
      case ARES_EDESTRUCTION:
      case ARES_ECANCELLED:
        answer.detail = asked + ": resolver shut down before the answer came";
        break;
      default:
        answer.detail = asked + ": " + ares_strerror(status);
        break;
    }
  }

  ares_channel m_channel = nullptr;
  std::string m_servers_text;
  bool m_authoritative = false;
  int m_timeout_ms = 0;
  int m_tries = 0;
  int m_wake[2] = {-1, -1};
  std::thread m_thread;
  std::atomic<std::uint64_t> m_sent{0};
  std::atomic<std::uint64_t> m_tcp{0};
  std::map<ares_socket_t, short> m_sockets;  // only touched by the loop thread

  std::mutex m_mutex;
  std::deque<std::unique_ptr<Question>> m_queue;
  bool m_stopping = false;  // asked to stop
  bool m_stopped = false;   // the loop has ended
};

LiveResolver::LiveResolver(const LiveResolverOptions& options) : m_loop(std::make_unique<Loop>(options)) {}

LiveResolver::~LiveResolver() = default;

Answer LiveResolver::query(std::string_view name, RrType type) {
  return m_loop->query(name, type);
}

std::vector<Answer> LiveResolver::query_all(const std::vector<std::pair<std::string, RrType>>& questions) {
  std::vector<Answer> answers(questions.size());
  std::mutex mutex;
  std::condition_variable changed;
  std::size_t in_flight = 0;
  // A slot frees as soon as any answer comes: one dropped question waiting out its timeout does not
  // hold back the others.
  for (std::size_t i = 0; i < questions.size(); ++i) {
    {
      std::unique_lock lock(mutex);
      changed.wait(lock, [&] { return in_flight < k_max_in_flight; });
      ++in_flight;
    }
    m_loop->submit(questions[i].first, questions[i].second, [&, i](Answer&& answer) {
      answers[i] = std::move(answer);
      const std::lock_guard lock(mutex);
      --in_flight;
      changed.notify_all();
    });
  }
  std::unique_lock lock(mutex);
  changed.wait(lock, [&] { return in_flight == 0; });
  return answers;
}

std::uint64_t LiveResolver::tcp_connections() const {
  return m_loop->tcp_connections();
}

std::uint64_t LiveResolver::queries_sent() const {
  return m_loop->queries_sent();
}

}  // namespace spfctl::dns
