// lanes/time.hpp — sleep (asyncio.sleep).
#pragma once

#include <chrono>
#include <coroutine>

#include "lanes/detail/core/task_core.hpp"
#include "lanes/detail/core/timer_heap.hpp"
#include "lanes/loop.hpp"

namespace lanes {

/// The awaitable returned by sleep(). A cancelled sleep removes its timer and
/// throws CancelledError in the sleeping task.
///
/// It is only a timer node (24 bytes, in every sleeping task's frame): the node wakes
/// the task itself (TimerNode::wake_on_fire), and a cancellation needs no hook of its
/// own, since the task is woken and the timer removed when the sleep resumes.
class [[nodiscard("a lanes awaitable does nothing unless co_awaited")]] SleepAwaiter : detail::TimerNode {
 public:
  // The delay waits in `when` until the timer is armed: one field less per sleeper.
  explicit SleepAwaiter(EventLoop::Clock::duration delay) noexcept {
    when = EventLoop::Clock::time_point(delay);
  }
  SleepAwaiter(const SleepAwaiter&) = delete;
  SleepAwaiter& operator=(const SleepAwaiter&) = delete;
  ~SleepAwaiter() {
    // A frame destroyed mid-sleep (loop close) must not leave its node queued.
    if (queued()) task->loop().remove_timer(*this);
  }

  bool await_ready() const noexcept { return false; }
  void await_suspend(std::coroutine_handle<> h) {
    detail::TaskCoreBase& current = detail::require_current_task();
    const auto delay = when.time_since_epoch();
    if (delay <= EventLoop::Clock::duration::zero()) {
      // sleep(0s): yield to the other ready tasks, once.
      current.suspend(h, nullptr);
      current.wake();
      return;
    }
    when = EventLoop::Clock::now() + delay;
    wake_on_fire(&current);
    current.loop().add_timer(*this);
    current.suspend(h, &detail::wake_on_cancel);
  }
  void await_resume() {
    // Woken by a cancellation: the timer may still be queued.
    if (queued()) task->loop().remove_timer(*this);
    detail::current_task()->throw_if_cancelled();
  }
};

/// Suspends the calling task for `delay`; sleep(0s) yields once to the other ready
/// tasks. Throws CancelledError if the task is cancelled meanwhile, and
/// RuntimeError if awaited outside a lanes task.
template <class Rep, class Period>
SleepAwaiter sleep(std::chrono::duration<Rep, Period> delay) noexcept {
  return SleepAwaiter(std::chrono::duration_cast<EventLoop::Clock::duration>(delay));
}

}  // namespace lanes
