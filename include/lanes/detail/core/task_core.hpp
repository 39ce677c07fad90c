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
#include <exception>

#include "lanes/detail/core/future_state.hpp"
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

/// The hook of a leaf that needs nothing done when its task is cancelled: the task is
/// woken with CancelledError, and the leaf tidies up in await_resume (a sleep).
inline CancelHook wake_on_cancel{+[](CancelHook*) noexcept { return false; }};

/// A unit of work in the loop's ready queue.
struct ReadyJob {
  void (*run)(void* arg) noexcept;
  void* arg;
};

/// The scheduling half of a task state. It has no vtable (it sits in every task, as
/// do the future's fields): what needs the task's type goes through the future
/// state's, found at a fixed distance before this object.
class TaskCoreBase {
 public:
  /// `state` is the future state of the same TaskState object, placed before it.
  TaskCoreBase(EventLoop& loop, FutureStateBase& state) noexcept;
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
  FutureStateBase& future_state() const noexcept {
    return *reinterpret_cast<FutureStateBase*>(
        reinterpret_cast<std::uintptr_t>(this) - state_offset_);
  }
  /// The leaf this task is suspended at, if it offered a cancel hook; else null.
  CancelHook* cancel_hook() const noexcept { return cancel_hook_; }

  /// Called by the root coroutine's final suspension (TaskPromiseBase): the step
  /// that runs now ends the task. `root` is the finished frame.
  void root_finished(std::coroutine_handle<> root) noexcept {
    resume_point_ = root;
    root_finished_ = true;
  }
  /// Called when the root coroutine lets an exception out: kept as the future's
  /// error until the step ends the task.
  void root_failed(std::exception_ptr error) noexcept;

  /// The promise of the innermost Task coroutine this task runs (the chain of
  /// awaited Tasks, linked through AwaitLink::parent): abandon() destroys the
  /// frames innermost first, in constant stack.
  TaskPromiseBase* innermost = nullptr;

  /// Links in the loop's list of live tasks (for run()'s clean-up and close()).
  ListLinks<TaskCoreBase> live_links;

 protected:
  ~TaskCoreBase() = default;
  void schedule() noexcept;
  /// After a step that suspended: a cancellation requested while the task ran is
  /// delivered to the leaf it now waits on (Python's _must_cancel at a yield).
  void after_suspend() noexcept;
  void step() noexcept { future_state().act_as_task(FutureStateBase::TaskAct::step); }
  bool is_done() const noexcept;
  /// Destroys the coroutine without running it further (loop close).
  void abandon() noexcept { future_state().act_as_task(FutureStateBase::TaskAct::abandon); }
  /// Reference counting of the future state this task is part of.
  void retain() noexcept;
  void drop() noexcept;
  /// Removes the task from its loop's list of live tasks.
  void leave_loop() noexcept;
  [[noreturn]] static void throw_cancelled();
  /// Destroys the frames of the awaited Tasks below the root coroutine, innermost
  /// first, emptying the Task objects that owned them (see innermost). Returns the
  /// root's promise (the last of the chain).
  TaskPromiseBase* destroy_awaited_chain() noexcept;

  EventLoop* loop_;
  std::coroutine_handle<> resume_point_;
  CancelHook* cancel_hook_ = nullptr;
  std::uint32_t cancels_requested_ = 0;
  // Bytes from the future state to this object: future_state() without a vtable.
  std::uint16_t state_offset_;
  // Loop thread only, like every field above (bits, so that a task state stays in a
  // smaller size class).
  bool must_cancel_ : 1 = false;
  bool scheduled_ : 1 = false;
  // True while request_cancel forwards to the leaf: a request that comes back to
  // this task (tasks waiting on each other in a cycle) is refused instead of
  // recursing until the stack overflows.
  bool forwarding_cancel_ : 1 = false;
  // A wake-up was queued just before the task ended: its step drops the task's last
  // reference (TaskState).
  bool release_on_step_ : 1 = false;
  // The first step began (a cancellation before it means the body never runs).
  bool started_ : 1 = false;
  // The root coroutine reached its final suspension (root_finished).
  bool root_finished_ : 1 = false;
  // The coroutine is gone (ended or abandoned): a later queued step only lets go.
  bool ended_ : 1 = false;
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

/// The leaf of a task in `co_await future` (Future<T>::Awaiter's untyped half): a
/// callback on the future that wakes the task, and a cancel hook that forwards the
/// task's cancellation to the future. The task finds the future it waits on
/// through its cancel hook (awaited_future), to refuse a cycle of awaits.
struct FutureWait : DoneCallback, CancelHook {
  explicit FutureWait(FutureStateBase* s) noexcept : state(s) {}
  /// Wakes the waiting task (from the thread that completed the future).
  static void on_done(DoneCallback* self, FutureStateBase& done) noexcept;
  /// Cancels the future; stops waiting at once if it cannot be cancelled.
  static bool forward_cancel(CancelHook* self) noexcept;

  FutureStateBase* state;
  TaskCoreBase* task = nullptr;
  bool suspended = false;
  // The future refused the cancellation while its completion was already running:
  // the wake-up comes, then the await throws CancelledError.
  bool cancel_refused = false;
};

/// The future `task` is suspended on in a `co_await future`, or null.
inline FutureStateBase* awaited_future(const TaskCoreBase& task) noexcept {
  CancelHook* hook = task.cancel_hook();
  if (hook == nullptr || hook->on_cancel != &FutureWait::forward_cancel) return nullptr;
  return static_cast<FutureWait*>(hook)->state;
}

/// Throws RuntimeError if `task` awaiting `target` would wait for itself: `target`
/// is the task's own future, or a task on the same loop that (through others)
/// awaits it. Python raises the same error instead of deadlocking.
void check_not_awaiting_itself(TaskCoreBase& task, FutureStateBase& target);

}  // namespace lanes::detail
