// bench/peers/pool_openmp.cpp — bench_thread_pool's workloads written with OpenMP
// tasks (g++ -fopenmp: libgomp).
//
//   tiny_tasks  in a parallel region, one thread (single) creates 1,000,000 tasks
//               that store i + 1 in their slot, then taskwait; summed
//   fib         fork-join fib(32): `omp task` for fib(n-1), fib(n-2) inline,
//               taskwait; below the cut-off plain recursion
// One thread per core (omp_get_max_threads(), unless OMP_NUM_THREADS says otherwise);
// OpenMP's own defaults otherwise (libgomp spins a while before a thread sleeps).
// Prints one JSON line per workload, as bench_thread_pool does (see pool_work.hpp).
//
//   peer_pool_openmp [--reps N] [--fib-reps N] [--only tiny|fib]
#include <omp.h>

#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "pool_work.hpp"

namespace {

using namespace pool_bench;

long fib_task(int n) {
  if (n < kFibCutoff) return fib_seq(n);
  long left = 0;
#pragma omp task shared(left) firstprivate(n)
  left = fib_task(n - 1);
  const long right = fib_task(n - 2);
#pragma omp taskwait
  return left + right;
}

void check(long got, long expected, const char* what) {
  if (got != expected) {
    std::fprintf(stderr, "peer_pool_openmp: %s computed %ld, expected %ld\n", what, got,
                 expected);
    std::exit(1);
  }
}

}  // namespace

int main(int argc, char** argv) {
  const Args args = parse_args(argc, argv);
  const int threads = omp_get_max_threads();
  const std::string who = "\"threads_max\": " + std::to_string(threads) + ", ";

  if (args.only.empty() || args.only == "tiny") {
    std::vector<int> out(kTinyTasks);
    const long expected = static_cast<long>(kTinyTasks) * (kTinyTasks + 1) / 2;
    const Best best = measure(args.reps, [&] {
      int* slots = out.data();
#pragma omp parallel num_threads(threads)
#pragma omp single
      {
        for (int i = 0; i < kTinyTasks; ++i) {
#pragma omp task firstprivate(i, slots)
          slots[i] = i + 1;
        }
#pragma omp taskwait
      }
      long sum = 0;
      for (int v : out) sum += v;
      check(sum, expected, "tiny_tasks");
    });
    print_result("openmp", "tiny_tasks", who, best, args.reps, kTinyTasks);
  }

  if (args.only.empty() || args.only == "fib") {
    const long expected = fib_seq(kFibN);
    const std::string extra = who + "\"n\": " + std::to_string(kFibN) +
                              ", \"cutoff\": " + std::to_string(kFibCutoff) + ", ";
    const Best seq = measure(args.fib_reps, [&] { check(fib_seq(kFibN), expected, "fib_seq"); });
    print_result("openmp", "fib_seq", extra, seq, args.fib_reps, 0);
    const Best best = measure(args.fib_reps, [&] {
      long r = 0;
#pragma omp parallel num_threads(threads)
#pragma omp single
      r = fib_task(kFibN);
      check(r, expected, "fib");
    });
    print_result("openmp", "fib", extra, best, args.fib_reps, fib_jobs(kFibN));
  }
  return 0;
}
