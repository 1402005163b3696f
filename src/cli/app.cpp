#include "cli/app.hpp"

#include <CLI/CLI.hpp>
#include <cstdio>
#include <iostream>

#include "cli/commands.hpp"
#include "error.hpp"

namespace spfctl::cli {

const std::vector<CommandSpec>& command_table() {
  static const std::vector<CommandSpec> table = {
      {"eval", "evaluate SPF for a client IP as a receiver would (RFC 7208 check_host)", setup_eval},
      {"check", "audit published SPF records: include tree, lookups, sizes, problems", setup_check},
      {"plan", "show the SPF changes the configuration needs, per domain, without publishing", setup_plan},
      {"providers", "list the provider types spfctl can publish to, with their capabilities", setup_providers},
  };
  return table;
}

namespace {

void add_global_options(CLI::App& app, GlobalOptions& globals) {
  app.add_option("-c,--config", globals.config, "configuration file")->capture_default_str();
  app.add_option("--resolver", globals.resolvers,
                 "DNS server to ask, ADDR[:PORT] or [IPV6]:PORT (repeatable; default: /etc/resolv.conf)");
  app.add_option("--zone", globals.zones,
                 "answer DNS questions only from this RFC 1035 master file (repeatable; offline)");
  app.add_option("--timeout", globals.timeout_seconds, "seconds to wait for one DNS answer")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  app.add_option("--retries", globals.retries, "DNS retries after a timeout")
      ->capture_default_str()
      ->check(CLI::Range(0, 10));
  app.add_flag("--json", globals.json, "machine-readable JSON output");
  app.add_flag("--no-color", globals.no_color, "no colour (also when NO_COLOR is set)");
  app.add_flag("-v,--verbose", globals.verbose, "more detail (repeatable)");
  app.add_flag("-q,--quiet", globals.quiet, "only errors and results");
}

// Levenshtein distance, for "did you mean" on unknown commands.
std::size_t edit_distance(const std::string& a, const std::string& b) {
  std::vector<std::size_t> row(b.size() + 1);
  for (std::size_t j = 0; j <= b.size(); ++j) row[j] = j;
  for (std::size_t i = 1; i <= a.size(); ++i) {
    std::size_t diagonal = row[0];
    row[0] = i;
    for (std::size_t j = 1; j <= b.size(); ++j) {
      const std::size_t above = row[j];
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, diagonal + (a[i - 1] == b[j - 1] ? 0 : 1)});
      diagonal = above;
    }
  }
  return row[b.size()];
}

std::string suggest_command(const std::string& word) {
  std::string best;
  std::size_t best_distance = 3;
  for (const auto& spec : command_table()) {
    const std::size_t d = edit_distance(word, spec.name);
    if (d < best_distance) {
      best_distance = d;
      best = spec.name;
    }
  }
  return best;
}

}  // namespace

int run(int argc, char** argv) {
  CLI::App app{"spfctl: SPF records as code. Plan, flatten, prove and publish SPF (RFC 7208).", "spfctl"};
  app.set_version_flag("--version", std::string("spfctl ") + SPFCTL_VERSION);
  app.require_subcommand(1);
  app.fallthrough();
  app.footer("Run 'spfctl COMMAND --help' for a command's options and examples.");

  GlobalOptions globals;
  Outcome outcome;
  add_global_options(app, globals);
  for (const auto& spec : command_table()) {
    CLI::App* command = app.add_subcommand(spec.name, spec.summary);
    spec.setup(*command, globals, outcome);
  }

  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForVersion& e) {
    return app.exit(e);
  } catch (const CLI::RequiredError& e) {
    if (app.get_subcommands().empty()) {
      std::cerr << app.help();
      return 1;
    }
    std::cerr << "spfctl: error: " << e.what() << "\n";
    return 1;
  } catch (const CLI::ExtrasError& e) {
    std::string message = e.what();
    if (app.get_subcommands().empty() && argc > 1) {
      // The first positional word was not a command.
      for (int i = 1; i < argc; ++i) {
        const std::string word = argv[i];
        if (word.empty() || word[0] == '-') continue;
        const std::string hint = suggest_command(word);
        message = "unknown command '" + word + "'" +
                  (hint.empty() ? "" : "; did you mean '" + hint + "'?") +
                  " (run 'spfctl --help' for the list)";
        break;
      }
    }
    std::cerr << "spfctl: error: " << message << "\n";
    return 1;
  } catch (const CLI::ParseError& e) {
    std::cerr << "spfctl: error: " << e.what() << " (run 'spfctl --help')\n";
    return 1;
  } catch (const Error& e) {
    std::cerr << "spfctl: error: " << e.what() << "\n";
    return 1;
  } catch (const std::exception& e) {
    std::cerr << "spfctl: error: internal error: " << e.what() << "\n";
    return 1;
  }
  return outcome.exit_code;
}

}  // namespace spfctl::cli
