// lanes/current_task.hpp — lanes::current_task(): the task running now
// (asyncio.current_task()), as a TaskHandle that can cancel it.
//
// Python returns the Task object, or None outside a task. lanes returns a
// TaskHandle, which is empty (false) outside a task. A handle keeps the task's
// state alive (not its coroutine), so it may outlive the task.
#pragma once

#include <cstdint>
#include <string>
#include <utility>

#include "lanes/detail/core/future_state.hpp"
#include "lanes/detail/core/task_core.hpp"
#include "lanes/errors.hpp"

namespace lanes {

class EventLoop;

namespace detail {
EventLoop* current_loop() noexcept;
}

/// A reference to a task made by create_task (or lanes::run's main), whatever its
/// result type. Copyable; thread-safe where Future is (done, cancelled, cancel).
class TaskHandle {
 public:
  /// An empty handle (what current_task() gives outside a task).
  TaskHandle() noexcept = default;
  /// Internal: adopts a new reference to `task`.
  explicit TaskHandle(detail::TaskCoreBase* task) noexcept : task_(task) {
    if (task_) task_->future_state().add_ref();
  }
  TaskHandle(const TaskHandle& other) noexcept : TaskHandle(other.task_) {}
  TaskHandle(TaskHandle&& other) noexcept : task_(std::exchange(other.task_, nullptr)) {}
  TaskHandle& operator=(TaskHandle other) noexcept {
    std::swap(task_, other.task_);
    return *this;
  }
  ~TaskHandle() {
    if (task_) task_->future_state().release();
  }

  /// True if it refers to a task (false outside a task, like Python's None).
  explicit operator bool() const noexcept { return task_ != nullptr; }
  friend bool operator==(const TaskHandle& a, const TaskHandle& b) noexcept {
    return a.task_ == b.task_;
  }

  /// True once the task has finished (value, error or cancelled). Throws
  /// InvalidStateError if empty.
  bool done() const { return state().done(); }
  /// True if the task ended cancelled. Throws InvalidStateError if empty.
  bool cancelled() const { return state().cancelled(); }
  /// Requests the task's cancellation, from any thread (Task.cancel()); false if
  /// it is already done. Throws InvalidStateError if empty.
  bool cancel() { return state().cancel(); }
  /// Cancellations requested and not taken back (Task.cancelling()). Loop thread
  /// only: throws InvalidStateError elsewhere, or if empty.
  std::uint32_t cancelling() const { return on_loop_thread("cancelling").cancelling(); }
  /// Takes one request back and returns how many remain (Task.uncancel()). Loop
  /// thread only: throws InvalidStateError elsewhere, or if empty.
  std::uint32_t uncancel() { return on_loop_thread("uncancel").uncancel(); }

 private:
  detail::FutureStateBase& state() const {
    if (!task_) throw InvalidStateError("this TaskHandle is empty (current_task() outside a task)");
    return task_->future_state();
  }
  detail::TaskCoreBase& on_loop_thread(const char* what) const {
    state();
    if (detail::current_loop() != &task_->loop())
      throw InvalidStateError(std::string("TaskHandle::") + what +
                              "(): call it on the thread that runs the task's loop");
    return *task_;
  }
  detail::TaskCoreBase* task_ = nullptr;
};

/// The task running on this thread now (asyncio.current_task()), or an empty
/// handle outside a task. Never throws.
inline TaskHandle current_task() noexcept { return TaskHandle(detail::current_task()); }

}  // namespace lanes
