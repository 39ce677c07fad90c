// lanes/task_group.hpp — TaskGroup (asyncio.TaskGroup): structured concurrency.
//
// Children are tasks started with the group's create_task. Waiting for the group
// waits for every child; the first child to fail cancels its siblings and the body
// of the group, and once every child has ended the group throws ExceptionGroup with
// every error (cancellations are not errors). Two ways to use it:
//
//   // 1. Scoped, like `async with asyncio.TaskGroup() as tg:` — recommended. The
//   //    body's own exit (value, error or cancellation) always waits for the children.
//   co_await lanes::TaskGroup::run([&](lanes::TaskGroup& tg) -> lanes::Task<void> {
//     tg.create_task(fetch(a));
//     tg.create_task(fetch(b));
//     co_return;
//   });
//
//   // 2. Explicit: the code between construction and join() is the body.
//   lanes::TaskGroup tg;
//   auto f = tg.create_task(fetch(a));
//   co_await tg.join();        // or tg.join(error) from a catch handler
//
// In form 2 a CancelledError or another exception that skips join() leaves the
// children to the destructor, which cancels them but cannot wait for them to end:
// catch, then `co_await tg.join(std::current_exception())` (what run() does).
#pragma once

#include <cstddef>
#include <exception>
#include <optional>
#include <type_traits>
#include <utility>
#include <vector>

#include "lanes/detail/core/future_state.hpp"
#include "lanes/detail/core/intrusive_list.hpp"
#include "lanes/detail/core/task_core.hpp"
#include "lanes/errors.hpp"
#include "lanes/future.hpp"
#include "lanes/loop.hpp"
#include "lanes/task.hpp"

namespace lanes {

class TaskGroup {
 public:
  /// A group whose parent is the running task (the one the first failure cancels).
  /// Use the group on that task's loop thread. Throws RuntimeError outside a lanes task.
  TaskGroup();
  /// A group not joined while children still run cancels them and stops tracking
  /// them; they end (cancelled) on their own loop iterations later. join() first.
  ~TaskGroup();
  TaskGroup(const TaskGroup&) = delete;
  TaskGroup& operator=(const TaskGroup&) = delete;

  /// Schedules `task` as a child (asyncio.TaskGroup.create_task) and returns its
  /// Future. Throws RuntimeError if the group has finished (joined with no child
  /// left) or is shutting down after a failure or a cancellation.
  template <class T>
  Future<T> create_task(Task<T> task) {
    check_can_spawn();
    Future<T> future = parent_->loop().create_task(std::move(task));
    adopt(future.raw_state());
    return future;
  }

  /// Waits for every child (asyncio's `__aexit__`). `body_error` is what the body
  /// ended with, if it failed: it aborts the group (siblings are cancelled), and a
  /// non-cancel body error joins the children's errors. Awaiting throws
  /// ExceptionGroup("unhandled errors in a TaskGroup") with every child error (then
  /// the body's), in the order they happened, if there is any; else CancelledError
  /// if the task awaiting join was cancelled from outside (during the body or the
  /// wait — the children are cancelled then too); else returns. A cancellation the
  /// group itself sent to its parent is taken back here (Task.uncancel()). Join
  /// once, from the parent task; a second join throws RuntimeError.
  Task<void> join(std::exception_ptr body_error = nullptr);

  /// The scoped form: makes a group, awaits body(group), then joins — with the
  /// body's exception if it threw. Gives the body's value. Throws as join() does;
  /// a body error that join does not report is rethrown.
  template <class F>
  static auto run(F body)
      -> Task<typename std::invoke_result_t<F&, TaskGroup&>::value_type>;

  /// Children still running.
  std::size_t size() const noexcept { return live_; }
  /// True once a failure or a cancellation made the group cancel its children.
  bool aborting() const noexcept { return aborting_; }

 private:
  struct Child : detail::DoneCallback {
    TaskGroup* group;
    detail::FutureStateBase* state;  // one reference held while listed
    detail::ListLinks<Child> links;
  };
  class JoinAwaiter;

  void check_can_spawn() const;
  void adopt(detail::FutureStateBase* state);
  void abort() noexcept;
  static void on_child_done(detail::DoneCallback* self, detail::FutureStateBase& state) noexcept;

  detail::TaskCoreBase* parent_;
  detail::IntrusiveList<Child, &Child::links> children_;  // newest first
  std::size_t live_ = 0;
  std::vector<std::exception_ptr> errors_;
  JoinAwaiter* joiner_ = nullptr;
  bool exiting_ = false;                  // join() has started
  bool finished_ = false;                 // join() has seen every child end
  bool aborting_ = false;                 // the children were told to cancel
  bool parent_cancel_requested_ = false;  // we cancelled the parent: uncancel in join
};

template <class F>
auto TaskGroup::run(F body) -> Task<typename std::invoke_result_t<F&, TaskGroup&>::value_type> {
  using R = typename std::invoke_result_t<F&, TaskGroup&>::value_type;
  TaskGroup group;
  std::exception_ptr body_error;
  std::optional<detail::StoredType<R>> result;
  try {
    if constexpr (std::is_void_v<R>) {
      co_await body(group);
    } else {
      result.emplace(co_await body(group));
    }
  } catch (...) {
    body_error = std::current_exception();
  }
  co_await group.join(body_error);
  if (body_error) std::rethrow_exception(body_error);
  if constexpr (!std::is_void_v<R>) co_return std::move(*result);
}

}  // namespace lanes
