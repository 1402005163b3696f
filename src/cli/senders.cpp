// spfctl senders: the sender catalogue (the built-in one, with the configuration's [senders.*]
// merged in when there is a configuration): each sender's name, description, the terms it adds to
// a record, its own SPF documentation and the DNS lookups it costs receivers now.
#include <filesystem>
#include <iostream>
#include <nlohmann/json.hpp>
#include <optional>

#include "cli/commands.hpp"
#include "cli/context.hpp"
#include "config/config.hpp"
#include "error.hpp"
#include "plan/policy_map.hpp"
#include "providers/registry.hpp"
#include "spf/counts.hpp"
#include "spf/parser.hpp"
#include "util/text.hpp"

namespace spfctl::cli {

namespace {

// The configuration's catalogue when there is a configuration file, else the built-in one.
config::Config catalogue(const GlobalOptions& globals) {
  if (std::filesystem::exists(globals.config))
    return config::load_config(globals.config, {providers::provider_problems});
  return config::load_config_text("", "(built-in catalogue)");
}

struct Lookups {
  std::optional<int> count;  // nullopt: could not be counted
  std::string why;           // when not
};

// The lookups receivers spend on the sender's terms, evaluated now.
Lookups lookups_of(plan::PolicyMapper& mapper, const config::SenderDefinition& sender) {
  if (sender.terms.empty()) return {std::nullopt, "it lists no terms until set up"};
  std::string text = "v=spf1";
  for (const config::SenderTerm& term : sender.terms) text += " " + term.text();
  const spf::ParseResult parsed = spf::parse_record(text + " -all");
  if (!parsed) return {std::nullopt, parsed.error().message};
  const plan::RecordMap map = mapper.evaluate(parsed.record(), "sender.invalid");
  if (!map.ok()) return {std::nullopt, map.error};
  return {map.lookups, ""};
}

std::string terms_text(const config::SenderDefinition& sender) {
  std::vector<std::string> terms;
  for (const config::SenderTerm& term : sender.terms) terms.push_back(term.text());
  return util::joined(terms, " ");
}

}  // namespace

int run_senders(const GlobalOptions& globals, const std::vector<std::string>& names) {
  const config::Config config = catalogue(globals);
  std::vector<std::string> keys;
  for (const auto& [name, sender] : config.senders) keys.push_back(name);

  // The senders asked for, in order; an alias is taken with a note naming the catalogue's word.
  std::vector<const config::SenderDefinition*> chosen;
  std::vector<std::string> notes;
  for (const std::string& word : names) {
    std::string name = util::lowercase(word);
    if (!config.senders.contains(name)) {
      if (const auto alias = config::sender_alias(name);
          alias && config.senders.contains(std::string(*alias))) {
        notes.push_back("'" + word + "' is '" + std::string(*alias) +
                        "' in the catalogue: write senders = [\"" + std::string(*alias) + "\"]");
        name = *alias;
      } else {
        const std::string match = util::closest_match(name, keys);
        throw Error("unknown sender " + util::quoted(word) +
                    (match.empty() ? "" : "; did you mean " + util::quoted(match) + "?") +
                    " ('spfctl senders' lists them all)");
      }
    }
    chosen.push_back(&config.senders.at(name));
  }
  if (names.empty())
    for (const auto& [name, sender] : config.senders) chosen.push_back(&sender);

  RunResolver resolver(globals);
  plan::PolicyMapper mapper(resolver.get());
  const Style style(globals);
  for (const std::string& note : notes) std::cerr << "spfctl: note: " << note << "\n";

  nlohmann::json out = nlohmann::json::array();
  bool first = true;
  for (const config::SenderDefinition* sender : chosen) {
    const Lookups lookups = lookups_of(mapper, *sender);
    if (globals.json) {
      nlohmann::json entry = {{"name", sender->name},
                              {"description", sender->description},
                              {"terms", nlohmann::json::array()},
                              {"docs", sender->docs},
                              {"builtin", sender->builtin},
                              {"lookups", lookups.count ? nlohmann::json(*lookups.count) : nlohmann::json()}};
      for (const config::SenderTerm& term : sender->terms) entry["terms"].push_back(term.text());
      if (!sender->setup.empty()) entry["setup"] = sender->setup;
      if (!lookups.count) entry["lookups_error"] = lookups.why;
      out.push_back(std::move(entry));
      continue;
    }
    if (names.empty()) {
      // One line each: the catalogue at a glance.
      std::cout << style.bold(util::printable(sender->name)) << "  " << util::printable(sender->description)
                << style.dim("  (" +
                             (lookups.count ? spf::count_text(*lookups.count) +
                                                  (*lookups.count == 1 ? " lookup" : " lookups")
                                            : std::string("lookups unknown")) +
                             ")")
                << "\n";
      continue;
    }
    if (!first) std::cout << "\n";
    first = false;
    std::cout << style.bold(util::printable(sender->name)) << "  " << util::printable(sender->description)
              << "\n";
    std::cout << "  adds     " << (sender->terms.empty() ? "(nothing until set up)" : terms_text(*sender))
              << "\n";
    std::cout << "  lookups  "
              << (lookups.count ? spf::count_text(*lookups.count) + "/10 now" : "unknown: " + lookups.why)
              << "\n";
    if (!sender->docs.empty()) std::cout << "  docs     " << util::printable(sender->docs) << "\n";
    if (!sender->setup.empty()) std::cout << "  setup    " << util::printable(sender->setup) << "\n";
    if (!sender->builtin) std::cout << "  defined  " << sender->location.to_string() << "\n";
  }
  if (globals.json) std::cout << out.dump(2) << "\n";
  return 0;
}

}  // namespace spfctl::cli
