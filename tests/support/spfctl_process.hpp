// Runs the spfctl binary as a user would, for tests of the command line end to end: arguments
// passed as they are (no shell), stdout and stderr captured separately, the exit code or the
// signal that ended it, and a deadline after which the process is killed (a hang is a failure,
// never a stuck test run). stdout is a pipe, or with `terminal` a pseudo-terminal, so colour
// decisions can be tested; stdin is /dev/null, a pipe carrying `stdin_text`, or with
// `stdin_terminal` a pseudo-terminal that `stdin_text` is typed into, so prompts can be answered.
//
//   std::atomic<pid_t> child{0};
//   ProcessOptions options;
//   options.stdin_terminal = true;
//   options.stdin_text = "yes\n";
//   options.on_started = [&](pid_t pid) { child = pid; };  // another thread may kill(child, ...)
//   ProcessResult result = run_spfctl({"apply"}, options);
//
// Header-only; used by the CLI tests (tests/integration/test_*_cli.cpp, tests/cli/).
// run_process() may run in several threads at once: every descriptor it opens is close-on-exec
// and the child closes all but 0, 1 and 2, so one child never holds another's pipes open. It
// reads `environ`, so tests must not change the environment while children start.
#pragma once

#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <spawn.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <functional>
#include <optional>
#include <sstream>
#include <stdexcept>
#include <string>
#include <thread>
#include <utility>
#include <vector>

extern char** environ;

namespace spfctl::test_support {

struct ProcessOptions {
  // Environment changes: (NAME, value) sets, (NAME, nullopt) removes. NO_COLOR is always removed
  // first so the caller's environment does not change what a test sees.
  std::vector<std::pair<std::string, std::optional<std::string>>> env;
  // stdout on a pseudo-terminal instead of a pipe (stderr stays a pipe). With stdin_terminal too,
  // stdin and stdout are the same terminal, as in an interactive shell, and `out` is what that
  // terminal shows: the output with the typed text echoed where it was typed.
  bool terminal = false;
  std::chrono::milliseconds timeout{30000};
  // Unset: stdin is /dev/null (reads see end of file at once). Set: written to stdin, which is a
  // pipe closed after the text (a child that does not read it is no error). With stdin_terminal,
  // typed into the terminal instead and followed by the end-of-file key (Ctrl-D), so a read after
  // the text's last line sees end of file just as with a pipe.
  std::optional<std::string> stdin_text = std::nullopt;
  // stdin is a pseudo-terminal (isatty(0) is true in the child), though not the child's
  // controlling terminal. Without stdin_text nothing is typed: reads wait, until the deadline.
  // Unless `terminal` is set too, what the terminal echoes is discarded.
  bool stdin_terminal = false;
  // Called with the child's pid once it runs (its program loaded), on the calling thread, before
  // any output is read. Any thread may signal the pid while run_process() runs: it stays the
  // child's (at worst a zombie) until run_process() reaps it just before returning.
  std::function<void(pid_t)> on_started = nullptr;
};

struct ProcessResult {
  int exit_code = -1;  // -1 when killed by a signal or by the deadline
  bool timed_out = false;
  std::string out;
  std::string err;
  int signal = 0;  // the signal that ended the child (SIGKILL after the deadline), 0 if it exited
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

// A file descriptor, closed when it goes.
class Fd {
 public:
  Fd() = default;
  explicit Fd(int fd) : m_fd(fd) {}
  Fd(Fd&& other) noexcept : m_fd(std::exchange(other.m_fd, -1)) {}
  Fd& operator=(Fd&& other) noexcept {
    if (this != &other) {
      reset();
      m_fd = std::exchange(other.m_fd, -1);
    }
    return *this;
  }
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  ~Fd() { reset(); }

  int get() const { return m_fd; }
  void reset() {
    if (m_fd >= 0) close(m_fd);
    m_fd = -1;
  }

 private:
  int m_fd = -1;
};

struct Pipe {
  Fd read;
  Fd write;
};

inline Pipe make_pipe() {
  int fds[2];
  if (pipe2(fds, O_CLOEXEC) != 0) throw std::runtime_error("cannot create a pipe");
  return {Fd(fds[0]), Fd(fds[1])};
}

struct Terminal {
  Fd master;
  std::string slave;  // the path the child opens
};

inline Terminal make_terminal() {
  Fd master(posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC));
  char name[128];
  if (master.get() < 0 || grantpt(master.get()) != 0 || unlockpt(master.get()) != 0 ||
      ptsname_r(master.get(), name, sizeof name) != 0)
    throw std::runtime_error("cannot open a pseudo-terminal");
  return {std::move(master), name};
}

// The child until it is reaped; killed and reaped if the run is abandoned (an exception).
struct Child {
  pid_t pid = -1;
  bool reaped = false;
  int status = 0;

  Child() = default;
  Child(const Child&) = delete;
  Child& operator=(const Child&) = delete;
  ~Child() {
    if (pid <= 0 || reaped) return;
    kill(pid, SIGKILL);
    while (waitpid(pid, nullptr, 0) < 0 && errno == EINTR) {
    }
  }

  // Reaps the child if it has ended; with `block`, waits for that.
  bool try_reap(bool block) {
    if (reaped) return true;
    pid_t done;
    do {
      done = waitpid(pid, &status, block ? 0 : WNOHANG);
    } while (done < 0 && errno == EINTR);
    // ECHILD (reaped elsewhere): nothing more to learn, so report it ended.
    reaped = done == pid || done < 0;
    return reaped;
  }
};

// Blocks SIGPIPE on this thread while it lives: writing stdin to a child that has exited must
// fail with EPIPE, not end the test run.
class SigpipeBlock {
 public:
  SigpipeBlock() {
    sigemptyset(&m_set);
    sigaddset(&m_set, SIGPIPE);
    pthread_sigmask(SIG_BLOCK, &m_set, &m_old);
  }
  SigpipeBlock(const SigpipeBlock&) = delete;
  SigpipeBlock& operator=(const SigpipeBlock&) = delete;
  ~SigpipeBlock() { pthread_sigmask(SIG_SETMASK, &m_old, nullptr); }

  // Takes back the SIGPIPE a failed write made pending, before unblocking would deliver it.
  void discard_pending() {
    const timespec now{0, 0};
    while (sigtimedwait(&m_set, nullptr, &now) < 0 && errno == EINTR) {
    }
  }

 private:
  sigset_t m_set;
  sigset_t m_old;
};

// One descriptor the run reads from.
struct Source {
  int fd = -1;
  std::string* sink = nullptr;
  bool terminal = false;  // a terminal master: no end of file while anyone holds the terminal
  bool open = true;
};

}  // namespace detail

// Runs `program` (a path; PATH is not searched) with `args` (argv[1...]). Throws
// std::runtime_error when it cannot be started.
inline ProcessResult run_process(const std::string& program, const std::vector<std::string>& args,
                                 const ProcessOptions& options = {}) {
  using Clock = std::chrono::steady_clock;
  const auto deadline = Clock::now() + options.timeout;

  detail::Pipe err_pipe = detail::make_pipe();
  detail::Pipe out_pipe;
  detail::Pipe in_pipe;
  detail::Terminal out_terminal;
  detail::Terminal in_terminal;
  const bool shared_terminal = options.terminal && options.stdin_terminal;
  if (options.stdin_terminal) in_terminal = detail::make_terminal();
  if (options.terminal && !shared_terminal) out_terminal = detail::make_terminal();
  if (!options.terminal) out_pipe = detail::make_pipe();
  if (options.stdin_text && !options.stdin_terminal) in_pipe = detail::make_pipe();

  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  if (options.stdin_terminal)
    posix_spawn_file_actions_addopen(&actions, 0, in_terminal.slave.c_str(), O_RDWR | O_NOCTTY, 0);
  else if (options.stdin_text)
    posix_spawn_file_actions_adddup2(&actions, in_pipe.read.get(), 0);
  else
    posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
  if (shared_terminal)
    posix_spawn_file_actions_adddup2(&actions, 0, 1);
  else if (options.terminal)
    posix_spawn_file_actions_addopen(&actions, 1, out_terminal.slave.c_str(), O_RDWR | O_NOCTTY, 0);
  else
    posix_spawn_file_actions_adddup2(&actions, out_pipe.write.get(), 1);
  posix_spawn_file_actions_adddup2(&actions, err_pipe.write.get(), 2);
  posix_spawn_file_actions_addclosefrom_np(&actions, 3);

  // The child starts with no signal blocked or ignored, whatever this thread's state.
  posix_spawnattr_t attributes;
  posix_spawnattr_init(&attributes);
  sigset_t signals;
  sigemptyset(&signals);
  posix_spawnattr_setsigmask(&attributes, &signals);
  sigfillset(&signals);
  sigdelset(&signals, SIGKILL);
  sigdelset(&signals, SIGSTOP);
  posix_spawnattr_setsigdefault(&attributes, &signals);
  posix_spawnattr_setflags(&attributes, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);

  std::vector<std::string> argv_text = {program};
  argv_text.insert(argv_text.end(), args.begin(), args.end());
  std::vector<char*> argv;
  for (std::string& a : argv_text) argv.push_back(a.data());
  argv.push_back(nullptr);
  std::vector<std::string> env_text = detail::child_environment(options);
  std::vector<char*> envp;
  for (std::string& e : env_text) envp.push_back(e.data());
  envp.push_back(nullptr);

  detail::Child child;
  const int spawned =
      posix_spawn(&child.pid, program.c_str(), &actions, &attributes, argv.data(), envp.data());
  posix_spawn_file_actions_destroy(&actions);
  posix_spawnattr_destroy(&attributes);
  if (spawned != 0) {
    child.pid = -1;
    throw std::runtime_error("cannot start " + program + ": " + std::strerror(spawned));
  }
  // Only the child holds these ends now, so its exit is seen as end of file.
  err_pipe.write.reset();
  out_pipe.write.reset();
  in_pipe.read.reset();

  detail::SigpipeBlock sigpipe_block;
  if (options.on_started) options.on_started(child.pid);

  ProcessResult result;
  std::string echo;  // what a stdin-only terminal shows: not part of the result
  std::vector<detail::Source> sources;
  if (shared_terminal)
    sources.push_back({in_terminal.master.get(), &result.out, true});
  else if (options.terminal)
    sources.push_back({out_terminal.master.get(), &result.out, true});
  else
    sources.push_back({out_pipe.read.get(), &result.out, false});
  sources.push_back({err_pipe.read.get(), &result.err, false});
  if (options.stdin_terminal && !shared_terminal) sources.push_back({in_terminal.master.get(), &echo, true});

  std::string input = options.stdin_text.value_or("");
  // The terminal's default end-of-file character (VEOF), taken as such at the start of a line.
  if (options.stdin_terminal && options.stdin_text) input += '\x04';
  const int input_fd = options.stdin_terminal ? in_terminal.master.get() : in_pipe.write.get();
  std::size_t written = 0;
  if (input_fd >= 0 && !input.empty()) fcntl(input_fd, F_SETFL, fcntl(input_fd, F_GETFL) | O_NONBLOCK);
  const auto input_done = [&] {
    written = input.size();
    in_pipe.write.reset();
  };
  if (input.empty()) input_done();

  const auto any_open = [&] {
    return std::any_of(sources.begin(), sources.end(), [](const detail::Source& s) { return s.open; });
  };
  while (any_open()) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
    if (left.count() <= 0) {
      result.timed_out = true;
      break;
    }
    std::vector<pollfd> fds;
    for (const auto& source : sources) fds.push_back({source.open ? source.fd : -1, POLLIN, 0});
    const bool writing = written < input.size();
    fds.push_back({writing ? input_fd : -1, POLLOUT, 0});
    const int ready = poll(fds.data(), fds.size(), static_cast<int>(std::min<long long>(left.count(), 100)));
    if (ready < 0 && errno != EINTR) break;
    char buffer[65536];
    for (std::size_t i = 0; i < sources.size(); ++i) {
      if (fds[i].fd < 0 || fds[i].revents == 0) continue;
      const ssize_t n = read(fds[i].fd, buffer, sizeof buffer);
      if (n > 0)
        sources[i].sink->append(buffer, static_cast<std::size_t>(n));
      else if (n == 0 || (errno != EINTR && errno != EAGAIN))
        sources[i].open = false;  // end of file, or EIO from a terminal nobody holds any more
    }
    if (writing && fds.back().revents != 0) {
      const ssize_t n = write(input_fd, input.data() + written, input.size() - written);
      if (n > 0) {
        written += static_cast<std::size_t>(n);
        if (written == input.size()) input_done();
      } else if (n < 0 && errno != EINTR && errno != EAGAIN) {
        if (errno == EPIPE) sigpipe_block.discard_pending();
        input_done();  // the child closed its stdin or is gone: the rest cannot be delivered
      }
    }
    // A terminal master reports EIO only once every copy of the terminal is closed, and the
    // child's children may hold one: stop reading terminals when the child has exited and they
    // are quiet.
    if (ready == 0 && child.try_reap(false))
      for (auto& source : sources)
        if (source.terminal) source.open = false;
  }
  // The output is complete; a child that closed it early still gets the deadline to exit.
  while (!result.timed_out && !child.try_reap(false)) {
    if (Clock::now() >= deadline)
      result.timed_out = true;
    else
      std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  if (result.timed_out && !child.reaped) kill(child.pid, SIGKILL);
  child.try_reap(true);
  if (WIFEXITED(child.status) && !result.timed_out) result.exit_code = WEXITSTATUS(child.status);
  if (WIFSIGNALED(child.status)) result.signal = WTERMSIG(child.status);
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
