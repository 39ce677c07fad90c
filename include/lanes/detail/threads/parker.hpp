// lanes/detail/threads/parker.hpp — how an idle thread-pool worker sleeps: a futex word.
//
// One thread parks, any thread unparks; an unpark that comes first is kept as a
// token and makes the next park return at once, so no wake-up is ever lost and a
// stray one only costs a spurious return (callers always re-check their condition).
// Waking costs a system call only when the owner really sleeps.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>

namespace lanes::detail {

/// One pause of a spin loop before a thread parks: tells the core a spin-wait runs
/// (it yields the pipeline to the sibling hyper-thread and saves power).
inline void cpu_relax() noexcept {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_ia32_pause();
#elif defined(__aarch64__)
  asm volatile("yield");
#endif
}

class Parker {
 public:
  using Clock = std::chrono::steady_clock;

  /// Owner only. Returns after an unpark (maybe one that came earlier), at the
  /// deadline, or spuriously.
  void park_until(Clock::time_point deadline) noexcept;
  /// Any thread. Wakes the owner, or makes its next park return at once.
  void unpark() noexcept;

 private:
  static constexpr std::uint32_t kEmpty = 0;
  static constexpr std::uint32_t kNotified = 1;
  static constexpr std::uint32_t kParked = 0xFFFFFFFFu;  // kEmpty - 1
  // Invariant: kEmpty, kNotified (a wake-up waits to be consumed) or kParked (the
  // owner sleeps or is about to); the release in unpark() and the acquire in
  // park_until() carry what the waker did before unpark() to the woken owner.
  std::atomic<std::uint32_t> state_{kEmpty};
};

}  // namespace lanes::detail
