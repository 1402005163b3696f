// Runs the spfctl binary as a user would, for tests of the command line end to end: arguments
// passed as they are (no shell), stdout and stderr captured separately, the exit code, and a
// deadline after which the process is killed (a hang is a failure, never a stuck test run).
// stdout is a pipe, or with `terminal` a pseudo-terminal, so colour decisions can be tested.
// Header-only; used by the integration tests (tests/integration/test_*_cli.cpp).
#pragma once

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <optional>
#include <sstream>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

extern char** environ;

namespace spfctl::test_support {

struct ProcessOptions {
  // Environment changes: (NAME, value) sets, (NAME, nullopt) removes. NO_COLOR is always removed
  // first so the caller's environment does not change what a test sees.
  std::vector<std::pair<std::string, std::optional<std::string>>> env;
  // stdout on a pseudo-terminal instead of a pipe (stderr stays a pipe).
  bool terminal = false;
  std::chrono::milliseconds timeout{30000};
};

struct ProcessResult {
  int exit_code = -1;  // -1 when killed by a signal or by the deadline
  bool timed_out = false;
  std::string out;
  std::string err;
};

namespace detail {

inline std::vector<std::string> child_environment(const ProcessOptions& options) {
  std::vector<std::pair<std::string, std::optional<std::string>>> changes = {{"NO_COLOR", std::nullopt}};
  changes.insert(changes.end(), options.env.begin(), options.env.end());
  std::vector<std::string> env;
  for (char** entry = environ; *entry; ++entry) env.emplace_back(*entry);
  for (const auto& [name, value] : changes) {
    std::erase_if(env, [&name = name](const std::string& e) { return e.starts_with(name + "="); });
    if (value) env.push_back(name + "=" + *value);
  }
  return env;
}

}  // namespace detail

// Runs `program` with `args` (argv[1...]). Throws std::runtime_error when it cannot be started.
inline ProcessResult run_process(const std::string& program, const std::vector<std::string>& args,
                                 const ProcessOptions& options = {}) {
  int out_pipe[2] = {-1, -1};
  int err_pipe[2] = {-1, -1};
  int terminal = -1;
  std::string terminal_name;
  if (options.terminal) {
    terminal = posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC);
    if (terminal < 0 || grantpt(terminal) != 0 || unlockpt(terminal) != 0 || ptsname(terminal) == nullptr) {
      if (terminal >= 0) close(terminal);
      throw std::runtime_error("cannot open a pseudo-terminal");
    }
    terminal_name = ptsname(terminal);
  } else if (pipe2(out_pipe, O_CLOEXEC) != 0) {
    throw std::runtime_error("cannot create a pipe");
  }
  if (pipe2(err_pipe, O_CLOEXEC) != 0) throw std::runtime_error("cannot create a pipe");

  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
  if (options.terminal)
    posix_spawn_file_actions_addopen(&actions, 1, terminal_name.c_str(), O_RDWR | O_NOCTTY, 0);
  else
    posix_spawn_file_actions_adddup2(&actions, out_pipe[1], 1);
  posix_spawn_file_actions_adddup2(&actions, err_pipe[1], 2);

  std::vector<std::string> argv_text = {program};
  argv_text.insert(argv_text.end(), args.begin(), args.end());
  std::vector<char*> argv;
  for (std::string& a : argv_text) argv.push_back(a.data());
  argv.push_back(nullptr);
  std::vector<std::string> env_text = detail::child_environment(options);
  std::vector<char*> envp;
  for (std::string& e : env_text) envp.push_back(e.data());
  envp.push_back(nullptr);

  pid_t pid = -1;
  const int spawned = posix_spawn(&pid, program.c_str(), &actions, nullptr, argv.data(), envp.data());
  posix_spawn_file_actions_destroy(&actions);
  if (out_pipe[1] >= 0) close(out_pipe[1]);
  close(err_pipe[1]);
  const int out_fd = options.terminal ? terminal : out_pipe[0];
  const int err_fd = err_pipe[0];
  if (spawned != 0) {
    close(out_fd);
    close(err_fd);
    throw std::runtime_error("cannot start " + program + ": " + std::strerror(spawned));
  }

  ProcessResult result;
  const auto deadline = std::chrono::steady_clock::now() + options.timeout;
  bool out_open = true;
  bool err_open = true;
  // A pseudo-terminal's master never reports end of file: it reports EIO once the child is gone,
  // but only after the child closed every copy of the terminal, so also stop when the child exits.
  bool exited = false;
  int status = 0;
  while (out_open || err_open) {
    const auto left =
        std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) {
      result.timed_out = true;
      break;
    }
    pollfd fds[2] = {{out_open ? out_fd : -1, POLLIN, 0}, {err_open ? err_fd : -1, POLLIN, 0}};
    const int ready = poll(fds, 2, static_cast<int>(std::min<long long>(left.count(), 100)));
    if (ready < 0 && errno != EINTR) break;
    char buffer[65536];
    for (int i = 0; i < 2; ++i) {
      if (fds[i].fd < 0 || fds[i].revents == 0) continue;
      const ssize_t n = read(fds[i].fd, buffer, sizeof buffer);
      if (n > 0) {
        (i == 0 ? result.out : result.err).append(buffer, static_cast<std::size_t>(n));
      } else if (n == 0 || errno != EINTR) {
        (i == 0 ? out_open : err_open) = false;
      }
    }
    if (ready == 0 && options.terminal && !exited && waitpid(pid, &status, WNOHANG) == pid) {
      exited = true;
      out_open = false;
    }
  }
  if (result.timed_out) kill(pid, SIGKILL);
  if (!exited) waitpid(pid, &status, 0);
  close(out_fd);
  close(err_fd);
  if (!result.timed_out && WIFEXITED(status)) result.exit_code = WEXITSTATUS(status);
  return result;
}

// A command shown in documentation with its output: a fenced block whose first line is
// "$ spfctl ARGS...", the lines after it up to the fence or the next "$ " line being its stdout.
struct DocumentedRun {
  std::vector<std::string> args;  // split on spaces
  std::string out;
};

// Every DocumentedRun in a Markdown text.
inline std::vector<DocumentedRun> documented_runs(const std::string& markdown) {
  std::vector<DocumentedRun> runs;
  std::istringstream in(markdown);
  bool in_block = false;
  bool in_run = false;
  for (std::string line; std::getline(in, line);) {
    if (line.starts_with("```")) {
      in_block = !in_block;
      in_run = false;
    } else if (in_block && line.starts_with("$ ")) {
      in_run = line.starts_with("$ spfctl ");
      if (!in_run) continue;
      runs.emplace_back();
      std::istringstream words(line.substr(9));
      for (std::string word; words >> word;) runs.back().args.push_back(word);
    } else if (in_run) {
      runs.back().out += line + "\n";
    }
  }
  return runs;
}

#ifdef SPFCTL_BINARY
// Runs the spfctl binary under test.
inline ProcessResult run_spfctl(const std::vector<std::string>& args, const ProcessOptions& options = {}) {
  return run_process(SPFCTL_BINARY, args, options);
}
#endif

}  // namespace spfctl::test_support
