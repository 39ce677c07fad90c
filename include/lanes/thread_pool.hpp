// lanes/thread_pool.hpp — ThreadPoolExecutor (concurrent.futures.ThreadPoolExecutor).
// Including it also brings the bridges to the event loop (to_thread.hpp).
//
// A pool of worker threads that run callables and hand back lanes::Future<R>: the
// same Future a task gives, so a loop awaits it (co_await fut) and a plain thread
// blocks on it (fut.result()). The workers steal work from each other (see
// detail/threads/thread_pool_core.hpp); a worker that waits for a future in result() runs other
// jobs meanwhile, so recursive fork-join (a job that submits and waits for its
// children) never deadlocks, even with one worker.
//
// Cancellation (Future::cancel() on a future from submit):
//   - a job that has not started is cancelled at once and never runs: true;
//   - a running job whose callable takes a std::stop_token (as its first
//     parameter, std::jthread's rule) gets token.stop_requested() == true, and
//     cancel() returns true. When the callable returns, its value is discarded
//     and the future ends cancelled (result() throws CancelledError). If instead
//     it throws an error other than CancelledError, that error is kept: errors
//     are never lost;
//   - a running job without a stop_token cannot be stopped: false (Python);
//   - a done future: false.
// A callable that throws lanes::CancelledError ends its future cancelled.
#pragma once

#include <algorithm>
#include <chrono>
#include <cstddef>
#include <exception>
#include <functional>
#include <memory>
#include <optional>
#include <ranges>
#include <stop_token>
#include <string>
#include <thread>
#include <type_traits>
#include <utility>
#include <vector>

#include "lanes/detail/threads/thread_pool_core.hpp"
#include "lanes/detail/threads/thread_pool_job.hpp"
#include "lanes/errors.hpp"
#include "lanes/future.hpp"
#include "lanes/map_results.hpp"

namespace lanes {

/// How to build a ThreadPoolExecutor (Python's constructor arguments).
struct ThreadPoolOptions {
  /// How many worker threads; unset means Python's default, min(32, cores + 4)
  /// (ThreadPoolExecutor::default_workers()).
  std::optional<std::size_t> max_workers;
  /// Run once by each worker before its first job. If it throws, the pool is
  /// broken: queued jobs fail and submit() throws BrokenThreadPool.
  std::function<void()> initializer;
  /// Workers are named "<prefix>_<n>" (cut to 15 characters, Linux's limit);
  /// empty means "lanes-pool".
  std::string thread_name_prefix;
};

namespace detail {
/// The state of one map() call: the callable, the inputs, the results.
template <class Fn, class In, class T>
struct MapState : MapOutputs<T> {
  template <class G>
  MapState(G&& g, std::vector<In> in) : fn(std::forward<G>(g)), inputs(std::move(in)) {
    this->outputs.resize(inputs.size());
    this->errors.resize(inputs.size());
    this->per_item = true;  // Python's thread pool: every item fails on its own
  }
  Fn fn;
  std::vector<In> inputs;
};

template <class Fn, class In, class T>
void map_one(MapState<Fn, In, T>& s, std::size_t i, [[maybe_unused]] const std::stop_token& token) {
  // The callable is shared by every job: it is called as const (thread safety).
  const Fn& fn = s.fn;
  auto call = [&]() -> decltype(auto) {
    if constexpr (std::is_invocable_v<const Fn&, std::stop_token, In&&>) {
      return std::invoke(fn, token, std::move(s.inputs[i]));
    } else {
      return std::invoke(fn, std::move(s.inputs[i]));
    }
  };
  try {
    if constexpr (std::is_same_v<T, Unit>) {
      call();
      s.outputs[i].emplace();
    } else {
      s.outputs[i].emplace(call());
    }
  } catch (...) {
    s.errors[i] = std::current_exception();  // rethrown at item i; the chunk goes on
  }
}

/// One job of map(): inputs [begin, end). Takes a stop_token only if the user's
/// callable does, so plain callables pay for no stop channel.
template <class Fn, class In, class T, bool Stoppable>
struct MapChunk {
  std::shared_ptr<MapState<Fn, In, T>> state;
  std::size_t begin, end;
  void operator()() const {
    for (std::size_t i = begin; i < end; ++i) map_one(*state, i, std::stop_token{});
  }
};
template <class Fn, class In, class T>
struct MapChunk<Fn, In, T, true> {
  std::shared_ptr<MapState<Fn, In, T>> state;
  std::size_t begin, end;
  void operator()(std::stop_token token) const {
    for (std::size_t i = begin; i < end && !token.stop_requested(); ++i) map_one(*state, i, token);
  }
};
}  // namespace detail

class ThreadPoolExecutor {
 public:
  /// default_workers() workers. Throws std::system_error if a thread cannot start.
  ThreadPoolExecutor() : ThreadPoolExecutor(ThreadPoolOptions{}) {}
  /// `max_workers` workers. Throws ValueError if it is 0, std::system_error if a
  /// thread cannot start.
  explicit ThreadPoolExecutor(std::size_t max_workers)
      : ThreadPoolExecutor(ThreadPoolOptions{max_workers, {}, {}}) {}
  /// Throws ValueError if options.max_workers is 0, std::system_error if a thread
  /// cannot start.
  explicit ThreadPoolExecutor(ThreadPoolOptions options) : core_(make_core(std::move(options))) {}
  ThreadPoolExecutor(const ThreadPoolExecutor&) = delete;
  ThreadPoolExecutor& operator=(const ThreadPoolExecutor&) = delete;
  /// shutdown(wait=true): queued jobs still run, then the workers are joined.
  /// Destroying a pool from one of its own jobs aborts the program.
  ~ThreadPoolExecutor() = default;

  /// Schedules f(args...) — arguments decay-copied, as std::thread does; f gets a
  /// std::stop_token first if it can take one — and returns its Future. A
  /// coroutine function (one returning lanes::Task) is a compile error: run it on
  /// an event loop (run_coroutine_threadsafe from another thread). Throws
  /// RuntimeError after shutdown(), BrokenThreadPool if an initializer failed.
  template <class F, class... Args>
  Future<detail::pool_result_t<F, Args...>> submit(F&& f, Args&&... args) {
    using Call = detail::BoundCallFor<F, Args...>;
    using R = typename Call::Result;
    // Born with two references: the queue's and the returned handle's.
    auto* job = new detail::ThreadPoolFutureState<Call>(std::forward<F>(f), std::forward<Args>(args)...);
    Future<R> future(static_cast<detail::FutureState<R>*>(job));
    admit(job);
    return future;
  }

  /// Calls fn(x) for every x of `inputs` in the pool and returns the results in
  /// input order (Python's Executor.map). All calls are submitted at once,
  /// `chunksize` inputs per job. The chunk size changes only the grouping, never
  /// the results: as in Python's thread pool (which ignores it), a call that
  /// throws rethrows at its own item, after every result before it has been
  /// delivered, and the calls after it still run (unlike the process pool, where
  /// a failed call fails its whole chunk). With a timeout, iterating throws
  /// TimeoutError once that much time has passed since this call. fn is called as const from
  /// several threads at once; it gets a std::stop_token first if it can take one
  /// (destroying the results early requests a stop). Throws ValueError if
  /// chunksize is 0, and what submit() throws.
  template <class F, std::ranges::input_range Range>
  auto map(F&& fn, Range&& inputs, std::optional<std::chrono::nanoseconds> timeout = std::nullopt,
           std::size_t chunksize = 1) {
    using Fn = std::decay_t<F>;
    using In = std::ranges::range_value_t<Range>;
    constexpr bool kStoppable = std::is_invocable_v<const Fn&, std::stop_token, In&&>;
    using Raw = typename std::conditional_t<kStoppable,
                                            std::invoke_result<const Fn&, std::stop_token, In&&>,
                                            std::invoke_result<const Fn&, In&&>>::type;
    static_assert(detail::CheckPoolResult<Raw>::ok);
    using T = detail::StoredType<std::remove_cvref_t<Raw>>;
    if (chunksize == 0) throw ValueError("ThreadPoolExecutor::map: chunksize must be at least 1");
    std::optional<std::chrono::steady_clock::time_point> deadline;
    if (timeout) deadline = std::chrono::steady_clock::now() + *timeout;

    std::vector<In> items;
    if constexpr (std::ranges::sized_range<Range>) items.reserve(std::ranges::size(inputs));
    for (auto&& x : inputs) items.emplace_back(std::forward<decltype(x)>(x));
    const std::size_t n = items.size();
    auto state =
        std::make_shared<detail::MapState<Fn, In, T>>(std::forward<F>(fn), std::move(items));
    std::vector<Future<void>> chunks;
    chunks.reserve((n + chunksize - 1) / chunksize);
    try {
      for (std::size_t begin = 0; begin < n; begin += chunksize) {
        const std::size_t end = std::min(n, begin + chunksize);
        chunks.push_back(submit(detail::MapChunk<Fn, In, T, kStoppable>{state, begin, end}));
      }
    } catch (...) {
      for (auto& chunk : chunks) chunk.cancel();  // all or nothing, as far as possible
      throw;
    }
    return MapResults<T>(std::move(state), std::move(chunks), chunksize, deadline);
  }

  /// Refuses new jobs from now on (submit throws RuntimeError). With
  /// cancel_futures, every job not yet started is cancelled before this returns
  /// (a job pushed concurrently by a running job is cancelled by its worker).
  /// With wait, returns once every worker has finished. Idempotent. Throws
  /// RuntimeError if wait is true and it is called from one of the pool's jobs.
  void shutdown(bool wait = true, bool cancel_futures = false) {
    core_->shutdown(wait, cancel_futures);
  }

  /// The number of worker threads.
  std::size_t max_workers() const noexcept { return core_->worker_count(); }

  /// The size of a pool made without one: min(32, cores + 4), Python's default
  /// since 3.8 (I/O-bound jobs gain from a few threads more than cores; 32 caps
  /// it on big machines). Cores is hardware_concurrency(), 1 if unknown.
  static std::size_t default_workers() noexcept {
    const std::size_t cores = std::max(1u, std::thread::hardware_concurrency());
    return std::min<std::size_t>(32, cores + 4);
  }

 private:
  static std::unique_ptr<detail::ThreadPoolCore> make_core(ThreadPoolOptions options) {
    const std::size_t n = options.max_workers.value_or(default_workers());
    if (n == 0) throw ValueError("ThreadPoolExecutor: max_workers must be greater than 0");
    if (options.thread_name_prefix.empty()) options.thread_name_prefix = "lanes-pool";
    return std::make_unique<detail::ThreadPoolCore>(detail::ThreadPoolCore::Config{
        n, std::move(options.initializer), std::move(options.thread_name_prefix)});
  }

  void admit(detail::ThreadPoolJob* job) {
    detail::ThreadPoolCore::Admission verdict;
    try {
      verdict = core_->submit(job);
    } catch (...) {
      job->drop_unrun(nullptr);  // the queue never took it: end it, drop its reference
      throw;
    }
    if (verdict == detail::ThreadPoolCore::Admission::accepted) return;
    job->drop_unrun(nullptr);
    if (verdict == detail::ThreadPoolCore::Admission::broken) throw BrokenThreadPool(core_->broken_reason());
    throw RuntimeError("ThreadPoolExecutor::submit: cannot schedule new futures after shutdown");
  }

  std::unique_ptr<detail::ThreadPoolCore> core_;
};

}  // namespace lanes

// The bridges to the event loop (to_thread, run_coroutine_threadsafe) come with the pool.
#include "lanes/to_thread.hpp"
