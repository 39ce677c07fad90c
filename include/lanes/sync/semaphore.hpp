// lanes/sync/semaphore.hpp — Semaphore and BoundedSemaphore
// (asyncio.Semaphore, asyncio.BoundedSemaphore). Included by lanes/sync.hpp.
#pragma once

#include <cstddef>

#include "lanes/sync/lock.hpp"
#include "lanes/detail/sync/wait_list.hpp"
#include "lanes/errors.hpp"

namespace lanes {

/// A counter of free slots for tasks of one event loop (asyncio.Semaphore):
/// acquire() takes a slot, waiting in FIFO order while none is free; release()
/// gives one back. A newcomer never overtakes a waiting task.
class Semaphore {
 public:
  class [[nodiscard("a lanes awaitable does nothing unless co_awaited")]] AcquireAwaiter : public detail::ListAwaiter<AcquireAwaiter> {
   public:
    explicit AcquireAwaiter(Semaphore& s) noexcept : ListAwaiter(s.waiters_), sem_(&s) {}
    AcquireAwaiter(const AcquireAwaiter&) = delete;
    AcquireAwaiter& operator=(const AcquireAwaiter&) = delete;
    ~AcquireAwaiter() {
      // Given a slot, then destroyed unrun (loop close): the slot goes back.
      if (grant_abandoned()) ++sem_->value_;
    }
    bool await_ready() noexcept { return sem_->try_acquire_now(); }
    bool await_resume() {
      if (resumed()) sem_->finish_wait(woken, *task);
      return true;
    }

   private:
    Semaphore* sem_;
  };
  using Scoped = detail::ScopedAcquire<Semaphore, AcquireAwaiter>;

  /// A semaphore with `value` free slots. Throws ValueError if `value` is negative.
  explicit Semaphore(long value = 1) : Semaphore(value, false) {}
  Semaphore(const Semaphore&) = delete;
  Semaphore& operator=(const Semaphore&) = delete;

  /// `co_await sem.acquire()` takes a slot, waiting while none is free; yields
  /// true. Throws CancelledError if cancelled while waiting (a slot it had been
  /// given goes back and on to the next waiter); RuntimeError outside a lanes
  /// task or if tasks of another loop wait on it.
  AcquireAwaiter acquire() noexcept { return AcquireAwaiter(*this); }

  /// `auto guard = co_await sem.scoped();` — acquires, and releases at scope end.
  /// Throws as acquire().
  Scoped scoped() noexcept { return Scoped{AcquireAwaiter(*this), this}; }

  /// Gives a slot back and wakes the first waiter. A BoundedSemaphore throws
  /// ValueError if that would exceed its initial value.
  void release();

  /// True if acquire() would wait: no free slot, or tasks already waiting. Never throws.
  bool locked() const noexcept { return value_ == 0 || !waiters_.empty(); }

  /// The number of free slots not yet promised to a woken waiter. Never throws.
  long value() const noexcept { return value_; }

 protected:
  Semaphore(long value, bool bounded);

 private:
  bool try_acquire_now() noexcept {
    if (locked()) return false;
    --value_;
    return true;
  }
  /// Wakes waiters while slots are free; each woken waiter is given one slot.
  void wake_while_free() noexcept {
    while (value_ > 0 && !waiters_.empty()) {
      --value_;
      waiters_.wake_front();
    }
  }
  void finish_wait(bool woken, detail::TaskCoreBase& task) {
    if (task.cancel_pending()) {
      if (woken) ++value_;  // the slot it was given goes back
      wake_while_free();
      task.throw_if_cancelled();
    }
    // Slots released while this one was on its way may have no taker yet.
    wake_while_free();
  }

  detail::LoopWaitList waiters_;  // waiters not woken yet, FIFO
  long value_;
  long bound_;  // the initial value: the most a bounded semaphore may hold
  bool bounded_;
};

/// A Semaphore that refuses to be released more times than it was acquired
/// (asyncio.BoundedSemaphore): release() beyond the initial value throws ValueError.
class BoundedSemaphore : public Semaphore {
 public:
  /// Throws ValueError if `value` is negative.
  explicit BoundedSemaphore(long value = 1) : Semaphore(value, true) {}
};

}  // namespace lanes
