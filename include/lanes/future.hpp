// lanes/future.hpp — Future<T>, the one thread-safe handle to a result.
//
// create_task, ThreadPoolExecutor::submit, ProcessPoolExecutor::submit and
// run_in_executor all return a Future<T>. Inside a loop it is awaited; on a plain
// thread result() blocks. It plays both asyncio.Future and concurrent.futures.Future.
#pragma once

#include <chrono>
#include <concepts>
#include <coroutine>
#include <cstddef>
#include <cstdint>
#include <exception>
#include <functional>
#include <string>
#include <type_traits>
#include <utility>

#include "lanes/detail/core/future_state.hpp"
#include "lanes/detail/core/task_core.hpp"
#include "lanes/errors.hpp"

namespace lanes {

namespace detail {
/// True when the calling thread is running an event loop: blocking there would
/// stall every task of that loop.
bool on_running_loop_thread() noexcept;
/// Schedules `fn` on the loop running on this thread; false if there is none.
bool post_to_current_loop(std::function<void()> fn);
/// Where a done callback added on a loop thread is run: that loop.
void post_to_loop(EventLoop& loop, std::function<void()> fn);
EventLoop* current_loop() noexcept;
/// Installed on executor worker threads: a blocking result() there runs other
/// work of the executor while it waits (helping), so fork-join never deadlocks.
class BlockingWaitHook {
 public:
  /// Returns when `state` is done (true) or the deadline passed (false).
  virtual bool wait_until(FutureStateBase& state,
                          std::chrono::steady_clock::time_point deadline) = 0;

 protected:
  ~BlockingWaitHook() = default;
};
inline thread_local BlockingWaitHook* tls_blocking_wait_hook = nullptr;

/// Blocks until `state` is done or the deadline passes, helping if a hook is set.
inline bool block_until(FutureStateBase& state, std::chrono::steady_clock::time_point deadline) {
  if (auto* hook = tls_blocking_wait_hook) return hook->wait_until(state, deadline);
  return state.wait_until(deadline);
}

/// Reports an exception thrown by a done callback to the loop's handler (or stderr).
void report_callback_error(std::exception_ptr error) noexcept;
}  // namespace detail

template <class T>
class Future {
 public:
  using value_type = T;
  using State = detail::FutureState<T>;

  /// An empty handle; valid() is false.
  Future() noexcept = default;
  /// Adopts a reference to `state` (internal: used by the producers).
  explicit Future(State* state) noexcept : state_(state) {}
  Future(const Future& other) noexcept : state_(other.state_) {
    if (state_) state_->add_ref();
  }
  Future(Future&& other) noexcept : state_(std::exchange(other.state_, nullptr)) {}
  Future& operator=(Future other) noexcept {
    std::swap(state_, other.state_);
    return *this;
  }
  ~Future() {
    if (state_) state_->release();
  }

  bool valid() const noexcept { return state_ != nullptr; }
  /// True once finished with a value, an error, or cancelled. Throws InvalidStateError if empty.
  bool done() const { return state().done(); }
  /// True if it ended cancelled. Throws InvalidStateError if empty.
  bool cancelled() const { return state().cancelled(); }
  /// True while a thread-pool or process-pool job runs (concurrent.futures' running()).
  bool running() const { return state().status() == detail::FutureStatus::running; }

  /// Requests cancellation: a pending future is cancelled at once; a task gets
  /// CancelledError at its suspension point; see the executors for their jobs.
  /// Returns false if it is already done. Throws InvalidStateError if empty.
  bool cancel() { return state().cancel(); }

  /// The value, blocking the calling thread until done. Rethrows the stored error;
  /// throws CancelledError if cancelled; throws InvalidStateError if called on a
  /// thread that runs an event loop while the future is not done (co_await it).
  detail::StoredType<T> result() {
    auto& s = state();
    if (!s.done()) {
      refuse_blocking_on_loop();
      detail::block_until(s, std::chrono::steady_clock::time_point::max());
    }
    return get();
  }

  /// As result(), but throws TimeoutError if not done within `timeout`.
  template <class Rep, class Period>
  detail::StoredType<T> result(std::chrono::duration<Rep, Period> timeout) {
    auto& s = state();
    if (!s.done()) {
      refuse_blocking_on_loop();
      auto deadline = std::chrono::steady_clock::now() +
                      std::chrono::duration_cast<std::chrono::steady_clock::duration>(timeout);
      if (!detail::block_until(s, deadline))
        throw TimeoutError("Future::result(timeout): the result was not ready in time");
    }
    return get();
  }

  /// The stored error, or null if it finished with a value. Throws CancelledError
  /// if cancelled and InvalidStateError if not done yet (never blocks).
  std::exception_ptr exception() {
    auto& s = state();
    if (s.cancelled()) throw CancelledError("the future was cancelled");
    if (!s.done()) throw InvalidStateError("exception(): the future is not done yet");
    return s.take_error();
  }

  /// Completes a pending future by hand (asyncio's set_result). Throws
  /// InvalidStateError if it is already done.
  template <class... Args>
  void set_result(Args&&... args) {
    if (!state().set_value(std::forward<Args>(args)...))
      throw InvalidStateError("set_result: the future is already done");
  }
  /// Completes a pending future with an error. Throws InvalidStateError if done.
  void set_exception(std::exception_ptr error) {
    if (!error) throw InvalidStateError("set_exception: the exception_ptr is null");
    if (!state().set_exception(std::move(error)))
      throw InvalidStateError("set_exception: the future is already done");
  }

  /// Calls fn(future) once the future is done. Added on a thread that runs an
  /// event loop, fn runs on that loop (asyncio's rule); elsewhere it runs on the
  /// thread that completes the future, or at once if it is done already
  /// (concurrent.futures' rule). Throws InvalidStateError if empty.
  void add_done_callback(std::function<void(Future)> fn) {
    auto* node = new CallbackNode(std::move(fn), detail::current_loop());
    if (!state().add_callback(node)) CallbackNode::run(node, state());
  }

  /// Removes every callback equal to `fn` that has not run yet and returns how
  /// many were removed (asyncio's remove_done_callback). `fn` must be of the type
  /// that was added and comparable with == (a function pointer, or an object with
  /// operator==; a lambda is not comparable). Throws InvalidStateError if empty.
  template <class F>
    requires std::equality_comparable<F>
  std::size_t remove_done_callback(const F& fn) {
    return state().remove_callbacks_if(
        [](detail::DoneCallback* cb, const void* wanted) noexcept {
          if (cb->invoke != &CallbackNode::run) return false;
          const F* held = static_cast<CallbackNode*>(cb)->fn.template target<F>();
          return held != nullptr && *held == *static_cast<const F*>(wanted);
        },
        &fn);
  }

  /// For the future of a task (create_task): how many cancellations of the task
  /// are pending, i.e. requested and not taken back by uncancel()
  /// (asyncio.Task.cancelling). Throws InvalidStateError if this is not a task's
  /// future or if called off the task's loop thread.
  std::uint32_t cancelling() const { return task_on_this_thread("cancelling").cancelling(); }
  /// Takes one cancellation request of the task back and returns how many remain
  /// (asyncio.Task.uncancel). Same conditions and errors as cancelling().
  std::uint32_t uncancel() { return task_on_this_thread("uncancel").uncancel(); }

  struct [[nodiscard("co_await the awaiter")]] Awaiter : detail::FutureWait {
    explicit Awaiter(State* s) noexcept : FutureWait(s) {}
    Awaiter(const Awaiter&) = delete;
    Awaiter& operator=(const Awaiter&) = delete;
    ~Awaiter() {
      // A frame destroyed while it waits must not stay in the callback list.
      if (suspended && task) state->remove_callback(this);
    }

    bool await_ready() const noexcept { return state->done(); }
    bool await_suspend(std::coroutine_handle<> h) {
      task = &detail::require_current_task();
      detail::check_not_awaiting_itself(*task, *state);
      this->invoke = &FutureWait::on_done;
      this->on_cancel = &FutureWait::forward_cancel;
      task->suspend(h, this);
      if (!state->add_callback(this)) {
        task->suspend(h, nullptr);
        return false;
      }
      suspended = true;
      return true;
    }
    detail::StoredType<T> await_resume() {
      if (suspended) {
        suspended = false;
        task->throw_if_cancelled();
        if (cancel_refused) throw CancelledError();
      }
      return static_cast<State*>(state)->get();
    }
  };

  /// Awaits the future inside a lanes task. Throws what result() would; throws
  /// CancelledError if the awaiting task is cancelled (which also cancels this
  /// future, as in Python; use shield() to prevent that).
  Awaiter operator co_await() const {
    if (!state_) throw InvalidStateError("co_await on an empty Future");
    return Awaiter(state_);
  }

  /// Internal: the shared state, for combinators.
  State* raw_state() const noexcept { return state_; }

 private:
  State& state() const {
    if (!state_) throw InvalidStateError("this Future is empty (default made or moved from)");
    return *state_;
  }
  static void refuse_blocking_on_loop() {
    if (detail::on_running_loop_thread())
      throw InvalidStateError(
          "Future::result() would block the event loop's own thread: co_await the future instead");
  }
  detail::StoredType<T> get() { return state_->get(); }
  detail::TaskCoreBase& task_on_this_thread(const char* what) const {
    detail::TaskCoreBase* task = state().task();
    if (task == nullptr)
      throw InvalidStateError(std::string(what) +
                              "(): this Future is not a task's (only create_task makes tasks)");
    if (detail::current_loop() != &task->loop())
      throw InvalidStateError(std::string(what) + "(): call it on the thread that runs the task's loop");
    return *task;
  }

  // Holds no reference to the state (that would be a cycle): a state destroyed
  // undone discards its nodes.
  struct CallbackNode : detail::DoneCallback {
    std::function<void(Future)> fn;
    EventLoop* loop;
    CallbackNode(std::function<void(Future)> cb, EventLoop* l) : fn(std::move(cb)), loop(l) {
      this->invoke = &CallbackNode::run;
      this->discard = [](detail::DoneCallback* self) noexcept {
        delete static_cast<CallbackNode*>(self);
      };
    }
    static void run(detail::DoneCallback* self, detail::FutureStateBase& state) noexcept {
      auto* node = static_cast<CallbackNode*>(self);
      state.add_ref();
      Future future(static_cast<State*>(&state));
      try {
        if (node->loop) {
          detail::post_to_loop(*node->loop, [f = std::move(future), cb = std::move(node->fn)] {
            cb(f);
          });
        } else {
          node->fn(std::move(future));
        }
      } catch (...) {
        detail::report_callback_error(std::current_exception());
      }
      delete node;
    }
  };

  State* state_ = nullptr;
};

/// A new pending Future, completed later with set_result / set_exception
/// (Python's loop.create_future()). Throws std::bad_alloc only.
template <class T = void>
Future<T> create_future() {
  return Future<T>(new detail::FutureState<T>());
}

}  // namespace lanes
