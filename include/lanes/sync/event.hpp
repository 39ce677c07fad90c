// lanes/sync/event.hpp — Event (asyncio.Event) and Condition
// (asyncio.Condition). Included by lanes/sync.hpp; include that instead.
#pragma once

#include <cstddef>
#include <type_traits>
#include <utility>

#include "lanes/sync/lock.hpp"
#include "lanes/detail/sync/wait_list.hpp"
#include "lanes/task.hpp"

namespace lanes {

/// A flag tasks can wait for (asyncio.Event): set() wakes every waiter at once;
/// clear() makes later wait() calls wait again. One event loop only.
class Event {
 public:
  class [[nodiscard("a lanes awaitable does nothing unless co_awaited")]] WaitAwaiter : public detail::ListAwaiter<WaitAwaiter> {
   public:
    explicit WaitAwaiter(Event& e) noexcept : ListAwaiter(e.waiters_), event_(&e) {}
    bool await_ready() const noexcept { return event_->value_; }
    bool await_resume() {
      // A waiter woken by set() returns true even if clear() came before it ran.
      if (resumed()) task->throw_if_cancelled();
      return true;
    }

   private:
    Event* event_;
  };

  Event() noexcept = default;
  Event(const Event&) = delete;
  Event& operator=(const Event&) = delete;

  /// `co_await ev.wait()` returns (true) at once if the flag is set, otherwise
  /// when set() is called. Throws CancelledError if the task is cancelled while it
  /// waits; RuntimeError outside a lanes task or if tasks of another loop wait on it.
  WaitAwaiter wait() noexcept { return WaitAwaiter(*this); }

  /// Sets the flag and wakes every waiting task. Never throws.
  void set() noexcept {
    if (value_) return;
    value_ = true;
    waiters_.wake_all();
  }
  /// Resets the flag; tasks calling wait() afterwards wait for the next set().
  /// Never throws.
  void clear() noexcept { value_ = false; }
  /// True if the flag is set. Never throws.
  bool is_set() const noexcept { return value_; }

 private:
  detail::LoopWaitList waiters_;
  bool value_ = false;
};

/// A condition variable for tasks (asyncio.Condition): wait() releases the
/// underlying Lock, waits for notify(), and re-acquires the lock before
/// returning — even when cancelled. One event loop only.
class Condition {
 public:
  /// A condition with its own Lock.
  Condition() noexcept : lock_(&own_lock_) {}
  /// A condition over `lock`, which must outlive it (several conditions may share one).
  explicit Condition(Lock& lock) noexcept : lock_(&lock) {}
  Condition(const Condition&) = delete;
  Condition& operator=(const Condition&) = delete;

  /// Acquires the underlying lock; throws as Lock::acquire().
  Lock::AcquireAwaiter acquire() noexcept { return lock_->acquire(); }
  /// `auto guard = co_await cond.scoped();` — acquires the underlying lock and
  /// yields a guard releasing it. Throws as Lock::acquire().
  detail::ScopedAcquire<Condition, Lock::AcquireAwaiter> scoped() noexcept {
    return {lock_->acquire(), this};
  }
  /// Releases the underlying lock; throws RuntimeError if it is not held.
  void release() { lock_->release(); }
  /// True while the underlying lock is held. Never throws.
  bool locked() const noexcept { return lock_->locked(); }

  /// Releases the lock, waits until notified, re-acquires the lock; returns true.
  /// Must be called with the lock held, else throws RuntimeError. Throws
  /// CancelledError if cancelled while waiting — after re-acquiring the lock; a
  /// notification it had received then passes to another waiter.
  Task<bool> wait();

  /// Waits until `predicate()` is true and returns its last value; checks it
  /// first, and again after each wake-up, always with the lock held. Throws as
  /// wait(), and what the predicate throws.
  template <class Predicate>
  auto wait_for(Predicate predicate) -> Task<std::decay_t<std::invoke_result_t<Predicate&>>> {
    auto result = predicate();
    while (!result) {
      co_await wait();
      result = predicate();
    }
    co_return result;
  }

  /// Wakes up to `n` waiting tasks, in FIFO order. Throws RuntimeError if the
  /// lock is not held (Python's rule: notify under the lock).
  void notify(std::size_t n = 1);
  /// Wakes every waiting task. Throws RuntimeError if the lock is not held.
  void notify_all();

 private:
  class [[nodiscard("a lanes awaitable does nothing unless co_awaited")]] NotifyAwaiter : public detail::ListAwaiter<NotifyAwaiter> {
   public:
    explicit NotifyAwaiter(Condition& c) noexcept : ListAwaiter(c.waiters_), cond_(&c) {}
    bool await_ready() const noexcept { return false; }
    void await_resume() {
      if (!resumed() || !task->cancel_pending()) return;
      // Notified, then cancelled before it ran: the notification must not be lost.
      if (woken) cond_->wake(1);
      task->throw_if_cancelled();
    }

   private:
    Condition* cond_;
  };
  void wake(std::size_t n) noexcept {
    while (n-- > 0 && waiters_.wake_front()) {
    }
  }
  void require_locked(const char* what) const;

  Lock own_lock_;
  Lock* lock_;
  detail::LoopWaitList waiters_;  // waiters not notified yet, FIFO
};

}  // namespace lanes
