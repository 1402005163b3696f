// The command-line entry point: global options, the command table, error reporting and exit codes.
#pragma once

#include <string>
#include <vector>

namespace CLI {
class App;
}  // namespace CLI

namespace spfctl::cli {

// Domains planned at once by plan and apply (--workers): planning mostly waits for DNS answers, so
// many more than there are cores.
inline constexpr int k_default_workers = 64;
inline constexpr int k_max_workers = 1024;

// Options every command accepts, before or after the command name.
struct GlobalOptions {
  std::string config = "spfctl.toml";
  std::vector<std::string> resolvers;  // ADDR[:PORT], [V6ADDR]:PORT
  std::vector<std::string> zones;      // master files: resolve offline from these only
  double timeout_seconds = 2.0;
  int retries = 2;
  bool json = false;
  bool no_color = false;
  int verbose = 0;
  bool quiet = false;
};

// What a command's callback reports back to run().
struct Outcome {
  int exit_code = 0;
};

// A subcommand: its name, one line for the command list, and the function that adds its options
// and callback to `command`. The callback stores the exit code in `outcome`.
struct CommandSpec {
  const char* name;
  const char* summary;
  void (*setup)(CLI::App& command, const GlobalOptions& globals, Outcome& outcome);
};

const std::vector<CommandSpec>& command_table();

int run(int argc, char** argv);

}  // namespace spfctl::cli
