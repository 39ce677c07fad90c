// Seed 004, exercise 2: "Try spawning several processes that also spawn several
// threads in their own processes!"
//
// Each worker process of the process pool runs a thread pool of its own; every thread
// sums a slice of a range, and the process sends back one line per thread. Processes
// give isolation (separate memory), threads share the memory inside each process.
#include <lanes/process_pool.hpp>
#include <lanes/thread_pool.hpp>
#include <sys/syscall.h>
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <string>
#include <thread>
#include <tuple>
#include <vector>

/// Runs in a worker: a pool of `threads` threads sums the slices of [begin, end).
std::vector<std::string> crunch_with_threads(int process_index, std::int64_t begin,
                                             std::int64_t end, int threads) {
  lanes::ThreadPoolExecutor pool(static_cast<std::size_t>(threads));
  const std::int64_t step = (end - begin + threads - 1) / threads;
  std::vector<lanes::Future<std::string>> parts;
  for (int t = 0; t < threads; ++t) {
    const std::int64_t lo = begin + t * step;
    const std::int64_t hi = std::min(end, lo + step);
    parts.push_back(pool.submit([=] {
      std::int64_t sum = 0;
      for (std::int64_t x = lo; x < hi; ++x) sum += x;
      return "process " + std::to_string(process_index) + " (pid " +
             std::to_string(::getpid()) + "), thread " +
             std::to_string(static_cast<long>(::syscall(SYS_gettid))) + ": sum of [" +
             std::to_string(lo) + ", " + std::to_string(hi) + ") = " + std::to_string(sum);
    }));
  }
  std::vector<std::string> lines;
  for (auto& part : parts) lines.push_back(part.result());
  return lines;
}
LANES_REGISTER(crunch_with_threads);

int main() {
  constexpr int kProcesses = 3;
  constexpr int kThreads = 4;
  constexpr std::int64_t kPerProcess = 10'000'000;
  lanes::ProcessPoolExecutor pool(kProcesses);
  std::vector<std::tuple<int, std::int64_t, std::int64_t, int>> jobs;
  for (int p = 0; p < kProcesses; ++p)
    jobs.emplace_back(p, p * kPerProcess, (p + 1) * kPerProcess, kThreads);
  // map: one call per process, results in order.
  for (const auto& lines : pool.map(crunch_with_threads, jobs, std::nullopt, 1))
    for (const auto& line : lines) std::printf("%s\n", line.c_str());
  std::printf("main process %d: %d processes x %d threads each\n", static_cast<int>(::getpid()),
              kProcesses, kThreads);
  return 0;
}
