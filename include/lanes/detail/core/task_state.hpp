// lanes/detail/core/task_state.hpp — what create_task makes: a Future's state that also
// drives a coroutine on a loop (asyncio.Task).
#pragma once

#include <coroutine>
#include <exception>
#include <type_traits>

#include "lanes/detail/core/frame_allocator.hpp"
#include "lanes/detail/core/future_state.hpp"
#include "lanes/detail/core/task_core.hpp"
#include "lanes/task.hpp"

namespace lanes::detail {

/// True if `error` holds a lanes::CancelledError.
bool is_cancelled_error(const std::exception_ptr& error) noexcept;

/// Shared by every TaskState<T>: the parts that need no T.
class TaskStateCommon : public TaskCoreBase {
 protected:
  using TaskCoreBase::TaskCoreBase;
  /// Cancels on the loop thread, posting there from another thread.
  bool cancel_from_any_thread(FutureStateBase& self) noexcept;
};

/// A task's whole state: the future's (first, so that TaskCoreBase finds it at a
/// fixed distance) and the scheduling fields. The coroutine frames are apart: the
/// root's handle is the resume point until the first await of a Task, and is found
/// again from the innermost chain (abandon) or handed back by its final
/// suspension (root_finished).
template <class T>
class TaskState final : public FutureState<T>, public TaskStateCommon {
 public:
  using CoroHandle = std::coroutine_handle<TaskPromise<T>>;
  static_assert(sizeof(FutureState<T>) < 65536,
                "a task's result type must be smaller than 64 KiB: return a std::vector or a "
                "std::unique_ptr to a large value");

  TaskState(EventLoop& loop, CoroHandle coro) noexcept : TaskStateCommon(loop, *this) {
    resume_point_ = coro;
    innermost = &coro.promise();
  }

  /// One more reference, for a new Future handle.
  FutureState<T>* share() noexcept {
    this->add_ref();
    return this;
  }

  bool cancel() noexcept override { return cancel_from_any_thread(*this); }
  TaskCoreBase* task() noexcept override { return this; }

  // Task states come in few sizes and churn with the frames: the same cache, in lists
  // of their own (BlockKind).
  static void* operator new(std::size_t size) { return frame_allocate(size, BlockKind::state); }
  static void operator delete(void* p, std::size_t size) noexcept {
    frame_deallocate(p, size, BlockKind::state);
  }

 protected:
  void act_as_task(FutureStateBase::TaskAct act) noexcept override {
    if (act == FutureStateBase::TaskAct::step) {
      run_step();
    } else {
      abandon_coroutine();
    }
  }

 private:
  void run_step() noexcept {
    scheduled_ = false;
    if (ended_) {
      // A wake-up queued just before the task ended: the last step lets go.
      if (release_on_step_) {
        release_on_step_ = false;
        this->release();
      }
      return;
    }
    if (!started_) {
      started_ = true;
      if (must_cancel_) {
        // Cancelled before its first step: the body never runs (Python's rule).
        must_cancel_ = false;
        CoroHandle::from_address(resume_point_.address()).destroy();
        end_cancelled();
        return;
      }
    }
    TaskCoreBase* outer = tls_current_task;
    tls_current_task = this;
    resume_point_.resume();
    tls_current_task = outer;
    if (!root_finished_) {
      after_suspend();
      return;
    }
    end(CoroHandle::from_address(resume_point_.address()));
  }

  void abandon_coroutine() noexcept {
    TaskPromiseBase* root = destroy_awaited_chain();
    if (root != nullptr) CoroHandle::from_promise(static_cast<TaskPromise<T>&>(*root)).destroy();
    end_cancelled();
  }

  /// The root coroutine finished: completes the future with its outcome.
  void end(CoroHandle root) noexcept {
    // root_failed() left the error in error_, not yet published.
    std::exception_ptr error = std::exchange(this->error_, nullptr);
    if (error && is_cancelled_error(error)) {
      this->complete(FutureStatus::cancelled, [] {});
    } else if (error) {
      this->set_exception(std::move(error));
    } else if constexpr (std::is_void_v<T>) {
      this->set_value();
    } else {
      try {
        this->set_value(root.promise().take_value());
      } catch (...) {
        this->set_exception(std::current_exception());
      }
    }
    root.destroy();
    finish();
  }
  void end_cancelled() noexcept {
    this->complete(FutureStatus::cancelled, [] {});
    finish();
  }
  void finish() noexcept {
    ended_ = true;
    leave_loop();
    // The reference the running task held on itself; a queued step still needs it.
    if (scheduled_) {
      release_on_step_ = true;
    } else {
      this->release();
    }
  }
};

}  // namespace lanes::detail
