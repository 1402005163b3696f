#include "spf/evaluator.hpp"

#include <ctime>
#include <utility>
#include <vector>

#include "spf/macro.hpp"
#include "spf/parser.hpp"
#include "spf/ptr.hpp"
#include "spf/select.hpp"

namespace spfctl::spf {

namespace {

// include and redirect chains are bounded by the lookup limit; this only guards against a
// configured limit so high that recursion itself becomes the danger.
constexpr int k_max_depth = 64;

struct Outcome {
  Result result = Result::neutral;
  std::string explanation;
  std::string problem;
  std::string mechanism;
};

Outcome error(Result result, std::string problem) {
  return Outcome{result, {}, std::move(problem), {}};
}

// RFC 7208 4.3: a fully qualified domain name, not a domain literal.
bool is_checkable_domain(std::string_view name) {
  if (!name.empty() && name.back() == '.') name.remove_suffix(1);
  return dns::is_queryable(name) && name.find('.') != std::string_view::npos && !name.starts_with("[");
}

std::string failure_text(const dns::Answer& answer, std::string_view type, std::string_view name) {
  return std::string(type) + " lookup for " + dns::normalize_name(name) + " failed (" +
         std::string(dns::to_string(answer.status)) + ")";
}

struct Match {
  bool matched = false;
  std::optional<Outcome> error;
};

class Evaluator {
 public:
  Evaluator(dns::Resolver& resolver, const CheckHostOptions& options, MacroContext context)
      : m_resolver(resolver), m_options(options), m_context(std::move(context)) {}
  Evaluator(const Evaluator&) = delete;
  Evaluator& operator=(const Evaluator&) = delete;

  Outcome check(const std::string& domain, int depth);
  int lookups() const { return m_lookups; }
  int void_lookups() const { return m_void_lookups; }

 private:
  struct Target {
    std::string name;
    std::optional<Outcome> error;
  };

  Outcome evaluate(const Record& record, const std::string& domain, int depth);
  Match match(const Mechanism& mechanism, const MacroContext& context, int depth);
  Match match_addresses(const Mechanism& mechanism, const std::string& target, const std::string& term);
  Match match_mx(const Mechanism& mechanism, const std::string& target, const std::string& term);
  Match match_include(const std::string& target, const std::string& term, int depth);
  Target target(const std::optional<std::string>& domain_spec, const MacroContext& context);
  std::optional<Outcome> count_lookup(const std::string& term);
  std::optional<Outcome> count_void(const std::string& term);
  bool address_matches(const std::vector<net::IpAddress>& addresses, const Mechanism& mechanism) const;
  std::string validated_domain(const std::string& domain);
  std::string explain(const Record& record, const MacroContext& context);

  dns::Resolver& m_resolver;
  const CheckHostOptions& m_options;
  const MacroContext m_context;
  int m_lookups = 0;
  int m_void_lookups = 0;
  std::optional<std::vector<std::string>> m_validated_names;  // for %{p}, looked up once
  std::optional<Outcome> m_macro_error;                       // set when %{p} exceeds the limit
  bool m_explaining = false;  // exp= is looked up after the result: its lookups are not counted
};

Outcome Evaluator::check(const std::string& domain, int depth) {
  if (depth > k_max_depth) return error(Result::permerror, "include/redirect nested too deep");
  if (!is_checkable_domain(domain))
    return error(Result::none, "'" + printable(domain) + "' is not a fully qualified domain name");
  const dns::Answer answer = m_resolver.query(domain, dns::RrType::TXT);
  const SelectedRecord selected = select_record(answer, domain);
  switch (selected.outcome) {
    case Selection::failed:
      return error(Result::temperror, selected.message);
    case Selection::none:
      return error(Result::none, selected.message);
    case Selection::multiple:
      return error(Result::permerror, selected.message);
    case Selection::found:
      break;
  }
  const ParseResult parsed = parse_record(selected.text);
  if (!parsed)
    return error(Result::permerror,
                 "invalid SPF record at " + dns::normalize_name(domain) + ": " + parsed.error().message);
  return evaluate(parsed.record(), domain, depth);
}

Outcome Evaluator::evaluate(const Record& record, const std::string& domain, int depth) {
  MacroContext context = m_context;
  context.domain = domain;
  context.validated_domain = [this, domain] { return validated_domain(domain); };
  for (const Term& term : record.terms) {
    const Mechanism* mechanism = term.mechanism();
    if (!mechanism) continue;
    if (mechanism->counts_as_lookup())
      if (auto over = count_lookup(to_string(*mechanism))) return *over;
    Match matched = match(*mechanism, context, depth);
    if (matched.error) return *matched.error;
    if (!matched.matched) continue;
    Outcome outcome{to_result(mechanism->qualifier), {}, {}, to_string(*mechanism)};
    if (outcome.result == Result::fail) outcome.explanation = explain(record, context);
    return outcome;
  }
  const Modifier* redirect = record.redirect();
  if (!redirect) return Outcome{};
  const std::string term = to_string(*redirect);
  if (auto over = count_lookup(term)) return *over;
  Target redirected = target(redirect->value, context);
  if (redirected.error) return *redirected.error;
  Outcome outcome = check(redirected.name, depth + 1);
  if (outcome.result == Result::none)
    return error(Result::permerror, term + " has no SPF record (" + outcome.problem + ")");
  return outcome;
}

Match Evaluator::match(const Mechanism& mechanism, const MacroContext& context, int depth) {
  const net::IpAddress& ip = m_context.ip;
  switch (mechanism.kind) {
    case MechanismKind::all:
      return {true, {}};
    case MechanismKind::ip4:
      return {ip.is_v4() && ip.in_network(mechanism.network, mechanism.cidr4.value_or(32)), {}};
    case MechanismKind::ip6:
      return {!ip.is_v4() && ip.in_network(mechanism.network, mechanism.cidr6.value_or(128)), {}};
    default:
      break;
  }
  const std::string term = to_string(mechanism);
  Target found = target(mechanism.domain, context);
  if (found.error) return {false, found.error};
  switch (mechanism.kind) {
    case MechanismKind::include:
      return match_include(found.name, term, depth);
    case MechanismKind::a:
    case MechanismKind::exists:
      return match_addresses(mechanism, found.name, term);
    case MechanismKind::mx:
      return match_mx(mechanism, found.name, term);
    case MechanismKind::ptr: {
      // RFC 7208 5.5: a failed PTR lookup is no match, not an error.
      const ValidatedNames validated =
          validate_ptr_names(m_resolver, ip, static_cast<std::size_t>(m_options.ptr_limit));
      if (validated.ptr_status == dns::Status::nxdomain || validated.ptr_status == dns::Status::nodata)
        if (auto over = count_void(term)) return {false, over};
      if (!m_validated_names && validated.ptr_status == dns::Status::ok) m_validated_names = validated.names;
      if (!dns::is_queryable(found.name)) return {};
      for (const std::string& name : validated.names)
        if (dns::in_zone(dns::normalize_name(name), dns::normalize_name(found.name))) return {true, {}};
      return {};
    }
    default:
      return {};
  }
}

Match Evaluator::match_include(const std::string& target, const std::string& term, int depth) {
  const Outcome outcome = check(target, depth + 1);
  switch (outcome.result) {
    case Result::pass:
      return {true, {}};
    case Result::fail:
    case Result::softfail:
    case Result::neutral:
      return {};
    case Result::none:
      return {false, error(Result::permerror, term + " has no SPF record (" + outcome.problem + ")")};
    case Result::temperror:
    case Result::permerror:
      return {false, error(outcome.result, outcome.problem)};
  }
  return {};
}

// a: the target's addresses of the client's family; exists: its A records, whatever the family.
Match Evaluator::match_addresses(const Mechanism& mechanism, const std::string& target,
                                 const std::string& term) {
  const bool exists = mechanism.kind == MechanismKind::exists;
  if (!dns::is_queryable(target)) return {false, count_void(term)};
  const dns::RrType type = exists || m_context.ip.is_v4() ? dns::RrType::A : dns::RrType::AAAA;
  const dns::Answer answer = m_resolver.query(target, type);
  if (answer.failed())
    return {false,
            error(Result::temperror, failure_text(answer, dns::to_string(type), target) + " for " + term)};
  if (answer.is_void() || answer.addresses.empty()) return {false, count_void(term)};
  return {exists || address_matches(answer.addresses, mechanism), {}};
}

Match Evaluator::match_mx(const Mechanism& mechanism, const std::string& target, const std::string& term) {
  if (!dns::is_queryable(target)) return {false, count_void(term)};
  const dns::Answer answer = m_resolver.query(target, dns::RrType::MX);
  if (answer.failed())
    return {false, error(Result::temperror, failure_text(answer, "MX", target) + " for " + term)};
  if (answer.is_void() || answer.mx.empty()) return {false, count_void(term)};
  std::vector<std::string> exchanges;
  for (const dns::MxRecord& mx : answer.mx)
    if (!mx.exchange.empty()) exchanges.push_back(mx.exchange);  // a null MX ("0 .") names no host
  if (exchanges.size() > static_cast<std::size_t>(m_options.mx_limit))
    return {false, error(Result::permerror, term + ": " + dns::normalize_name(target) + " has " +
                                                std::to_string(exchanges.size()) + " MX records (more than " +
                                                std::to_string(m_options.mx_limit) + ")")};
  const dns::RrType type = m_context.ip.is_v4() ? dns::RrType::A : dns::RrType::AAAA;
  for (const std::string& exchange : exchanges) {
    const dns::Answer addresses = m_resolver.query(exchange, type);
    if (addresses.failed())
      return {false, error(Result::temperror,
                           failure_text(addresses, dns::to_string(type), exchange) + " for " + term)};
    if (address_matches(addresses.addresses, mechanism)) return {true, {}};
  }
  return {};
}

bool Evaluator::address_matches(const std::vector<net::IpAddress>& addresses,
                                const Mechanism& mechanism) const {
  const net::IpAddress& ip = m_context.ip;
  const int prefix = ip.is_v4() ? mechanism.cidr4.value_or(32) : mechanism.cidr6.value_or(128);
  for (const net::IpAddress& address : addresses)
    if (ip.in_network(address.unmapped(), prefix)) return true;
  return false;
}

Evaluator::Target Evaluator::target(const std::optional<std::string>& domain_spec,
                                    const MacroContext& context) {
  if (!domain_spec) return {context.domain, {}};
  Expansion expansion = expand_domain_spec(*domain_spec, context);
  if (m_macro_error) return {{}, std::exchange(m_macro_error, std::nullopt)};
  // The parser has checked every domain-spec, so expansion cannot fail on syntax here.
  return {std::move(expansion.text), {}};
}

std::optional<Outcome> Evaluator::count_lookup(const std::string& term) {
  if (++m_lookups <= m_options.lookup_limit) return std::nullopt;
  return error(Result::permerror, "more than " + std::to_string(m_options.lookup_limit) +
                                      " DNS lookups (limit reached at '" + term + "')");
}

std::optional<Outcome> Evaluator::count_void(const std::string& term) {
  if (++m_void_lookups <= m_options.void_limit) return std::nullopt;
  return error(Result::permerror, "more than " + std::to_string(m_options.void_limit) +
                                      " void lookups (DNS answers without records; limit reached at '" +
                                      term + "')");
}

std::string Evaluator::validated_domain(const std::string& domain) {
  if (!m_validated_names) {
    if (!m_explaining) {
      if (auto over = count_lookup("%{p}")) {
        m_macro_error = std::move(over);
        return "unknown";
      }
    }
    m_validated_names =
        validate_ptr_names(m_resolver, m_context.ip, static_cast<std::size_t>(m_options.ptr_limit)).names;
  }
  return choose_validated_name(*m_validated_names, domain);
}

std::string Evaluator::explain(const Record& record, const MacroContext& context) {
  m_explaining = true;
  std::string text;
  if (const Modifier* exp = record.exp()) {
    const Expansion name = expand_domain_spec(exp->value, context);
    const dns::Answer answer = name.ok && dns::is_queryable(name.text)
                                   ? m_resolver.query(name.text, dns::RrType::TXT)
                                   : dns::Answer{};
    // RFC 7208 6.2: a DNS error, no record, several records or a syntax error ignore exp=.
    if (answer.status == dns::Status::ok && answer.txt.size() == 1) {
      std::string joined;
      for (const std::string& piece : answer.txt.front()) joined += piece;
      Expansion expanded = expand_macros(joined, context, MacroScope::explanation);
      if (expanded.ok) text = std::move(expanded.text);
    }
  }
  if (text.empty()) {
    Expansion fallback = expand_macros(m_options.default_explanation, context, MacroScope::explanation);
    text = fallback.ok ? std::move(fallback.text) : m_options.default_explanation;
  }
  m_explaining = false;
  return text;
}

}  // namespace

CheckHostResult check_host(dns::Resolver& resolver, const CheckHostInput& input,
                           const CheckHostOptions& options) {
  MacroContext context = make_macro_context(input.ip, input.sender, input.helo);
  context.receiver = options.receiver;
  context.timestamp = options.timestamp.value_or(static_cast<std::int64_t>(std::time(nullptr)));
  std::string domain = input.domain.empty() ? context.sender_domain : input.domain;
  if (!domain.empty() && domain.back() == '.') domain.pop_back();

  CheckHostResult result;
  result.domain = domain;
  Evaluator evaluator(resolver, options, std::move(context));
  Outcome outcome = evaluator.check(domain, 0);
  result.result = outcome.result;
  result.explanation = outcome.result == Result::fail ? std::move(outcome.explanation) : std::string();
  result.mechanism = std::move(outcome.mechanism);
  result.problem = std::move(outcome.problem);
  result.lookups = evaluator.lookups();
  result.void_lookups = evaluator.void_lookups();
  return result;
}

}  // namespace spfctl::spf
