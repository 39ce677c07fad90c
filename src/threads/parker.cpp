// The futex behind detail::Parker (an idle pool worker's sleep).
#include "lanes/detail/threads/parker.hpp"

#include <linux/futex.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <ctime>

namespace lanes::detail {

namespace {
void futex(std::atomic<std::uint32_t>& word, int op, std::uint32_t value,
           const timespec* timeout) noexcept {
  ::syscall(SYS_futex, reinterpret_cast<std::uint32_t*>(&word), op, value, timeout, nullptr, 0);
}
}  // namespace

void Parker::park_until(Clock::time_point deadline) noexcept {
  // kNotified → kEmpty consumes a token; kEmpty → kParked announces a sleeper.
  if (state_.fetch_sub(1, std::memory_order_acquire) == kNotified) return;
  for (;;) {
    if (deadline == Clock::time_point::max()) {
      futex(state_, FUTEX_WAIT_PRIVATE, kParked, nullptr);
    } else {
      const auto left = deadline - Clock::now();
      if (left <= Clock::duration::zero()) {
        state_.exchange(kEmpty, std::memory_order_acquire);  // a late token is consumed too
        return;
      }
      const auto ns = std::chrono::duration_cast<std::chrono::nanoseconds>(left).count();
      timespec ts{static_cast<time_t>(ns / 1'000'000'000), static_cast<long>(ns % 1'000'000'000)};
      futex(state_, FUTEX_WAIT_PRIVATE, kParked, &ts);
    }
    std::uint32_t expected = kNotified;
    if (state_.compare_exchange_strong(expected, kEmpty, std::memory_order_acquire)) return;
  }
}

void Parker::unpark() noexcept {
  if (state_.exchange(kNotified, std::memory_order_release) == kParked) {
    futex(state_, FUTEX_WAKE_PRIVATE, 1, nullptr);
  }
}

}  // namespace lanes::detail
