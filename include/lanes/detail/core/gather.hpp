// lanes/detail/core/gather.hpp — the typed halves of gather and gather_settled, and the
// helpers the public combinators share (what a Task or a Future gives when awaited,
// turning Tasks into scheduled futures).
#pragma once

#include <cstddef>
#include <exception>
#include <ranges>
#include <tuple>
#include <type_traits>
#include <utility>
#include <vector>

#include "lanes/detail/core/multi_wait.hpp"
#include "lanes/outcome.hpp"
#include "lanes/detail/core/shield.hpp"
#include "lanes/errors.hpp"
#include "lanes/future.hpp"
#include "lanes/loop.hpp"
#include "lanes/return_when.hpp"
#include "lanes/task.hpp"

namespace lanes {
namespace detail {

template <class A>
struct AwaitedOf {};
template <class T>
struct AwaitedOf<Task<T>> {
  using type = T;
};
template <class T>
struct AwaitedOf<Future<T>> {
  using type = T;
};
template <class A>
using awaited_t = typename AwaitedOf<std::remove_cvref_t<A>>::type;

/// A Task<T> or a Future<T>: what gather, gather_settled and shield accept.
template <class A>
concept FutureOrTask = requires { typename awaited_t<A>; };

/// A Task becomes a scheduled task; a Future is shared. Tasks must be rvalues.
template <class A>
Future<awaited_t<A>> to_future(A&& a) {
  using Plain = std::remove_cvref_t<A>;
  if constexpr (std::is_same_v<Plain, Task<awaited_t<A>>>) {
    static_assert(!std::is_lvalue_reference_v<A>, "pass a Task as an rvalue: std::move(task)");
    return create_task(std::move(a));
  } else {
    if (!a.valid()) throw InvalidStateError("a Future given to a combinator is empty");
    return a;
  }
}

template <class R>
auto futures_of(R&& range) {
  using T = awaited_t<std::ranges::range_value_t<R>>;
  std::vector<Future<T>> out;
  if constexpr (std::is_same_v<R, std::vector<Future<T>>>) {
    out = std::move(range);  // an rvalue vector of futures: taken as is
    for (const auto& f : out)
      if (!f.valid()) throw InvalidStateError("a Future given to a combinator is empty");
  } else {
    if constexpr (std::ranges::sized_range<R>) out.reserve(std::ranges::size(range));
    for (auto&& a : range) {
      if constexpr (std::is_same_v<std::remove_cvref_t<decltype(a)>, Task<T>>) {
        out.push_back(create_task(std::move(a)));  // a Task is handed over
      } else {
        out.push_back(to_future(a));  // a Future is shared, the range keeps its own
      }
    }
  }
  return out;
}

template <class... Fs>
MultiWait* block_of(WakeWhen when, const Fs&... fs) {
  MultiWait* block = MultiWait::create(sizeof...(Fs), when);
  std::size_t i = 0;
  (block->set_state(i++, fs.raw_state()), ...);
  return block;
}
template <class T>
MultiWait* block_of(WakeWhen when, const std::vector<Future<T>>& fs) {
  MultiWait* block = MultiWait::create(fs.size(), when);
  for (std::size_t i = 0; i < fs.size(); ++i) block->set_state(i, fs[i].raw_state());
  return block;
}

template <class T>
Outcome<T> outcome_of(FutureState<T>& s) {
  if (s.cancelled())
    return Outcome<T>::from_error(std::make_exception_ptr(CancelledError("the child was cancelled")));
  if (s.has_error()) return Outcome<T>::from_error(s.take_error());
  return Outcome<T>::from_value(s.get());
}

template <class... Ts>
Task<std::tuple<StoredType<Ts>...>> gather_tuple(Future<Ts>... fs) {
  MultiWaitAwaiter waiter(block_of(WakeWhen::first_failure, fs...), MultiWaitAwaiter::OnCancel::forward);
  co_await waiter;
  if (const std::size_t failed = waiter.block().first_failure(); failed != MultiWait::npos) {
    std::size_t i = 0;
    ((i++ == failed ? (void)fs.raw_state()->get() : void()), ...);  // rethrows that error
  }
  co_return std::tuple<StoredType<Ts>...>{fs.raw_state()->get()...};
}

template <class... Ts>
Task<std::tuple<Outcome<Ts>...>> gather_settled_tuple(Future<Ts>... fs) {
  MultiWaitAwaiter waiter(block_of(WakeWhen::all_done, fs...), MultiWaitAwaiter::OnCancel::forward);
  co_await waiter;
  co_return std::tuple<Outcome<Ts>...>{outcome_of(*fs.raw_state())...};
}

template <class T>
Task<std::vector<StoredType<T>>> gather_vector(std::vector<Future<T>> fs) {
  MultiWaitAwaiter waiter(block_of(WakeWhen::first_failure, fs), MultiWaitAwaiter::OnCancel::forward);
  co_await waiter;
  if (const std::size_t failed = waiter.block().first_failure(); failed != MultiWait::npos)
    (void)fs[failed].raw_state()->get();  // rethrows that error
  std::vector<StoredType<T>> out;
  out.reserve(fs.size());
  for (auto& f : fs) out.push_back(f.raw_state()->get());
  co_return out;
}

template <class T>
Task<std::vector<Outcome<T>>> gather_settled_vector(std::vector<Future<T>> fs) {
  MultiWaitAwaiter waiter(block_of(WakeWhen::all_done, fs), MultiWaitAwaiter::OnCancel::forward);
  co_await waiter;
  std::vector<Outcome<T>> out;
  out.reserve(fs.size());
  for (auto& f : fs) out.push_back(outcome_of(*f.raw_state()));
  co_return out;
}

template <class T>
Task<T> shield_future(Future<T> future) {
  if constexpr (std::is_void_v<T>) {
    co_await ShieldAwaiter<T>(std::move(future));
  } else {
    co_return co_await ShieldAwaiter<T>(std::move(future));
  }
}

/// What awaiting a timeout()/wait_for() source gives: T of a Task<T> or Future<T>,
/// or of the Task<T> a callable returns.
template <class S>
struct DeadlineResult {
  using type = typename AwaitedOf<std::invoke_result_t<S&>>::type;
};
template <class S>
  requires FutureOrTask<S>
struct DeadlineResult<S> {
  using type = awaited_t<S>;
};

inline WakeWhen wake_when(ReturnWhen when) noexcept {
  switch (when) {
    case ReturnWhen::FIRST_COMPLETED:
      return WakeWhen::first_done;
    case ReturnWhen::FIRST_EXCEPTION:
      return WakeWhen::first_exception;
    case ReturnWhen::ALL_COMPLETED:
      break;
  }
  return WakeWhen::all_done;
}

}  // namespace detail
}  // namespace lanes
