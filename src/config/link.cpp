#include "config/link.hpp"

#include <algorithm>
#include <functional>
#include <map>
#include <set>

#include "util/text.hpp"

namespace spfctl::config {

void overlay(Overrides& base, const Overrides& over) {
  if (over.policy) base.policy = over.policy;
  if (over.ttl) base.ttl = over.ttl;
  if (over.flatten) base.flatten = over.flatten;
  if (over.lookup_budget) base.lookup_budget = over.lookup_budget;
  if (over.chain_prefix) base.chain_prefix = over.chain_prefix;
  if (over.provider) base.provider = over.provider;
  if (over.allow_wide_ranges) base.allow_wide_ranges = over.allow_wide_ranges;
}

namespace {

// What a template contributes: its terms in order and its settings, with its own templates applied.
struct Expansion {
  std::vector<SenderTerm> terms;
  Overrides overrides;
  bool complete = true;  // false when a reference inside could not be resolved (already reported)
};

// Links names to their definitions: reports what cannot be linked, and expands templates.
class Linker {
 public:
  Linker(const Config& config, Diagnostics& diag) : m_config(config), m_diag(diag) {}

  // Checks every template's references and finds template cycles. Call once, before expand().
  void check_templates() {
    for (const auto& [name, definition] : m_config.templates)
      if (!check_references(definition.templates, definition.senders, definition.overrides))
        m_broken.insert(name);
    find_cycles();
  }

  // Reports templates, senders and providers that are not defined, and senders that cannot be used
  // as they are. Returns false when a template or sender reference cannot be resolved.
  bool check_references(const std::vector<NameRef>& templates, const std::vector<NameRef>& senders,
                        const Overrides& overrides) {
    bool ok = true;
    for (const NameRef& ref : templates) {
      if (m_config.templates.contains(ref.name)) continue;
      m_diag.error(ref.location,
                   "unknown template " + util::quoted(ref.name) +
                       util::suggestion(ref.name, keys(m_config.templates), "defined templates"));
      ok = false;
    }
    for (const NameRef& ref : senders) ok = check_sender(ref) && ok;
    if (overrides.provider) check_provider(*overrides.provider);
    return ok;
  }

  void check_provider(const NameRef& ref) {
    if (m_config.providers.contains(ref.name)) return;
    const std::string match = util::closest_match(ref.name, keys(m_config.providers));
    m_diag.error(ref.location, "unknown provider " + util::quoted(ref.name) + "; " +
                                   (match.empty() ? "define it as [providers." + ref.name + "]"
                                                  : "did you mean " + util::quoted(match) + "?"));
  }

  const Expansion& expand(const std::string& name) {
    if (const auto found = m_expansions.find(name); found != m_expansions.end()) return found->second;
    const TemplateDefinition& definition = m_config.templates.at(name);
    Expansion expansion;
    expansion.complete = !m_broken.contains(name);
    m_expanding.insert(name);
    for (const NameRef& ref : definition.templates) {
      if (!m_config.templates.contains(ref.name)) continue;
      if (m_expanding.contains(ref.name)) {  // a cycle, reported by check_templates()
        expansion.complete = false;
        continue;
      }
      const Expansion& inner = expand(ref.name);
      expansion.terms.insert(expansion.terms.end(), inner.terms.begin(), inner.terms.end());
      overlay(expansion.overrides, inner.overrides);
      expansion.complete = expansion.complete && inner.complete;
    }
    m_expanding.erase(name);
    append_senders(definition.senders, expansion.terms);
    expansion.terms.insert(expansion.terms.end(), definition.terms.begin(), definition.terms.end());
    overlay(expansion.overrides, definition.overrides);
    return m_expansions[name] = std::move(expansion);
  }

  void append_senders(const std::vector<NameRef>& senders, std::vector<SenderTerm>& terms) const {
    for (const NameRef& ref : senders)
      if (const auto found = m_config.senders.find(ref.name); found != m_config.senders.end())
        terms.insert(terms.end(), found->second.terms.begin(), found->second.terms.end());
  }

 private:
  template <typename Map>
  static std::vector<std::string> keys(const Map& map) {
    std::vector<std::string> out;
    for (const auto& [key, value] : map) out.push_back(key);
    return out;
  }

  bool check_sender(const NameRef& ref) {
    const auto found = m_config.senders.find(ref.name);
    if (found == m_config.senders.end()) {
      const std::optional<std::string_view> alias = sender_alias(ref.name);
      const std::string match = alias && m_config.senders.contains(std::string(*alias))
                                    ? std::string(*alias)
                                    : util::closest_match(ref.name, keys(m_config.senders));
      m_diag.error(ref.location,
                   "unknown sender " + util::quoted(ref.name) + "; " +
                       (match.empty() ? "define it as [senders." + ref.name + "] or use a built-in sender"
                                      : "did you mean " + util::quoted(match) + "?") +
                       " ('spfctl senders' lists the catalogue)");
      return false;
    }
    if (found->second.terms.empty()) {
      const std::string& setup = found->second.setup;
      m_diag.error(ref.location, "sender " + util::quoted(ref.name) + " cannot be used as it is: " +
                                     (setup.empty() ? "it lists no terms" : setup));
      return false;
    }
    return true;
  }

  // Reports each cycle once, at the reference that closes it.
  void find_cycles() {
    enum class Mark { unvisited, on_path, done };
    std::map<std::string, Mark> marks;
    std::vector<std::string> path;
    std::function<void(const std::string&)> visit = [&](const std::string& name) {
      marks[name] = Mark::on_path;
      path.push_back(name);
      for (const NameRef& ref : m_config.templates.at(name).templates) {
        if (!m_config.templates.contains(ref.name)) continue;
        if (marks[ref.name] == Mark::on_path) {
          std::string cycle;
          for (auto it = std::find(path.begin(), path.end(), ref.name); it != path.end(); ++it)
            cycle += *it + " -> ";
          m_diag.error(ref.location,
                       "templates form a cycle: " + cycle + ref.name + "; remove one of these references");
        } else if (marks[ref.name] == Mark::unvisited) {
          visit(ref.name);
        }
      }
      path.pop_back();
      marks[name] = Mark::done;
    };
    for (const auto& [name, definition] : m_config.templates)
      if (marks[name] == Mark::unvisited) visit(name);
  }

  const Config& m_config;
  Diagnostics& m_diag;
  std::set<std::string> m_broken;  // templates with a reference that cannot be resolved
  std::map<std::string, Expansion> m_expansions;
  std::set<std::string> m_expanding;
};

void remove_duplicates(std::vector<SenderTerm>& terms) {
  std::set<std::pair<TermKind, std::string>> seen;
  std::erase_if(terms, [&](const SenderTerm& term) { return !seen.emplace(term.kind, term.value).second; });
}

}  // namespace

void link_domains(Config& config, const std::optional<NameRef>& default_provider,
                  const std::vector<DomainEntry>& entries, Diagnostics& diag) {
  Linker linker(config, diag);
  if (default_provider) linker.check_provider(*default_provider);
  linker.check_templates();

  for (const DomainEntry& entry : entries) {
    bool complete =
        linker.check_references(entry.templates, entry.senders, entry.overrides) && entry.complete;
    DomainPolicy domain;
    domain.name = entry.name;
    domain.zone = entry.zone;
    domain.location = entry.location;
    Overrides settings;
    for (const NameRef& ref : entry.templates) {
      if (!config.templates.contains(ref.name)) continue;
      const Expansion& expansion = linker.expand(ref.name);
      domain.terms.insert(domain.terms.end(), expansion.terms.begin(), expansion.terms.end());
      overlay(settings, expansion.overrides);
      complete = complete && expansion.complete;
    }
    linker.append_senders(entry.senders, domain.terms);
    domain.terms.insert(domain.terms.end(), entry.terms.begin(), entry.terms.end());
    remove_duplicates(domain.terms);
    overlay(settings, entry.overrides);

    const Defaults& defaults = config.defaults;
    domain.policy = settings.policy.value_or(defaults.policy);
    domain.ttl = settings.ttl.value_or(defaults.ttl);
    domain.flatten = settings.flatten.value_or(defaults.flatten);
    domain.lookup_budget = settings.lookup_budget.value_or(defaults.lookup_budget);
    domain.void_lookup_budget = defaults.void_lookup_budget;
    domain.max_answer_bytes = defaults.max_answer_bytes;
    domain.chain_prefix = settings.chain_prefix.value_or(defaults.chain_prefix);
    domain.allow_wide_ranges = settings.allow_wide_ranges.value_or(defaults.allow_wide_ranges);
    domain.provider = settings.provider ? settings.provider->name : defaults.provider;

    if (!entry.named) continue;
    for (const SenderTerm& term : domain.terms)
      if (term.kind == TermKind::include && term.value == domain.name)
        diag.error(term.location, "domain " + util::quoted(domain.name) + " includes itself (from " +
                                      term.origin + "); an SPF record that includes itself never evaluates");
    if (complete && domain.terms.empty()) {
      if (!entry.says_no_senders) {
        diag.error(entry.location,
                   "domain " + util::quoted(domain.name) +
                       " lists no senders and would publish \"v=spf1 -all\"; add its senders, or "
                       "if it sends no mail say so with senders = [] and policy = \"fail\"");
      } else if (domain.policy != spf::Qualifier::fail) {
        diag.error(entry.policy_location, "domain " + util::quoted(domain.name) +
                                              " sends no mail (senders = []), so its policy must be \"fail\" "
                                              "(v=spf1 -all)");
      }
    }
    config.domains.push_back(std::move(domain));
  }
}

}  // namespace spfctl::config
