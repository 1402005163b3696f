#include "plan/policy_map.hpp"

#include <algorithm>
#include <utility>

#include "spf/counts.hpp"
#include "spf/parser.hpp"

namespace spfctl::plan {

namespace {

constexpr std::size_t k_max_mx_names = 10;

bool has_macro(const std::optional<std::string>& spec) {
  return spec && spec->find('%') != std::string::npos;
}

// The term without its qualifier: the same term with another qualifier is the same guard test.
std::string unqualified(const spf::Mechanism& mechanism) {
  spf::Mechanism bare = mechanism;
  bare.qualifier = spf::Qualifier::pass;
  bare.explicit_qualifier = false;
  return spf::to_string(bare);
}

std::string failure(const dns::Answer& answer, dns::RrType type, std::string_view name) {
  return std::string(dns::to_string(type)) + " lookup for " + dns::normalize_name(name) + " failed (" +
         std::string(dns::to_string(answer.status)) + (answer.detail.empty() ? "" : ": " + answer.detail) +
         ")";
}

void merge_names(std::vector<std::string>& into, const std::vector<std::string>& from) {
  std::vector<std::string> merged;
  merged.reserve(into.size() + from.size());
  std::set_union(into.begin(), into.end(), from.begin(), from.end(), std::back_inserter(merged));
  into = std::move(merged);
}

bool intersects(const std::vector<std::string>& sorted_a, const std::vector<std::string>& sorted_b) {
  auto a = sorted_a.begin();
  auto b = sorted_b.begin();
  while (a != sorted_a.end() && b != sorted_b.end()) {
    if (*a == *b) return true;
    if (*a < *b)
      ++a;
    else
      ++b;
  }
  return false;
}

}  // namespace

namespace detail {

// DNS questions one evaluation may still ask, shared by every walker it starts on its thread (the
// published targets it computes included): a hostile server that makes up new names as it is
// asked, or a record with thousands of includes or mx terms, cannot make one evaluation ask
// without end. Maps already computed cost nothing, so where a policy asks about that many, which
// of two evaluations sharing a part of it is cut can depend on which computed it first; no real
// sender comes near.
thread_local int* t_questions_left = nullptr;

// Installs a fresh budget for an evaluation started outside any other on this thread.
class QuestionBudget {
 public:
  QuestionBudget() {
    if (t_questions_left) return;
    m_left = spf::k_max_questions_per_walk;
    t_questions_left = &m_left;
    m_installed = true;
  }
  QuestionBudget(const QuestionBudget&) = delete;
  QuestionBudget& operator=(const QuestionBudget&) = delete;
  ~QuestionBudget() {
    if (m_installed) t_questions_left = nullptr;
  }

 private:
  int m_left = 0;
  bool m_installed = false;
};

// One evaluation context. A snapshot walker computes published records' maps for the memo and
// reads the snapshot only; a root walker evaluates a record that is not (yet) published at its
// domain, possibly through an overlay, and must not reuse memoized maps that read the names it
// shadows (the domain itself and the overlaid names).
class Walker {
 public:
  Walker(PolicyMapper& mapper, dns::Resolver& resolver, dns::OverlayResolver* overlay, bool snapshot,
         std::vector<std::string> ancestors, std::vector<std::string> shadowed = {})
      : m_mapper(mapper),
        m_resolver(resolver),
        m_overlay(overlay),
        m_snapshot(snapshot),
        m_ancestors(std::move(ancestors)),
        m_shadowed(std::move(shadowed)) {}

  RecordMap evaluate(const spf::Record& record, const std::string& domain);
  // Reads, selects, parses and evaluates the record published at `name`, already on the stack.
  RecordMap fetch(const std::string& name);

 private:
  std::shared_ptr<const RecordMap> target(const std::string& name);
  // Appends the mechanism's guard to the undecided addresses of `where`.
  void opaque(PolicyMap& map, const spf::Mechanism& mechanism, const std::string& domain,
              const net::IpSet& where);
  // Where an a or mx mechanism matches; false with `error` set when a lookup failed.
  bool addresses(const spf::Mechanism& mechanism, const std::string& domain, TermMap& term,
                 std::string& error);
  void add_answer(net::IpSet& set, const dns::Answer& answer, const spf::Mechanism& mechanism);
  void finish(RecordMap& out);
  // Takes one DNS question from the evaluation's budget; false (and the walk cut) when it is spent.
  bool charge();
  RecordMap over_budget() const;

  PolicyMapper& m_mapper;
  dns::Resolver& m_resolver;
  dns::OverlayResolver* m_overlay;
  bool m_snapshot;
  std::vector<std::string> m_ancestors;
  std::vector<std::string> m_shadowed;  // sorted
  std::vector<std::string> m_txt_names;
  bool m_cut = false;  // the walk ran out of its question budget
};

std::shared_ptr<const RecordMap> Walker::target(const std::string& name) {
  if (std::find(m_ancestors.begin(), m_ancestors.end(), name) != m_ancestors.end()) {
    RecordMap loop;
    loop.error = "loops back to " + name + " (receivers return permerror)";
    return std::make_shared<const RecordMap>(std::move(loop));
  }
  // Include and redirect= chains are cut by the loop check; these bound a long acyclic chain and
  // a hostile server that makes up new names as it is asked.
  if (m_ancestors.size() > static_cast<std::size_t>(spf::k_max_nesting)) {
    RecordMap deep;
    deep.error = "includes nested more than " + std::to_string(spf::k_max_nesting) +
                 " deep (receivers return permerror long before)";
    deep.cut = true;
    return std::make_shared<const RecordMap>(std::move(deep));
  }
  if (m_snapshot) {
    // No waiting for another thread computing the same name: two threads each inside the other's
    // name would wait for ever. Computing it twice gives the same map.
    if (auto known = m_mapper.memoized(name)) return known;
    if (!charge()) return std::make_shared<const RecordMap>(over_budget());
    m_ancestors.push_back(name);
    RecordMap fresh = fetch(name);
    m_ancestors.pop_back();
    return m_mapper.memoize(name, std::move(fresh));
  }
  if (!(m_overlay && m_overlay->overlays(name))) {
    auto known = m_mapper.published(name);
    if (!intersects(known->txt_names, m_shadowed)) return known;
  }
  if (!charge()) return std::make_shared<const RecordMap>(over_budget());
  m_ancestors.push_back(name);
  RecordMap fresh = fetch(name);
  m_ancestors.pop_back();
  return std::make_shared<const RecordMap>(std::move(fresh));
}

bool Walker::charge() {
  if (!t_questions_left) return true;
  if (*t_questions_left <= 0) {
    m_cut = true;
    return false;
  }
  --*t_questions_left;
  return true;
}

RecordMap Walker::over_budget() const {
  RecordMap out;
  out.error = "the policy asks more than " + std::to_string(spf::k_max_questions_per_walk) +
              " DNS questions (receivers return permerror after 10 lookups)";
  out.cut = true;
  return out;
}

RecordMap Walker::fetch(const std::string& name) {
  RecordMap out;
  out.txt_names = {name};
  const dns::Answer answer = m_resolver.query(name, dns::RrType::TXT);
  const spf::SelectedRecord selected = spf::select_record(answer, name);
  out.selection = selected.outcome;
  switch (selected.outcome) {
    case spf::Selection::failed:
    case spf::Selection::multiple:
      out.error = selected.message;
      return out;
    case spf::Selection::none:
      if (answer.is_void()) out.void_lookups = 1;
      out.error = selected.message;
      return out;
    case spf::Selection::found:
      break;
  }
  const std::shared_ptr<const spf::ParseResult> shared = spf::parse_record_shared(selected.text);
  const spf::ParseResult& parsed = *shared;
  if (!parsed) {
    out.error = "the SPF record at " + name + " does not parse (" + parsed.error().message + ")";
    return out;
  }
  RecordMap evaluated = evaluate(parsed.record(), name);
  merge_names(evaluated.txt_names, out.txt_names);
  evaluated.terms.clear();
  return evaluated;
}

void Walker::add_answer(net::IpSet& set, const dns::Answer& answer, const spf::Mechanism& mechanism) {
  for (const net::IpAddress& address : answer.addresses) {
    if (address.is_v4())
      set.add(address, mechanism.cidr4.value_or(32));
    else if (!address.is_v4_mapped())  // receivers compare a mapped AAAA as IPv4, which no IPv6 client is
      set.add(address, mechanism.cidr6.value_or(128));
  }
}

bool Walker::addresses(const spf::Mechanism& mechanism, const std::string& domain, TermMap& term,
                       std::string& error) {
  const std::string target = mechanism.domain ? dns::normalize_name(*mechanism.domain) : domain;
  const std::string text = spf::to_string(mechanism);
  if (!dns::is_queryable(target)) {
    term.void_lookups = 1;
    return true;
  }
  auto ask = [&](const std::string& name, dns::RrType type, dns::Answer& answer) {
    if (!charge()) {
      error = "'" + text + "': " + over_budget().error;
      return false;
    }
    answer = m_resolver.query(name, type);
    if (!answer.failed()) return true;
    error = "'" + text + "': " + failure(answer, type, name);
    return false;
  };
  dns::Answer v4, v6;
  if (mechanism.kind == spf::MechanismKind::a) {
    if (!ask(target, dns::RrType::A, v4) || !ask(target, dns::RrType::AAAA, v6)) return false;
    if (v4.is_void() && v6.is_void()) term.void_lookups = 1;
    add_answer(term.addresses, v4, mechanism);
    add_answer(term.addresses, v6, mechanism);
    return true;
  }
  dns::Answer mx;
  if (!ask(target, dns::RrType::MX, mx)) return false;
  if (mx.is_void()) {
    term.void_lookups = 1;
    return true;
  }
  std::vector<std::string> exchanges;
  for (const dns::MxRecord& record : mx.mx)
    if (!record.exchange.empty()) exchanges.push_back(record.exchange);  // "0 ." names no host
  if (exchanges.size() > k_max_mx_names) {
    error = "'" + text + "': " + target + " has " + std::to_string(exchanges.size()) +
            " MX names, over the limit of 10 (receivers return permerror)";
    return false;
  }
  for (const std::string& exchange : exchanges) {
    if (!ask(exchange, dns::RrType::A, v4) || !ask(exchange, dns::RrType::AAAA, v6)) return false;
    add_answer(term.addresses, v4, mechanism);
    add_answer(term.addresses, v6, mechanism);
  }
  return true;
}

void Walker::opaque(PolicyMap& map, const spf::Mechanism& mechanism, const std::string& domain,
                    const net::IpSet& where) {
  const Guard guard{m_mapper.intern_term(domain + ' ' + unqualified(mechanism)), mechanism.qualifier};
  std::map<std::uint32_t, std::uint32_t> appended;  // old guard list → with this guard
  map.update(where, [&](const Outcome& old) {
    if (old.decided()) return old;
    auto found = appended.find(old.guards);
    if (found == appended.end()) {
      std::vector<Guard> list = m_mapper.guards(old.guards);
      // A term met again in the same context did not match the first time and will not now.
      const bool seen =
          std::any_of(list.begin(), list.end(), [&](const Guard& g) { return g.term == guard.term; });
      if (!seen) list.push_back(guard);
      found = appended.emplace(old.guards, m_mapper.intern_guards(list)).first;
    }
    return Outcome{found->second, spf::Result::none, 0};
  });
}

RecordMap Walker::evaluate(const spf::Record& record, const std::string& domain) {
  RecordMap out;
  out.terms.resize(record.terms.size());
  PolicyMap map;
  bool has_all = false;
  // Consecutive address terms with one qualifier are applied together: first match wins, and
  // within one qualifier the union decides the same.
  net::IpSet run;
  spf::Qualifier run_qualifier = spf::Qualifier::pass;
  auto flush = [&] {
    if (run.empty()) return;
    const Outcome decided{0, spf::to_result(run_qualifier), 0};
    map.update(run, [&](const Outcome& old) {
      return old.decided() ? old : Outcome{old.guards, decided.result, 0};
    });
    run = net::IpSet();
  };
  auto add_run = [&](const net::IpSet& set, spf::Qualifier qualifier) {
    if (qualifier != run_qualifier) flush();
    run_qualifier = qualifier;
    run.add(set);
  };
  bool cut = false;  // a target was cut short by the walk's bounds: so is this evaluation
  auto fail = [&](std::string message) {
    RecordMap failed;
    failed.error = std::move(message);
    failed.txt_names = std::move(m_txt_names);
    failed.cut = cut || m_cut;
    return failed;
  };
  auto make_opaque = [&](TermMap& term, const spf::Mechanism& m, std::string shown, std::string reason,
                         const net::IpSet& where = net::IpSet::everything()) {
    flush();
    term.kind = TermClass::opaque;
    term.reason = std::move(reason);
    if (out.opaque_term.empty() && !has_all) out.opaque_term = std::move(shown);
    opaque(map, m, domain, where);
  };
  auto follow = [&](TermMap& term, const std::string& text, const std::string& name) -> std::string {
    term.target = target(name);
    const RecordMap& t = *term.target;
    cut = cut || t.cut;
    merge_names(m_txt_names, t.txt_names);
    if (!t.ok()) {
      if (t.selection == spf::Selection::none)
        return text + ": " + t.error + ", so receivers return permerror";
      return text + ": " + t.error;
    }
    term.lookups = spf::add_counts(term.lookups, t.lookups);
    term.void_lookups = spf::add_counts(term.void_lookups, t.void_lookups);
    return {};
  };

  for (std::size_t i = 0; i < record.terms.size(); ++i) {
    const spf::Mechanism* m = record.terms[i].mechanism();
    TermMap& term = out.terms[i];
    if (!m) continue;
    term.qualifier = m->qualifier;
    if (m->counts_as_lookup()) term.lookups = 1;
    const std::string text = spf::to_string(*m);
    switch (m->kind) {
      case spf::MechanismKind::ip4:
      case spf::MechanismKind::ip6:
        term.kind = TermClass::address;
        term.addresses.add(
            m->network, m->kind == spf::MechanismKind::ip4 ? m->cidr4.value_or(32) : m->cidr6.value_or(128));
        add_run(term.addresses, m->qualifier);
        break;
      case spf::MechanismKind::all:
        term.kind = TermClass::all;
        add_run(net::IpSet::everything(), m->qualifier);
        has_all = true;
        break;
      case spf::MechanismKind::a:
      case spf::MechanismKind::mx: {
        if (has_macro(m->domain)) {
          make_opaque(term, *m, text, "its domain depends on macros");
          break;
        }
        std::string error;
        if (!addresses(*m, domain, term, error)) return fail(error);
        term.kind = TermClass::flattenable;
        add_run(term.addresses, m->qualifier);
        break;
      }
      case spf::MechanismKind::include: {
        if (has_macro(m->domain)) {
          make_opaque(term, *m, text, "its domain depends on macros");
          break;
        }
        if (std::string error = follow(term, text, dns::normalize_name(*m->domain)); !error.empty())
          return fail(error);
        if (term.target->guarded) {
          // Exact per address: where the target surely passes the include matches, where it
          // cannot pass it does not, and only where a guard could make it pass is it a guard here.
          const net::IpSet maybe = term.target->map.ranges_where([&](const Outcome& o) {
            if (o.guards == 0 && o.redirect == 0) return false;
            if (o.redirect != 0 || o.result == spf::Result::pass) return true;
            const std::vector<Guard> list = m_mapper.guards(o.guards);
            return std::any_of(list.begin(), list.end(),
                               [](const Guard& g) { return g.qualifier == spf::Qualifier::pass; });
          });
          make_opaque(term, *m, text + " (" + term.target->opaque_term + ")",
                      "its result depends on more than the client address (" + term.target->opaque_term + ")",
                      maybe);
          term.addresses = term.target->pass;
          add_run(term.addresses, m->qualifier);
          flush();
        } else {
          term.kind = TermClass::flattenable;
          term.addresses = term.target->pass;
          add_run(term.addresses, m->qualifier);
        }
        break;
      }
      case spf::MechanismKind::exists: {
        if (!has_macro(m->domain) && dns::is_queryable(*m->domain)) {
          if (!charge()) return fail("'" + text + "': " + over_budget().error);
          const dns::Answer answer = m_resolver.query(*m->domain, dns::RrType::A);
          if (answer.failed()) return fail("'" + text + "': " + failure(answer, dns::RrType::A, *m->domain));
          if (answer.is_void()) term.void_lookups = 1;
        }
        make_opaque(term, *m, text, "exists: depends on the sender and the client address as a name");
        break;
      }
      case spf::MechanismKind::ptr:
        make_opaque(term, *m, text, "ptr depends on reverse DNS of the client");
        break;
    }
    out.lookups = spf::add_counts(out.lookups, term.lookups);
    out.void_lookups = spf::add_counts(out.void_lookups, term.void_lookups);
  }
  flush();

  const spf::Modifier* redirect = record.redirect();
  if (redirect && !has_all) {
    std::size_t index = 0;
    while (record.terms[index].modifier() != redirect) ++index;
    TermMap& term = out.terms[index];
    term.lookups = 1;
    const std::string text = spf::to_string(*redirect);
    if (redirect->value.find('%') != std::string::npos) {
      term.kind = TermClass::opaque;
      term.reason = "its domain depends on macros";
      if (out.opaque_term.empty()) out.opaque_term = text;
      const std::uint32_t id = m_mapper.intern_term(domain + ' ' + text);
      map.update(net::IpSet::everything(), [&](const Outcome& old) {
        return old.decided() ? old : Outcome{old.guards, spf::Result::none, id};
      });
    } else {
      if (std::string error = follow(term, text, dns::normalize_name(redirect->value)); !error.empty())
        return fail(error);
      const RecordMap& t = *term.target;
      term.kind = t.guarded ? TermClass::opaque : TermClass::flattenable;
      if (t.guarded) {
        term.reason = "its result depends on more than the client address (" + t.opaque_term + ")";
        if (out.opaque_term.empty()) out.opaque_term = text + " (" + t.opaque_term + ")";
      }
      // The undecided addresses take the target's outcome, after the guards already met here.
      std::vector<Outcome> values;
      for (const net::Family family : {net::Family::v4, net::Family::v6})
        for (const auto& segment : t.map.segments(family))
          if (std::find(values.begin(), values.end(), segment.value) == values.end())
            values.push_back(segment.value);
      for (const Outcome& value : values) {
        const std::vector<Guard> tail = m_mapper.guards(value.guards);
        std::map<std::uint32_t, std::uint32_t> joined;
        map.update(t.map.ranges_with(value), [&](const Outcome& old) {
          if (old.decided()) return old;
          auto found = joined.find(old.guards);
          if (found == joined.end()) {
            std::vector<Guard> list = m_mapper.guards(old.guards);
            list.insert(list.end(), tail.begin(), tail.end());
            found = joined.emplace(old.guards, m_mapper.intern_guards(list)).first;
          }
          return Outcome{found->second, value.result, value.redirect};
        });
      }
    }
    out.lookups = spf::add_counts(out.lookups, term.lookups);
    out.void_lookups = spf::add_counts(out.void_lookups, term.void_lookups);
  }

  out.map = std::move(map);
  finish(out);
  out.txt_names = std::move(m_txt_names);
  return out;
}

// Undecided addresses get neutral; guards that cannot change the result are dropped.
void Walker::finish(RecordMap& out) {
  std::map<std::pair<std::uint32_t, spf::Result>, std::uint32_t> normalized;
  out.map.update(net::IpSet::everything(), [&](const Outcome& old) {
    Outcome now = old;
    if (!now.decided()) now.result = spf::Result::neutral;
    if (now.guards == 0) return now;
    const auto key = std::make_pair(now.guards, now.redirect ? spf::Result::none : now.result);
    auto found = normalized.find(key);
    if (found == normalized.end()) {
      std::vector<Guard> list = m_mapper.guards(now.guards);
      if (!now.redirect)
        std::erase_if(list, [&](const Guard& g) { return spf::to_result(g.qualifier) == now.result; });
      found = normalized.emplace(key, m_mapper.intern_guards(list)).first;
    }
    now.guards = found->second;
    return now;
  });
  out.guarded =
      !out.map.ranges_where([](const Outcome& o) { return o.guards != 0 || o.redirect != 0; }).empty();
  if (!out.guarded) out.opaque_term.clear();
  out.pass = out.map.ranges_with(Outcome{0, spf::Result::pass, 0});
}

}  // namespace detail

RecordMap PolicyMapper::evaluate(const spf::Record& record, std::string_view domain) {
  const detail::QuestionBudget budget;
  const std::string name = dns::normalize_name(domain);
  detail::Walker walker(*this, m_snapshot, nullptr, false, {name}, {name});
  return walker.evaluate(record, name);
}

RecordMap PolicyMapper::evaluate(const spf::Record& record, std::string_view domain,
                                 dns::OverlayResolver& overlay) {
  const detail::QuestionBudget budget;
  const std::string name = dns::normalize_name(domain);
  std::vector<std::string> shadowed = overlay.names();
  if (!std::binary_search(shadowed.begin(), shadowed.end(), name))
    shadowed.insert(std::lower_bound(shadowed.begin(), shadowed.end(), name), name);
  detail::Walker walker(*this, overlay, &overlay, false, {name}, std::move(shadowed));
  return walker.evaluate(record, name);
}

std::shared_ptr<const RecordMap> PolicyMapper::published(std::string_view name) {
  const std::string normalized = dns::normalize_name(name);
  if (auto known = memoized(normalized)) return known;
  const detail::QuestionBudget budget;
  detail::Walker walker(*this, m_snapshot, nullptr, true, {normalized});
  return memoize(normalized, walker.fetch(normalized));
}

std::shared_ptr<const RecordMap> PolicyMapper::memoized(const std::string& name) const {
  std::lock_guard lock(m_mutex);
  const auto found = m_published.find(name);
  return found == m_published.end() ? nullptr : found->second;
}

std::shared_ptr<const RecordMap> PolicyMapper::memoize(const std::string& name, RecordMap map) {
  auto shared = std::make_shared<const RecordMap>(std::move(map));
  // A map cut short by one walk's bounds depends on where that walk started: not the name's own.
  if (shared->cut) return shared;
  std::lock_guard lock(m_mutex);
  return m_published.emplace(name, std::move(shared)).first->second;  // the first one stored wins
}

std::uint32_t PolicyMapper::intern_term(const std::string& key) {
  std::lock_guard lock(m_mutex);
  const auto [found, inserted] = m_term_ids.emplace(key, static_cast<std::uint32_t>(m_terms.size()));
  if (inserted) m_terms.push_back(key);
  return found->second;
}

std::uint32_t PolicyMapper::intern_guards(const std::vector<Guard>& guards) {
  if (guards.empty()) return 0;
  std::lock_guard lock(m_mutex);
  const auto [found, inserted] = m_guard_ids.emplace(guards, static_cast<std::uint32_t>(m_guards.size()));
  if (inserted) m_guards.push_back(guards);
  return found->second;
}

std::string PolicyMapper::term_text(std::uint32_t term) const {
  std::lock_guard lock(m_mutex);
  const std::string& key = m_terms.at(term);
  return key.substr(key.find(' ') + 1);  // the key is "<domain> <term>"
}

std::vector<Guard> PolicyMapper::guards(std::uint32_t id) const {
  if (id == 0) return {};
  std::lock_guard lock(m_mutex);
  return m_guards.at(id);
}

std::string PolicyMapper::describe(const Outcome& outcome) const {
  std::string out;
  for (const Guard& guard : guards(outcome.guards))
    out += std::string(spf::to_string(spf::to_result(guard.qualifier))) + " if " + term_text(guard.term) +
           " matches, otherwise ";
  if (outcome.redirect)
    out += "the result of " + term_text(outcome.redirect);
  else
    out += std::string(spf::to_string(outcome.result));
  return out;
}

std::string range_text(const net::AddressRange& range) {
  net::IpSet set;
  set.add_range(range.first, range.last);
  const std::vector<net::Cidr> cidrs = set.to_cidrs();
  return cidrs.size() == 1 ? cidrs.front().to_string() : range.to_string();
}

std::vector<std::string> describe_differences(const PolicyMapper& mapper, const PolicyMap& policy,
                                              const PolicyMap& records, std::size_t limit) {
  std::vector<std::string> out;
  for (const auto& difference : policy.differences(records, limit))
    out.push_back(range_text(difference.range) + ": " + mapper.describe(difference.mine) +
                  " in the policy, " + mapper.describe(difference.theirs) + " in the records");
  return out;
}

}  // namespace spfctl::plan
