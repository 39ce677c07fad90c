// lanes/to_thread.hpp — the bridges between threads and the event loop.
//
//   co_await lanes::to_thread(f, args...)        a blocking call, off the loop thread
//   co_await loop.run_in_executor(pool, f, ...)  the same on a chosen executor (loop.hpp)
//   lanes::run_coroutine_threadsafe(task, loop)  a task on a loop that runs elsewhere,
//                                                with a Future to block on
// All of them hand back the one lanes::Future<T>: a loop awaits it and is woken by
// the thread that completes it; a plain thread blocks on it with result().
#pragma once

#include <memory>
#include <type_traits>
#include <utility>

#include "lanes/future.hpp"
#include "lanes/loop.hpp"
#include "lanes/task.hpp"
#include "lanes/thread_pool.hpp"

namespace lanes {

/// Runs f(args...) on the running loop's default executor (a ThreadPoolExecutor
/// made on first use, shut down by the loop's close()) and returns its Future, to
/// co_await (asyncio.to_thread). f may take a std::stop_token first: cancelling
/// the awaiting task then requests a stop. Throws RuntimeError if no loop runs on
/// this thread, and what ThreadPoolExecutor::submit throws.
template <class F, class... Args>
auto to_thread(F&& f, Args&&... args) {
  return get_running_loop().run_in_executor(nullptr, std::forward<F>(f),
                                            std::forward<Args>(args)...);
}

namespace detail {
/// Copies the outcome of `from` (done) into `to`, unless `to` is done already.
template <class T>
void copy_outcome(Future<T>& from, Future<T>& to) noexcept {
  if (from.cancelled()) {
    to.cancel();
    return;
  }
  auto* state = to.raw_state();
  try {
    if constexpr (std::is_void_v<T>) {
      from.result();
      state->set_value();
    } else {
      state->set_value(from.result());
    }
  } catch (...) {
    state->set_exception(std::current_exception());
  }
}
}  // namespace detail

/// Schedules `task` on `loop`, which runs on another thread, and returns a Future
/// for it (asyncio.run_coroutine_threadsafe): result() blocks the calling thread
/// until the task is done and gives its value or rethrows its error. Cancelling
/// the Future cancels the task (before it starts, the task never runs). If the
/// loop ends first (its main returns, lanes::run cancels the pending tasks, or it
/// is closed before the task started), the Future ends cancelled. Throws
/// RuntimeError if the loop is closed.
template <class T>
Future<T> run_coroutine_threadsafe(Task<T> task, EventLoop& loop) {
  Future<T> outer = create_future<T>();
  // std::function needs a copyable callable: the task travels in a shared_ptr.
  // If the loop closes before the callback runs, the holder dies unrun and
  // cancels `outer`: the waiting thread is never left blocked forever.
  struct Holder {
    Task<T> task;
    Future<T> outer;
    ~Holder() {
      if (auto never_started = task.release()) {
        never_started.destroy();  // cancelled before its start: no "never awaited"
        outer.cancel();
      }
    }
  };
  auto holder = std::make_shared<Holder>();
  holder->task = std::move(task);
  holder->outer = outer;
  loop.call_soon_threadsafe([&loop, holder, outer]() mutable {
    if (outer.done()) return;  // cancelled before it could start
    Future<T> inner;
    try {
      inner = loop.create_task(std::move(holder->task));
    } catch (...) {
      outer.raw_state()->set_exception(std::current_exception());
      return;
    }
    // Added on the loop thread, both callbacks run on the loop.
    outer.add_done_callback([inner](Future<T> o) mutable {
      if (o.cancelled()) inner.cancel();
    });
    inner.add_done_callback([outer](Future<T> i) mutable { detail::copy_outcome(i, outer); });
  });
  return outer;
}

}  // namespace lanes
