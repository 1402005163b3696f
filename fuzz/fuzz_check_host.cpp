// Hostile DNS as a master file: check_host, the expansion tree `check` shows, the policy map the
// planner works on, and flattening with its proof all finish on any zone, with counts that never
// wrap. Where check_host reaches a plain result and the policy map evaluates without guards, the
// two agree: the planner's meaning of a policy is the receivers'.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>

#include "dns/caching_resolver.hpp"
#include "dns/zone_file.hpp"
#include "dns/zone_resolver.hpp"
#include "error.hpp"
#include "plan/planner.hpp"
#include "plan/policy_map.hpp"
#include "spf/counts.hpp"
#include "spf/evaluator.hpp"
#include "spf/expansion.hpp"
#include "spf/parser.hpp"
#include "spf/select.hpp"

namespace {

using namespace spfctl;

void check_count(int count) {
  if (count < 0 || count > spf::k_count_ceiling) std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  dns::ZoneFile zone;
  try {
    zone = dns::parse_zone(text, "fuzz.zone", "example.com");
  } catch (const Error&) {
    return 0;
  }
  dns::ZoneResolver zones({zone});
  dns::CachingResolver resolver(zones);
  plan::PolicyMapper mapper(resolver);

  const spf::ExpansionTree tree = spf::expand(resolver, "example.com");
  check_count(tree.root.lookups);
  check_count(tree.root.void_lookups);

  const std::shared_ptr<const plan::RecordMap> policy = mapper.published("example.com");
  check_count(policy->lookups);
  for (const char* client : {"192.0.2.1", "198.51.100.7", "2001:db8::1"}) {
    const net::IpAddress ip = *net::IpAddress::parse(client);
    spf::CheckHostOptions options;
    options.timestamp = 1700000000;
    const spf::CheckHostResult result =
        spf::check_host(resolver, {ip, "user@example.com", "mx.example.org", ""}, options);
    check_count(result.lookups);
    const bool plain = result.result == spf::Result::pass || result.result == spf::Result::fail ||
                       result.result == spf::Result::softfail || result.result == spf::Result::neutral;
    if (!plain || !policy->ok()) continue;
    const plan::Outcome outcome = policy->map.at(ip);
    if (outcome.guards == 0 && outcome.redirect == 0 && outcome.result != result.result) std::abort();
  }

  // Flatten what is published, as `spfctl flatten` does, and prove it.
  const spf::SelectedRecord selected =
      spf::select_record(resolver.query("example.com", dns::RrType::TXT), "example.com");
  if (selected.outcome != spf::Selection::found) return 0;
  const spf::ParseResult parsed = spf::parse_record(selected.text);
  if (!parsed) return 0;
  plan::FlattenSettings settings;
  settings.mode = config::FlattenMode::full;
  const plan::DomainPlan planned = plan::plan_record(mapper, "example.com", parsed.record(), settings, {});
  check_count(planned.lookups);
  check_count(planned.lookups_unflattened);
  if (planned.ok() && (!planned.equivalent || planned.lookups > settings.lookup_budget)) std::abort();
  return 0;
}
