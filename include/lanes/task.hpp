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
#include "lanes/errors.hpp"

namespace lanes {

template <class T = void>
class Task;

namespace detail {

/// Reports a Task destroyed before it ever ran (debug mode: "never awaited").
void report_never_awaited() noexcept;

class TaskPromiseBase {
 public:
  struct FinalAwaiter {
    bool await_ready() const noexcept { return false; }
    template <class Promise>
    std::coroutine_handle<> await_suspend(std::coroutine_handle<Promise> h) noexcept {
      auto continuation = h.promise().continuation_;
      return continuation ? continuation : std::noop_coroutine();
    }
    void await_resume() const noexcept {}
  };
  struct InitialAwaiter {
    TaskPromiseBase* promise;
    bool await_ready() const noexcept { return false; }
    void await_suspend(std::coroutine_handle<>) const noexcept {}
    void await_resume() const noexcept { promise->started_ = true; }
  };

  InitialAwaiter initial_suspend() noexcept { return {this}; }
  FinalAwaiter final_suspend() noexcept { return {}; }
  void unhandled_exception() noexcept { error_ = std::current_exception(); }

  static void* operator new(std::size_t size) { return frame_allocate(size); }
  static void operator delete(void* frame, std::size_t size) noexcept {
    frame_deallocate(frame, size);
  }

  void set_continuation(std::coroutine_handle<> c) noexcept { continuation_ = c; }
  bool started() const noexcept { return started_; }
  const std::exception_ptr& error() const noexcept { return error_; }

 protected:
  std::coroutine_handle<> continuation_;
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
class [[nodiscard]] Task {
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

  struct Awaiter {
    Handle handle;
    bool await_ready() const noexcept { return false; }
    std::coroutine_handle<> await_suspend(std::coroutine_handle<> awaiting) noexcept {
      handle.promise().set_continuation(awaiting);
      return handle;
    }
    T await_resume() { return handle.promise().take_result(); }
  };

  /// Runs the task to completion inside the awaiting coroutine and yields its value.
  /// Throws what the task throws; throws InvalidStateError if the Task is empty.
  Awaiter operator co_await() & {
    if (!handle_) throw InvalidStateError("co_await on an empty Task (moved from or default made)");
    return Awaiter{handle_};
  }
  Awaiter operator co_await() && { return static_cast<Task&>(*this).operator co_await(); }

  /// Hands the coroutine over (used by create_task); the Task becomes empty.
  Handle release() noexcept { return std::exchange(handle_, {}); }

 private:
  void reset() noexcept {
    if (!handle_) return;
    if (!handle_.promise().started()) detail::report_never_awaited();
    handle_.destroy();
    handle_ = {};
  }
  Handle handle_;
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
