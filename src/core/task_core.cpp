// Scheduling and cancellation of loop tasks (the non-template half of TaskState).
#include "lanes/detail/core/task_core.hpp"

#include "lanes/detail/core/task_state.hpp"
#include "lanes/loop.hpp"

#include <cstddef>
#include <string>

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
  // Came back through a cycle of tasks waiting on each other: refuse, so that the
  // waiter that asked stops waiting and throws instead of forwarding forever.
  if (forwarding_cancel_) return false;
  ++cancels_requested_;
  if (CancelHook* hook = cancel_hook_) {
    forwarding_cancel_ = true;
    const bool forwarded = hook->on_cancel(hook);
    forwarding_cancel_ = false;
    if (forwarded) return true;  // the leaf's wake-up brings it
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
    forwarding_cancel_ = true;
    const bool forwarded = hook->on_cancel(hook);
    forwarding_cancel_ = false;
    if (forwarded) {
      must_cancel_ = false;
      return;
    }
    cancel_hook_ = nullptr;
    schedule();
  }
}

void TaskCoreBase::leave_loop() noexcept { loop_->unlink_task(*this); }

void TaskCoreBase::destroy_awaited_chain() noexcept {
  // The root (owner null) is left to the caller. Each frame is destroyed before
  // the one that awaits it, as unwinding would, but without recursion: a chain of
  // 100,000 awaits needs no more stack than one.
  TaskPromiseBase* p = innermost;
  innermost = nullptr;
  while (p != nullptr && p->owner() != nullptr) {
    TaskPromiseBase* parent = p->parent();
    std::coroutine_handle<> frame = *p->owner();
    *p->owner() = nullptr;  // the awaiting frame's Task no longer owns it
    frame.destroy();
    p = parent;
  }
}

void check_not_awaiting_itself(TaskCoreBase& task, FutureStateBase& target) {
  std::size_t hops = 0;
  for (FutureStateBase* s = &target; s != nullptr; ++hops) {
    TaskCoreBase* t = s->task();
    if (t == nullptr || &t->loop() != &task.loop()) return;  // not a task of this thread
    if (t == &task) {
      throw RuntimeError(hops == 0 ? "a task cannot await itself: it awaited its own future"
                                   : "a task cannot await itself: it awaited a task that (through " +
                                         std::to_string(hops) + " await(s)) awaits it");
    }
    s = t->waiting_on;
  }
}

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
