// tools/lanes/lab/workloads.cpp — fib and its calibration (see workloads.hpp).
#include "lab/workloads.hpp"

#include <chrono>
#include <cmath>

#include "lab/gil.hpp"

namespace lanes_cli::lab {

std::int64_t fib(int n) { return n < 2 ? n : fib(n - 1) + fib(n - 2); }

namespace {
std::int64_t fib_gil(int n, EmulatedGil& gil, unsigned& countdown) {
  if (--countdown == 0) {
    countdown = 1024;
    gil.checkpoint();
  }
  return n < 2 ? n : fib_gil(n - 1, gil, countdown) + fib_gil(n - 2, gil, countdown);
}
}  // namespace

std::int64_t fib_under_gil(int n, EmulatedGil& gil) {
  unsigned countdown = 1024;
  return fib_gil(n, gil, countdown);
}

int calibrate_fib(double target_ms) {
  using clock = std::chrono::steady_clock;
  // Time a size big enough to measure (>= 2 ms), then extrapolate: fib(n+1) costs phi x fib(n).
  int n = 20;
  double ms = 0;
  for (;;) {
    auto t0 = clock::now();
    volatile std::int64_t sink = fib(n);
    (void)sink;
    ms = std::chrono::duration<double, std::milli>(clock::now() - t0).count();
    if (ms >= 2.0 || n >= 40) break;
    n += 2;
  }
  constexpr double phi = 1.6180339887;
  while (ms < target_ms && n < 45) {
    ms *= phi;
    ++n;
  }
  return n;
}

}  // namespace lanes_cli::lab
