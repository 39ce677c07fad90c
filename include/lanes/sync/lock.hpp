// lanes/sync/lock.hpp — Lock (asyncio.Lock) and the RAII guard that
// `co_await x.scoped()` yields for Lock, Semaphore and Condition.
// Included by lanes/sync.hpp; include that instead.
#pragma once

#include <coroutine>
#include <utility>

#include "lanes/detail/core/task_core.hpp"
#include "lanes/detail/sync/wait_list.hpp"
#include "lanes/errors.hpp"

namespace lanes {

/// Owns one acquisition of a Lock, Semaphore or Condition and releases it when
/// destroyed (Python's `async with lock:`). Move-only. Made by `co_await x.scoped()`.
template <class Lockable>
class [[nodiscard]] ReleaseGuard {
 public:
  ReleaseGuard() noexcept = default;
  /// Adopts an acquisition the caller already holds.
  explicit ReleaseGuard(Lockable& held) noexcept : held_(&held) {}
  ReleaseGuard(ReleaseGuard&& other) noexcept : held_(std::exchange(other.held_, nullptr)) {}
  ReleaseGuard& operator=(ReleaseGuard&& other) noexcept {
    if (this != &other) {
      reset();
      held_ = std::exchange(other.held_, nullptr);
    }
    return *this;
  }
  ReleaseGuard(const ReleaseGuard&) = delete;
  ReleaseGuard& operator=(const ReleaseGuard&) = delete;
  /// Releases if still owned. A release that throws here (the primitive was
  /// released by hand behind the guard's back) terminates: that is a bug.
  ~ReleaseGuard() { reset(); }

  /// Releases now instead of at the end of the scope; throws what the
  /// primitive's release() throws. Does nothing if not owned.
  void release() {
    if (auto* h = std::exchange(held_, nullptr)) h->release();
  }
  /// Gives up ownership without releasing; returns the primitive (or null). Never throws.
  Lockable* dismiss() noexcept { return std::exchange(held_, nullptr); }
  bool owns_lock() const noexcept { return held_ != nullptr; }
  explicit operator bool() const noexcept { return owns_lock(); }

 private:
  void reset() noexcept {
    if (auto* h = std::exchange(held_, nullptr)) h->release();
  }
  Lockable* held_ = nullptr;
};

namespace detail {
/// Wraps an acquire awaiter so that the co_await yields a ReleaseGuard.
template <class Lockable, class Acquire>
struct ScopedAcquire {
  Acquire inner;
  Lockable* owner;
  bool await_ready() noexcept { return inner.await_ready(); }
  void await_suspend(std::coroutine_handle<> h) { inner.await_suspend(h); }
  ReleaseGuard<Lockable> await_resume() {
    inner.await_resume();
    return ReleaseGuard<Lockable>(*owner);
  }
};
}  // namespace detail

/// A mutual-exclusion lock for tasks of one event loop (asyncio.Lock). Waiters
/// get it in FIFO order: a task that arrives while others wait queues behind
/// them even if the lock is free at that instant. Not for plain threads.
class Lock {
 public:
  class [[nodiscard("a lanes awaitable does nothing unless co_awaited")]] AcquireAwaiter : public detail::ListAwaiter<AcquireAwaiter> {
   public:
    explicit AcquireAwaiter(Lock& lock) noexcept : ListAwaiter(lock.waiters_), lock_(&lock) {}
    AcquireAwaiter(const AcquireAwaiter&) = delete;
    AcquireAwaiter& operator=(const AcquireAwaiter&) = delete;
    ~AcquireAwaiter() {
      // Handed the lock, then destroyed unrun (loop close): the lock stays usable.
      if (grant_abandoned()) lock_->handoff_ = false;
    }
    bool await_ready() noexcept { return lock_->try_acquire_now(); }
    bool await_resume() {
      if (resumed()) lock_->finish_wait(woken, *task);
      return true;
    }

   private:
    Lock* lock_;
  };
  using Scoped = detail::ScopedAcquire<Lock, AcquireAwaiter>;

  Lock() noexcept = default;
  Lock(const Lock&) = delete;
  Lock& operator=(const Lock&) = delete;

  /// `co_await lock.acquire()` takes the lock, waiting in FIFO order; yields true.
  /// Throws CancelledError if the task is cancelled while it waits (the lock is
  /// then not held, and a wake-up it had received passes to the next waiter);
  /// RuntimeError outside a lanes task or if tasks of another loop wait on it.
  AcquireAwaiter acquire() noexcept { return AcquireAwaiter(*this); }

  /// `auto guard = co_await lock.scoped();` — acquires as acquire() does and
  /// yields a ReleaseGuard that releases at the end of the scope. Throws as acquire().
  Scoped scoped() noexcept { return Scoped{AcquireAwaiter(*this), this}; }

  /// Releases the lock and wakes the first waiter. Throws RuntimeError if the
  /// lock is not held.
  void release() {
    if (!locked_)
      throw RuntimeError("Lock::release(): the lock is not acquired (release once per acquire)");
    locked_ = false;
    wake_first();
  }

  /// True while some task holds the lock. Never throws.
  bool locked() const noexcept { return locked_; }

 private:
  bool try_acquire_now() noexcept {
    // FIFO: a free lock is taken at once only if no one waits and no woken waiter
    // is on its way to take it.
    if (locked_ || handoff_ || !waiters_.empty()) return false;
    locked_ = true;
    return true;
  }
  void wake_first() noexcept {
    if (!handoff_ && waiters_.wake_front()) handoff_ = true;
  }
  void finish_wait(bool woken, detail::TaskCoreBase& task) {
    if (woken) handoff_ = false;
    if (task.cancel_pending()) {
      // Python's rule: a waiter cancelled after its wake-up hands the lock on.
      if (!locked_) wake_first();
      task.throw_if_cancelled();
    }
    locked_ = true;
  }

  detail::LoopWaitList waiters_;  // waiters not woken yet, FIFO
  bool locked_ = false;
  // A woken waiter has not resumed yet: it will take the lock (asyncio keeps it at
  // the head of _waiters for the same purpose). At most one at a time.
  bool handoff_ = false;
};

}  // namespace lanes
