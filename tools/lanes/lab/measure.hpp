// tools/lanes/lab/measure.hpp — what every experiment measures: wall time, and CPU time
// of this process and of the children it has reaped (so a process pool's workers count
// once the pool is shut down), plus memory figures for the scale experiment.
#pragma once

#include <chrono>
#include <cstdint>

namespace lanes_cli::lab {

/// CPU seconds (user + system) used so far by this process and by its reaped children.
double cpu_seconds_self_and_children();


/// Wall and CPU time of one measured interval.
struct Span {
  double wall_s = 0;
  double cpu_s = 0;
};

/// Starts timing at construction; stop() returns the interval so far.
class Stopwatch {
 public:
  Stopwatch() : wall0_(std::chrono::steady_clock::now()), cpu0_(cpu_seconds_self_and_children()) {}
  Span stop() const {
    Span s;
    s.wall_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - wall0_).count();
    s.cpu_s = cpu_seconds_self_and_children() - cpu0_;
    return s;
  }

 private:
  std::chrono::steady_clock::time_point wall0_;
  double cpu0_;
};

/// Runs `fn` and returns how long it took.
template <class F>
Span measure(F&& fn) {
  Stopwatch sw;
  fn();
  return sw.stop();
}

/// Runs `fn` `reps` times (at least once) and returns the fastest run: on a shared or
/// virtual machine a single run may include time the cores spent on someone else.
template <class F>
Span fastest_of(int reps, F&& fn) {
  Span best = measure(fn);
  for (int i = 1; i < reps; ++i) {
    Span s = measure(fn);
    if (s.wall_s < best.wall_s) best = s;
  }
  return best;
}

/// Resident set size of this process in bytes (/proc/self/statm), 0 if unreadable.
std::int64_t resident_bytes();
/// Bytes the C allocator has handed out and not taken back (mallinfo2), 0 if it cannot
/// tell (e.g. under a sanitizer's allocator).
std::int64_t heap_in_use_bytes();
/// How many cores programs other than this one (and its children) kept busy since
/// construction: the machine's busy CPU time (/proc/stat) minus our own, over the wall
/// time. Unlike the load average it forgets a build that just ended: it sees only what
/// ran in the interval.
class OthersCpu {
 public:
  OthersCpu();
  /// Cores busy with other programs on average since construction; -1 if /proc/stat
  /// is unreadable.
  double busy_cores() const;

 private:
  std::chrono::steady_clock::time_point wall0_;
  double busy0_;  // machine's busy seconds, -1 if unreadable
  double own0_;   // our own CPU seconds, children reaped so far included
};

/// OthersCpu over a sample of `seconds` from now.
double others_busy_cores(double seconds);
/// The kernel's memory for thread stacks, machine-wide (KernelStack in /proc/meminfo),
/// in bytes; 0 if unreadable. Threads cost this on top of their resident user stack.
std::int64_t kernel_stack_bytes();

/// Cores this process may run on (its affinity mask), at least 1.
int usable_cores();

/// How many more threads this system would let us create, judged from
/// kernel.threads-max, kernel.pid_max, RLIMIT_NPROC, the cgroup's pids.max and
/// vm.max_map_count, minus what already runs. A rough upper bound.
long thread_headroom();

}  // namespace lanes_cli::lab
