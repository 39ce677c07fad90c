// lanes/detail/threads/thread_pool_job.hpp — a thread-pool job: the callable and its Future's state
// in one allocation.
//
// The scheduler sees a ThreadPoolJob (run it, or drop it unrun); the user's Future sees a
// FutureState<R>. The state's cancel() carries the thread pool's rules, which are
// Python's plus cooperative stops:
//   - a job that has not started is cancelled outright and never runs;
//   - a running job whose callable takes a std::stop_token gets a stop request,
//     and its future will end cancelled when the callable returns;
//   - a running job without a stop_token cannot be stopped: cancel() is false.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <exception>
#include <functional>
#include <memory>
#include <optional>
#include <stop_token>
#include <tuple>
#include <type_traits>
#include <utility>

#include "lanes/detail/core/frame_allocator.hpp"
#include "lanes/detail/core/future_state.hpp"
#include "lanes/detail/core/task_state.hpp"

namespace lanes {
template <class T>
class Task;
}  // namespace lanes

namespace lanes::detail {

template <class T>
inline constexpr bool is_lanes_task = false;
template <class T>
inline constexpr bool is_lanes_task<Task<T>> = true;

/// The compile-time refusal of a coroutine function given to a thread pool: its
/// Task would only be created on a worker thread, never run there. Instantiating
/// CheckPoolResult<R>::ok asserts R is not a Task.
template <class R>
struct CheckPoolResult {
  static_assert(!is_lanes_task<std::remove_cvref_t<R>>,
                "ThreadPoolExecutor: this callable is a coroutine function (it returns "
                "lanes::Task); a worker thread would create the task, never run it. Run it on "
                "an event loop instead: co_await it or create_task() on the loop, or "
                "lanes::run_coroutine_threadsafe(task, loop) from another thread");
  static constexpr bool ok = true;
};

/// A job as the scheduler sees it. It holds one reference to its own future state
/// (the queue's), dropped by run() or drop_unrun().
class ThreadPoolJob {
 public:
  /// Runs the job, unless its future was cancelled while it waited, and then lets
  /// go of the queue's reference (which may free the job).
  virtual void run() noexcept = 0;
  /// Ends the job without running it: cancelled if `error` is null, else failed
  /// with `error`; then lets go of the queue's reference.
  virtual void drop_unrun(std::exception_ptr error) noexcept = 0;

  /// Link in the pool's injection stack (guarded by that stack's protocol).
  ThreadPoolJob* next_injected = nullptr;

 protected:
  ThreadPoolJob() = default;
  ~ThreadPoolJob() = default;
};

/// f(args...) with decay-copied arguments, invoked once as rvalues (std::thread's
/// rule). If f can take a std::stop_token first (std::jthread's rule), it gets one.
template <class F, class... Args>
class BoundCall {
 public:
  static constexpr bool kTakesStopToken = std::is_invocable_v<F, std::stop_token, Args...>;
  using RawResult = typename std::conditional_t<kTakesStopToken,
                                       std::invoke_result<F, std::stop_token, Args...>,
                                                std::invoke_result<F, Args...>>::type;
  /// What the Future holds: references and cv-qualifiers are dropped (a copy).
  using Result = std::remove_cvref_t<RawResult>;
  static_assert(CheckPoolResult<Result>::ok);

  template <class G, class... A>
  explicit BoundCall(G&& fn, A&&... args)
      : fn_(std::forward<G>(fn)), args_(std::forward<A>(args)...) {}

  decltype(auto) operator()([[maybe_unused]] std::stop_token token) {
    return std::apply(
        [&](auto&... args) -> decltype(auto) {
          if constexpr (kTakesStopToken) {
            return std::invoke(std::move(fn_), std::move(token), std::move(args)...);
          } else {
            return std::invoke(std::move(fn_), std::move(args)...);
          }
        },
        args_);
  }

 private:
  F fn_;
  std::tuple<Args...> args_;
};

template <class F, class... Args>
using BoundCallFor = BoundCall<std::decay_t<F>, std::decay_t<Args>...>;

/// The result type of submit(f, args...).
template <class F, class... Args>
using pool_result_t = typename BoundCallFor<F, Args...>::Result;

/// The stop channel of a job whose callable takes a std::stop_token.
struct JobStop {
  static constexpr std::uint8_t kActive = 0;
  static constexpr std::uint8_t kStopRequested = 1;
  static constexpr std::uint8_t kCompleting = 2;
  std::stop_source source;
  // Invariant: meaningful once the job runs. kActive → kStopRequested (cancel won:
  // the future ends cancelled) or kActive → kCompleting (the job's outcome won);
  // exactly one CAS leaves kActive, so cancel()'s answer and the outcome agree.
  std::atomic<std::uint8_t> phase{kActive};
};
struct NoJobStop {};

template <class Call>
class ThreadPoolFutureState final : public FutureState<typename Call::Result>, public ThreadPoolJob {
  using R = typename Call::Result;
  static constexpr bool kStoppable = Call::kTakesStopToken;

 public:
  ~ThreadPoolFutureState() override {}  // call_ was destroyed by run() or drop_unrun()

  template <class... A>
  explicit ThreadPoolFutureState(A&&... a) {
    std::construct_at(&call_, std::forward<A>(a)...);
    this->init_refs(2);  // the queue's (dropped by run or drop_unrun) and the Future's
    this->init_exclusive_completion();  // run() completes it with complete_exclusive
  }

  // From the per-thread block cache that coroutine frames use (the job and its
  // future's state are one block of a fixed size, made and freed in bursts): a
  // million tiny jobs spent about a quarter of their time in malloc and free, and
  // in the page faults of glibc's arena growing and trimmed again between bursts.
  // destroy() deletes through the virtual destructor, so this class's operator
  // delete is the one used, with the size of this class.
  static void* operator new(std::size_t size) { return frame_allocate(size, BlockKind::state); }
  static void operator delete(void* p, std::size_t size) noexcept {
    frame_deallocate(p, size, BlockKind::state);
  }

  /// See the header comment: outright before start, a stop request while running
  /// (stop_token callables only), false once done.
  bool cancel() noexcept override {
    if (FutureStateBase::cancel()) return true;  // had not started: it never will
    if constexpr (kStoppable) {
      // Not pending any more: running, or done (a cancelled-before-start future
      // never ran, so its phase is still kActive: done() must be asked first).
      if (this->done()) return false;
      std::uint8_t phase = JobStop::kActive;
      if (!stop_.phase.compare_exchange_strong(phase, JobStop::kStopRequested,
                                               std::memory_order_acq_rel)) {
        return phase == JobStop::kStopRequested;  // asked before: still true
      }
      stop_.source.request_stop();
      return true;
    } else {
      return false;
    }
  }

  // Once set_running() succeeded this thread is the state's only completer
  // (cancel() completes pending states only), hence complete_exclusive below.
  void run() noexcept override {
    if (!this->set_running()) {  // cancelled while it waited in a queue
      destroy_call();
      this->release();
      return;
    }
    std::stop_token token;
    if constexpr (kStoppable) token = stop_.source.get_token();
    // The callable (and what it captured) is destroyed before the outcome is
    // published: whoever sees the future done may rely on that.
    try {
      if constexpr (std::is_void_v<R>) {
        call_(std::move(token));
        destroy_call();
        finish([this] {
          this->complete_exclusive(FutureStatus::finished, [this] { this->value_.emplace(); });
        });
      } else {
        R value = call_(std::move(token));
        destroy_call();
        finish([&] {
          this->complete_exclusive(FutureStatus::finished,
                                   [&] { this->value_.emplace(std::move(value)); });
        });
      }
    } catch (...) {
      destroy_call();
      fail(std::current_exception());
    }
    this->release();
  }

  void drop_unrun(std::exception_ptr error) noexcept override {
    destroy_call();
    if (error) {
      this->set_exception(std::move(error));
    } else {
      FutureStateBase::cancel();
    }
    this->release();
  }

 private:
  template <class SetValue>
  void finish(SetValue&& set_value) noexcept {
    if constexpr (kStoppable) {
      std::uint8_t phase = JobStop::kActive;
      if (!stop_.phase.compare_exchange_strong(phase, JobStop::kCompleting,
                                               std::memory_order_acq_rel)) {
        // cancel() won: the value is discarded, as cancel() promised.
        this->complete_exclusive(FutureStatus::cancelled, [] {});
        return;
      }
    }
    set_value();
  }

  void fail(std::exception_ptr error) noexcept {
    // A CancelledError escaping the callable ends the job cancelled, as it ends a
    // task; any other error is kept, even after a stop request (never lost).
    if (is_cancelled_error(error)) {
      this->complete_exclusive(FutureStatus::cancelled, [] {});
    } else {
      this->complete_exclusive(FutureStatus::finished, [&] { this->error_ = std::move(error); });
    }
  }

  // The callable lives from the constructor until run() or drop_unrun() destroys it
  // (one of them always ends a job: the queue's reference is dropped only there, and a
  // refused submit calls drop_unrun), so no engaged flag is kept: a tiny job's block
  // is 16 bytes smaller (a million jobs are 16 MB less to stream through the caches).
  void destroy_call() noexcept { std::destroy_at(&call_); }
  union {
    Call call_;
  };
  [[no_unique_address]] std::conditional_t<kStoppable, JobStop, NoJobStop> stop_;
};

}  // namespace lanes::detail
