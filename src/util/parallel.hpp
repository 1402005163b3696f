// Running one piece of work per index on a few threads at once: the planner's domains, and the
// reading and diffing of a plan run.
#pragma once

#include <algorithm>
#include <atomic>
#include <cstddef>
#include <thread>
#include <vector>

namespace spfctl::util {

// Calls work(0) ... work(count - 1), each once, on up to `threads` threads (the calling one among
// them), and returns when all are done. `work` must not throw.
template <typename Work>
void for_each_at_once(std::size_t count, int threads, const Work& work) {
  const std::size_t workers = std::min(count, static_cast<std::size_t>(std::max(threads, 1)));
  std::atomic<std::size_t> next{0};
  const auto run = [&] {
    for (std::size_t i = next++; i < count; i = next++) work(i);
  };
  std::vector<std::thread> pool;
  for (std::size_t t = 1; t < workers; ++t) pool.emplace_back(run);
  run();
  for (std::thread& thread : pool) thread.join();
}

}  // namespace spfctl::util
