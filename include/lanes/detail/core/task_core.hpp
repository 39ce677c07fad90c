// lanes/detail/core/task_core.hpp — what a scheduled task is to the loop, and the
// protocol every suspension point ("leaf awaitable") follows.
//
// A task (what create_task makes) runs a chain of Task<T> coroutines linked by
// symmetric transfer. Only leaves — sleep, awaiting a future, a lock, a queue, I/O —
// really suspend. A leaf records the innermost coroutine handle in the running
// TaskCore and offers a CancelHook; cancel() uses that hook to detach the leaf and
// wake the task, whose leaf then throws CancelledError from await_resume.
#pragma once

#include <coroutine>
#include <cstdint>

#include "lanes/detail/core/intrusive_list.hpp"

namespace lanes {
class EventLoop;
}

namespace lanes::detail {

class TaskCoreBase;
class TaskPromiseBase;
class ReadyQueue;
class FutureStateBase;

/// Offered by a suspended leaf. Called on the loop thread when the task is
/// cancelled. Returns true if the cancellation was forwarded (for example to an
/// awaited future) and the leaf's own wake-up will deliver it; false if the leaf
/// detached itself and the task must be woken with CancelledError.
struct CancelHook {
  bool (*on_cancel)(CancelHook* self) noexcept = nullptr;
};

/// A unit of work in the loop's ready queue.
struct ReadyJob {
  void (*run)(void* arg) noexcept;
  void* arg;
};

class TaskCoreBase {
 public:
  explicit TaskCoreBase(EventLoop& loop) noexcept : loop_(&loop) {}
  TaskCoreBase(const TaskCoreBase&) = delete;
  TaskCoreBase& operator=(const TaskCoreBase&) = delete;

  EventLoop& loop() const noexcept { return *loop_; }

  /// Called by a leaf in await_suspend: the task now waits at `resume_at`.
  void suspend(std::coroutine_handle<> resume_at, CancelHook* hook) noexcept {
    resume_point_ = resume_at;
    cancel_hook_ = hook;
  }
  /// Called on the loop thread when the leaf's wait is over: schedules the task.
  void wake() noexcept {
    cancel_hook_ = nullptr;
    schedule();
  }
  /// Wakes the task from any thread (posts to the loop when not on its thread).
  void wake_from_any_thread() noexcept;

  /// True if a cancellation is waiting to be thrown at the current suspension point.
  bool cancel_pending() const noexcept { return must_cancel_; }
  /// Called by a leaf in await_resume after a real suspension: throws
  /// CancelledError if the task was cancelled meanwhile.
  void throw_if_cancelled() {
    if (must_cancel_) {
      must_cancel_ = false;
      throw_cancelled();
    }
  }

  /// Requests cancellation (loop thread only); false if the task is already done.
  bool request_cancel() noexcept;
  /// How many cancellations were requested and not taken back (Task.cancelling()).
  std::uint32_t cancelling() const noexcept { return cancels_requested_; }
  /// Takes one request back (Task.uncancel()); returns the remaining count.
  std::uint32_t uncancel() noexcept {
    if (cancels_requested_ > 0) --cancels_requested_;
    return cancels_requested_;
  }

  /// The future this task's result goes to (the task itself, seen as a future).
  virtual FutureStateBase& future_state() noexcept = 0;

  /// The promise of the innermost Task coroutine this task runs (the chain of
  /// awaited Tasks, linked by TaskPromiseBase::parent): abandon() destroys the
  /// frames innermost first, in constant stack.
  TaskPromiseBase* innermost = nullptr;
  /// The future this task waits on in a `co_await future`, or null: lets an await
  /// find a cycle of tasks awaiting each other (loop thread only).
  FutureStateBase* waiting_on = nullptr;

  /// Links in the loop's list of live tasks (for run()'s clean-up and close()).
  ListLinks<TaskCoreBase> live_links;

 protected:
  ~TaskCoreBase() = default;
  void schedule() noexcept;
  /// After a step that suspended: a cancellation requested while the task ran is
  /// delivered to the leaf it now waits on (Python's _must_cancel at a yield).
  void after_suspend() noexcept;
  virtual void step() noexcept = 0;
  virtual bool is_done() const noexcept = 0;
  /// Destroys the coroutine without running it further (loop close).
  virtual void abandon() noexcept = 0;
  /// Reference counting of the future state this task is part of.
  virtual void retain() noexcept = 0;
  virtual void drop() noexcept = 0;
  /// Removes the task from its loop's list of live tasks.
  void leave_loop() noexcept;
  [[noreturn]] static void throw_cancelled();
  /// Destroys the frames of the awaited Tasks below the root coroutine, innermost
  /// first, emptying the Task objects that owned them (see innermost).
  void destroy_awaited_chain() noexcept;

  EventLoop* loop_;
  std::coroutine_handle<> resume_point_;
  CancelHook* cancel_hook_ = nullptr;
  std::uint32_t cancels_requested_ = 0;
  bool must_cancel_ = false;
  bool scheduled_ = false;
  // True while request_cancel forwards to the leaf: a request that comes back to
  // this task (tasks waiting on each other in a cycle) is refused instead of
  // recursing until the stack overflows.
  bool forwarding_cancel_ = false;
  // A wake-up was queued just before the task ended: its step drops the task's last
  // reference (TaskState). Here, in the padding after the flags above, so that a task
  // state stays in a smaller size class.
  bool release_on_step_ = false;
  // The next job in the loop's ready queue while this task is queued there (at most
  // once: scheduled_), so that a ready task costs the queue no slot of its own. A
  // tagged word, not always a task: only ReadyQueue reads it.
  TaskCoreBase* ready_next_ = nullptr;

  friend class lanes::EventLoop;
  friend class ReadyQueue;
  static void step_thunk(void* self) noexcept { static_cast<TaskCoreBase*>(self)->step(); }
};

// The task whose coroutine runs right now on this thread, or null. Set by the
// loop around each step; read by every leaf awaitable.
inline thread_local TaskCoreBase* tls_current_task = nullptr;

inline TaskCoreBase* current_task() noexcept { return tls_current_task; }
/// The running task; throws RuntimeError when a lanes awaitable is awaited outside
/// a task run by a lanes loop.
TaskCoreBase& require_current_task();

/// Throws RuntimeError if `task` awaiting `target` would wait for itself: `target`
/// is the task's own future, or a task on the same loop that (through others)
/// awaits it. Python raises the same error instead of deadlocking.
void check_not_awaiting_itself(TaskCoreBase& task, FutureStateBase& target);

}  // namespace lanes::detail
