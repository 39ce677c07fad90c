// lanes/timeout.hpp — lanes::Timeout, the scope behind asyncio.timeout()
// and wait_for (Python 3.11+ semantics), and the coroutine that applies it.
//
// A deadline is a cancellation: when it passes, the task running the scope is
// cancelled, so whatever it awaits is cancelled and cleans up through the ordinary
// CancelledError path (for an awaited task: the task runs its cleanup and ends
// before the scope sees the error). Leaving the scope, a CancelledError that this
// deadline caused — and no other cancellation — becomes TimeoutError. The task's
// cancel count (TaskCoreBase::cancelling/uncancel) tells our cancellation from one
// that came from outside, so an outside cancel always wins.
#pragma once

#include <chrono>
#include <concepts>
#include <coroutine>
#include <optional>
#include <cstdint>
#include <type_traits>
#include <utility>

#include "lanes/detail/core/task_core.hpp"
#include "lanes/detail/core/timer_heap.hpp"
#include "lanes/errors.hpp"
#include "lanes/future.hpp"
#include "lanes/task.hpp"

namespace lanes {

/// A deadline for the current task (asyncio.Timeout). Create it inside a lanes task;
/// at the deadline it cancels that task. Catch CancelledError around the guarded
/// code and call check() in the handler, which turns this deadline's cancellation
/// into TimeoutError:
///
///     lanes::Timeout scope(100ms);
///     try {
///       co_await slow();
///     } catch (const lanes::CancelledError&) {
///       scope.check();  // throws TimeoutError if the deadline caused it
///       throw;          // a cancellation from outside goes on
///     }
///
/// lanes::timeout(d, work) and wait_for(work, d) do exactly this for you. Neither
/// copyable nor movable: it lives where it was made (its timer points to it).
class Timeout {
 public:
  using Clock = std::chrono::steady_clock;

  /// Arms a deadline `delay` from now (a delay <= 0 cancels at the next loop
  /// iteration). Throws RuntimeError if not called inside a lanes task.
  template <class Rep, class Period>
  explicit Timeout(std::chrono::duration<Rep, Period> delay) : Timeout(deadline_after(delay)) {}
  /// Arms a deadline at `when` (Clock::time_point::max(): none). Throws
  /// RuntimeError if not called inside a lanes task.
  explicit Timeout(Clock::time_point when);
  /// Disarms; if the deadline fired but the guarded code ended without
  /// CancelledError (it swallowed it, or the inner result came first), the
  /// cancellation request is taken back, as Python does.
  ~Timeout();
  Timeout(const Timeout&) = delete;
  Timeout& operator=(const Timeout&) = delete;

  /// The deadline, or Clock::time_point::max() if there is none.
  Clock::time_point when() const noexcept { return when_; }
  /// Moves the deadline (max(): no deadline). Throws RuntimeError once the
  /// deadline has fired.
  void reschedule(Clock::time_point when);
  /// True once the deadline has passed and the task was cancelled for it.
  bool expired() const noexcept { return state_ != State::armed; }

  /// Call in a `catch (const CancelledError&)` handler: throws TimeoutError if this
  /// deadline caused the cancellation and no other cancellation is pending;
  /// otherwise returns, and the handler should rethrow.
  void check();

  /// d as a Clock::duration, saturated at zero and at Clock::duration::max(). Never throws.
  template <class Rep, class Period>
  static Clock::duration clamp(std::chrono::duration<Rep, Period> d) noexcept {
    if (d <= d.zero()) return Clock::duration::zero();
    if (std::chrono::duration<double>(d) >= std::chrono::duration<double>(Clock::duration::max()))
      return Clock::duration::max();
    return std::chrono::duration_cast<Clock::duration>(d);
  }
  /// now + d, saturated: a huge duration means no deadline. Never throws.
  template <class Rep, class Period>
  static Clock::time_point deadline_after(std::chrono::duration<Rep, Period> d) noexcept {
    const auto now = Clock::now();
    if (d <= d.zero()) return now;
    if (std::chrono::duration<double>(d) >= std::chrono::duration<double>(Clock::time_point::max() - now))
      return Clock::time_point::max();
    return now + std::chrono::duration_cast<Clock::duration>(d);
  }

 private:
  enum class State : std::uint8_t { armed, expiring, expired };
  struct Alarm : detail::TimerNode {
    Timeout* owner = nullptr;
  };
  static void fire_thunk(detail::TimerNode* node) noexcept;
  void arm();

  Alarm alarm_;
  detail::TaskCoreBase* task_;
  Clock::time_point when_;
  std::uint32_t cancelling_at_entry_;
  State state_ = State::armed;
};

namespace detail {

template <class T>
Task<T>&& awaitable_of(Task<T>& task) noexcept {
  return std::move(task);
}
template <class T>
Future<T>& awaitable_of(Future<T>& future) noexcept {
  return future;
}
template <class F>
  requires std::is_invocable_v<F&>
auto awaitable_of(F& make) {
  return make();
}

/// Awaits `source` (a Task, a Future, or a callable making a Task) inside the
/// running task under a deadline; the deadline's CancelledError becomes TimeoutError.
template <class T, class Source>
Task<T> await_until(Source source, bool relative, Timeout::Clock::duration after,
                    Timeout::Clock::time_point at) {
  Timeout scope(relative ? Timeout::deadline_after(after) : at);
  try {
    if constexpr (std::is_void_v<T>) {
      co_await awaitable_of(source);
    } else {
      co_return co_await awaitable_of(source);
    }
  } catch (const CancelledError&) {
    scope.check();
    throw;
  }
}

/// A single suspension point (sleep, Event::wait, Lock::acquire, ...): an object
/// with await_ready/await_suspend/await_resume.
template <class A>
concept LeafAwaiter = requires(A& a, std::coroutine_handle<> h) {
  { a.await_ready() } -> std::convertible_to<bool>;
  a.await_suspend(h);
  a.await_resume();
};

/// Wraps a leaf awaiter under a deadline without a coroutine frame, so that awaiters
/// which cannot move (most leaves) work too: `co_await wait_for(ev.wait(), 1s)`.
/// A prvalue leaf that cannot move is held by reference: it lives until the end of
/// the full expression, so co_await the result in the same expression.
template <class A>
class [[nodiscard("a lanes awaitable does nothing unless co_awaited")]] DeadlineAwaiter {
  using Plain = std::remove_cvref_t<A>;
  using Held = std::conditional_t<std::is_move_constructible_v<Plain> && !std::is_lvalue_reference_v<A>,
                                  Plain, Plain&>;

 public:
  DeadlineAwaiter(A&& inner, bool relative, Timeout::Clock::duration after,
                  Timeout::Clock::time_point at)
      : inner_(static_cast<std::conditional_t<std::is_reference_v<Held>, Plain&, A&&>>(inner)),
        after_(after), at_(at), relative_(relative) {}
  DeadlineAwaiter(const DeadlineAwaiter&) = delete;
  DeadlineAwaiter& operator=(const DeadlineAwaiter&) = delete;

  bool await_ready() { return inner_.await_ready(); }
  auto await_suspend(std::coroutine_handle<> h) {
    // The deadline counts from the suspension, in the task that awaits.
    scope_.emplace(relative_ ? Timeout::deadline_after(after_) : at_);
    using R = decltype(inner_.await_suspend(h));
    if constexpr (std::is_same_v<R, bool>) {
      const bool suspended = inner_.await_suspend(h);
      if (!suspended) scope_.reset();
      return suspended;
    } else {
      return inner_.await_suspend(h);
    }
  }
  decltype(auto) await_resume() {
    struct Disarm {
      std::optional<Timeout>& scope;
      ~Disarm() { scope.reset(); }
    } disarm{scope_};
    try {
      return inner_.await_resume();
    } catch (const CancelledError&) {
      if (scope_) scope_->check();
      throw;
    }
  }

 private:
  Held inner_;
  std::optional<Timeout> scope_;
  Timeout::Clock::duration after_;
  Timeout::Clock::time_point at_;
  bool relative_;
};

}  // namespace detail
}  // namespace lanes
