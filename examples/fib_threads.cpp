// Fork-join Fibonacci on a ThreadPoolExecutor, against plain sequential recursion.
//
// Each call above a cut-off submits fib(n-1) to the pool, computes fib(n-2) itself
// and then waits for the first with result(). A pool worker that waits like that
// does not sit idle: it runs other jobs of the pool meanwhile (a "helping" wait), so
// the recursion never runs out of threads, even with one worker, and uses every core.
// Python's ThreadPoolExecutor would deadlock on this once every worker waits (and the
// GIL would keep it to one core anyway).
#include <lanes/thread_pool.hpp>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <functional>
#include <thread>

namespace {

constexpr int kN = 36;       // ~48 million calls
constexpr int kCutoff = 24;  // below this a job is too small to be worth a submit

long fib(int n) { return n < 2 ? n : fib(n - 1) + fib(n - 2); }

long fib_pool(lanes::ThreadPoolExecutor& pool, int n) {
  if (n < kCutoff) return fib(n);
  auto left = pool.submit(fib_pool, std::ref(pool), n - 1);  // fork
  const long right = fib_pool(pool, n - 2);
  return left.result() + right;  // join (helping meanwhile)
}

/// The best of three runs of `run` in seconds: the least disturbed by other programs.
template <class Run>
double best_of_three(Run run) {
  double best = 1e9;
  for (int i = 0; i < 3; ++i) {
    const auto t0 = std::chrono::steady_clock::now();
    run();
    best = std::min(best, std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
  }
  return best;
}

}  // namespace

int main() {
  const unsigned cores = std::max(1u, std::thread::hardware_concurrency());
  std::printf("fib(%d) on %u cores\n", kN, cores);

  long expected = 0;
  const double sequential = best_of_three([&] { expected = fib(kN); });
  std::printf("  sequential        %.3f s\n", sequential);

  for (unsigned workers : {1u, cores}) {
    lanes::ThreadPoolExecutor pool(workers);
    long got = 0;
    const double took =
        best_of_three([&] { got = pool.submit(fib_pool, std::ref(pool), kN).result(); });
    if (got != expected) {
      std::printf("wrong result: %ld, expected %ld\n", got, expected);
      return 1;
    }
    std::printf("  pool, %u worker%s  %.3f s  (%.2fx)\n", workers, workers == 1 ? " " : "s",
                took, sequential / took);
    if (cores == 1) break;
  }
  return 0;
}
