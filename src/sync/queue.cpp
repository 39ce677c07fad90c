// The non-template half of lanes/queue.hpp: waiter lists, task_done/join,
// shutdown, and the parking of tasks and threads.
#include <condition_variable>
#include <string>

#include "lanes/errors.hpp"
#include "lanes/future.hpp"
#include "lanes/queue.hpp"

namespace lanes::detail {

// ---- QueueWaitList -------------------------------------------------------------

bool QueueWaitList::wake_front() noexcept {
  QueueWaiter* w = list_.pop_front();
  if (!w) return false;
  w->woken = true;
  w->notify(w);
  return true;
}

// ---- QueueCore -----------------------------------------------------------------

std::size_t QueueCore::qsize() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return size_;
}

bool QueueCore::empty() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return size_ == 0;
}

bool QueueCore::full() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return full_locked();
}

bool QueueCore::is_shutdown() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return shutdown_;
}

void QueueCore::task_done() {
  std::lock_guard<std::mutex> lock(mutex_);
  if (unfinished_ == 0)
    throw ValueError(
        "Queue::task_done() called more times than items were put: call it once per item "
        "taken with get()");
  if (--unfinished_ == 0) joiners_.wake_all();
}

void QueueCore::shutdown(bool immediate) noexcept {
  std::lock_guard<std::mutex> lock(mutex_);
  shutdown_ = true;
  if (immediate) {
    const std::size_t dropped = size_;
    drop_all_locked();
    size_ = 0;
    unfinished_ -= dropped < unfinished_ ? dropped : unfinished_;
    if (unfinished_ == 0) joiners_.wake_all();
  }
  // Every blocked get() and put() must re-check and see the shutdown.
  getters_.wake_all();
  putters_.wake_all();
}

bool QueueCore::may_proceed_locked(Side side) const noexcept {
  switch (side) {
    case Side::get:
      return size_ > 0 || shutdown_;
    case Side::put:
      return !full_locked() || shutdown_;
    case Side::join:
      return unfinished_ == 0;
  }
  return true;
}

namespace {
struct ThreadWaiter : QueueWaiter {
  std::condition_variable cv;
  static void notify_thread(QueueWaiter* self) noexcept {
    // Called with the queue's mutex held, so the waiter (on its thread's stack)
    // cannot have returned yet.
    static_cast<ThreadWaiter*>(self)->cv.notify_one();
  }
};
}  // namespace

bool QueueCore::wait_thread(std::unique_lock<std::mutex>& lock, Side side,
                            const Clock::time_point* deadline) {
  ThreadWaiter w;
  w.notify = &ThreadWaiter::notify_thread;
  QueueWaitList& waiters = list(side);
  waiters.push_back(w);
  if (deadline == nullptr) {
    w.cv.wait(lock, [&] { return w.woken; });
    return true;
  }
  if (w.cv.wait_until(lock, *deadline, [&] { return w.woken; })) return true;
  waiters.remove(w);
  return false;
}

void QueueCore::refuse_on_loop_thread(const char* method, const char* instead) {
  if (on_running_loop_thread())
    throw InvalidStateError(std::string("Queue::") + method +
                            " would block the event loop's own thread: " + instead + " instead");
}

void QueueCore::throw_timeout(const char* method) {
  throw TimeoutError(std::string("Queue::") + method +
                     ": the queue did not become ready before the timeout");
}

void QueueCore::join_blocking() {
  refuse_on_loop_thread("join_blocking()", "co_await queue.join()");
  join_until(nullptr);
}

void QueueCore::join_until(const Clock::time_point* deadline) {
  if (deadline) refuse_on_loop_thread("join_blocking(timeout)", "co_await queue.join()");
  std::unique_lock<std::mutex> lock(mutex_);
  // One wake-up is enough: like asyncio's Event, join returns once it was
  // released, even if new items arrived meanwhile.
  if (unfinished_ == 0) return;
  if (!wait_thread(lock, Side::join, deadline)) throw_timeout("join_blocking(timeout)");
}

// ---- SideAwaiter ---------------------------------------------------------------

QueueCore::SideAwaiter::~SideAwaiter() {
  // A frame destroyed while it waits (loop close) leaves the list.
  if (suspended_) {
    std::lock_guard<std::mutex> lock(queue_->mutex_);
    queue_->list(side_).remove(*this);
  }
}

bool QueueCore::SideAwaiter::await_suspend(std::coroutine_handle<> h) {
  TaskCoreBase& task = require_current_task();
  std::lock_guard<std::mutex> lock(queue_->mutex_);
  if (queue_->may_proceed_locked(side_)) return false;  // changed since the caller looked
  task_ = &task;
  notify = &SideAwaiter::notify_task;
  on_cancel = &SideAwaiter::cancel_thunk;
  queue_->list(side_).push_back(*this);
  // A waker on another thread only posts to this loop, which runs this step
  // now: the task is fully suspended before the wake-up can run.
  task.suspend(h, this);
  suspended_ = true;
  return true;
}

void QueueCore::SideAwaiter::await_resume() {
  if (!suspended_) return;
  suspended_ = false;
  bool cancelled_with_wake;
  {
    std::lock_guard<std::mutex> lock(queue_->mutex_);
    cancelled_with_wake = cancel_seen_;
    if (!cancel_seen_ && !task_->cancel_pending()) return;
    queue_->list(side_).remove(*this);
    // Woken, then cancelled before it could act: the wake-up was meant for
    // someone who can use it (asyncio's _wakeup_next in the except branch).
    if (woken) {
      if (side_ == Side::get && queue_->size_ > 0) queue_->getters_.wake_front();
      if (side_ == Side::put && !queue_->full_locked()) queue_->putters_.wake_front();
    }
  }
  task_->throw_if_cancelled();
  if (cancelled_with_wake) throw CancelledError();
}

void QueueCore::SideAwaiter::notify_task(QueueWaiter* self) noexcept {
  static_cast<SideAwaiter*>(self)->task_->wake_from_any_thread();
}

bool QueueCore::SideAwaiter::cancel_thunk(CancelHook* self) noexcept {
  auto* a = static_cast<SideAwaiter*>(self);
  std::lock_guard<std::mutex> lock(a->queue_->mutex_);
  if (a->woken) {
    // A wake-up posted from another thread is on its way: that one resumes the
    // task (so it is resumed exactly once, whichever the loop runs first), and
    // await_resume delivers the cancellation and passes the wake-up on.
    a->cancel_seen_ = true;
    return true;
  }
  a->queue_->list(a->side_).remove(*a);
  return false;
}

}  // namespace lanes::detail
