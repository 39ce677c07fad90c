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

TaskCoreBase::TaskCoreBase(EventLoop& loop, FutureStateBase& state) noexcept
    : loop_(&loop),
      state_offset_(static_cast<std::uint16_t>(reinterpret_cast<std::uintptr_t>(this) -
                                               reinterpret_cast<std::uintptr_t>(&state))) {}

bool TaskCoreBase::is_done() const noexcept { return future_state().done(); }
void TaskCoreBase::retain() noexcept { future_state().add_ref(); }
void TaskCoreBase::drop() noexcept { future_state().release(); }

void TaskCoreBase::root_failed(std::exception_ptr error) noexcept {
  // Not published: the state is completed with it when the step ends the task, and
  // no one reads error_ before the state is done.
  future_state().error_ = std::move(error);
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

TaskPromiseBase* TaskCoreBase::destroy_awaited_chain() noexcept {
  // The root (no link) is left to the caller. Each frame is destroyed before the one
  // that awaits it, as unwinding would, but without recursion: a chain of 100,000
  // awaits needs no more stack than one. A link lives in the awaiting frame, so it
  // is read before that frame goes.
  TaskPromiseBase* p = innermost;
  innermost = nullptr;
  while (p != nullptr && p->link() != nullptr) {
    AwaitLink& link = *p->link();
    TaskPromiseBase* parent = link.parent;
    std::coroutine_handle<> frame = *link.owner;
    *link.owner = nullptr;  // the awaiting frame's Task no longer owns it
    frame.destroy();
    p = parent;
  }
  return p;
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
    s = awaited_future(*t);
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

void FutureWait::on_done(DoneCallback* self, FutureStateBase&) noexcept {
  static_cast<FutureWait*>(self)->task->wake_from_any_thread();
}

bool FutureWait::forward_cancel(CancelHook* self) noexcept {
  // Python's rule: cancelling a task that awaits a future cancels that future.
  auto* wait = static_cast<FutureWait*>(self);
  if (wait->state->cancel()) return true;
  // It cannot be cancelled: a thread-pool job already running without a stop
  // token. As asyncio does with a wrapped concurrent future, the task stops
  // waiting and gets CancelledError now; the job goes on in its thread.
  if (wait->state->remove_callback(wait)) return false;
  // Our node was already taken: the completion is running and its wake-up is on
  // its way. Wait for it, then throw.
  wait->cancel_refused = true;
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
