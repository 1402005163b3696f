#include "cli/app.hpp"

#include <CLI/CLI.hpp>
#include <algorithm>
#include <cctype>
#include <iostream>
#include <memory>
#include <nlohmann/json.hpp>
#include <sstream>

#include "cli/commands.hpp"
#include "config/config.hpp"
#include "dns/live_resolver.hpp"
#include "error.hpp"
#include "util/text.hpp"

namespace spfctl::cli {

namespace {

// Accepts a whole number from `min` to `max` written in digits; otherwise says so, quoting the value.
CLI::Validator whole_number_between(int min, int max) {
  return CLI::Validator(
      [min, max](const std::string& text) -> std::string {
        const bool digits =
            !text.empty() && text.size() <= 9 &&
            std::all_of(text.begin(), text.end(), [](char c) { return c >= '0' && c <= '9'; });
        if (!digits || std::stol(text) < min || std::stol(text) > max)
          return "'" + text + "' is not a whole number from " + std::to_string(min) + " to " +
                 std::to_string(max);
        return {};
      },
      "");
}

// CLI11's checks speak in their own words; these say what is wrong with the value and what to write.
CLI::Validator positive_seconds() {
  return CLI::Validator(
      [](const std::string& text) -> std::string {
        double value = 0;
        std::size_t used = 0;
        try {
          value = std::stod(text, &used);
        } catch (const std::exception&) {
          used = 0;
        }
        if (used != text.size() || used == 0 || !(value > 0) || value > 3600)
          return "'" + text + "' is not a number of seconds between 0 and 3600 (e.g. 2 or 0.5)";
        return {};
      },
      "");
}

void add_global_options(CLI::App& app, GlobalOptions& globals) {
  app.add_option("-c,--config", globals.config, "configuration file")
      ->type_name("FILE")
      ->capture_default_str();
  // One value per occurrence, so "--zone a.zone check" never reads the command as a second file.
  app.add_option("--resolver", globals.resolvers,
                 "DNS server to ask, ADDR[:PORT] or [IPV6]:PORT (repeatable; default: /etc/resolv.conf)")
      ->type_name("ADDR[:PORT]")
      ->allow_extra_args(false);
  app.add_option("--zone", globals.zones,
                 "answer DNS questions only from this RFC 1035 master file (repeatable; offline)")
      ->type_name("FILE")
      ->allow_extra_args(false);
  app.add_option("--timeout", globals.timeout_seconds, "seconds to wait for one DNS answer")
      ->type_name("SECONDS")
      ->capture_default_str()
      ->check(positive_seconds());
  app.add_option("--retries", globals.retries, "DNS retries after a timeout")
      ->type_name("N")
      ->capture_default_str()
      ->check(whole_number_between(0, 10));
  app.add_flag("--json", globals.json, "machine-readable JSON output");
  app.add_flag("--no-color", globals.no_color, "no colour (also when NO_COLOR is set)");
  app.add_flag("-v,--verbose", globals.verbose, "more detail (repeatable)");
  app.add_flag("-q,--quiet", globals.quiet, "only errors and results");
}

// Shown under every command's own help, which CLI11 prints without the global options.
constexpr const char* k_global_options_note =
    "\n\nGlobal options, before or after the command: -c/--config FILE, --resolver ADDR[:PORT],\n"
    "--zone FILE, --timeout SECONDS, --retries N, --json, --no-color, -v/--verbose, -q/--quiet\n"
    "(see 'spfctl --help').";

std::vector<std::string> command_names() {
  std::vector<std::string> names;
  for (const auto& spec : command_table()) names.emplace_back(spec.name);
  return names;
}

std::string unknown_command(const std::string& word) {
  const std::string hint = util::closest_match(word, command_names());
  return "unknown command '" + word + "'" + (hint.empty() ? "" : "; did you mean '" + hint + "'?") +
         " (run 'spfctl --help' for the list)";
}

// The option names `command` and the global options accept, for "did you mean".
std::vector<std::string> option_names(const CLI::App& app, const CLI::App* command) {
  std::vector<std::string> names;
  for (const CLI::App* scope : {&app, command}) {
    if (!scope) continue;
    for (const CLI::Option* option : scope->get_options()) {
      for (const std::string& name : option->get_lnames()) names.push_back("--" + name);
      for (const std::string& name : option->get_snames()) names.push_back("-" + name);
    }
  }
  return names;
}

// The words after "following argument(s) was/were not expected: ".
std::vector<std::string> unexpected_words(const CLI::ExtrasError& e) {
  const std::string text = e.what();
  const std::size_t colon = text.find(": ");
  std::vector<std::string> words;
  std::istringstream in(colon == std::string::npos ? text : text.substr(colon + 2));
  for (std::string word; in >> word;) words.push_back(word);
  return words;
}

// One line saying what is wrong with the command line, whatever CLI11 found.
std::string usage_error(const CLI::ParseError& e, const CLI::App& app) {
  const auto active = app.get_subcommands();
  const CLI::App* command = active.empty() ? nullptr : active.front();
  const std::string help =
      command ? "run 'spfctl " + command->get_name() + " --help'" : std::string("run 'spfctl --help'");
  if (dynamic_cast<const CLI::RequiredError*>(&e)) {
    if (!command) {
      for (const std::string& word : app.remaining())
        if (!word.empty() && word[0] != '-') return unknown_command(word);
      return "no command given (" + help + " for the list)";
    }
    std::string what = e.what();
    if (const std::size_t at = what.rfind(" is required"); at != std::string::npos) what.resize(at);
    return "'spfctl " + command->get_name() + "' needs " + what + " (" + help + ")";
  }
  if (const auto* extras = dynamic_cast<const CLI::ExtrasError*>(&e)) {
    const std::vector<std::string> words = unexpected_words(*extras);
    // An unknown option is the mistake to name, not the value that followed it ("--outt x.json").
    const auto option = std::find_if(words.begin(), words.end(), [](const std::string& w) {
      return w.size() > 1 && w[0] == '-' && !std::isdigit(static_cast<unsigned char>(w[1]));
    });
    const std::string word = option != words.end() ? *option : words.empty() ? std::string() : words.front();
    if (!word.empty() && word[0] == '-' && word.size() > 1) {
      const std::string name = word.substr(0, word.find('='));
      const std::string hint = util::closest_match(name, option_names(app, command));
      return "unknown option '" + name + "'" + (hint.empty() ? "" : "; did you mean '" + hint + "'?") + " (" +
             help + ")";
    }
    if (!command) return unknown_command(word);
    return "unexpected argument '" + word + "' for 'spfctl " + command->get_name() + "' (" + help + ")";
  }
  const std::string what = e.what();
  const std::string name = what.substr(0, what.find(':'));
  if (dynamic_cast<const CLI::ArgumentMismatch*>(&e)) {
    if (what.find(" missing") != std::string::npos) return "option " + name + " needs a value (" + help + ")";
    if (what.find("At Most") != std::string::npos)
      return "option " + name + " given more than once; give it once (" + help + ")";
  }
  if (dynamic_cast<const CLI::ConversionError*>(&e)) {
    constexpr std::string_view k_prefix = "Could not convert: ";  // then "NAME = VALUE"
    if (const std::size_t eq = what.find(" = "); what.starts_with(k_prefix) && eq != std::string::npos)
      return "invalid value '" + what.substr(eq + 3) + "' for " +
             what.substr(k_prefix.size(), eq - k_prefix.size()) + " (" + help + ")";
    if (what.find("true/false") != std::string::npos || what.find("for a flag") != std::string::npos)
      return "option " + name + " takes no value (" + help + ")";
  }
  std::string text = what;
  if (!text.empty()) text[0] = static_cast<char>(std::tolower(static_cast<unsigned char>(text[0])));
  return text + " (" + help + ")";
}

// Error messages stay safe to print, whatever they quote (a zone file's garbage, a control
// character typed in an argument): control bytes and bytes that are not UTF-8 are written as \xHH,
// and a very long message is cut. Usage errors become one line; spfctl's own errors keep the line
// breaks they were written with (a configuration with several errors lists one per line).
enum class Lines : std::uint8_t { one, as_written };

std::string printable_message(std::string_view text, Lines lines) {
  const std::size_t max_length = lines == Lines::one ? 600 : 20000;
  std::string flat(text.substr(0, max_length));
  for (char& c : flat)
    if (c == '\r' || c == '\t' || (c == '\n' && lines == Lines::one)) c = ' ';
  return util::printable(flat, true) + (text.size() > max_length ? "..." : "");
}

// Each command's options and help.

void setup_eval(CLI::App& command, const GlobalOptions& globals, Outcome& outcome) {
  auto args = std::make_shared<EvalOptions>();
  command.add_option("--ip", args->ip, "the SMTP client's address (IPv4 or IPv6)")
      ->type_name("IP")
      ->required();
  command.add_option("--sender", args->sender, "MAIL FROM address; without it, the HELO identity is checked")
      ->type_name("ADDRESS");
  command.add_option("--helo", args->helo, "HELO/EHLO name the client gave")->type_name("NAME");
  command
      .add_option("DOMAIN", args->domain,
                  "domain whose policy to check (default: the sender's domain, else the HELO name)")
      ->type_name("");
  command.footer(
      "Prints the result word (pass, fail, softfail, neutral, none, temperror, permerror) on the first\n"
      "line, then the explanation of a fail, then (unless -q) the problem behind a none, temperror or\n"
      "permerror, the domain checked, the deciding term, and the lookups counted.\n"
      "Exit 0 whatever the result; 1 on a usage or set-up error (bad option, address, name, zone file).\n\n"
      "Examples:\n"
      "  spfctl eval --ip 209.85.128.5 gmail.com\n"
      "  spfctl eval --ip 192.0.2.10 --sender alice@example.com --helo mail.example.com\n"
      "  spfctl --zone examples/dns/senders.zone eval --ip 74.125.0.1 google.com --json");
  command.callback([&globals, &outcome, args] { outcome.exit_code = run_eval(globals, *args); });
}

void setup_check(CLI::App& command, const GlobalOptions& globals, Outcome& outcome) {
  auto domains = std::make_shared<std::vector<std::string>>();
  command
      .add_option("DOMAIN", *domains,
                  "domains whose published SPF records to audit (none: every domain the configuration "
                  "manages)")
      ->type_name("");
  command.footer(
      "For each domain: its SPF record, the include tree with the DNS lookups each branch costs,\n"
      "lookups and void lookups against RFC 7208's limits (10 and 2), record and DNS answer sizes, and\n"
      "every problem: what makes receivers return permerror, over 10 lookups or 2 void lookups,\n"
      "several SPF records, ptr, +all or ?all, includes that do not exist or have no SPF record,\n"
      "strings over 255 bytes, answers over 512 bytes.\n"
      "Without DOMAIN, every domain of the configuration (-c), with a totals line.\n"
      "Exit 0 when every domain is healthy, 1 when any has a problem (or on a usage error).\n\n"
      "Examples:\n"
      "  spfctl check example.com example.org\n"
      "  spfctl check -c spfctl.toml                   (every configured domain)\n"
      "  spfctl check github.com --json\n"
      "  spfctl --zone examples/dns/senders.zone --zone examples/zones/example-agency.net.zone check "
      "example-agency.net");
  command.callback([&globals, &outcome, domains] { outcome.exit_code = run_check(globals, *domains); });
}

void setup_flatten(CLI::App& command, const GlobalOptions& globals, Outcome& outcome) {
  auto args = std::make_shared<FlattenOptions>();
  command.add_option("domain", args->domain, "domain whose published SPF record to flatten")->required();
  command
      .add_option("--flatten", args->mode,
                  "auto: flatten the fewest includes that fit; full: all that can be")
      ->capture_default_str()
      ->check(CLI::IsMember({"auto", "full"}));
  command.add_option("--lookup-budget", args->lookup_budget, "DNS lookups receivers may spend, 1 to 10")
      ->capture_default_str()
      ->check(CLI::Range(1, config::k_max_lookups));
  command.footer(
      "Reads DOMAIN's published SPF record and prints the record set that would replace it: includes\n"
      "flattened into the addresses they permit only as far as the lookup budget needs (all of them\n"
      "with --flatten full), terms that depend on more than the client address (macros, exists:,\n"
      "ptr) kept as written, what does not fit a 512-byte DNS answer in chained _spf1.DOMAIN,\n"
      "_spf2.DOMAIN, ... records. The set is proved equivalent: evaluated with the published record\n"
      "over the same DNS answers, it gives every IPv4 and IPv6 address the same result.\n"
      "Nothing is published. Exit 0 when a proved record set fits the budget, 1 on any error (a failed\n"
      "DNS lookup, an include without SPF record, a budget that cannot be met).\n\n"
      "Examples:\n"
      "  spfctl flatten example.com\n"
      "  spfctl flatten example.com --flatten full --lookup-budget 8 --json\n"
      "  spfctl --zone examples/dns/senders.zone --zone examples/zones/example-agency.net.zone flatten "
      "example-agency.net");
  command.callback([&globals, &outcome, args] { outcome.exit_code = run_flatten(globals, *args); });
}

// --workers, as plan and apply take it.
void add_workers_option(CLI::App& command, int& workers) {
  command
      .add_option("--workers", workers,
                  "domains read, planned and diffed at once (DNS is asked ahead, " +
                      std::to_string(dns::LiveResolver::k_max_in_flight) + " questions at once)")
      ->type_name("N")
      ->capture_default_str()
      ->check(whole_number_between(1, k_max_workers));
}

void setup_plan(CLI::App& command, const GlobalOptions& globals, Outcome& outcome) {
  auto options = std::make_shared<PlanOptions>();
  command.add_option("--out", options->out, "write the plan as JSON to this file (for review and apply)");
  command.add_option("--domain", options->domains, "plan only this configured domain (repeatable)");
  command.add_flag("--detailed-exitcode", options->detailed_exitcode,
                   "exit 2 when there are changes (0: none, 1: error)");
  add_workers_option(command, options->workers);
  command.footer(
      "For each configured domain: the SPF records spfctl would publish (flattened only as far as the\n"
      "lookup budget needs, proved equivalent to the policy), against what its provider publishes now,\n"
      "as changes: + create, ~ update, - delete. Nothing is published.\n"
      "Exit 0 when planned (no changes, or changes without --detailed-exitcode), 2 when there are\n"
      "changes and --detailed-exitcode is given, 1 when any domain could not be planned.\n\n"
      "Examples:\n"
      "  spfctl plan -c spfctl.toml\n"
      "  spfctl plan --domain example.com --out plan.json\n"
      "  spfctl plan -c config.example.toml --zone examples/dns/senders.zone   (offline)");
  command.callback([&globals, &outcome, options] { outcome.exit_code = run_plan(globals, *options); });
}

void setup_apply(CLI::App& command, const GlobalOptions& globals, Outcome& outcome) {
  auto options = std::make_shared<ApplyOptions>();
  command
      .add_option("PLANFILE", options->plan_file, "apply exactly this saved plan (from 'spfctl plan --out')")
      ->type_name("");
  command.add_option("--domain", options->domains, "apply only this configured domain (repeatable)")
      ->type_name("D");
  command.add_flag("--auto-approve", options->auto_approve,
                   "apply without asking for confirmation (a PLANFILE never asks: it was reviewed)");
  command.add_flag("--force", options->force, "apply even when the safety checks below refuse");
  command
      .add_option("--force-domain", options->force_domains,
                  "--force for this domain only: its unsafe changes and deletes go ahead (repeatable)")
      ->type_name("D");
  command.add_option("--max-deletes", options->max_deletes, "records a run may delete without --force")
      ->type_name("N")
      ->capture_default_str()
      ->check(whole_number_between(0, 999999));
  add_workers_option(command, options->workers);
  command.footer(
      "Plans (or reads PLANFILE), prints the changes, proves what they would publish against the\n"
      "configuration over DNS as it is now, checks them, asks for confirmation on a terminal (not for a\n"
      "PLANFILE: saving and reviewing it was the approval), publishes them in a safe order (chained\n"
      "records, then the domain's record, then deletes), and reads back what was published. With\n"
      "PLANFILE it refuses when the configuration or DNS changed since the plan was made. Without\n"
      "--force it refuses plans that weaken a domain's 'all', stop authorising an\n"
      "address or sender the published record authorises, or delete more than --max-deletes records.\n"
      "The first Ctrl-C lets the writes in flight finish and starts no more; a second stops at once.\n"
      "Exit 0 when every domain is applied and verified or already in sync, 130 when interrupted,\n"
      "1 otherwise.\n\n"
      "Examples:\n"
      "  spfctl apply                                  (plan, review, type yes)\n"
      "  spfctl plan --out plan.json && spfctl apply plan.json\n"
      "  spfctl apply --domain example.com --auto-approve\n"
      "See docs/apply.md and docs/workflow.md.");
  command.callback([&globals, &outcome, options] { outcome.exit_code = run_apply(globals, *options); });
}

void setup_senders(CLI::App& command, const GlobalOptions& globals, Outcome& outcome) {
  auto names = std::make_shared<std::vector<std::string>>();
  command
      .add_option("NAME", *names,
                  "senders to show in full (common other names, like office365 or 1und1, are accepted)")
      ->type_name("");
  command.footer(
      "The sender catalogue: the built-in senders, with the configuration's [senders.*] merged in\n"
      "when there is one (-c). Without NAME, one line each: name, description, DNS lookups now.\n"
      "With NAME: the terms it adds to a record, its lookups now, its own SPF documentation, and\n"
      "what to set up first when it needs an account's own include. Lookups are counted over DNS\n"
      "(--resolver, or --zone offline).\n\n"
      "Examples:\n"
      "  spfctl senders\n"
      "  spfctl senders microsoft365 mailchimp\n"
      "  spfctl senders --json --zone examples/dns/senders.zone");
  command.callback([&globals, &outcome, names] { outcome.exit_code = run_senders(globals, *names); });
}

void setup_providers(CLI::App& command, const GlobalOptions& globals, Outcome& outcome) {
  command.footer(
      "Each type with what it can store (checked while planning, before anything is published), the\n"
      "settings its [providers.NAME] table takes, and its documentation page.\n\n"
      "Examples:\n"
      "  spfctl providers\n"
      "  spfctl providers --json");
  command.callback([&globals, &outcome] { outcome.exit_code = run_providers(globals); });
}

}  // namespace

const std::vector<CommandSpec>& command_table() {
  static const std::vector<CommandSpec> table = {
      {"eval", "evaluate SPF for a client IP as a receiver would (RFC 7208 check_host)", setup_eval},
      {"check", "audit published SPF records: include tree, lookups, sizes, problems", setup_check},
      {"flatten", "the lookup-safe record set for a domain's published SPF, proved equivalent",
       setup_flatten},
      {"plan", "show the SPF changes the configuration needs, per domain, without publishing", setup_plan},
      {"apply", "publish the planned SPF changes (or a saved plan), after checks and confirmation",
       setup_apply},
      {"providers", "list the provider types spfctl can publish to, with their capabilities",
       setup_providers},
      {"senders", "list the sender catalogue: what each sender adds to a record, its docs, its lookups",
       setup_senders},
  };
  return table;
}

int run(int argc, char** argv) {
  CLI::App app{"spfctl: SPF records as code. Plan, flatten, prove and publish SPF (RFC 7208).", "spfctl"};
  app.set_version_flag("--version", std::string("spfctl ") + SPFCTL_VERSION);
  app.require_subcommand(1);
  app.fallthrough();
  app.footer("Run 'spfctl COMMAND --help' for a command's options and examples.");
  app.get_formatter()->label("SUBCOMMAND", "COMMAND");

  GlobalOptions globals;
  Outcome outcome;
  add_global_options(app, globals);
  for (const auto& spec : command_table()) {
    CLI::App* command = app.add_subcommand(spec.name, spec.summary);
    spec.setup(*command, globals, outcome);
    command->group("Commands");
    command->footer(command->get_footer() + k_global_options_note);
  }

  // With --json, an error is also a JSON object on stdout, so a script reading stdout learns why
  // (the exit code and stderr stay as they are). --json may not have been read when parsing failed.
  const auto fail = [&](const std::string& kind, const std::string& message) {
    std::cerr << "spfctl: error: " << message << "\n";
    const bool json = globals.json || std::any_of(argv + 1, argv + argc, [](const char* arg) {
                        return std::string_view(arg) == "--json";
                      });
    if (json)
      std::cout << nlohmann::json{{"error", {{"kind", kind}, {"message", message}}}, {"exit_code", 1}}.dump(2)
                << "\n";
    return 1;
  };
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForVersion& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    return fail("usage", printable_message(usage_error(e, app), Lines::one));
  } catch (const Error& e) {
    return fail("error", printable_message(e.what(), Lines::as_written));
  } catch (const std::exception& e) {
    return fail("internal", "internal error: " + printable_message(e.what(), Lines::one));
  }
  return outcome.exit_code;
}

}  // namespace spfctl::cli
