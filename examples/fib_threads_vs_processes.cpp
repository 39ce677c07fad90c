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
#include <utility>
#include <vector>

long fib(int n) { return n < 2 ? n : fib(n - 1) + fib(n - 2); }
LANES_REGISTER(fib);

namespace {

constexpr int kN = 35;      // fib(35): ~30 million calls, tens of milliseconds
constexpr int kJobs = 16;   // how many times we compute it

double seconds_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

// The answer to "which is faster? why?", from this run's own figures.
void conclude(unsigned cores, double sequential, double threaded, double processes) {
  const double by_threads = sequential / threaded;
  const double by_processes = sequential / processes;
  std::printf("\nConclusion, from these figures:\n");
  if (cores == 1) {
    std::printf("- one core: neither threads nor processes can compute in parallel here; both\n"
                "  can only add their costs to the sequential time.\n");
  } else {
    // A speed-up under 1.2x on several cores means the work did not spread: say so.
    for (const auto& [who, speedup] : {std::pair{"threads", by_threads},
                                       std::pair{"processes", by_processes}}) {
      if (speedup >= 1.2) {
        std::printf("- %s ran %.2fx faster than one thread: they used about %.1f of the %u "
                    "cores.\n", who, speedup, speedup, cores);
      } else {
        std::printf("- %s were no real gain (%.2fx) on %u cores: the machine was probably "
                    "busy with other work; run it again on an idle machine.\n",
                    who, speedup, cores);
      }
    }
  }
  // Within 10% of each other: the difference is within what a busy machine varies by.
  const double ratio = processes / threaded;
  if (ratio < 1.1 && ratio > 1 / 1.1) {
    std::printf("- threads and processes took about the same time (within 10%%).\n");
  } else if (ratio >= 1.1) {
    std::printf("- threads were %.0f%% faster than processes: processes pay for starting their\n"
                "  workers and for copying arguments and results through a socket.\n",
                (ratio - 1) * 100);
  } else {
    std::printf("- processes were %.0f%% faster than threads: not a property of either; other\n"
                "  load on the machine most likely slowed the threads' turn.\n",
                (1 / ratio - 1) * 100);
  }
  std::printf("Why: C++ threads have no GIL, so threads and processes can both use every\n"
              "core; in Python only the processes could. Processes cost more to start and to\n"
              "talk to, and in exchange a crash in one stays in that process.\n");
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
  conclude(cores, sequential, threaded, processes);
  return 0;
}
