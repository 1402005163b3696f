// Asks real DNS servers, through c-ares. One event-loop thread owns the c-ares channel (c-ares 1.18
// channels are not thread-safe); query() hands each question to it and waits, so many threads ask
// at once and many questions are in flight together.
//
// Answers: records present → ok; NOERROR without them → nodata; NXDOMAIN → nxdomain; no answer
// within the timeout and tries → timeout; SERVFAIL, REFUSED, FORMERR, NOTIMP and local failures →
// servfail, with `detail` naming what the server answered. Truncated UDP answers are retried over
// TCP. CNAMEs are followed: within an answer, and by asking again for the target when a server
// (typically an authoritative one) answers with the CNAME only; chains are bounded.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "dns/resolver.hpp"
#include "net/ip.hpp"

namespace spfctl::dns {

struct ServerAddress {
  net::IpAddress address;
  std::uint16_t port = 53;

  // "192.0.2.1:53" or "[2001:db8::1]:53".
  std::string to_string() const;
  bool operator==(const ServerAddress&) const = default;
};

// Parses a `--resolver` value: "ADDR", "ADDR:PORT", "[IPV6]:PORT", "[IPV6]" or "IPV6" (an IPv6
// address without brackets takes no port). Throws spfctl::Error naming the bad value and the
// accepted forms.
ServerAddress parse_server_address(std::string_view text);

struct LiveResolverOptions {
  // Servers to ask, in the forms parse_server_address() accepts; empty: those of /etc/resolv.conf.
  std::vector<std::string> servers;
  // Time to wait for the first try of a question at each server. c-ares doubles it for each later
  // round of tries, so a question that is never answered takes timeout_ms × (2^tries − 1) in all.
  int timeout_ms = 2000;
  // Rounds of tries over the servers.
  int tries = 2;
  // Ask as a client of authoritative servers: without recursion (RD clear), and take only answers
  // the server gives with authority (AA set); any other answer is servfail, "answered without
  // authority". For reading a zone's records from its own nameservers, never from a cache.
  bool authoritative = false;
};

class LiveResolver : public Resolver {
 public:
  // Throws spfctl::Error for an invalid server, timeout or tries, or when c-ares cannot start.
  explicit LiveResolver(const LiveResolverOptions& options);
  // Stops the event loop. No query() may be running or start any more.
  ~LiveResolver() override;
  LiveResolver(const LiveResolver&) = delete;
  LiveResolver& operator=(const LiveResolver&) = delete;

  Answer query(std::string_view name, RrType type) override;
  // Keeps up to k_max_in_flight of the questions in flight at once; any answer frees a slot. (256
  // at once made a local knotd drop some, each costing a 2 s timeout; 128 did not.)
  std::vector<Answer> query_all(const std::vector<std::pair<std::string, RrType>>& questions) override;
  static constexpr std::size_t k_max_in_flight = 128;
  // Questions sent, CNAME targets asked again included (retries of one question are not counted).
  std::uint64_t queries_sent() const override;
  // TCP connections opened: answers over the EDNS0 payload size (1232 bytes) come over TCP.
  std::uint64_t tcp_connections() const;

 private:
  class Loop;
  std::unique_ptr<Loop> m_loop;
};

}  // namespace spfctl::dns
