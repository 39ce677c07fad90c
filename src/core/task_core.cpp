// Scheduling and cancellation of loop tasks (the non-template half of TaskState).
#include "lanes/detail/core/task_core.hpp"

#include "lanes/detail/core/task_state.hpp"
#include "lanes/loop.hpp"

namespace lanes::detail {

TaskCoreBase& require_current_task() {
  if (tls_current_task == nullptr)
    throw RuntimeError(
        "a lanes awaitable was awaited outside a lanes task: run the coroutine with "
        "lanes::run, run_until_complete or create_task");
  return *tls_current_task;
}

void TaskCoreBase::throw_cancelled() { throw CancelledError(); }

void TaskCoreBase::schedule() noexcept {
  if (scheduled_) return;
  scheduled_ = true;
  try {
    loop_->schedule({&TaskCoreBase::step_thunk, this});
  } catch (...) {
    // Out of memory growing the ready queue: nothing sane remains.
    std::terminate();
  }
}

void TaskCoreBase::wake_from_any_thread() noexcept {
  if (current_loop() == loop_) {
    wake();
    return;
  }
  retain();
  loop_->post({[](void* self) noexcept {
                 auto* task = static_cast<TaskCoreBase*>(self);
                 if (!task->is_done()) task->wake();
                 task->drop();
               },
               this});
}

bool TaskCoreBase::request_cancel() noexcept {
  if (is_done()) return false;
  ++cancels_requested_;
  if (CancelHook* hook = cancel_hook_) {
    if (hook->on_cancel(hook)) return true;  // forwarded: the leaf's wake-up brings it
    cancel_hook_ = nullptr;
    must_cancel_ = true;
    schedule();
    return true;
  }
  must_cancel_ = true;  // running now, or already scheduled
  return true;
}

void TaskCoreBase::after_suspend() noexcept {
  if (!must_cancel_ || scheduled_) return;
  if (CancelHook* hook = cancel_hook_) {
    if (hook->on_cancel(hook)) {
      must_cancel_ = false;
      return;
    }
    cancel_hook_ = nullptr;
    schedule();
  }
}

void TaskCoreBase::leave_loop() noexcept { loop_->unlink_task(*this); }

bool TaskStateCommon::cancel_from_any_thread(FutureStateBase& self) noexcept {
  if (current_loop() == loop_) return request_cancel();
  // Elsewhere the request travels to the loop's thread, like every cross-thread act.
  if (self.done()) return false;
  retain();
  loop_->post({[](void* arg) noexcept {
                 auto* task = static_cast<TaskStateCommon*>(arg);
                 task->request_cancel();
                 task->drop();
               },
               this});
  return true;
}

bool is_cancelled_error(const std::exception_ptr& error) noexcept {
  try {
    std::rethrow_exception(error);
  } catch (const CancelledError&) {
    return true;
  } catch (...) {
    return false;
  }
}

}  // namespace lanes::detail
