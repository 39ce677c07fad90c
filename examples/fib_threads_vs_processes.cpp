// Seed 004, exercise 3: "Write a function that performs a mathematical sequence
// (Fibonacci is a popular one). Now write some code that runs the sequence using threads
// and another using processes. Which is faster? Why?"
//
// In Python the threads lose: the GIL lets one thread compute at a time, so only
// processes use several cores. C++ has no GIL: threads and processes both use every
// core. Processes pay a little more (starting workers, copying arguments and results
// through a socket), and in exchange a crash or leak in one stays in that process.
#include <lanes/process_pool.hpp>

#include <chrono>
#include <cstdio>
#include <thread>
#include <vector>

long fib(int n) { return n < 2 ? n : fib(n - 1) + fib(n - 2); }
LANES_REGISTER(fib);

namespace {

constexpr int kN = 35;      // fib(35): ~30 million calls, tens of milliseconds
constexpr int kJobs = 16;   // how many times we compute it

double seconds_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

}  // namespace

int main() {
  const unsigned cores = std::max(1u, std::thread::hardware_concurrency());
  std::printf("fib(%d) x %d on %u cores\n", kN, kJobs, cores);

  auto t0 = std::chrono::steady_clock::now();
  long check = 0;
  for (int i = 0; i < kJobs; ++i) check += fib(kN);
  const double sequential = seconds_since(t0);

  // Threads: one per core, each taking every cores-th job.
  t0 = std::chrono::steady_clock::now();
  std::vector<long> partial(cores, 0);
  std::vector<std::thread> threads;
  for (unsigned t = 0; t < cores; ++t) {
    threads.emplace_back([t, cores, &partial] {
      for (unsigned i = t; i < kJobs; i += cores) partial[t] += fib(kN);
    });
  }
  for (auto& th : threads) th.join();
  long by_threads = 0;
  for (long p : partial) by_threads += p;
  const double threaded = seconds_since(t0);

  // Processes: a pool with one worker per core (their start-up is measured too).
  t0 = std::chrono::steady_clock::now();
  long by_processes = 0;
  {
    lanes::ProcessPoolExecutor pool(cores);
    for (long r : pool.map(fib, std::vector<int>(kJobs, kN))) by_processes += r;
  }
  const double processes = seconds_since(t0);

  if (by_threads != check || by_processes != check) {
    std::printf("results differ!\n");
    return 1;
  }
  std::printf("  sequential  %.3f s\n", sequential);
  std::printf("  threads     %.3f s  (%.2fx)\n", threaded, sequential / threaded);
  std::printf("  processes   %.3f s  (%.2fx, worker start-up included)\n", processes,
              sequential / processes);
  std::printf("Both use every core: C++ threads have no GIL. Processes cost a little more\n"
              "(start-up, copies through a socket) and isolate crashes in exchange.\n");
  return 0;
}
