// lanes/detail/core/shield.hpp — the leaf behind lanes::shield (asyncio.shield).
//
// Like Future<T>::Awaiter, except for what a cancellation of the awaiting task does:
// instead of cancelling the awaited future it only stops waiting for it. The future
// (a task, a pool job) goes on and its result stays observable through any other
// handle to it.
#pragma once

#include <coroutine>
#include <utility>

#include "lanes/detail/core/future_state.hpp"
#include "lanes/detail/core/task_core.hpp"
#include "lanes/errors.hpp"
#include "lanes/future.hpp"

namespace lanes::detail {

template <class T>
class [[nodiscard("a lanes awaitable does nothing unless co_awaited")]] ShieldAwaiter : DoneCallback, CancelHook {
 public:
  explicit ShieldAwaiter(Future<T> future) : future_(std::move(future)) {
    if (!future_.valid()) throw InvalidStateError("shield: the Future is empty");
  }
  ShieldAwaiter(const ShieldAwaiter&) = delete;
  ShieldAwaiter& operator=(const ShieldAwaiter&) = delete;
  ~ShieldAwaiter() {
    // A frame destroyed while waiting (loop close) must not stay listed.
    if (listed_) state().remove_callback(this);
  }

  bool await_ready() const noexcept { return future_.raw_state()->done(); }
  bool await_suspend(std::coroutine_handle<> h) {
    task_ = &require_current_task();
    this->invoke = &ShieldAwaiter::on_done;
    this->on_cancel = &ShieldAwaiter::stop_waiting;
    task_->suspend(h, this);
    if (!state().add_callback(this)) {
      task_->suspend(h, nullptr);
      return false;
    }
    listed_ = suspended_ = true;
    return true;
  }
  StoredType<T> await_resume() {
    listed_ = false;  // woken by the callback, or detached by stop_waiting
    if (suspended_) {
      suspended_ = false;
      task_->throw_if_cancelled();
    }
    if (cancelled_) throw CancelledError();
    return state().get();
  }

 private:
  FutureState<T>& state() const noexcept { return *future_.raw_state(); }

  static void on_done(DoneCallback* self, FutureStateBase&) noexcept {
    static_cast<ShieldAwaiter*>(self)->task_->wake_from_any_thread();
  }
  static bool stop_waiting(CancelHook* self) noexcept {
    auto* a = static_cast<ShieldAwaiter*>(self);
    if (a->state().remove_callback(a)) {
      a->listed_ = false;
      return false;  // detached: the core wakes the task with CancelledError
    }
    // The future just completed and its callback is waking us: let that wake-up
    // deliver the cancellation.
    a->cancelled_ = true;
    return true;
  }

  Future<T> future_;
  TaskCoreBase* task_ = nullptr;
  bool listed_ = false;     // our node may still be in the future's callback list
  bool suspended_ = false;  // really suspended: a cancellation may be pending
  bool cancelled_ = false;
};

}  // namespace lanes::detail
