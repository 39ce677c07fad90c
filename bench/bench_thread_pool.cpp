// bench/bench_thread_pool.cpp — ThreadPoolExecutor: many tiny tasks, and fork-join.
//
// bench/run.sh's group thread_pool runs it beside the same workloads written with
// oneTBB (peers/pool_tbb.cpp), OpenMP tasks (peers/pool_openmp.cpp) and Python's
// concurrent.futures (peers/pool_python.py), and bench/report.py renders the section
// of docs/benchmarks.md. Workloads:
//   tiny_tasks  submit 1,000,000 tasks that return i + 1 from this (outside) thread,
//               then result() of each, summed; a pool of one worker per core
//   tiny_inside the same from inside a pool job (the fork-join shape): one job
//               submits the 1,000,000 tasks, then result() of each (a helping wait)
//   fib         fork-join fib(32): each call at or above the cut-off (20) submits
//               fib(n-1), computes fib(n-2) itself and joins with result() — a
//               helping wait on a worker — below it plain recursion (pool_work.hpp)
//   fib_seq     the plain recursion alone, the baseline of the speed-up
// Prints one JSON line per workload (figures explained in pool_work.hpp).
//
//   bench_thread_pool [--reps N] [--fib-reps N] [--only tiny|outside|inside|fib]
//   (tiny: both tiny workloads; outside: tiny_tasks alone)
#include <lanes/thread_pool.hpp>

#include <cstdio>
#include <cstdlib>
#include <functional>
#include <string>
#include <thread>
#include <vector>

#include "pool_work.hpp"

namespace {

using namespace pool_bench;

int tiny(int i) { return i + 1; }

long fib_pool(lanes::ThreadPoolExecutor& pool, int n) {
  if (n < kFibCutoff) return fib_seq(n);
  auto left = pool.submit(fib_pool, std::ref(pool), n - 1);  // fork
  const long right = fib_pool(pool, n - 2);
  return left.result() + right;  // join: a worker helps while it waits
}

void check(long got, long expected, const char* what) {
  if (got != expected) {
    std::fprintf(stderr, "bench_thread_pool: %s computed %ld, expected %ld\n", what, got,
                 expected);
    std::exit(1);
  }
}

void tiny_tasks(int reps, std::size_t workers) {
  lanes::ThreadPoolExecutor pool(workers);
  std::vector<lanes::Future<int>> futures;
  futures.reserve(kTinyTasks);
  const long expected = static_cast<long>(kTinyTasks) * (kTinyTasks + 1) / 2;
  const Best best = measure(reps, [&] {
    for (int i = 0; i < kTinyTasks; ++i) futures.push_back(pool.submit(tiny, i));
    long sum = 0;
    for (auto& f : futures) sum += f.result();
    futures.clear();  // the futures' states are freed inside the timed part, as a peer's tasks
    check(sum, expected, "tiny_tasks");
  });
  print_result("lanes", "tiny_tasks", "\"workers\": " + std::to_string(workers) + ", ", best,
               reps, kTinyTasks);
}

long tiny_from_inside(lanes::ThreadPoolExecutor& pool, std::vector<lanes::Future<int>>& futures) {
  for (int i = 0; i < kTinyTasks; ++i) futures.push_back(pool.submit(tiny, i));
  long sum = 0;
  for (auto& f : futures) sum += f.result();
  futures.clear();
  return sum;
}

void tiny_inside(int reps, std::size_t workers) {
  lanes::ThreadPoolExecutor pool(workers);
  std::vector<lanes::Future<int>> futures;
  futures.reserve(kTinyTasks);
  const long expected = static_cast<long>(kTinyTasks) * (kTinyTasks + 1) / 2;
  const Best best = measure(reps, [&] {
    check(pool.submit(tiny_from_inside, std::ref(pool), std::ref(futures)).result(), expected,
          "tiny_inside");
  });
  print_result("lanes", "tiny_inside", "\"workers\": " + std::to_string(workers) + ", ", best,
               reps, kTinyTasks);
}

void fib(int reps, std::size_t workers) {
  const long expected = fib_seq(kFibN);
  const std::string extra = "\"n\": " + std::to_string(kFibN) +
                            ", \"cutoff\": " + std::to_string(kFibCutoff) + ", ";
  const Best seq = measure(reps, [&] { check(fib_seq(kFibN), expected, "fib_seq"); });
  print_result("lanes", "fib_seq", extra, seq, reps, 0);

  lanes::ThreadPoolExecutor pool(workers);
  const Best par = measure(reps, [&] {
    check(pool.submit(fib_pool, std::ref(pool), kFibN).result(), expected, "fib");
  });
  print_result("lanes", "fib", extra + "\"workers\": " + std::to_string(workers) + ", ", par,
               reps, fib_jobs(kFibN));
}

}  // namespace

int main(int argc, char** argv) {
  const Args args = parse_args(argc, argv);
  const std::size_t workers = std::max(1u, std::thread::hardware_concurrency());
  if (args.only.empty() || args.only == "tiny" || args.only == "outside")
    tiny_tasks(args.reps, workers);
  if (args.only.empty() || args.only == "tiny" || args.only == "inside")
    tiny_inside(args.reps, workers);
  if (args.only.empty() || args.only == "fib") fib(args.fib_reps, workers);
  return 0;
}
