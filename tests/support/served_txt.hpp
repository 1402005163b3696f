// What a DNS server answers for TXT at a name, as receivers read it: each record's strings joined,
// sorted. For tests that check what a provider published by asking the server itself.
#pragma once

#include <algorithm>
#include <stdexcept>
#include <string>
#include <vector>

#include "dns/live_resolver.hpp"
#include "providers/provider.hpp"

namespace spfctl::testing {

// Asks `server` ("ADDR:PORT"); throws std::runtime_error when it does not answer.
inline std::vector<std::string> served_txt(const std::string& server, const std::string& name) {
  dns::LiveResolver resolver({{server}, 1000, 2});
  const dns::Answer answer = resolver.query(name, dns::RrType::TXT);
  if (answer.failed())
    throw std::runtime_error("no TXT answer for " + name + " from " + server + ": " + answer.detail);
  std::vector<std::string> values;
  for (const std::vector<std::string>& strings : answer.txt)
    values.push_back(providers::TxtValue{strings}.joined());
  std::sort(values.begin(), values.end());
  return values;
}

}  // namespace spfctl::testing
