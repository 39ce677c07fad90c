// tools/lanes/lab/workloads.cpp — fib and its calibration (see workloads.hpp).
#include "lab/workloads.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>

#include "lab/gil.hpp"

namespace lanes_cli::lab {

std::int64_t fib(int n) { return n < 2 ? n : fib(n - 1) + fib(n - 2); }

std::int64_t fib_under_gil(int n, EmulatedGil& gil) {
  // Below the cutoff the plain, fully optimised fib runs (a few tens of microseconds),
  // so the GIL costs nothing but its switches: checking at every call would make this
  // fib slower than the sequential one and blame the GIL for it.
  constexpr int kCutoff = 20;
  if (n <= kCutoff) return fib(n);
  gil.checkpoint();
  return fib_under_gil(n - 1, gil) + fib_under_gil(n - 2, gil);
}

int calibrate_fib(double target_ms) {
  using clock = std::chrono::steady_clock;
  // The fastest of three runs: on a busy machine a single run may include time spent
  // preempted, which would make fib look slower and the chosen n too small.
  auto time_ms = [](int n) {
    double best = 1e300;
    // n is read through a volatile each time: fib is pure and visible here, so the
    // compiler could otherwise compute it once for the three rounds (clang does).
    volatile int arg = n;
    for (int i = 0; i < 3; ++i) {
      auto t0 = clock::now();
      volatile std::int64_t sink = fib(arg);
      (void)sink;
      best = std::min(best, std::chrono::duration<double, std::milli>(clock::now() - t0).count());
    }
    return best;
  };
  // Time a size big enough to measure (>= 2 ms), then extrapolate: fib(n+1) costs phi x fib(n).
  int n = 20;
  double ms = time_ms(n);
  while (ms < 2.0 && n < 40) {
    n += 2;
    ms = time_ms(n);
  }
  constexpr double phi = 1.6180339887;
  while (ms < target_ms && n < 45) {
    ms *= phi;
    ++n;
  }
  return n;
}

}  // namespace lanes_cli::lab
