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

/// What an awaited Task needs of the frame that awaits it. It lives there, in
/// Task::Awaiter, for as long as that frame waits: a frame's promise is then one
/// pointer, and a task's root frame (never awaited) carries none of it.
struct AwaitLink {
  std::coroutine_handle<> continuation;       // resumed when the awaited Task ends
  std::coroutine_handle<>* owner = nullptr;   // the Task object that owns the frame
  TaskPromiseBase* parent = nullptr;          // the awaiting promise, inside a task
  std::exception_ptr error;                   // what the awaited Task let out
};

class TaskPromiseBase {
 public:
  struct FinalAwaiter {
    bool await_ready() const noexcept { return false; }
    template <class Promise>
    std::coroutine_handle<> await_suspend(std::coroutine_handle<Promise> h) noexcept {
      TaskPromiseBase& promise = h.promise();
      AwaitLink* link = promise.link_;
      TaskCoreBase* task = tls_current_task;
      if (link == nullptr) {
        // A task's root: only its task's step runs it, and that step ends the task.
        task->innermost = nullptr;
        task->root_finished(h);
        return std::noop_coroutine();
      }
      if (task != nullptr && task->innermost == &promise) task->innermost = link->parent;
      return link->continuation;
    }
    void await_resume() const noexcept {}
  };
  // Empty, so that the frame holds no pointer for it.
  using InitialAwaiter = std::suspend_always;

  InitialAwaiter initial_suspend() noexcept { return {}; }
  FinalAwaiter final_suspend() noexcept { return {}; }
  void unhandled_exception() noexcept {
    if (link_ != nullptr) {
      link_->error = std::current_exception();
    } else {
      tls_current_task->root_failed(std::current_exception());  // a root: see FinalAwaiter
    }
  }

  static void* operator new(std::size_t size) { return frame_allocate(size); }
  static void operator delete(void* frame, std::size_t size) noexcept {
    frame_deallocate(frame, size);
  }

  /// True once the coroutine was awaited (a task's root is never: its task keeps
  /// that itself).
  bool started() const noexcept { return link_ != nullptr; }

  /// Called when this coroutine is awaited: `link` (in the awaiting frame) gets the
  /// continuation and, inside a task, the chain (innermost first) that abandoning a
  /// task destroys in constant stack.
  void link_to(AwaitLink& link) noexcept {
    link_ = &link;
    if (TaskCoreBase* task = tls_current_task) {
      link.parent = task->innermost;
      task->innermost = this;
    }
  }
  /// The link to the awaiting frame, or null (not awaited, or a task's root).
  AwaitLink* link() const noexcept { return link_; }

 protected:
  AwaitLink* link_ = nullptr;
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

  /// The value given to co_return (the caller checked that none was thrown).
  T take_value() { return std::move(value_); }

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
  void take_value() noexcept {}
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

  struct [[nodiscard("co_await the awaiter")]] Awaiter : detail::AwaitLink {
    Handle handle;
    Awaiter(Handle h, std::coroutine_handle<>* owning_slot) noexcept : handle(h) {
      owner = owning_slot;
    }
    Awaiter(const Awaiter&) = delete;
    Awaiter& operator=(const Awaiter&) = delete;
    bool await_ready() const noexcept { return false; }
    std::coroutine_handle<> await_suspend(std::coroutine_handle<> awaiting) noexcept {
      continuation = awaiting;
      handle.promise().link_to(*this);
      return handle;
    }
    T await_resume() {
      if (error) std::rethrow_exception(error);
      return handle.promise().take_value();
    }
  };

  /// Runs the task to completion inside the awaiting coroutine and yields its value.
  /// Throws what the task throws; throws InvalidStateError if the Task is empty.
  Awaiter operator co_await() & {
    if (!handle_) throw InvalidStateError("co_await on an empty Task (moved from or default made)");
    return Awaiter(typed(), &handle_);
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
