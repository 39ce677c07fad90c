// lanes/detail/sync/wait_list.hpp — the FIFO of suspended tasks behind Lock, Event,
// Condition, Semaphore and Barrier.
//
// Those primitives live on one loop thread, as asyncio's do, so the list needs no
// lock. Every node is embedded in the awaiter of the waiting task (waiting allocates
// nothing) and unlinks itself when the wait ends, is cancelled, or its frame is
// destroyed at loop close.
#pragma once

#include <coroutine>
#include <utility>

#include "lanes/detail/core/intrusive_list.hpp"
#include "lanes/detail/core/task_core.hpp"
#include "lanes/errors.hpp"

namespace lanes::detail {

/// One task waiting on a loop-side primitive. `woken` is set when the primitive
/// has granted the wait and scheduled the task; from then on the core no longer
/// calls the cancel hook (wake() clears it), so a cancellation shows up as
/// task->cancel_pending() in await_resume, where the awaiter hands the grant on.
struct LoopWaiter : CancelHook {
  ListLinks<LoopWaiter> links;
  TaskCoreBase* task = nullptr;
  bool woken = false;
};

/// An intrusive doubly linked FIFO of LoopWaiters.
class LoopWaitList {
 public:
  LoopWaitList() = default;
  LoopWaitList(const LoopWaitList&) = delete;
  LoopWaitList& operator=(const LoopWaitList&) = delete;

  bool empty() const noexcept { return list_.empty(); }
  LoopWaiter* front() const noexcept { return list_.front(); }

  /// Throws RuntimeError if `task` runs on another loop than the tasks already
  /// waiting: a primitive must not wake a task on a thread that does not own it.
  void check_same_loop(const TaskCoreBase& task) const {
    if (!list_.empty() && &list_.front()->task->loop() != &task.loop())
      throw RuntimeError(
          "a lanes Lock/Event/Condition/Semaphore/Barrier is used by tasks of two "
          "event loops at once: these primitives belong to one loop (use a Queue, or "
          "call_soon_threadsafe, to talk across threads)");
  }

  void push_back(LoopWaiter& w) noexcept { list_.push_back(w); }
  /// Unlinks `w` if it is linked; harmless otherwise.
  void remove(LoopWaiter& w) noexcept { list_.remove(w); }

  /// Unlinks the first waiter, marks it woken and schedules its task. False if
  /// the list is empty.
  bool wake_front() noexcept {
    LoopWaiter* w = list_.pop_front();
    if (!w) return false;
    w->woken = true;
    w->task->wake();
    return true;
  }

  /// Wakes every waiter, in FIFO order.
  void wake_all() noexcept {
    while (wake_front()) {
    }
  }

 private:
  IntrusiveList<LoopWaiter, &LoopWaiter::links> list_;
};

/// The common shape of a leaf awaiter that parks a task in a LoopWaitList. The
/// primitive-specific parts are `Derived::on_resume()` (what a finished wait does
/// or throws) and, optionally, the list it waits in.
template <class Derived>
class ListAwaiter : protected LoopWaiter {
 public:
  explicit ListAwaiter(LoopWaitList& list) noexcept : list_(&list) {
    on_cancel = &ListAwaiter::cancel_thunk;
  }
  ListAwaiter(const ListAwaiter&) = delete;
  ListAwaiter& operator=(const ListAwaiter&) = delete;
  ~ListAwaiter() {
    // A frame destroyed while it waits (loop close) must not stay in the list.
    list_->remove(*this);
  }

  /// Parks the task. Throws RuntimeError outside a lanes task, or if tasks of
  /// another loop already wait on the same primitive.
  void await_suspend(std::coroutine_handle<> h) {
    TaskCoreBase& t = require_current_task();
    list_->check_same_loop(t);
    task = &t;
    list_->push_back(*this);
    t.suspend(h, this);
    suspended_ = true;
  }

 protected:
  /// True once parked, until await_resume calls resumed().
  bool suspended() const noexcept { return suspended_; }
  /// Called first in await_resume: true if the task really waited.
  bool resumed() noexcept { return std::exchange(suspended_, false); }
  /// True if the primitive granted the wait but the task never ran to take it:
  /// its frame is being destroyed (loop close) and the grant must be undone.
  bool grant_abandoned() const noexcept { return suspended_ && woken; }
  LoopWaitList& list() const noexcept { return *list_; }

 private:
  static bool cancel_thunk(CancelHook* self) noexcept {
    // Not woken yet (a woken task has no hook): leave the queue; the core wakes
    // the task, whose await_resume throws CancelledError.
    auto* a = static_cast<ListAwaiter*>(self);
    a->list_->remove(*a);
    return false;
  }

  LoopWaitList* list_;
  bool suspended_ = false;
};

}  // namespace lanes::detail
