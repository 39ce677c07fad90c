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

template <class T>
class TaskState final : public FutureState<T>, public TaskStateCommon {
 public:
  using CoroHandle = std::coroutine_handle<TaskPromise<T>>;

  TaskState(EventLoop& loop, CoroHandle coro) noexcept : TaskStateCommon(loop), coro_(coro) {
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
  FutureStateBase& future_state() noexcept override { return *this; }

  // Task states come in few sizes and churn with the frames: same cache.
  static void* operator new(std::size_t size) { return frame_allocate(size); }
  static void operator delete(void* p, std::size_t size) noexcept { frame_deallocate(p, size); }

 protected:
  void step() noexcept override {
    scheduled_ = false;
    if (!coro_) {
      // A wake-up queued just before the task ended: the last step lets go.
      if (release_on_step_) {
        release_on_step_ = false;
        this->release();
      }
      return;
    }
    if (must_cancel_ && !coro_.promise().started()) {
      // Cancelled before its first step: the body never runs (Python's rule).
      must_cancel_ = false;
      end(nullptr, true);
      return;
    }
    coro_.promise().mark_started();
    TaskCoreBase* outer = tls_current_task;
    tls_current_task = this;
    resume_point_.resume();
    tls_current_task = outer;
    if (!coro_.done()) {
      after_suspend();
      return;
    }
    {
      auto& promise = coro_.promise();
      const std::exception_ptr& error = promise.error();
      if (error) {
        end(error, is_cancelled_error(error));
      } else {
        end(nullptr, false);
      }
    }
  }

  bool is_done() const noexcept override { return this->done(); }

  void abandon() noexcept override {
    destroy_awaited_chain();
    if (coro_) coro_.destroy();
    coro_ = {};
    this->complete(FutureStatus::cancelled, [] {});
    finish();
  }

 private:
  void end(std::exception_ptr error, bool cancelled) noexcept {
    if (cancelled) {
      this->complete(FutureStatus::cancelled, [] {});
    } else if (error) {
      this->set_exception(error);
    } else if constexpr (std::is_void_v<T>) {
      this->set_value();
    } else {
      try {
        this->set_value(coro_.promise().take_result());
      } catch (...) {
        this->set_exception(std::current_exception());
      }
    }
    coro_.destroy();
    coro_ = {};
    finish();
  }
  void finish() noexcept {
    leave_loop();
    // The reference the running task held on itself; a queued step still needs it.
    if (scheduled_) {
      release_on_step_ = true;
    } else {
      this->release();
    }
  }
  void retain() noexcept override { this->add_ref(); }
  void drop() noexcept override { this->release(); }

  CoroHandle coro_;
};

}  // namespace lanes::detail
