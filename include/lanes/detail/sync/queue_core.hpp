// lanes/detail/sync/queue_core.hpp — the part of Queue<T> that does not depend on T:
// counts, shutdown, task_done/join, and the waiters (tasks and plain threads).
//
// A queue is shared by tasks of any loops and by plain threads, so its state is
// guarded by one mutex. Waiters of both kinds sit in the same FIFO lists; a waker
// (holding the mutex) unlinks a waiter, marks it woken and notifies it: a task
// through wake_from_any_thread(), a thread through its own condition variable.
// Waking is done under the mutex so that a waiter can never be gone (its frame or
// stack unwound) while it is being notified.
//
// A woken waiter takes nothing yet: it re-checks once it runs (asyncio's rule),
// so an item is never lost to a cancellation between the wake-up and the resume;
// a woken waiter that gives up passes its wake-up on.
#pragma once

#include <chrono>
#include <coroutine>
#include <cstddef>
#include <mutex>

#include "lanes/detail/core/intrusive_list.hpp"
#include "lanes/detail/core/task_core.hpp"

namespace lanes::detail {

/// A task or a thread parked on a queue. All fields are guarded by the queue's mutex.
struct QueueWaiter {
  ListLinks<QueueWaiter> links;
  void (*notify)(QueueWaiter* self) noexcept = nullptr;  // called with the mutex held
  bool woken = false;
};

/// An intrusive FIFO of QueueWaiters (guarded by the queue's mutex).
class QueueWaitList {
 public:
  bool empty() const noexcept { return list_.empty(); }
  void push_back(QueueWaiter& w) noexcept { list_.push_back(w); }
  /// Unlinks `w` if linked; harmless otherwise.
  void remove(QueueWaiter& w) noexcept { list_.remove(w); }
  /// Unlinks the first waiter, marks it woken and notifies it; false if empty.
  bool wake_front() noexcept;
  void wake_all() noexcept {
    while (wake_front()) {
    }
  }

 private:
  IntrusiveList<QueueWaiter, &QueueWaiter::links> list_;
};

class QueueCore {
 public:
  using Clock = std::chrono::steady_clock;

  QueueCore(const QueueCore&) = delete;
  QueueCore& operator=(const QueueCore&) = delete;

  /// The number of items in the queue now. These four only read under the
  /// queue's mutex and do not throw.
  std::size_t qsize() const;
  /// True if the queue holds no item now.
  bool empty() const;
  /// True if the queue holds maxsize items (never for an unbounded queue).
  bool full() const;
  /// The bound given at construction; 0 means unbounded.
  std::size_t maxsize() const noexcept { return maxsize_; }
  /// True once shutdown() was called.
  bool is_shutdown() const;

  /// Marks one item taken by get() as processed; when every item put has been
  /// processed, join() returns. Throws ValueError if called more times than
  /// items were put.
  void task_done();

  /// Shuts the queue down (Python 3.13): put() and put_nowait() throw
  /// QueueShutDown from now on, and so do get()s once the queue is drained; every
  /// waiting put()/get() is woken to re-check. With `immediate`, the items left
  /// are dropped (each counting as task_done) and get() throws at once. Never throws.
  void shutdown(bool immediate = false) noexcept;

  enum class Side { get, put, join };

  /// The leaf a task awaits to wait for its side of the queue (room to put, an
  /// item to get, all tasks done). It takes nothing: the caller re-checks.
  class [[nodiscard("a lanes awaitable does nothing unless co_awaited")]] SideAwaiter : QueueWaiter, CancelHook {
   public:
    SideAwaiter(QueueCore& q, Side side) noexcept : queue_(&q), side_(side) {}
    SideAwaiter(const SideAwaiter&) = delete;
    SideAwaiter& operator=(const SideAwaiter&) = delete;
    ~SideAwaiter();
    bool await_ready() const noexcept { return false; }
    /// Parks the task unless its side may proceed already. Throws RuntimeError
    /// outside a lanes task.
    bool await_suspend(std::coroutine_handle<> h);
    /// Throws CancelledError if the task was cancelled meanwhile (passing on a
    /// wake-up it had received).
    void await_resume();

   private:
    static void notify_task(QueueWaiter* self) noexcept;
    static bool cancel_thunk(CancelHook* self) noexcept;

    QueueCore* queue_;
    Side side_;
    TaskCoreBase* task_ = nullptr;  // set when parked
    bool suspended_ = false;        // loop thread only
    bool cancel_seen_ = false;      // guarded by the mutex: cancelled with a wake-up on its way
  };

  /// `co_await q.join()` returns when every item put has been marked task_done()
  /// (at once if none is pending). Throws CancelledError if the task is cancelled
  /// meanwhile; RuntimeError outside a lanes task.
  SideAwaiter join() noexcept { return SideAwaiter(*this, Side::join); }

  /// join() for a plain thread: blocks until every item put was marked task_done().
  /// Throws InvalidStateError on a thread that runs an event loop (co_await join()).
  void join_blocking();
  /// As join_blocking(), but throws TimeoutError if not done within `timeout`.
  template <class Rep, class Period>
  void join_blocking(std::chrono::duration<Rep, Period> timeout) {
    const auto deadline = Clock::now() + std::chrono::duration_cast<Clock::duration>(timeout);
    join_until(&deadline);
  }

 protected:
  explicit QueueCore(std::size_t maxsize) noexcept : maxsize_(maxsize) {}
  ~QueueCore() = default;

  // ---- with mutex_ held ----
  bool full_locked() const noexcept { return maxsize_ > 0 && size_ >= maxsize_; }
  /// True if a waiter on `side` has something to re-check.
  bool may_proceed_locked(Side side) const noexcept;
  /// Book-keeping after an item went in / came out; wakes one waiter of the other side.
  void pushed_locked() noexcept {
    ++size_;
    ++unfinished_;
    getters_.wake_front();
  }
  void popped_locked() noexcept {
    --size_;
    putters_.wake_front();
  }
  /// Parks the calling thread on `side` until woken (true) or `deadline` (false).
  bool wait_thread(std::unique_lock<std::mutex>& lock, Side side, const Clock::time_point* deadline);
  /// Drops every stored item (shutdown(immediate=true)).
  virtual void drop_all_locked() noexcept = 0;

  /// Throws InvalidStateError naming `method` if this thread runs an event loop.
  static void refuse_on_loop_thread(const char* method, const char* instead);
  [[noreturn]] static void throw_timeout(const char* method);

  mutable std::mutex mutex_;
  std::size_t size_ = 0;        // guarded by mutex_
  std::size_t unfinished_ = 0;  // guarded by mutex_: items put and not task_done()
  bool shutdown_ = false;       // guarded by mutex_

 private:
  QueueWaitList& list(Side side) noexcept {
    return side == Side::get ? getters_ : side == Side::put ? putters_ : joiners_;
  }
  void join_until(const Clock::time_point* deadline);

  const std::size_t maxsize_;
  QueueWaitList getters_;  // guarded by mutex_
  QueueWaitList putters_;  // guarded by mutex_
  QueueWaitList joiners_;  // guarded by mutex_
};

}  // namespace lanes::detail
