// lanes/combinators.hpp — awaiting several things at once, and deadlines: gather,
// gather_settled, wait, as_completed, wait_for, timeout, shield (asyncio's).
//
// Everything here is used inside a lanes task. Each takes Task<T> and Future<T>
// (futures from create_task, an executor, or made by hand, completed on any thread).
// A Task handed to gather or shield is scheduled at once with create_task, so it
// runs concurrently, as in Python.
//
// A void result is a lanes::Unit wherever a value is needed (gather's tuple and
// vector, Outcome<void>), the same type co_await of a Future<void> gives.
//
// Plain threads use the same spelling (concurrent.futures' wait and as_completed):
// `wait` returns a WaitOp<T> and `as_completed` an AsCompletedStream<T>, neither of
// which blocks until asked; on a plain thread `lanes::wait(fs, FIRST_COMPLETED).result()`
// blocks, and `for (auto f : lanes::as_completed(fs))` (or `ac.next_blocking()`)
// blocks for each future in turn. On a thread-pool worker these help run the pool's
// jobs while they wait; on a loop thread they throw InvalidStateError instead.
#pragma once

#include <chrono>
#include <cstddef>
#include <exception>
#include <ranges>
#include <string>
#include <tuple>
#include <type_traits>
#include <utility>
#include <vector>

#include "lanes/as_completed.hpp"
#include "lanes/detail/core/gather.hpp"
#include "lanes/detail/core/multi_wait.hpp"
#include "lanes/outcome.hpp"
#include "lanes/detail/core/shield.hpp"
#include "lanes/detail/threads/thread_wait.hpp"
#include "lanes/timeout.hpp"
#include "lanes/errors.hpp"
#include "lanes/future.hpp"
#include "lanes/loop.hpp"
#include "lanes/return_when.hpp"
#include "lanes/task.hpp"

namespace lanes {

// ---- gather -----------------------------------------------------------------

/// asyncio.gather(a, b, ...): runs every argument concurrently and gives their
/// values as a tuple, in argument order (void → lanes::Unit). Each argument is a
/// Task<T> (an rvalue: scheduled now with create_task) or a Future<T>.
/// Awaiting throws the first error any child ends with (a cancelled child counts,
/// as CancelledError); the other children keep running, as in Python, and an error
/// one of them ends with later stays in its future (reported as never retrieved if
/// nobody looks). If the gathering task is cancelled, every child is cancelled,
/// and awaiting throws CancelledError once they have ended. Throws RuntimeError
/// (no running loop) when given a Task outside a loop, InvalidStateError for an
/// empty Future.
template <class... Aws>
  requires(detail::FutureOrTask<Aws> && ...)
Task<std::tuple<detail::StoredType<detail::awaited_t<Aws>>...>> gather(Aws&&... aws) {
  // Braces: the Tasks are scheduled left to right.
  std::tuple<Future<detail::awaited_t<Aws>>...> futures{detail::to_future(std::forward<Aws>(aws))...};
  return std::apply([](auto&... fs) { return detail::gather_tuple(std::move(fs)...); }, futures);
}

/// gather over a range (a std::vector, ...) of Future<T> or Task<T> (Tasks are moved
/// out of the range and scheduled now): a vector of the values in range order.
/// Errors and cancellation as for the variadic form. The wait costs one
/// allocation for all children (no coroutine frame per child).
template <std::ranges::input_range R>
  requires detail::FutureOrTask<std::ranges::range_value_t<R>>
Task<std::vector<detail::StoredType<detail::awaited_t<std::ranges::range_value_t<R>>>>> gather(R&& range) {
  return detail::gather_vector(detail::futures_of(std::forward<R>(range)));
}

/// gather(..., return_exceptions=True): waits for every child and gives one
/// Outcome<T> per child (a value, or the error it ended with; a cancelled child
/// holds a CancelledError). Never throws a child's error. If the gathering task is
/// cancelled, the children are cancelled and awaiting throws CancelledError once
/// all have ended.
template <class... Aws>
  requires(detail::FutureOrTask<Aws> && ...)
Task<std::tuple<Outcome<detail::awaited_t<Aws>>...>> gather_settled(Aws&&... aws) {
  std::tuple<Future<detail::awaited_t<Aws>>...> futures{detail::to_future(std::forward<Aws>(aws))...};
  return std::apply([](auto&... fs) { return detail::gather_settled_tuple(std::move(fs)...); },
                    futures);
}

/// gather_settled over a range of Future<T> or Task<T>: one Outcome<T> per element,
/// in range order.
template <std::ranges::input_range R>
  requires detail::FutureOrTask<std::ranges::range_value_t<R>>
Task<std::vector<Outcome<detail::awaited_t<std::ranges::range_value_t<R>>>>> gather_settled(R&& range) {
  return detail::gather_settled_vector(detail::futures_of(std::forward<R>(range)));
}

// ---- wait -------------------------------------------------------------------

/// What wait() gives: the futures done when it returned and the others, each in
/// the order they were given.
template <class T>
struct WaitResult {
  std::vector<Future<T>> done;
  std::vector<Future<T>> pending;
};

/// The awaitable that wait() returns; co_await it (once) inside a lanes task.
template <class T>
class [[nodiscard("lanes::wait does nothing unless co_awaited (or result() is called)")]] WaitOp {
 public:
  using Clock = std::chrono::steady_clock;

  WaitOp(std::vector<Future<T>> futures, ReturnWhen when, Clock::time_point deadline)
      : futures_(std::move(futures)), when_(when), deadline_(deadline) {
    for (const auto& f : futures_)
      if (!f.valid()) throw InvalidStateError("wait: a Future in the list is empty");
  }

  class Awaiter {
   public:
    Awaiter(std::vector<Future<T>> futures, ReturnWhen when, Clock::time_point deadline)
        : futures_(std::move(futures)),
          inner_(detail::block_of(detail::wake_when(when), futures_),
                 detail::MultiWaitAwaiter::OnCancel::detach, deadline) {}
    bool await_ready() const noexcept { return inner_.await_ready(); }
    bool await_suspend(std::coroutine_handle<> h) { return inner_.await_suspend(h); }
    WaitResult<T> await_resume() {
      inner_.await_resume();
      WaitResult<T> result;
      for (auto& f : futures_) (f.done() ? result.done : result.pending).push_back(std::move(f));
      return result;
    }

   private:
    std::vector<Future<T>> futures_;
    detail::MultiWaitAwaiter inner_;
  };

  Awaiter operator co_await() && { return Awaiter(std::move(futures_), when_, deadline_); }
  Awaiter operator co_await() & { return Awaiter(futures_, when_, deadline_); }

  /// The plain-thread form (concurrent.futures.wait): blocks the calling thread
  /// until the condition holds or the deadline passes, and gives {done, pending}.
  /// On a thread-pool worker it runs the pool's jobs while it waits. Throws
  /// InvalidStateError on a thread that runs an event loop, unless the condition
  /// holds already (co_await there).
  WaitResult<T> result() const {
    std::vector<detail::FutureStateBase*> states;
    states.reserve(futures_.size());
    for (const auto& f : futures_) states.push_back(f.raw_state());
    detail::block_until_condition(states, when_, deadline_);
    WaitResult<T> out;
    for (const auto& f : futures_) (f.done() ? out.done : out.pending).push_back(f);
    return out;
  }

 private:
  std::vector<Future<T>> futures_;
  ReturnWhen when_;
  Clock::time_point deadline_;
};

/// asyncio.wait: waits until `return_when` holds for `futures` — FIRST_COMPLETED,
/// FIRST_EXCEPTION (a failure, not a cancellation; or all done) or ALL_COMPLETED —
/// and gives {done, pending}. Cancels nothing, neither on cancellation of the
/// waiting task nor at the timeout. An empty list gives {{}, {}} at once.
/// co_await throws CancelledError if the waiting task is cancelled; wait() throws
/// InvalidStateError for an empty Future.
template <class T>
WaitOp<T> wait(std::vector<Future<T>> futures, ReturnWhen return_when = ALL_COMPLETED) {
  return WaitOp<T>(std::move(futures), return_when, std::chrono::steady_clock::time_point::max());
}
/// As above, returning when `timeout` (counted from this call) passes, if sooner:
/// then `pending` is not empty. A timeout is not an error here.
template <class T, class Rep, class Period>
WaitOp<T> wait(std::vector<Future<T>> futures, ReturnWhen return_when,
               std::chrono::duration<Rep, Period> timeout) {
  return WaitOp<T>(std::move(futures), return_when, Timeout::deadline_after(timeout));
}
/// wait(futures, ALL_COMPLETED, timeout).
template <class T, class Rep, class Period>
WaitOp<T> wait(std::vector<Future<T>> futures, std::chrono::duration<Rep, Period> timeout) {
  return wait(std::move(futures), ALL_COMPLETED, timeout);
}

// ---- as_completed -----------------------------------------------------------

/// asyncio.as_completed: hands the futures back in the order they complete:
///
///     auto ac = lanes::as_completed(futures);
///     while (ac.has_next()) {
///       lanes::Future<int> f = co_await ac.next();  // done
///       use(co_await f);                             // its value (or error)
///     }
///
/// Futures done already come first, in list order. Throws InvalidStateError for an
/// empty Future.
template <class T>
AsCompletedStream<T> as_completed(std::vector<Future<T>> futures) {
  return AsCompletedStream<T>(std::move(futures), std::chrono::steady_clock::time_point::max());
}
/// As above with a deadline (counted from this call) for the whole sequence:
/// co_await next() throws TimeoutError once it has passed and no completed future
/// is left to hand back. The futures are not cancelled.
template <class T, class Rep, class Period>
AsCompletedStream<T> as_completed(std::vector<Future<T>> futures, std::chrono::duration<Rep, Period> timeout) {
  return AsCompletedStream<T>(std::move(futures), Timeout::deadline_after(timeout));
}

// ---- deadlines ----------------------------------------------------------------

/// asyncio.wait_for: awaits `task` (run inline, in the awaiting task) with a
/// timeout counted from when the result is awaited. At the timeout the inner work
/// is cancelled and awaited to its end — its cleanup has run when the error
/// arrives — then TimeoutError is thrown. Like Python 3.11/3.12: if the inner work
/// swallows the cancellation and returns a value, that value is returned; if it
/// ends with another error, that error is thrown. A cancellation of the awaiting
/// task cancels the inner work too and throws CancelledError (never TimeoutError).
template <class T, class Rep, class Period>
Task<T> wait_for(Task<T> task, std::chrono::duration<Rep, Period> timeout) {
  return detail::await_until<T>(std::move(task), true, Timeout::clamp(timeout), {});
}
/// wait_for on a future: at the timeout the future is cancelled (a task gets
/// CancelledError and ends; see each executor for its jobs) and awaited, then
/// TimeoutError is thrown. Use wait_for(shield(f), t) to keep `f` running.
template <class T, class Rep, class Period>
Task<T> wait_for(Future<T> future, std::chrono::duration<Rep, Period> timeout) {
  return detail::await_until<T>(std::move(future), true, Timeout::clamp(timeout), {});
}

/// wait_for on a single leaf awaiter — `co_await lanes::wait_for(lanes::sleep(1h), 1s)`,
/// `co_await lanes::wait_for(event.wait(), 1s)`, `lock.acquire()`, ... — with the same
/// semantics. The result refers to a leaf that cannot move: co_await it in the same
/// expression. Throws TimeoutError, CancelledError, and what the leaf throws.
template <class A, class Rep, class Period>
  requires(!detail::FutureOrTask<A> && detail::LeafAwaiter<std::remove_reference_t<A>>)
detail::DeadlineAwaiter<A> wait_for(A&& awaiter, std::chrono::duration<Rep, Period> timeout) {
  return detail::DeadlineAwaiter<A>(std::forward<A>(awaiter), true, Timeout::clamp(timeout), {});
}

/// asyncio.timeout(delay) as an expression: awaits `work` — a Task<T>, a Future<T>,
/// a callable returning a Task<T> (called inside, so a lambda's captures live as
/// long as the wait), or a leaf awaiter as wait_for takes — under a deadline
/// `delay` after the await starts:
///
///     int n = co_await lanes::timeout(100ms, [&]() -> lanes::Task<int> {
///       co_await step1();
///       co_return co_await step2();
///     });
///
/// Throws TimeoutError at the deadline, as wait_for does (for a Task, a Future or a
/// leaf the two are the same). For a scope object, see lanes::Timeout.
template <class Rep, class Period, class Work>
auto timeout(std::chrono::duration<Rep, Period> delay, Work&& work) {
  if constexpr (detail::LeafAwaiter<std::remove_reference_t<Work>> && !detail::FutureOrTask<Work>) {
    return detail::DeadlineAwaiter<Work>(std::forward<Work>(work), true, Timeout::clamp(delay), {});
  } else {
    using Plain = std::remove_cvref_t<Work>;
    using T = typename detail::DeadlineResult<Plain>::type;
    return detail::await_until<T>(Plain(std::forward<Work>(work)), true, Timeout::clamp(delay), {});
  }
}
/// asyncio.timeout_at(when): as timeout(), with an absolute deadline on the loop's
/// clock (std::chrono::steady_clock).
template <class Work>
auto timeout_at(std::chrono::steady_clock::time_point when, Work&& work) {
  if constexpr (detail::LeafAwaiter<std::remove_reference_t<Work>> && !detail::FutureOrTask<Work>) {
    return detail::DeadlineAwaiter<Work>(std::forward<Work>(work), false, {}, when);
  } else {
    using Plain = std::remove_cvref_t<Work>;
    using T = typename detail::DeadlineResult<Plain>::type;
    return detail::await_until<T>(Plain(std::forward<Work>(work)), false, {}, when);
  }
}

// ---- shield -----------------------------------------------------------------

/// asyncio.shield: awaits `future` without exposing it to the awaiting task's
/// cancellation. If the awaiting task is cancelled, the await throws
/// CancelledError at once while the future goes on; its result stays observable
/// through other handles to it. Awaiting throws what the future ends with.
template <class T>
Task<T> shield(Future<T> future) {
  if (!future.valid()) throw InvalidStateError("shield: the Future is empty");
  return detail::shield_future(std::move(future));
}
/// shield of a Task: schedules it now with create_task (so it runs even if the
/// shield is never awaited), then shields its future. Throws RuntimeError if no
/// loop runs on this thread.
template <class T>
Task<T> shield(Task<T> task) {
  return detail::shield_future(create_task(std::move(task)));
}

}  // namespace lanes
