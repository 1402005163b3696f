// One setup function per command; each lives in its own src/cli/<command>.cpp and has one row in
// command_table() (src/cli/app.cpp).
#pragma once

#include "cli/app.hpp"

namespace spfctl::cli {

void setup_eval(CLI::App& command, const GlobalOptions& globals, Outcome& outcome);
void setup_check(CLI::App& command, const GlobalOptions& globals, Outcome& outcome);
void setup_flatten(CLI::App& command, const GlobalOptions& globals, Outcome& outcome);
void setup_apply(CLI::App& command, const GlobalOptions& globals, Outcome& outcome);
void setup_plan(CLI::App& command, const GlobalOptions& globals, Outcome& outcome);
void setup_providers(CLI::App& command, const GlobalOptions& globals, Outcome& outcome);

}  // namespace spfctl::cli
