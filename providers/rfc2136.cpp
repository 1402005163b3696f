#include "providers/rfc2136.hpp"

#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstring>
#include <ctime>
#include <set>
#include <sstream>

#include "error.hpp"
#include "util/text.hpp"

namespace spfctl::providers {

namespace {

using rfc2136::Bytes;
using rfc2136::Response;

constexpr std::uint16_t k_type_soa = 6;
constexpr std::uint16_t k_type_txt = 16;
constexpr std::uint8_t k_noerror = 0;
constexpr std::uint8_t k_nxdomain = 3;
constexpr std::uint8_t k_refused = 5;
constexpr std::uint8_t k_yxrrset = 7;
constexpr std::uint8_t k_nxrrset = 8;
constexpr std::uint8_t k_notauth = 9;
constexpr std::uint8_t k_notzone = 10;
constexpr std::uint16_t k_badkey = 17;
constexpr std::uint16_t k_badtime = 18;

// A TSIG key name as knotd and BIND accept it in practice: labels of letters, digits, '-' and '_'.
std::optional<std::string> check_key_name(std::string_view text) {
  std::string name = dns::normalize_name(text);
  if (name.empty() || name.size() > 253) return std::nullopt;
  std::size_t label = 0;
  for (const char c : name) {
    if (c == '.') {
      if (label == 0) return std::nullopt;
      label = 0;
      continue;
    }
    const bool ok = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_';
    if (!ok || ++label > 63) return std::nullopt;
  }
  if (label == 0) return std::nullopt;
  return name;
}

std::string parent_of(std::string_view name) {
  const auto dot = name.find('.');
  return dot == std::string_view::npos ? std::string() : std::string(name.substr(dot + 1));
}

// The outcome of one TCP exchange with the server: the response, or why there is none.
struct Exchange {
  std::optional<Bytes> response;
  std::string failure;     // "cannot connect to ...", "no answer from ... within 10 s", ...
  bool timed_out = false;  // failure is a timeout
};

using Clock = std::chrono::steady_clock;

// Waits until `fd` is ready for `events` or `deadline` passes; false on timeout.
bool wait_for(int fd, short events, Clock::time_point deadline) {
  for (;;) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
    if (left <= 0) return false;
    pollfd p{fd, events, 0};
    const int ready = poll(&p, 1, static_cast<int>(std::min<long long>(left, 1000 * 60)));
    if (ready > 0) return true;
    if (ready < 0 && errno != EINTR) return true;  // the next socket call reports the error
  }
}

std::string seconds_text(std::chrono::milliseconds timeout) {
  const auto ms = timeout.count();
  return ms % 1000 == 0 ? std::to_string(ms / 1000) + " s" : std::to_string(ms) + " ms";
}

// Sends one length-prefixed message over a new TCP connection and reads one answer, all within
// `timeout`. The server's answers come only over TCP: UDP could truncate them, and updates
// belong on a connection anyway.
Exchange tcp_exchange(const dns::ServerAddress& server, const Bytes& message,
                      std::chrono::milliseconds timeout) {
  const std::string where = server.to_string();
  const auto deadline = Clock::now() + timeout;
  sockaddr_storage address{};
  socklen_t length = 0;
  if (server.address.is_v4()) {
    auto* v4 = reinterpret_cast<sockaddr_in*>(&address);
    v4->sin_family = AF_INET;
    v4->sin_port = htons(server.port);
    std::memcpy(&v4->sin_addr, server.address.bytes().data(), 4);
    length = sizeof(sockaddr_in);
  } else {
    auto* v6 = reinterpret_cast<sockaddr_in6*>(&address);
    v6->sin6_family = AF_INET6;
    v6->sin6_port = htons(server.port);
    std::memcpy(&v6->sin6_addr, server.address.bytes().data(), 16);
    length = sizeof(sockaddr_in6);
  }
  const int fd = socket(address.ss_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  if (fd < 0) return {std::nullopt, std::string("cannot open a TCP socket: ") + std::strerror(errno)};
  struct Closer {
    int fd;
    ~Closer() { close(fd); }
  } closer{fd};
  const Exchange timed_out{std::nullopt, "no answer from " + where + " within " + seconds_text(timeout),
                           true};

  if (connect(fd, reinterpret_cast<const sockaddr*>(&address), length) != 0 && errno != EINPROGRESS)
    return {std::nullopt, "cannot connect to " + where + " over TCP: " + std::strerror(errno)};
  if (!wait_for(fd, POLLOUT, deadline)) return timed_out;
  int error = 0;
  socklen_t error_length = sizeof error;
  getsockopt(fd, SOL_SOCKET, SO_ERROR, &error, &error_length);
  if (error != 0) return {std::nullopt, "cannot connect to " + where + " over TCP: " + std::strerror(error)};

  Bytes out(2 + message.size());
  out[0] = static_cast<std::uint8_t>(message.size() >> 8);
  out[1] = static_cast<std::uint8_t>(message.size() & 0xff);
  std::copy(message.begin(), message.end(), out.begin() + 2);
  for (std::size_t sent = 0; sent < out.size();) {
    if (!wait_for(fd, POLLOUT, deadline)) return timed_out;
    const ssize_t n = send(fd, out.data() + sent, out.size() - sent, MSG_NOSIGNAL);
    if (n < 0 && errno != EAGAIN && errno != EINTR)
      return {std::nullopt, "sending to " + where + " failed: " + std::strerror(errno)};
    if (n > 0) sent += static_cast<std::size_t>(n);
  }

  Bytes in;
  std::size_t wanted = 2;
  bool have_length = false;
  while (in.size() < wanted) {
    if (!wait_for(fd, POLLIN, deadline)) return timed_out;
    std::uint8_t buffer[4096];
    const ssize_t n = recv(fd, buffer, std::min(sizeof buffer, wanted - in.size()), 0);
    if (n == 0) return {std::nullopt, where + " closed the connection without answering"};
    if (n < 0) {
      if (errno == EAGAIN || errno == EINTR) continue;
      return {std::nullopt, "reading from " + where + " failed: " + std::strerror(errno)};
    }
    in.insert(in.end(), buffer, buffer + n);
    if (!have_length && in.size() == 2) {
      wanted = 2 + (static_cast<std::size_t>(in[0]) << 8 | in[1]);
      have_length = true;
    }
  }
  return {Bytes(in.begin() + 2, in.end()), "", false};
}

}  // namespace

namespace {

// The algorithm `text` names, as tsig_algorithms() spells it; nullopt when it is none of them.
std::optional<std::string> algorithm_of(std::string_view text) {
  std::string lower = util::lowercase(text);
  if (lower == "hmac-md5.sig-alg.reg.int") lower = "hmac-md5";
  const auto& known = rfc2136::tsig_algorithms();
  if (std::find(known.begin(), known.end(), lower) == known.end()) return std::nullopt;
  return lower;
}

}  // namespace

std::vector<SettingProblem> check_rfc2136_settings(const ProviderSettings& settings) {
  std::vector<SettingProblem> problems;
  const bool name = settings.has("key_name");
  const bool secret = settings.has("key_secret_env");
  if (secret && !name)
    problems.push_back(
        {"key_secret_env", "needs key_name too: the name of the TSIG key as the server knows it"});
  if (name && !secret)
    problems.push_back({"key_name",
                        "needs key_secret_env too: the name of the environment variable holding the "
                        "key's base64 secret"});
  if (name && !check_key_name(settings.text("key_name")))
    problems.push_back(
        {"key_name", "is " + util::quoted(settings.text("key_name")) +
                         ", not a TSIG key name (labels of letters, digits, '-' and '_', as in "
                         "`keymgr -t spfctl-key hmac-sha256`)"});
  if (settings.has("key_algorithm")) {
    if (!name && !secret)
      problems.push_back({"key_algorithm", "needs key_name and key_secret_env: the TSIG key it belongs to"});
    else if (!algorithm_of(settings.text("key_algorithm")))
      problems.push_back({"key_algorithm", "is " + util::quoted(settings.text("key_algorithm")) +
                                               " (one of: " + util::joined(rfc2136::tsig_algorithms()) +
                                               ")"});
  }
  return problems;
}

Rfc2136Settings rfc2136_settings(const ProviderSettings& settings, const ProviderEnvironment& environment) {
  Rfc2136Settings out;
  out.provider_name = settings.name;
  out.server = dns::parse_server_address(settings.text("server"));
  std::istringstream zones(settings.text("zones"));  // checked: lowercase zone names, comma-separated
  for (std::string zone; std::getline(zones, zone, ',');) out.zones.push_back(zone);
  out.timeout = settings.seconds("timeout", out.timeout);
  if (!settings.has("key_name")) return out;
  rfc2136::TsigKey key;
  key.name = *check_key_name(settings.text("key_name"));
  key.algorithm = algorithm_of(settings.text("key_algorithm", "hmac-sha256")).value_or("hmac-sha256");
  out.key_secret_env = settings.text("key_secret_env");
  const std::string secret = environment.secret(settings, "key_secret_env");
  auto bytes = rfc2136::decode_base64(secret);
  if (!bytes)
    throw Error(
        settings.values.find("key_secret_env")->second.location.to_string() + ": the environment variable " +
        out.key_secret_env + " named by key_secret_env in " + settings.table() +
        " does not hold a base64 TSIG secret (the `secret:` that `keymgr -t NAME hmac-sha256` prints, "
        "or the `secret` of tsig-keygen)");
  key.secret = std::move(*bytes);
  out.key_secret_text = secret;
  out.key = std::move(key);
  return out;
}

Rfc2136Provider::Rfc2136Provider(Rfc2136Settings settings)
    : m_settings(std::move(settings)), m_random(std::random_device{}()) {
  m_redactor.add_secret(m_settings.key_secret_text);
}

const Capabilities& Rfc2136Provider::capabilities() const {
  return rfc2136_capabilities();
}

const Capabilities& rfc2136_capabilities() {
  static const Capabilities capabilities{
      .max_string_bytes = 255, .multi_string = true, .batch = true, .replaces_rrset = false};
  return capabilities;
}

void Rfc2136Provider::fail(const std::string& message, Failure failure) const {
  throw ProviderError(failure, m_redactor.redact("rfc2136: " + message));
}

std::string Rfc2136Provider::server_text() const {
  return "the server at " + m_settings.server.to_string();
}

std::uint16_t Rfc2136Provider::next_id() {
  const std::lock_guard lock(m_mutex);
  return static_cast<std::uint16_t>(m_random() & 0xffff);
}

Response Rfc2136Provider::exchange(Bytes message, const std::string& subject, const std::string& scope,
                                   bool may_have_applied) {
  const auto& key = m_settings.key;
  Bytes request_mac;
  if (key) request_mac = rfc2136::tsig_sign(message, *key, static_cast<std::uint64_t>(std::time(nullptr)));
  const Exchange result = tcp_exchange(m_settings.server, message, m_settings.timeout);
  if (!result.response) {
    std::string text = result.failure + " (" + subject + ")";
    if (may_have_applied && result.timed_out)
      text += "; the update may or may not have been applied: run plan to see what is published";
    else if (result.timed_out)
      text += "; check `server` and that the server answers over TCP, or raise `timeout`";
    fail(text, may_have_applied && result.timed_out ? Failure::unknown_outcome : Failure::transient);
  }
  Response response;
  try {
    response = rfc2136::decode_response(*result.response);
  } catch (const Error& e) {
    fail(server_text() + " sent an answer spfctl cannot read (" + subject + "): " + e.what());
  }
  if (response.id != static_cast<std::uint16_t>(message[0] << 8 | message[1]))
    fail(server_text() + " answered another message than the one sent (" + subject + ")");
  if (!key) return response;

  const std::string key_advice =
      ": check key_name, key_algorithm and the secret in $" + m_settings.key_secret_env;
  const auto check = rfc2136::tsig_verify(*result.response, *key, request_mac,
                                          static_cast<std::uint64_t>(std::time(nullptr)));
  using Status = rfc2136::TsigCheck::Status;
  // NOTAUTH also means "not authoritative for the zone"; with a valid signature the key was fine.
  if (check.status == Status::error || (response.rcode == k_notauth && check.status != Status::valid)) {
    const std::string codes =
        rfc2136::rcode_name(response.rcode) +
        (check.status == Status::error ? ", " + rfc2136::tsig_error_name(check.error) : "");
    if (check.status == Status::error && check.error == k_badtime)
      fail(server_text() + " refused the time of the TSIG signature (" + codes + ") " + scope +
               ": the clocks of this machine and of the server differ by more than 5 minutes",
           Failure::refused);
    // knotd also answers BADKEY for a key its ACL does not allow for the zone.
    const std::string acl_advice =
        check.status == Status::error && check.error == k_badkey
            ? ", and that the server's ACL for the zone allows the key (knot: an acl with key: " + key->name +
                  " and action: update; BIND: allow-update { key \"" + key->name + "\"; };)"
            : "";
    fail(server_text() + " refused the TSIG key " + util::quoted(key->name) + " (" + codes + ") " + scope +
             key_advice + acl_advice,
         Failure::refused);
  }
  // Servers answer some refusals (REFUSED for a zone they do not serve) unsigned. A failure is
  // reported as such either way; only answers that are acted on must be signed.
  const bool acted_on = response.rcode == k_noerror || response.rcode == k_nxdomain;
  if (check.status != Status::valid && acted_on) {
    std::string text = "the answer of " + server_text() + " (" + subject + ") ";
    text += check.status == Status::missing ? "is not signed with the TSIG key " + util::quoted(key->name)
            : check.status == Status::bad_time
                ? "carries a TSIG time more than 5 minutes off this machine's clock"
                : "carries a TSIG signature that key " + util::quoted(key->name) + " does not verify" +
                      key_advice;
    if (may_have_applied)
      text += "; the update may or may not have been applied: run plan to see what is published";
    fail(text, may_have_applied ? Failure::unknown_outcome : Failure::failed);
  }
  return response;
}

std::string Rfc2136Provider::zone_for(std::string_view name_text) {
  const std::string name = dns::normalize_name(name_text);
  if (!m_settings.zones.empty()) {
    const std::string* best = nullptr;
    for (const std::string& zone : m_settings.zones)
      if (dns::in_zone(name, zone) && (!best || zone.size() > best->size())) best = &zone;
    if (!best)
      fail(util::quoted(name) + " is in none of the zones of [providers." + m_settings.provider_name +
           "] (zones = \"" + util::joined(m_settings.zones) + "\"): add its zone to `zones`");
    return *best;
  }
  {
    const std::lock_guard lock(m_mutex);
    if (const auto it = m_zones.find(name); it != m_zones.end()) return it->second;
  }
  std::string answered;
  for (std::string candidate = name;; candidate = parent_of(candidate)) {
    const std::string subject = "the SOA query for " + util::quoted(candidate.empty() ? "." : candidate);
    const Response response = exchange(rfc2136::encode_query(candidate, k_type_soa, next_id()), subject,
                                       "while looking for the zone of " + util::quoted(name), false);
    std::optional<std::string> zone;
    if (response.authoritative && (response.rcode == k_noerror || response.rcode == k_nxdomain)) {
      if (std::find(response.answer_soa.begin(), response.answer_soa.end(), candidate) !=
          response.answer_soa.end())
        zone = candidate;
      else if (response.authority_soa.size() == 1 && dns::in_zone(candidate, response.authority_soa.front()))
        zone = response.authority_soa.front();
    } else if (response.rcode != k_refused && response.rcode != k_notauth && response.rcode != k_noerror &&
               response.rcode != k_nxdomain) {
      fail(server_text() + " answered " + rfc2136::rcode_name(response.rcode) + " to " + subject +
           " while looking for the zone of " + util::quoted(name));
    }
    if (zone) {
      const std::lock_guard lock(m_mutex);
      m_zones[name] = *zone;
      return *zone;
    }
    if (answered.empty()) answered = rfc2136::rcode_name(response.rcode);
    if (candidate.empty()) break;
  }
  fail(server_text() + " is not authoritative for any zone containing " + util::quoted(name) +
       " (it answered " + answered +
       "): check `server`, which must be the zone's primary, or list the zone in `zones`");
}

std::vector<TxtRecordSet> Rfc2136Provider::list(std::string_view zone_text,
                                                const std::vector<std::string>& names) {
  const std::string zone = dns::normalize_name(zone_text);
  std::vector<TxtRecordSet> sets;
  for (const std::string& name_text : names) {
    const std::string name = dns::normalize_name(name_text);
    if (!dns::in_zone(name, zone)) fail(util::quoted(name) + " is not in zone " + util::quoted(zone));
    const std::string subject = "the TXT query for " + util::quoted(name) + " in zone " + util::quoted(zone);
    const Response response = exchange(rfc2136::encode_query(name, k_type_txt, next_id()), subject,
                                       "for zone " + util::quoted(zone), false);
    if (response.rcode == k_refused)
      fail(server_text() + " refused " + subject + " (REFUSED): it does not serve the zone; check `server`");
    if (response.rcode != k_noerror && response.rcode != k_nxdomain)
      fail(server_text() + " answered " + rfc2136::rcode_name(response.rcode) + " to " + subject);
    if (!response.authoritative)
      fail(server_text() + " is not authoritative for zone " + util::quoted(zone) + " (" + subject +
           " came back without the AA flag): `server` must be the zone's primary");
    TxtRecordSet set;
    set.name = name;
    for (const auto& txt : response.txt) {
      if (txt.name != name) continue;
      set.ttl = set.values.empty() ? txt.ttl : std::min(set.ttl, txt.ttl);
      set.values.push_back(txt.value);
    }
    if (!set.values.empty()) sets.push_back(std::move(set));
  }
  return sets;
}

void Rfc2136Provider::apply(std::string_view zone_text, const std::vector<Change>& changes) {
  if (changes.empty()) return;
  const std::string zone = dns::normalize_name(zone_text);
  std::vector<std::string> names;
  for (const Change& change : changes) {
    if (!dns::in_zone(change.name, zone))
      fail(util::quoted(change.name) + " is not in zone " + util::quoted(zone));
    if (std::find(names.begin(), names.end(), change.name) == names.end()) names.push_back(change.name);
  }
  const std::string subject = "the update of zone " + util::quoted(zone) + " with " +
                              std::to_string(changes.size()) + (changes.size() == 1 ? " change" : " changes");
  const Bytes message = rfc2136::encode_update(rfc2136::build_update(zone, changes), next_id());
  const Response response = exchange(message, subject, "for zone " + util::quoted(zone), true);
  const std::string nothing = "; nothing was applied";
  switch (response.rcode) {
    case k_noerror:
      return;
    case k_yxrrset:
    case k_nxrrset:
      fail("the TXT records at " + util::joined(names) + " in zone " + util::quoted(zone) +
               " changed since spfctl read them (the server answered " + rfc2136::rcode_name(response.rcode) +
               " to the update's prerequisites)" + nothing + ": run plan again",
           Failure::drift);
    case k_refused:
      fail(server_text() + " refused " + subject + " (REFUSED)" + nothing + ": its update ACL must allow " +
               (m_settings.key
                    ? "the key " + util::quoted(m_settings.key->name) + " (knot: an acl with key: " +
                          m_settings.key->name + " and action: update; BIND: allow-update { key \"" +
                          m_settings.key->name + "\"; };)"
                    : "this machine's address (knot: an acl with address: and action: update; BIND: "
                      "allow-update { ADDRESS; };)"),
           Failure::refused);
    case k_notauth:
      fail(server_text() + " is not authoritative for zone " + util::quoted(zone) + " (NOTAUTH)" + nothing +
           ": `server` must be the zone's primary");
    case k_notzone:
      fail(server_text() + " answered NOTZONE to " + subject + ": a name is outside the zone" + nothing);
    default:
      fail(server_text() + " answered " + rfc2136::rcode_name(response.rcode) + " to " + subject + nothing);
  }
}

std::unique_ptr<Provider> make_rfc2136(const ProviderSettings& settings,
                                       const ProviderEnvironment& environment) {
  return std::make_unique<Rfc2136Provider>(rfc2136_settings(settings, environment));
}

}  // namespace spfctl::providers
