// lanes/process_pool.hpp — ProcessPoolExecutor (concurrent.futures.ProcessPoolExecutor):
// run functions in worker processes, for code that is not thread-safe, leaks, crashes,
// or must not share memory.
//
//     int fib(int n) { return n < 2 ? n : fib(n - 1) + fib(n - 2); }
//     LANES_REGISTER(fib);                       // one line: callable in workers
//
//     int main() {
//       lanes::ProcessPoolExecutor pool;         // max_workers = cores
//       lanes::Future<int> f = pool.submit(fib, 30);
//       std::cout << f.result() << "\n";         // or co_await f in a task
//       for (int x : pool.map(fib, std::vector{20, 21, 22})) std::cout << x << "\n";
//     }
//
// How workers start, and the rule it gives you. A worker is a fresh exec of this same
// program (never a fork of this multi-threaded process). lanes' start-up code sees that
// it is a worker and serves calls during static initialisation, before main() — so
// main() never runs in a worker, but the program's static initialisers do, as module
// code does in Python's "spawn" workers. Keep static initialisers free of side effects
// (starting threads, opening files, printing), or guard them with
// lanes::in_worker_process(). Functions are found by their registered name, so only
// functions registered with LANES_REGISTER can run, and arguments and results travel
// through the wire codec (lanes/codec.hpp): they must be Serializable.
//
// Failures (Python breaks the whole pool; lanes fails only the task concerned):
//   - the worker crashes (SIGSEGV, abort(), exit(), SIGKILL from outside, OOM killer):
//     WorkerCrashedError naming the signal or exit status; the worker is replaced. A
//     task whose worker died before it took the task in (an idle worker killed from
//     outside, not yet noticed) never began: it is sent to a new worker instead;
//   - the function throws: RemoteError with the exception's type name and what();
//   - the task runs past its timeout: TimeoutError; its worker is killed and replaced;
//   - Future::cancel() of a running task: the future is cancelled at once, its worker
//     killed and replaced (a queued task is simply dropped);
//   - malformed bytes on a worker's socket: WireFormatError; the worker is replaced.
// Workers die with the pool (PR_SET_PDEATHSIG, and EOF on their socket); shutdown()
// reaps them all and closes every descriptor. Their stdout and stderr are the caller's.
#pragma once

#include <sys/types.h>

#include <algorithm>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <ranges>
#include <string>
#include <thread>
#include <tuple>
#include <type_traits>
#include <utility>
#include <vector>

#include "lanes/codec.hpp"
#include "lanes/detail/process/process_core.hpp"
#include "lanes/detail/process/process_job.hpp"
#include "lanes/detail/process/process_registry.hpp"
#include "lanes/errors.hpp"
#include "lanes/future.hpp"
#include "lanes/map_results.hpp"

namespace lanes {

/// A registered function bound to its arguments, encoded (for an initializer).
struct RemoteCall {
  const detail::RemoteFunction* function = nullptr;
  std::string arguments;  // the encoded argument tuple
};

/// How to build a ProcessPoolExecutor (Python's constructor arguments, and more).
struct ProcessPoolOptions {
  /// How many worker processes at most; unset means std::thread::hardware_concurrency().
  std::optional<std::size_t> max_workers;
  /// A worker is replaced by a fresh one after this many tasks (a map chunk counts as
  /// one per unit); 0 means never (Python's max_tasks_per_child).
  std::size_t max_tasks_per_child = 0;
  /// Runs first in every worker (make it with lanes::remote_call). If it throws or
  /// crashes, the pool is broken: queued tasks fail and submit() throws BrokenProcessPool.
  std::optional<RemoteCall> initializer;
  /// A timeout for every submitted task, counted from when a worker starts it; zero
  /// means none. submit_with_timeout() overrides it for one task.
  std::chrono::nanoseconds task_timeout{0};
};

namespace detail {

/// True for a pointer to a function (what a function's name decays to).
template <class F>
inline constexpr bool is_function_pointer =
    std::is_pointer_v<std::decay_t<F>> && std::is_function_v<std::remove_pointer_t<std::decay_t<F>>>;

/// The compile-time refusal of a lambda or other callable object given to the process
/// pool: a worker finds a function by its registered name, which only a free function
/// has. Instantiating CheckRemoteCallable<F>::ok asserts F is a function pointer.
template <class F>
struct CheckRemoteCallable {
  static_assert(is_function_pointer<F>,
                "ProcessPoolExecutor: a lambda or other callable object cannot run in a worker "
                "process (a worker finds the function by its registered name). Move the body "
                "into a free function at namespace scope and register it with "
                "LANES_REGISTER(function_name)");
  static constexpr bool ok = true;
};

/// The registry entry for `fn`, or UnregisteredFunctionError naming it.
const RemoteFunction& require_registered(AnyFunction fn, const char* caller);
/// Throws WireFormatError if a call frame of `fn` carrying `args_bytes` bytes of
/// encoded arguments (a map unit's when `batch`) would exceed kMaxFramePayload, so an
/// oversized argument fails at submit, before anything is sent.
void check_frame_size(const RemoteFunction& fn, std::size_t args_bytes, bool batch,
                      const char* caller);

/// Encodes `arg` as parameter type P (converting first only when the types differ).
template <class P, class A>
void encode_argument(WireWriter& w, A&& arg) {
  using D = std::decay_t<P>;
  if constexpr (std::is_same_v<std::remove_cvref_t<A>, D>)
    wire_encode(w, arg);
  else
    wire_encode(w, static_cast<D>(std::forward<A>(arg)));
}

template <class... P, class... A>
void encode_arguments(ByteBuffer& out, A&&... args) {
  static_assert(sizeof...(P) == sizeof...(A),
                "ProcessPoolExecutor: wrong number of arguments for this function");
  static_assert((std::is_constructible_v<std::decay_t<P>, A&&> && ...),
                "ProcessPoolExecutor: an argument cannot be converted to its parameter type");
  WireWriter w(out);
  (encode_argument<P>(w, std::forward<A>(args)), ...);
}

/// One map input as the argument tuple of fn: the value itself for a one-parameter
/// function, else a tuple-like of the parameters.
template <class... P, class In>
void encode_map_input(ByteBuffer& out, In&& input) {
  if constexpr (sizeof...(P) == 1) {
    encode_arguments<P...>(out, std::forward<In>(input));
  } else {
    std::apply([&](auto&&... xs) { encode_arguments<P...>(out, std::forward<decltype(xs)>(xs)...); },
               std::forward<In>(input));
  }
}

/// submit() of a pool over a ProcessPoolCore (ProcessPoolExecutor, MPIPoolExecutor):
/// encodes the call now and queues it. `caller` names the executor in errors. Throws
/// UnregisteredFunctionError, WireFormatError (over the frame limit: nothing is sent),
/// and what the core's submit throws (RuntimeError after shutdown, a broken pool).
template <class R, class... P, class... A>
Future<R> submit_remote(const std::shared_ptr<ProcessPoolCore>& core, const char* caller,
                        std::chrono::nanoseconds timeout, R (*fn)(P...), A&&... args) {
  const auto& entry = require_registered(reinterpret_cast<AnyFunction>(fn), caller);
  auto* job = new ProcessCallJob<R>(core);
  Future<R> future;
  try {
    job->fn = &entry;
    job->timeout = timeout;
    encode_arguments<P...>(job->args, std::forward<A>(args)...);
    check_frame_size(entry, job->args.size(), false, caller);
    job->add_ref();
    future = Future<R>(job);
    ProcessJob* base = job;
    core->submit(&base, 1);
  } catch (...) {
    job->drop();  // the pool's reference, never taken
    throw;
  }
  return future;
}

/// map() of a pool over a ProcessPoolCore: the inputs in units of `chunksize` (0: about
/// 64 units per worker, which the pool merges into larger frames once it has measured a
/// call), each encoded now and queued together. Throws as submit_remote.
template <class R, class... P, std::ranges::input_range Range>
MapResults<StoredType<std::remove_cvref_t<R>>> map_remote(
    const std::shared_ptr<ProcessPoolCore>& core, const char* caller, R (*fn)(P...),
    Range&& inputs, std::optional<std::chrono::nanoseconds> timeout, std::size_t chunksize) {
  using T = StoredType<std::remove_cvref_t<R>>;
  const auto& entry = require_registered(reinterpret_cast<AnyFunction>(fn), caller);
  std::optional<std::chrono::steady_clock::time_point> deadline;
  if (timeout) deadline = std::chrono::steady_clock::now() + *timeout;
  std::vector<std::ranges::range_value_t<Range>> held;
  if constexpr (!std::ranges::sized_range<Range> || !std::ranges::forward_range<Range>) {
    for (auto&& x : inputs) held.emplace_back(std::forward<decltype(x)>(x));
  }
  auto&& source = [&]() -> decltype(auto) {
    if constexpr (std::ranges::sized_range<Range> && std::ranges::forward_range<Range>)
      return (inputs);
    else
      return (held);
  }();
  const std::size_t n = static_cast<std::size_t>(std::ranges::size(source));
  const std::size_t units = 64 * std::max<std::size_t>(1, core->max_workers());
  const std::size_t automatic = std::max<std::size_t>(1, (n + units - 1) / units);
  // A unit's item count travels as 32 bits: a larger chunk size is cut to that.
  const std::size_t unit = std::min<std::size_t>(chunksize ? chunksize : automatic, UINT32_MAX);
  auto outputs = std::make_shared<MapOutputs<T>>();
  outputs->outputs.resize(n);
  auto group = std::make_shared<ProcessMapGroup>();
  group->fixed_units = chunksize;
  std::vector<Future<void>> chunks;
  std::vector<ProcessJob*> jobs;
  chunks.reserve((n + unit - 1) / unit);
  jobs.reserve(chunks.capacity());
  try {
    auto it = std::ranges::begin(source);
    for (std::size_t begin = 0; begin < n; begin += unit) {
      auto* job = new ProcessMapUnitJob<T>(core, outputs, begin);
      jobs.push_back(job);
      job->fn = &entry;
      job->group = group;
      job->items = static_cast<std::uint32_t>(std::min(unit, n - begin));
      for (std::uint32_t i = 0; i < job->items; ++i, ++it) encode_map_input<P...>(job->args, *it);
      check_frame_size(entry, job->args.size(), true, caller);
      job->add_ref();
      chunks.emplace_back(job);
    }
    core->submit(jobs.data(), jobs.size());
  } catch (...) {
    for (auto* job : jobs) job->drop();  // the pool never took them
    throw;
  }
  return MapResults<T>(std::move(outputs), std::move(chunks), unit, deadline);
}

}  // namespace detail

/// Binds a registered function and its arguments (for ProcessPoolOptions::initializer).
/// Throws UnregisteredFunctionError if fn is not registered, WireFormatError if the
/// encoded arguments exceed the frame limit.
template <class R, class... P, class... A>
RemoteCall remote_call(R (*fn)(P...), A&&... args) {
  RemoteCall call;
  call.function = &detail::require_registered(reinterpret_cast<detail::AnyFunction>(fn),
                                              "remote_call");
  detail::ByteBuffer buffer;
  detail::encode_arguments<P...>(buffer, std::forward<A>(args)...);
  detail::check_frame_size(*call.function, buffer.size(), false, "remote_call");
  call.arguments.assign(buffer.data() ? buffer.data() : "", buffer.size());
  return call;
}

/// A lambda or any callable object other than a function: a compile error (as submit()).
template <class F, class... A>
  requires(!detail::is_function_pointer<F>)
RemoteCall remote_call(F&&, A&&...) {
  static_assert(detail::CheckRemoteCallable<F>::ok);
  return {};
}

/// True in a process-pool worker (also during its static initialisation).
bool in_worker_process() noexcept;

class ProcessPoolExecutor {
 public:
  /// A pool of up to `max_workers` processes (unset: one per core). Workers start
  /// on demand. Throws ValueError if max_workers is 0.
  explicit ProcessPoolExecutor(std::optional<std::size_t> max_workers = std::nullopt)
      : ProcessPoolExecutor(options_with(max_workers)) {}
  /// Throws ValueError if options.max_workers is 0 or the initializer is empty.
  explicit ProcessPoolExecutor(ProcessPoolOptions options);
  ProcessPoolExecutor(ProcessPoolExecutor&&) noexcept = default;
  ProcessPoolExecutor& operator=(ProcessPoolExecutor&&) = delete;
  ProcessPoolExecutor(const ProcessPoolExecutor&) = delete;
  ProcessPoolExecutor& operator=(const ProcessPoolExecutor&) = delete;
  /// shutdown(wait=true): queued tasks still run, then the workers exit and are reaped.
  ~ProcessPoolExecutor() {
    if (core_) core_->shutdown(true, false);
  }

  /// Runs fn(args...) in a worker; the Future completes with its result. Arguments
  /// are encoded now (later changes to them are not seen). fn must be a free function
  /// (a lambda is a compile error: workers find functions by registered name). Throws
  /// UnregisteredFunctionError if fn was not registered with LANES_REGISTER,
  /// WireFormatError if the encoded arguments exceed the frame limit (1 GiB; nothing
  /// is sent) or a string or container has more than 2^32-1 elements, RuntimeError after
  /// shutdown(), BrokenProcessPool if the pool is broken. The Future fails with
  /// RemoteError, WorkerCrashedError, TimeoutError (see the options) or WireFormatError.
  template <class R, class... P, class... A>
  Future<R> submit(R (*fn)(P...), A&&... args) {
    return submit_impl(options_.task_timeout, fn, std::forward<A>(args)...);
  }

  /// A lambda or any callable object other than a function: a compile error that
  /// says to register a free function with LANES_REGISTER.
  template <class F, class... A>
    requires(!detail::is_function_pointer<F>)
  Future<void> submit(F&&, A&&...) {
    static_assert(detail::CheckRemoteCallable<F>::ok);
    return {};
  }

  /// As submit(), with this task's own timeout (counted from when a worker starts
  /// it): past it the worker is killed and replaced and the Future fails with
  /// TimeoutError.
  template <class Rep, class Period, class R, class... P, class... A>
  Future<R> submit_with_timeout(std::chrono::duration<Rep, Period> timeout, R (*fn)(P...),
                                A&&... args) {
    return submit_impl(std::chrono::duration_cast<std::chrono::nanoseconds>(timeout), fn,
                       std::forward<A>(args)...);
  }

  /// A lambda or any callable object other than a function: a compile error (as submit()).
  template <class Rep, class Period, class F, class... A>
    requires(!detail::is_function_pointer<F>)
  Future<void> submit_with_timeout(std::chrono::duration<Rep, Period>, F&&, A&&...) {
    static_assert(detail::CheckRemoteCallable<F>::ok);
    return {};
  }

  /// Calls fn(x) for every x of `inputs` in the workers and returns the results in
  /// input order (Python's Executor.map); for a function of several parameters each x
  /// is a tuple of them. Inputs go in chunks of `chunksize`; with 0 (the default) the
  /// pool picks the chunking from the measured time per call, merging small chunks
  /// into frames of about 2 ms. Iterating a result rethrows its call's error. A failed
  /// call fails its whole chunk, as in Python's process pool: the results of that
  /// chunk, even those before the failed call, are not delivered (the thread pool
  /// instead fails the item alone); with a timeout, iterating throws TimeoutError once
  /// that much time has passed since this call. Destroying the results early cancels
  /// the chunks not yet done. Throws as submit() does.
  template <class R, class... P, std::ranges::input_range Range>
  MapResults<detail::StoredType<std::remove_cvref_t<R>>> map(
      R (*fn)(P...), Range&& inputs, std::optional<std::chrono::nanoseconds> timeout = std::nullopt,
      std::size_t chunksize = 0) {
    return detail::map_remote(core_, "ProcessPoolExecutor::map", fn, std::forward<Range>(inputs),
                              timeout, chunksize);
  }

  /// A lambda or any callable object other than a function: a compile error (as submit()).
  template <class F, class Range>
    requires(!detail::is_function_pointer<F>)
  MapResults<detail::Unit> map(F&&, Range&&, std::optional<std::chrono::nanoseconds> = std::nullopt,
                       std::size_t = 0) {
    static_assert(detail::CheckRemoteCallable<F>::ok);
    return MapResults<detail::Unit>(nullptr, {}, 1, std::nullopt);
  }

  /// Refuses new tasks from now on (submit throws RuntimeError). With cancel_futures,
  /// tasks not yet started are cancelled. With wait, returns once every task has
  /// finished and every worker has exited and been reaped; without it, that happens
  /// in the background (the destructor waits). Idempotent. Throws RuntimeError if
  /// wait is true and it is called from a done callback on the pool's own thread.
  void shutdown(bool wait = true, bool cancel_futures = false) {
    core_->shutdown(wait, cancel_futures);
  }

  /// The most worker processes the pool runs at once.
  std::size_t max_workers() const noexcept { return core_->max_workers(); }
  /// The process ids of the live workers (they start on demand).
  std::vector<pid_t> worker_pids() const { return core_->worker_pids(); }

 private:
  static ProcessPoolOptions options_with(std::optional<std::size_t> max_workers) {
    ProcessPoolOptions o;
    o.max_workers = max_workers;
    return o;
  }

  template <class R, class... P, class... A>
  Future<R> submit_impl(std::chrono::nanoseconds timeout, R (*fn)(P...), A&&... args) {
    return detail::submit_remote(core_, "ProcessPoolExecutor::submit", timeout, fn,
                                 std::forward<A>(args)...);
  }

  ProcessPoolOptions options_;
  std::shared_ptr<detail::ProcessPoolCore> core_;
};

}  // namespace lanes
