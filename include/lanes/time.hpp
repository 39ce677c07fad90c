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
class [[nodiscard("a lanes awaitable does nothing unless co_awaited")]] SleepAwaiter : detail::TimerNode, detail::CancelHook {
 public:
  // The delay waits in `when` until the timer is armed: one field less per sleeper.
  explicit SleepAwaiter(EventLoop::Clock::duration delay) noexcept {
    when = EventLoop::Clock::time_point(delay);
  }
  SleepAwaiter(const SleepAwaiter&) = delete;
  SleepAwaiter& operator=(const SleepAwaiter&) = delete;
  ~SleepAwaiter() {
    // A frame destroyed mid-sleep (loop close) must not leave its node queued.
    if (queued()) task_->loop().remove_timer(*this);
  }

  bool await_ready() const noexcept { return false; }
  void await_suspend(std::coroutine_handle<> h) {
    task_ = &detail::require_current_task();
    on_cancel = &SleepAwaiter::cancel_thunk;
    const auto delay = when.time_since_epoch();
    if (delay <= EventLoop::Clock::duration::zero()) {
      // sleep(0s): yield to the other ready tasks, once.
      task_->suspend(h, nullptr);
      task_->wake();
      return;
    }
    when = EventLoop::Clock::now() + delay;
    fire = &SleepAwaiter::fire_thunk;
    task_->loop().add_timer(*this);
    task_->suspend(h, this);
  }
  void await_resume() { task_->throw_if_cancelled(); }

 private:
  static void fire_thunk(detail::TimerNode* self) noexcept {
    static_cast<SleepAwaiter*>(self)->task_->wake();
  }
  static bool cancel_thunk(detail::CancelHook* self) noexcept {
    auto* s = static_cast<SleepAwaiter*>(self);
    if (s->queued()) s->task_->loop().remove_timer(*s);
    return false;  // the task is woken with CancelledError
  }

  detail::TaskCoreBase* task_ = nullptr;
};

/// Suspends the calling task for `delay`; sleep(0s) yields once to the other ready
/// tasks. Throws CancelledError if the task is cancelled meanwhile, and
/// RuntimeError if awaited outside a lanes task.
template <class Rep, class Period>
SleepAwaiter sleep(std::chrono::duration<Rep, Period> delay) noexcept {
  return SleepAwaiter(std::chrono::duration_cast<EventLoop::Clock::duration>(delay));
}

}  // namespace lanes
