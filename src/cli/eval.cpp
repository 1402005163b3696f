// spfctl eval: what a receiver's SPF check says for one client address and sender.
#include <iostream>
#include <nlohmann/json.hpp>

#include "cli/commands.hpp"
#include "cli/context.hpp"
#include "error.hpp"
#include "spf/evaluator.hpp"
#include "util/text.hpp"

namespace spfctl::cli {

namespace {}  // namespace

int run_eval(const GlobalOptions& globals, const EvalOptions& args) {
  const auto ip = net::IpAddress::parse(args.ip);
  if (!ip)
    throw Error("--ip '" + args.ip + "' is not an IPv4 or IPv6 address (e.g. 192.0.2.10 or 2001:db8::1)");
  if (args.domain.empty() && args.sender.empty() && args.helo.empty())
    throw Error("nothing to check: give a DOMAIN, --sender ADDRESS or --helo NAME");
  // DOMAIN names the policy to read, so it must be a name; --sender and --helo are what an SMTP
  // client sent, which check_host() judges as a receiver would (a bad HELO name gives "none").
  const std::string domain = args.domain.empty() ? std::string() : checked_domain(args.domain);

  RunResolver resolver(globals);
  spf::CheckHostInput input{*ip, args.sender, args.helo, domain};
  // With DOMAIN alone, check it as the HELO identity (postmaster@DOMAIN), so %{s}, %{l} and %{h}
  // expand to something sensible.
  if (input.sender.empty() && input.helo.empty()) input.helo = domain;
  const spf::CheckHostOptions options;
  const spf::CheckHostResult result = spf::check_host(resolver.get(), input, options);

  if (globals.json) {
    nlohmann::json out = {{"result", spf::to_string(result.result)},
                          {"explanation", result.explanation},
                          {"domain", result.domain},
                          {"ip", ip->to_string()},
                          {"mechanism", result.mechanism},
                          {"problem", result.problem},
                          {"lookups", result.lookups},
                          {"void_lookups", result.void_lookups},
                          {"dns_queries", resolver.queries_sent()}};
    std::cout << out.dump(2) << "\n";
    return 0;
  }
  const Style style(globals);
  std::string word(spf::to_string(result.result));
  switch (result.result) {
    case spf::Result::pass:
      word = style.green(word);
      break;
    case spf::Result::fail:
    case spf::Result::permerror:
    case spf::Result::temperror:
      word = style.red(word);
      break;
    default:
      word = style.yellow(word);
      break;
  }
  std::cout << word << "\n";
  if (!result.explanation.empty()) std::cout << util::printable(result.explanation) << "\n";
  if (globals.quiet) return 0;
  if (!result.problem.empty()) std::cout << style.dim("problem: ") << util::printable(result.problem) << "\n";
  std::cout << style.dim("domain: ") << util::printable(result.domain) << "\n";
  if (!result.mechanism.empty())
    std::cout << style.dim("matched: ") << util::printable(result.mechanism) << "\n";
  std::cout << style.dim("lookups: ") << result.lookups << "/" << options.lookup_limit
            << ", void lookups: " << result.void_lookups << "/" << options.void_limit << "\n";
  if (globals.verbose > 0) std::cout << style.dim("dns queries: ") << resolver.queries_sent() << "\n";
  return 0;
}

}  // namespace spfctl::cli
