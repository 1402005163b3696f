// The commands, each in its own src/cli/<command>.cpp: run from its options and the global ones,
// printing its output and returning the exit code; spfctl::Error is reported by run() (app.cpp).
// The options are read from the command line in app.cpp, the one file that sees CLI11, where each
// command has one row in command_table().
#pragma once

#include <string>
#include <vector>

#include "cli/app.hpp"
#include "config/config.hpp"

namespace spfctl::cli {

struct EvalOptions {
  std::string ip;
  std::string sender;
  std::string helo;
  std::string domain;
};
int run_eval(const GlobalOptions& globals, const EvalOptions& options);

// `domains`: the domains whose published records to audit.
int run_check(const GlobalOptions& globals, const std::vector<std::string>& domains);

struct FlattenOptions {
  std::string domain;
  std::string mode = "auto";
  int lookup_budget = config::k_max_lookups;
};
int run_flatten(const GlobalOptions& globals, const FlattenOptions& options);

struct PlanOptions {
  std::string out;
  std::vector<std::string> domains;
  bool detailed_exitcode = false;
  int workers = k_default_workers;
};
int run_plan(const GlobalOptions& globals, const PlanOptions& options);

struct ApplyOptions {
  std::string plan_file;
  std::vector<std::string> domains;
  bool auto_approve = false;
  bool force = false;
  std::vector<std::string> force_domains;  // --force-domain
  int max_deletes = 10;
  int workers = k_default_workers;
};
int run_apply(const GlobalOptions& globals, const ApplyOptions& options);

int run_providers(const GlobalOptions& globals);

// `names`: the senders to show in full (aliases accepted); none: the whole catalogue, one line each.
int run_senders(const GlobalOptions& globals, const std::vector<std::string>& names);

}  // namespace spfctl::cli
