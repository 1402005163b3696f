// The process runner the CLI tests drive spfctl with (tests/support/spfctl_process.hpp), checked
// with small system programs run without a shell.
#include <signal.h>

#include <catch2/catch.hpp>
#include <chrono>
#include <string>
#include <thread>
#include <vector>

#include "tests/support/spfctl_process.hpp"

using namespace std::chrono_literals;
using Catch::Matchers::Contains;
using Catch::Matchers::StartsWith;
using spfctl::test_support::ProcessOptions;
using spfctl::test_support::ProcessResult;
using spfctl::test_support::run_process;

namespace {

ProcessOptions with_stdin(std::string text) {
  ProcessOptions options;
  options.stdin_text = std::move(text);
  return options;
}

}  // namespace

TEST_CASE("process: exit codes, and stdin is /dev/null by default", "[cli][process]") {
  const ProcessResult cat = run_process("/bin/cat", {});
  CHECK(cat.exit_code == 0);
  CHECK(cat.out.empty());
  CHECK(cat.signal == 0);
  CHECK_FALSE(cat.timed_out);
  CHECK(run_process("/bin/false", {}).exit_code == 1);
  CHECK(run_process("/usr/bin/test", {"-t", "0"}).exit_code == 1);
  CHECK_THROWS_WITH(run_process("/nonexistent/program", {}), Contains("cannot start /nonexistent/program"));
}

TEST_CASE("process: stdin_text reaches the child through a pipe that is then closed", "[cli][process]") {
  const ProcessResult cat = run_process("/bin/cat", {}, with_stdin("yes\nsecond line"));
  CHECK(cat.exit_code == 0);
  CHECK(cat.out == "yes\nsecond line");
  // An empty text is an empty stdin, not /dev/null's absence of one: still end of file at once.
  CHECK(run_process("/bin/cat", {}, with_stdin("")).out.empty());
  // More than a pipe holds, while the child writes as much back: the runner must write and read
  // at the same time.
  std::string big;
  for (int i = 0; big.size() < 1'000'000; ++i) big += "line " + std::to_string(i) + "\n";
  const ProcessResult echoed = run_process("/bin/cat", {}, with_stdin(big));
  CHECK(echoed.exit_code == 0);
  CHECK(echoed.out == big);
  // A child that reads nothing and exits: the text is dropped, and no SIGPIPE ends the test run.
  const ProcessResult ignored = run_process("/bin/true", {}, with_stdin(big));
  CHECK(ignored.exit_code == 0);
  CHECK(ignored.signal == 0);
}

TEST_CASE("process: stdin_terminal makes stdin a terminal that stdin_text is typed into", "[cli][process]") {
  ProcessOptions options;
  options.stdin_terminal = true;
  options.timeout = 10s;
  CHECK(run_process("/usr/bin/test", {"-t", "0"}, options).exit_code == 0);
  CHECK(run_process("/usr/bin/test", {"-t", "1"}, options).exit_code == 1);  // stdout is still a pipe
  const ProcessResult tty = run_process("/usr/bin/tty", {}, options);
  CHECK(tty.exit_code == 0);
  CHECK_THAT(tty.out, StartsWith("/dev/pts/"));

  // The typed line arrives, the terminal's echo does not land in `out`, and the end-of-file key
  // after the text ends cat.
  options.stdin_text = "yes\n";
  const ProcessResult cat = run_process("/bin/cat", {}, options);
  CHECK(cat.exit_code == 0);
  CHECK_FALSE(cat.timed_out);
  CHECK(cat.out == "yes\n");

  // With `terminal` too, stdin and stdout are one terminal: `out` shows the echo and the output,
  // with the terminal's line endings.
  options.terminal = true;
  CHECK(run_process("/usr/bin/test", {"-t", "0", "-a", "-t", "1"}, options).exit_code == 0);
  const ProcessResult shared = run_process("/bin/cat", {}, options);
  CHECK(shared.exit_code == 0);
  CHECK(shared.out == "yes\r\nyes\r\n");
}

TEST_CASE("process: with stdin_terminal and no text, a reading child waits until the deadline",
          "[cli][process]") {
  ProcessOptions options;
  options.stdin_terminal = true;
  options.timeout = 300ms;
  const auto start = std::chrono::steady_clock::now();
  const ProcessResult waited = run_process("/bin/cat", {}, options);
  CHECK(waited.timed_out);
  CHECK(waited.exit_code == -1);
  CHECK(waited.signal == SIGKILL);
  CHECK(std::chrono::steady_clock::now() - start < 10s);
}

TEST_CASE("process: the deadline kills a child that does not end", "[cli][process]") {
  ProcessOptions options;
  options.timeout = 200ms;
  const auto start = std::chrono::steady_clock::now();
  const ProcessResult slept = run_process("/bin/sleep", {"30"}, options);
  CHECK(slept.timed_out);
  CHECK(slept.exit_code == -1);
  CHECK(slept.signal == SIGKILL);
  CHECK(std::chrono::steady_clock::now() - start < 10s);
}

TEST_CASE("process: on_started gives the pid, and a child killed from another thread reports the signal",
          "[cli][process]") {
  std::thread killer;
  pid_t started = 0;
  ProcessOptions options;
  options.on_started = [&](pid_t pid) {
    started = pid;
    killer = std::thread([pid] {
      std::this_thread::sleep_for(50ms);
      kill(pid, SIGTERM);
    });
  };
  const ProcessResult killed = run_process("/bin/sleep", {"30"}, options);
  killer.join();
  CHECK(started > 0);
  CHECK_FALSE(killed.timed_out);
  CHECK(killed.exit_code == -1);
  CHECK(killed.signal == SIGTERM);

  // An exception from on_started leaves no child behind: it is killed and reaped.
  options.on_started = [&](pid_t pid) {
    started = pid;
    throw std::runtime_error("stop");
  };
  CHECK_THROWS_WITH(run_process("/bin/sleep", {"30"}, options), "stop");
  CHECK(kill(started, 0) != 0);
}

TEST_CASE("process: runs in several threads at once keep their input and output apart", "[cli][process]") {
  constexpr int k_threads = 4;
  constexpr int k_runs = 10;
  std::vector<std::vector<ProcessResult>> results(k_threads);
  std::vector<std::thread> threads;
  for (int t = 0; t < k_threads; ++t)
    threads.emplace_back([t, &results] {
      for (int run = 0; run < k_runs; ++run) {
        ProcessOptions options =
            with_stdin("thread " + std::to_string(t) + " run " + std::to_string(run) + "\n");
        options.stdin_terminal = run % 2 == 1;
        options.timeout = 20s;
        results[t].push_back(run_process("/bin/cat", {}, options));
      }
    });
  for (auto& thread : threads) thread.join();
  for (int t = 0; t < k_threads; ++t) {
    REQUIRE(results[t].size() == k_runs);
    for (int run = 0; run < k_runs; ++run) {
      INFO("thread " << t << " run " << run);
      CHECK(results[t][run].exit_code == 0);
      CHECK(results[t][run].out == "thread " + std::to_string(t) + " run " + std::to_string(run) + "\n");
    }
  }
}
