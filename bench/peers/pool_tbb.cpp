// bench/peers/pool_tbb.cpp — bench_thread_pool's workloads written with oneTBB.
//
//   tiny_tasks        tbb::task_group: run() 1,000,000 tasks that store i + 1 in their
//                     slot, then wait() (the waiting thread runs tasks too), summed
//   tiny_inside       the same from inside a task: one task_group task runs() the
//                     1,000,000 tasks into a nested task_group, then wait()s on it
//   fib               fork-join fib(32), task_group per call: run(fib(n-1)),
//                     fib(n-2) inline, wait(); below the cut-off plain recursion
//   fib_invoke        the same with tbb::parallel_invoke
// oneTBB's default concurrency: one thread per core, the calling thread being one.
// Prints one JSON line per workload, as bench_thread_pool does (see pool_work.hpp).
//
//   peer_pool_tbb [--reps N] [--fib-reps N] [--only tiny|fib]  (tiny: both tiny workloads)
#include <oneapi/tbb/info.h>
#include <oneapi/tbb/parallel_invoke.h>
#include <oneapi/tbb/task_arena.h>
#include <oneapi/tbb/task_group.h>
#include <oneapi/tbb/version.h>

#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "pool_work.hpp"

namespace {

using namespace pool_bench;

long fib_group(int n) {
  if (n < kFibCutoff) return fib_seq(n);
  long left = 0;
  tbb::task_group g;
  g.run([&] { left = fib_group(n - 1); });
  const long right = fib_group(n - 2);
  g.wait();
  return left + right;
}

long fib_invoke(int n) {
  if (n < kFibCutoff) return fib_seq(n);
  long left = 0, right = 0;
  tbb::parallel_invoke([&] { left = fib_invoke(n - 1); }, [&] { right = fib_invoke(n - 2); });
  return left + right;
}

void check(long got, long expected, const char* what) {
  if (got != expected) {
    std::fprintf(stderr, "peer_pool_tbb: %s computed %ld, expected %ld\n", what, got, expected);
    std::exit(1);
  }
}

}  // namespace

int main(int argc, char** argv) {
  const Args args = parse_args(argc, argv);
  const int threads = tbb::this_task_arena::max_concurrency();
  const std::string who = "\"threads_max\": " + std::to_string(threads) + ", \"version\": \"" +
                          TBB_VERSION_STRING + "\", ";

  if (args.only.empty() || args.only == "tiny") {
    std::vector<int> out(kTinyTasks);
    const long expected = static_cast<long>(kTinyTasks) * (kTinyTasks + 1) / 2;
    const Best best = measure(args.reps, [&] {
      tbb::task_group g;
      int* slots = out.data();
      for (int i = 0; i < kTinyTasks; ++i) g.run([slots, i] { slots[i] = i + 1; });
      g.wait();
      long sum = 0;
      for (int v : out) sum += v;
      check(sum, expected, "tiny_tasks");
    });
    print_result("tbb", "tiny_tasks", who, best, args.reps, kTinyTasks);
    const Best inside = measure(args.reps, [&] {
      tbb::task_group outer;
      outer.run([&] {
        tbb::task_group g;
        int* slots = out.data();
        for (int i = 0; i < kTinyTasks; ++i) g.run([slots, i] { slots[i] = i + 1; });
        g.wait();
      });
      outer.wait();
      long sum = 0;
      for (int v : out) sum += v;
      check(sum, expected, "tiny_inside");
    });
    print_result("tbb", "tiny_inside", who, inside, args.reps, kTinyTasks);
  }

  if (args.only.empty() || args.only == "fib") {
    const long expected = fib_seq(kFibN);
    const std::string extra = who + "\"n\": " + std::to_string(kFibN) +
                              ", \"cutoff\": " + std::to_string(kFibCutoff) + ", ";
    const Best seq = measure(args.fib_reps, [&] { check(fib_seq(kFibN), expected, "fib_seq"); });
    print_result("tbb", "fib_seq", extra, seq, args.fib_reps, 0);
    const Best group = measure(args.fib_reps, [&] { check(fib_group(kFibN), expected, "fib"); });
    print_result("tbb", "fib", extra, group, args.fib_reps, fib_jobs(kFibN));
    const Best invoke =
        measure(args.fib_reps, [&] { check(fib_invoke(kFibN), expected, "fib_invoke"); });
    print_result("tbb", "fib_invoke", extra, invoke, args.fib_reps, fib_jobs(kFibN));
  }
  return 0;
}
