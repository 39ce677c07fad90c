// Internal to src/mpi/: waiting for MPI messages without burning a core, and small helpers.
//
// MPI offers no receive that sleeps until a message arrives (shared-memory transports
// poll), so both the root's progress thread and a worker rank poll: spin for
// kSpinNs after the last message (a pipelined or next call is usually that close),
// yielding the core each time round, then sleep between polls, doubling the sleep from
// 16 µs up to 1 ms, and up to 4 ms once idle for 100 ms. An idle rank thus wakes about
// 250 times a second for a probe of some µs: about 1% of a core or less.
#pragma once

#include <sched.h>
#include <time.h>

#include <algorithm>
#include <cstdint>

namespace lanes::detail {

inline std::uint64_t monotonic_ns() noexcept {
  timespec ts{};
  ::clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<std::uint64_t>(ts.tv_sec) * 1'000'000'000u +
         static_cast<std::uint64_t>(ts.tv_nsec);
}

/// This process's rank in MPI_COMM_WORLD (for messages), or -1 before MPI_Init.
int mpi_world_rank() noexcept;

class Backoff {
 public:
  static constexpr std::uint64_t kSpinNs = 200'000;
  static constexpr std::uint64_t kFirstSleepNs = 16'000;
  static constexpr std::uint64_t kMaxSleepNs = 1'000'000;
  static constexpr std::uint64_t kLongIdleNs = 100'000'000;     // after 100 ms idle...
  static constexpr std::uint64_t kLongIdleSleepNs = 4'000'000;  // ...sleep up to 4 ms

  /// Something arrived: spin again from now.
  void reset() noexcept {
    idle_since_ = 0;
    sleep_ns_ = kFirstSleepNs;
  }
  /// The nanoseconds the caller should sleep now (0: poll again at once).
  std::uint64_t next() noexcept {
    const std::uint64_t now = monotonic_ns();
    if (idle_since_ == 0) idle_since_ = now;
    if (now - idle_since_ < kSpinNs) return 0;
    const std::uint64_t s = sleep_ns_;
    // Idle for long (no work in sight): wake less often still.
    const std::uint64_t cap = now - idle_since_ < kLongIdleNs ? kMaxSleepNs : kLongIdleSleepNs;
    sleep_ns_ = std::min(sleep_ns_ * 2, cap);
    return s;
  }
  /// Sleeps (or not) as next() says.
  void pause() noexcept {
    const std::uint64_t ns = next();
    if (ns == 0) {
      ::sched_yield();  // spinning, but a thread woken on this core gets it at once
      return;
    }
    timespec ts{static_cast<time_t>(ns / 1'000'000'000u), static_cast<long>(ns % 1'000'000'000u)};
    ::nanosleep(&ts, nullptr);
  }

 private:
  std::uint64_t idle_since_ = 0;
  std::uint64_t sleep_ns_ = kFirstSleepNs;
};

}  // namespace lanes::detail
