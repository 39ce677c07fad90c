// lanes/task.hpp — Task<T>, the coroutine type (Python's `async def`).
//
// A Task is lazy: creating one runs nothing. It starts when it is awaited or given
// to create_task / run. Awaiting transfers control symmetrically (no stack growth
// for long await chains or deep recursion) and the awaiter gets the value or the
// exception. A Task is move-only and awaited at most once.
#pragma once

#include <coroutine>
#include <exception>
#include <type_traits>
#include <utility>

#include "lanes/detail/core/frame_allocator.hpp"
#include "lanes/detail/core/task_core.hpp"
#include "lanes/errors.hpp"

namespace lanes {

template <class T = void>
class Task;

namespace detail {

/// Reports a Task destroyed before it ever ran ("never awaited", Python's
/// RuntimeWarning): to the running loop's exception handler, else to stderr.
/// On unless the environment sets LANES_NO_UNAWAITED_WARNING=1.
void report_never_awaited() noexcept;

class TaskPromiseBase {
 public:
  struct FinalAwaiter {
    bool await_ready() const noexcept { return false; }
    template <class Promise>
    std::coroutine_handle<> await_suspend(std::coroutine_handle<Promise> h) noexcept {
      TaskPromiseBase& promise = h.promise();
      promise.unlink_from_task();
      auto continuation = promise.continuation_;
      return continuation ? continuation : std::noop_coroutine();
    }
    void await_resume() const noexcept {}
  };
  // Empty, so that the frame holds no pointer for it: the two places that resume a
  // frame from its start (Task::Awaiter and TaskState's step) mark it started.
  using InitialAwaiter = std::suspend_always;

  InitialAwaiter initial_suspend() noexcept { return {}; }
  FinalAwaiter final_suspend() noexcept { return {}; }
  void unhandled_exception() noexcept { error_ = std::current_exception(); }

  static void* operator new(std::size_t size) { return frame_allocate(size); }
  static void operator delete(void* frame, std::size_t size) noexcept {
    frame_deallocate(frame, size);
  }

  void set_continuation(std::coroutine_handle<> c) noexcept { continuation_ = c; }
  bool started() const noexcept { return started_; }
  /// Called just before the coroutine is resumed from its initial suspension.
  void mark_started() noexcept { started_ = true; }
  const std::exception_ptr& error() const noexcept { return error_; }

  /// Called when this coroutine is awaited by the running task's innermost one:
  /// records the chain (innermost first) that abandoning a task destroys in
  /// constant stack, and the Task object (in the awaiting frame) that owns us.
  void link_to_task(std::coroutine_handle<>* owner) noexcept {
    if (TaskCoreBase* task = tls_current_task) {
      parent_ = task->innermost;
      owner_ = owner;
      task->innermost = this;
    }
  }
  void unlink_from_task() noexcept {
    if (TaskCoreBase* task = tls_current_task; task && task->innermost == this)
      task->innermost = parent_;
  }
  /// The promise of the coroutine awaiting this one, when linked (else null).
  TaskPromiseBase* parent() const noexcept { return parent_; }
  /// The handle slot of the Task object that owns this frame, when linked.
  std::coroutine_handle<>* owner() const noexcept { return owner_; }

 protected:
  std::coroutine_handle<> continuation_;
  TaskPromiseBase* parent_ = nullptr;
  std::coroutine_handle<>* owner_ = nullptr;
  std::exception_ptr error_;
  bool started_ = false;
};

template <class T>
class TaskPromise final : public TaskPromiseBase {
 public:
  Task<T> get_return_object() noexcept;

  template <class U>
    requires std::is_convertible_v<U&&, T>
  void return_value(U&& value) noexcept(std::is_nothrow_constructible_v<T, U&&>) {
    ::new (static_cast<void*>(&value_)) T(std::forward<U>(value));
    has_value_ = true;
  }

  T take_result() {
    if (error_) std::rethrow_exception(error_);
    return std::move(value_);
  }

  TaskPromise() noexcept {}
  ~TaskPromise() {
    if (has_value_) value_.~T();
  }

 private:
  union {
    T value_;
  };
  bool has_value_ = false;
};

template <>
class TaskPromise<void> final : public TaskPromiseBase {
 public:
  Task<void> get_return_object() noexcept;
  void return_void() noexcept {}
  void take_result() {
    if (error_) std::rethrow_exception(error_);
  }
};

}  // namespace detail

template <class T>
class [[nodiscard("a lanes::Task does nothing until it is co_awaited or given to create_task")]] Task {
 public:
  using promise_type = detail::TaskPromise<T>;
  using value_type = T;
  using Handle = std::coroutine_handle<promise_type>;

  Task() noexcept = default;
  explicit Task(Handle h) noexcept : handle_(h) {}
  Task(Task&& other) noexcept : handle_(std::exchange(other.handle_, {})) {}
  Task& operator=(Task&& other) noexcept {
    if (this != &other) {
      reset();
      handle_ = std::exchange(other.handle_, {});
    }
    return *this;
  }
  Task(const Task&) = delete;
  Task& operator=(const Task&) = delete;
  ~Task() { reset(); }

  /// True if this Task holds a coroutine that was not yet handed over.
  bool valid() const noexcept { return static_cast<bool>(handle_); }

  struct [[nodiscard("co_await the awaiter")]] Awaiter {
    Handle handle;
    std::coroutine_handle<>* owner;
    bool await_ready() const noexcept { return false; }
    std::coroutine_handle<> await_suspend(std::coroutine_handle<> awaiting) noexcept {
      handle.promise().set_continuation(awaiting);
      handle.promise().link_to_task(owner);
      handle.promise().mark_started();
      return handle;
    }
    T await_resume() { return handle.promise().take_result(); }
  };

  /// Runs the task to completion inside the awaiting coroutine and yields its value.
  /// Throws what the task throws; throws InvalidStateError if the Task is empty.
  Awaiter operator co_await() & {
    if (!handle_) throw InvalidStateError("co_await on an empty Task (moved from or default made)");
    return Awaiter{typed(), &handle_};
  }
  Awaiter operator co_await() && { return static_cast<Task&>(*this).operator co_await(); }

  /// Hands the coroutine over (used by create_task); the Task becomes empty.
  Handle release() noexcept {
    Handle h = typed();
    handle_ = {};
    return h;
  }

 private:
  Handle typed() const noexcept { return Handle::from_address(handle_.address()); }
  void reset() noexcept {
    if (!handle_) return;
    if (!typed().promise().started()) detail::report_never_awaited();
    handle_.destroy();
    handle_ = {};
  }
  // Type-erased so that an awaited child can point at it (TaskPromiseBase::owner):
  // abandoning a deep chain destroys the innermost frame first and empties this.
  std::coroutine_handle<> handle_;
};

namespace detail {
template <class T>
Task<T> TaskPromise<T>::get_return_object() noexcept {
  return Task<T>(std::coroutine_handle<TaskPromise<T>>::from_promise(*this));
}
inline Task<void> TaskPromise<void>::get_return_object() noexcept {
  return Task<void>(std::coroutine_handle<TaskPromise<void>>::from_promise(*this));
}
}  // namespace detail

}  // namespace lanes
