#include "plan/prefetch.hpp"

#include <algorithm>
#include <limits>
#include <set>
#include <utility>

#include "spf/parser.hpp"
#include "spf/select.hpp"

namespace spfctl::plan {

namespace {

// Receivers stop after 10 MX names (RFC 7208 4.6.4); so does the planner.
constexpr std::size_t k_max_mx_names = 10;

struct Item {
  std::string name;
  dns::RrType type;
  std::size_t target;  // the first target that needed it
};

class Walk {
 public:
  Walk(dns::CachingResolver& cache, std::size_t targets)
      : m_cache(cache),
        m_counts(targets, 0),
        m_budget(targets > std::numeric_limits<std::size_t>::max() / k_prefetch_questions_per_target
                     ? std::numeric_limits<std::size_t>::max()
                     : targets * k_prefetch_questions_per_target) {}

  void record(const spf::Record& record, const std::string& domain, std::size_t target) {
    for (const spf::Term& term : record.terms) {
      if (const spf::Mechanism* m = term.mechanism()) {
        const std::string name = m->domain ? *m->domain : domain;
        switch (m->kind) {
          case spf::MechanismKind::include:
            if (m->domain) add(name, dns::RrType::TXT, target);
            break;
          case spf::MechanismKind::a:
            add(name, dns::RrType::A, target);
            add(name, dns::RrType::AAAA, target);
            break;
          case spf::MechanismKind::mx:
            add(name, dns::RrType::MX, target);
            break;
          default:  // ip4, ip6, all need nothing; ptr and exists depend on the client
            break;
        }
      } else if (const spf::Modifier* modifier = term.modifier(); modifier && modifier->name == "redirect") {
        add(modifier->value, dns::RrType::TXT, target);
      }
    }
  }

  // Asks the pending level, and makes the next one from its answers.
  bool step() {
    if (m_level.empty()) return false;
    std::vector<Item> level = std::move(m_level);
    m_level.clear();
    std::vector<std::pair<std::string, dns::RrType>> questions;
    questions.reserve(level.size());
    for (const Item& item : level) questions.emplace_back(item.name, item.type);
    std::vector<bool> sent;
    const std::vector<dns::Answer> answers = m_cache.query_all(questions, &sent);
    for (std::size_t i = 0; i < level.size(); ++i) {
      const Item& item = level[i];
      if (sent[i]) ++m_counts[item.target];
      const dns::Answer& answer = answers[i];
      // A failure may be the burst's doing: the planner asks again, on its own.
      if (answer.failed() && sent[i]) m_cache.forget_failure(item.name, item.type);
      if (answer.status != dns::Status::ok) continue;
      if (item.type == dns::RrType::TXT) {
        const spf::SelectedRecord selected = spf::select_record(answer, item.name);
        if (selected.outcome != spf::Selection::found) continue;
        const auto parsed = spf::parse_record_shared(selected.text);
        if (parsed->ok()) record(parsed->record(), item.name, item.target);
      } else if (item.type == dns::RrType::MX && answer.mx.size() <= k_max_mx_names) {
        for (const dns::MxRecord& mx : answer.mx) {
          if (mx.exchange.empty()) continue;
          add(mx.exchange, dns::RrType::A, item.target);
          add(mx.exchange, dns::RrType::AAAA, item.target);
        }
      }
    }
    return !m_level.empty();
  }

  std::vector<std::uint64_t> counts() && { return std::move(m_counts); }

 private:
  void add(const std::string& written, dns::RrType type, std::size_t target) {
    // A macro depends on the client; a name that cannot be asked is the planner's to report.
    if (written.find('%') != std::string::npos) return;
    const std::string name = dns::normalize_name(written);
    if (!dns::is_queryable(name) || m_asked >= m_budget) return;
    if (!m_seen.emplace(name, type).second) return;
    ++m_asked;
    m_level.push_back({name, type, target});
  }

  dns::CachingResolver& m_cache;
  std::vector<std::uint64_t> m_counts;
  std::size_t m_budget;
  std::size_t m_asked = 0;
  std::set<std::pair<std::string, dns::RrType>> m_seen;
  std::vector<Item> m_level;
};

}  // namespace

std::vector<std::uint64_t> prefetch(dns::CachingResolver& cache, const std::vector<PrefetchTarget>& targets) {
  Walk walk(cache, targets.size());
  for (std::size_t t = 0; t < targets.size(); ++t)
    for (const spf::Record& record : targets[t].records) walk.record(record, targets[t].domain, t);
  for (int level = 0; level < k_prefetch_levels; ++level)
    if (!walk.step()) break;
  return std::move(walk).counts();
}

}  // namespace spfctl::plan
