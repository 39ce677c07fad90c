// tools/lanes/lab/workloads.hpp — the CPU workload of the tutorial's exercise 3: naive
// recursive Fibonacci, plain and under the emulated GIL, and its calibration.
#pragma once

#include <cstdint>

namespace lanes_cli::lab {

class EmulatedGil;

/// fib(n) by naive recursion: pure computation, no memory traffic, no I/O.
std::int64_t fib(int n);

/// fib(n) by the same recursion, reaching a GIL switch point every few tens of
/// microseconds (CPython checks between bytecodes). The caller holds `gil`.
std::int64_t fib_under_gil(int n, EmulatedGil& gil);

/// The smallest n >= 20 for which one fib(n) takes at least `target_ms` on this
/// machine (measured, then extrapolated by the golden ratio per step). At most 45.
int calibrate_fib(double target_ms);

}  // namespace lanes_cli::lab
