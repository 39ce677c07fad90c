// lanes/loop.hpp — the event loop (asyncio's loop), create_task and run.
//
// One thread runs a loop: it takes ready tasks one at a time, runs each until it
// suspends, asks the OS which descriptors are ready, fires due timers, and sleeps
// in the kernel when there is nothing to do. Only call_soon_threadsafe and the
// completion of a Future cross threads; both wake the loop through an eventfd.
#pragma once

#include <chrono>
#include <concepts>
#include <cstddef>
#include <cstdint>
#include <exception>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <type_traits>
#include <vector>

#include "lanes/current_task.hpp"
#include "lanes/detail/core/ready_queue.hpp"
#include "lanes/detail/io/reactor.hpp"
#include "lanes/detail/core/task_state.hpp"
#include "lanes/detail/core/timer_heap.hpp"
#include "lanes/errors.hpp"
#include "lanes/future.hpp"
#include "lanes/task.hpp"

namespace lanes {

namespace detail {
/// Per-loop state of an optional module (the I/O registry, signal handlers, child
/// watchers): made on first use, destroyed by close() after the pending tasks, so
/// that nothing a module registered with the reactor outlives the loop.
struct LoopExtension {
  virtual ~LoopExtension() = default;
};
}  // namespace detail

class EventLoop;
namespace detail {
/// run_until_complete's done callback: stops `loop` when `state` is done, from any
/// thread. The destructor detaches it, safely against a completion running at the
/// same time on another thread; a stop already posted is then dropped. Throws
/// std::bad_alloc only.
class StopOnDone {
 public:
  StopOnDone(EventLoop& loop, FutureStateBase& state);
  ~StopOnDone();
  StopOnDone(const StopOnDone&) = delete;
  StopOnDone& operator=(const StopOnDone&) = delete;
  struct Node;

 private:
  FutureStateBase* state_;
  Node* node_;
};
}  // namespace detail

namespace detail {
template <class R>
inline constexpr bool is_task_v = false;
template <class T>
inline constexpr bool is_task_v<Task<T>> = true;

/// A coroutine callable (a lambda returning Task<T>) with its arguments, invoked in
/// a frame that owns copies of them: the lambda's captures live as long as the task.
template <class F, class... Args>
concept TaskFactory =
    std::invocable<std::decay_t<F>&, std::decay_t<Args>&...> &&
    is_task_v<std::invoke_result_t<std::decay_t<F>&, std::decay_t<Args>&...>>;

template <class F, class... Args>
auto call_keeping_alive(F f, Args... args)
    -> Task<typename std::invoke_result_t<F&, Args&...>::value_type> {
  co_return co_await std::invoke(f, args...);
}
}  // namespace detail

class ThreadPoolExecutor;  // thread_pool.hpp
namespace detail {
/// The loop's default executor (to_thread, run_in_executor(nullptr, ...)): made on
/// first use, shut down by close(), waiting for its jobs. In src/threads/default_executor.cpp.
ThreadPoolExecutor& default_executor(EventLoop& loop);
}  // namespace detail

/// What call_exception_handler receives (asyncio's context dict, typed).
struct ExceptionContext {
  std::string message;
  std::exception_ptr exception;  // may be null
};

/// A scheduled callback (asyncio.Handle / TimerHandle): cancel() before it runs
/// and it never runs.
class Handle {
 public:
  Handle() = default;
  /// Prevents the callback from running; harmless if it already ran.
  void cancel() noexcept;
  bool cancelled() const noexcept;

  struct Entry;
  explicit Handle(std::shared_ptr<Entry> entry) : entry_(std::move(entry)) {}

 private:
  std::shared_ptr<Entry> entry_;
};

class EventLoop {
 public:
  using Clock = std::chrono::steady_clock;
  using ExceptionHandler = std::function<void(EventLoop&, const ExceptionContext&)>;

  /// Throws std::system_error if the OS refuses an epoll or eventfd descriptor.
  EventLoop();
  /// A loop on `backend` (lanes/backend.hpp; io_uring falls back to epoll if the
  /// kernel refuses a ring). Throws as EventLoop(), and ValueError for a bad
  /// LANES_BACKEND when `backend` is automatic.
  explicit EventLoop(Backend backend);
  EventLoop(const EventLoop&) = delete;
  EventLoop& operator=(const EventLoop&) = delete;
  /// Closes the loop (see close()).
  ~EventLoop();

  /// Runs the loop until `task` finishes and returns its value or rethrows its
  /// error. Throws RuntimeError if the loop is running or closed, or if stop() was
  /// called before the task finished.
  template <class T>
  T run_until_complete(Task<T> task) {
    return run_until_complete(create_task(std::move(task)));
  }
  template <class T>
  T run_until_complete(Future<T> future);

  /// Runs until stop(). Throws RuntimeError if already running or closed.
  void run_forever();
  /// Makes run_forever return after the callbacks already ready have run.
  void stop() noexcept;
  bool is_running() const noexcept;
  bool is_closed() const noexcept;
  /// Destroys tasks still pending (their frames are freed, their futures
  /// cancelled) and releases the OS resources. Throws RuntimeError if running.
  void close();

  /// Runs `fn` on the next iteration, after the callbacks already ready.
  /// Throws RuntimeError if the loop is closed. Loop thread only.
  Handle call_soon(std::function<void()> fn);
  /// Runs `fn` after `delay`. Throws RuntimeError if closed. Loop thread only.
  Handle call_later(Clock::duration delay, std::function<void()> fn);
  /// Runs `fn` at `when` (a time on this loop's clock, see time()). Loop thread only.
  Handle call_at(Clock::time_point when, std::function<void()> fn);
  /// The one way to schedule a callback from another thread; wakes the loop.
  /// Throws RuntimeError if the loop is closed.
  void call_soon_threadsafe(std::function<void()> fn);
  /// The loop's clock: monotonic (std::chrono::steady_clock).
  Clock::time_point time() const noexcept { return Clock::now(); }

  /// Wraps `task` in a Future and schedules it to start on this loop. Loop thread
  /// only; throws RuntimeError if the loop is closed.
  template <class T>
  Future<T> create_task(Task<T> task);
  /// create_task(f, args...): calls f(args...) (f returns a Task) inside a task
  /// that owns copies of f and args, so a capturing lambda coroutine stays alive
  /// as long as the task. Prefer it to create_task(lambda()), whose temporary
  /// lambda (and captures) dies at the end of the statement. Loop thread only;
  /// throws RuntimeError if the loop is closed.
  template <class F, class... Args>
    requires detail::TaskFactory<F, Args...>
  auto create_task(F&& f, Args&&... args) {
    return create_task(detail::call_keeping_alive(std::decay_t<F>(std::forward<F>(f)),
                                                  std::decay_t<Args>(std::forward<Args>(args))...));
  }
  /// A pending future to complete by hand (asyncio's loop.create_future()).
  template <class T = void>
  Future<T> create_future() {
    return lanes::create_future<T>();
  }

  /// Runs f(args...) on `executor` (anything with submit(): ThreadPoolExecutor,
  /// ProcessPoolExecutor) and returns its Future, to co_await (asyncio's
  /// loop.run_in_executor). Throws RuntimeError if the loop is closed, and what
  /// submit() throws.
  template <class Executor, class F, class... Args>
  auto run_in_executor(Executor& executor, F&& f, Args&&... args) {
    check_open();
    return executor.submit(std::forward<F>(f), std::forward<Args>(args)...);
  }
  /// run_in_executor(nullptr, f, args...): on the loop's default executor, a
  /// ThreadPoolExecutor of min(32, cores + 4) workers made on first use (include
  /// lanes/thread_pool.hpp). Loop thread only.
  template <class F, class... Args>
  auto run_in_executor(std::nullptr_t, F&& f, Args&&... args) {
    check_open();
    return run_in_executor(detail::default_executor(*this), std::forward<F>(f),
                           std::forward<Args>(args)...);
  }

  /// Replaces the handler that receives errors nobody else could take (an
  /// exception never retrieved, a callback that threw). Null restores the default.
  void set_exception_handler(ExceptionHandler handler);

  /// Runs `callback` on this loop each time signal `sig` arrives (see signal.hpp).
  /// Throws ValueError for a signal that cannot be caught, RuntimeError if the loop
  /// is closed or another loop handles `sig`. Defined in src/os/signal.cpp.
  void add_signal_handler(int sig, std::function<void()> callback);
  /// Removes the handler for `sig`, restoring the previous disposition; false if
  /// there was none. Never throws.
  bool remove_signal_handler(int sig) noexcept;
  /// Hands `context` to the handler; a handler that throws is reported on stderr.
  void call_exception_handler(const ExceptionContext& context) noexcept;
  /// The default: one line on stderr with the message and the error.
  static void default_exception_handler(const ExceptionContext& context) noexcept;

  /// Debug mode: warns about callbacks slower than slow_callback_duration and
  /// about tasks still pending when the loop is closed. Also on when the
  /// environment sets LANES_DEBUG=1. (Tasks destroyed without ever being awaited
  /// are reported in every mode; LANES_NO_UNAWAITED_WARNING=1 silences that.)
  void set_debug(bool enabled) noexcept { debug_ = enabled; }
  bool get_debug() const noexcept { return debug_; }
  void set_slow_callback_duration(Clock::duration d) noexcept { slow_callback_ = d; }
  Clock::duration slow_callback_duration() const noexcept { return slow_callback_; }

  /// Number of tasks created on this loop and not finished.
  std::size_t live_tasks() const noexcept { return live_.size(); }

  // ---- Internals used by lanes' own awaitables; not part of the API. ----
  void schedule(detail::ReadyJob job) { ready_.push(job); }
  void post(detail::ReadyJob job);
  /// A module registers (+1) or unregisters (-1) a descriptor of lanes' own with
  /// the reactor (the signal eventfd): it does not count as the user's I/O when
  /// the loop decides whether it may skip polling.
  void count_internal_descriptor(int delta) noexcept {
    internal_descriptors_ = static_cast<std::size_t>(static_cast<long>(internal_descriptors_) + delta);
  }
  /// How many times the loop has polled the reactor (for tests and benchmarks).
  std::uint64_t reactor_polls() const noexcept { return reactor_polls_; }
  void add_timer(detail::TimerNode& node) { timers_.push(&node); }
  void remove_timer(detail::TimerNode& node) noexcept { timers_.remove(&node); }
  detail::Reactor& reactor() noexcept { return *reactor_; }
  void link_task(detail::TaskCoreBase& task) noexcept;
  void unlink_task(detail::TaskCoreBase& task) noexcept;
  /// Cancels every live task and runs until all have finished (run()'s clean-up).
  void cancel_all_tasks();
  /// The extension installed under `key` (an address private to its module), or null.
  detail::LoopExtension* extension(const void* key) const noexcept {
    for (const auto& e : extensions_)
      if (e.first == key) return e.second.get();
    return nullptr;
  }
  /// Installs `ext` under `key`. Throws RuntimeError if the loop is closed.
  detail::LoopExtension& set_extension(const void* key, std::unique_ptr<detail::LoopExtension> ext) {
    check_open();
    extensions_.emplace_back(key, std::move(ext));
    return *extensions_.back().second;
  }

 private:
  struct Remote {
    detail::ReadyJob job{nullptr, nullptr};
    std::function<void()> fn;
  };
  void run_once();
  void drain_remote();
  void push_remote(Remote item);
  std::shared_ptr<Handle::Entry> make_entry(std::function<void()> fn);
  void check_open() const;
  static void wake_thunk(detail::IoWatcher* self, std::uint32_t events) noexcept;

  // At most this many iterations in a row skip the poll (see run_once).
  static constexpr unsigned kMaxSkippedPolls = 64;
  static constexpr Clock::duration kMaxPollGap = std::chrono::milliseconds(2);

  detail::ReadyQueue ready_;
  detail::TimerHeap timers_;
  std::size_t internal_descriptors_ = 0;  // the wake-up eventfd, the signal eventfd
  unsigned skipped_polls_ = 0;
  std::uint64_t reactor_polls_ = 0;
  Clock::time_point last_poll_{};
  std::unique_ptr<detail::Reactor> reactor_;
  int wake_fd_ = -1;
  struct WakeWatcher : detail::IoWatcher {
    EventLoop* loop = nullptr;
  } wake_watcher_;

  std::mutex remote_mutex_;
  std::vector<Remote> remote_;  // guarded by remote_mutex_
  std::vector<Remote> remote_spare_;
  // Invariant: true whenever remote_ may be non-empty; set under remote_mutex_,
  // cleared by the loop thread under it when it takes the batch.
  std::atomic<bool> remote_pending_{false};

  std::vector<std::pair<const void*, std::unique_ptr<detail::LoopExtension>>> extensions_;

  detail::IntrusiveList<detail::TaskCoreBase, &detail::TaskCoreBase::live_links> live_;

  ExceptionHandler handler_;
  Clock::duration slow_callback_ = std::chrono::milliseconds(100);
  bool debug_ = false;
  bool running_ = false;
  bool stopping_ = false;
  bool closed_ = false;
};

/// The loop running on this thread. Throws RuntimeError if there is none.
EventLoop& get_running_loop();

/// Schedules `task` on the running loop and returns its Future (asyncio.create_task).
/// Throws RuntimeError if no loop runs on this thread.
template <class T>
Future<T> create_task(Task<T> task) {
  return get_running_loop().create_task(std::move(task));
}
/// create_task(f, args...): runs f(args...) as a task that keeps f (a capturing
/// lambda coroutine) and args alive for its whole life (see EventLoop::create_task).
/// Throws RuntimeError if no loop runs on this thread.
template <class F, class... Args>
  requires detail::TaskFactory<F, Args...>
auto create_task(F&& f, Args&&... args) {
  return get_running_loop().create_task(std::forward<F>(f), std::forward<Args>(args)...);
}

namespace detail {
/// What lanes::run installs for its lifetime: the first SIGINT cancels `main`
/// (Python 3.11), if SIGINT had its default disposition and no handler. In
/// src/os/signal.cpp.
class SigintCancel {
 public:
  SigintCancel(EventLoop& loop, FutureStateBase& main) noexcept;
  ~SigintCancel();
  SigintCancel(const SigintCancel&) = delete;
  SigintCancel& operator=(const SigintCancel&) = delete;
  /// True once a SIGINT cancelled the main task.
  bool interrupted() const noexcept { return interrupted_; }

 private:
  EventLoop* loop_;
  FutureStateBase* main_;
  bool installed_ = false;
  bool interrupted_ = false;
};
}  // namespace detail

namespace detail {
/// Throws KeyboardInterrupt, after making sure that one left uncaught ends the
/// process as Python's does (a line on stderr, death by SIGINT) instead of
/// std::terminate's abort. In src/os/signal.cpp.
[[noreturn]] void throw_keyboard_interrupt();
}  // namespace detail

struct RunOptions {
  bool debug = false;
  Backend backend = Backend::automatic;
};

/// asyncio.run: makes a new loop, runs `main` to completion, cancels and awaits
/// the tasks still pending, closes the loop, and returns main's value. Rethrows
/// main's error. Throws RuntimeError if a loop already runs on this thread, and
/// KeyboardInterrupt if a SIGINT (Ctrl-C) cancelled main (see signal.hpp).
template <class T>
T run(Task<T> main, RunOptions options = {});

// ---------------------------------------------------------------------------

template <class T>
Future<T> EventLoop::create_task(Task<T> task) {
  check_open();
  auto handle = task.release();
  if (!handle) throw InvalidStateError("create_task: the Task is empty (moved from or awaited)");
  auto* state = new detail::TaskState<T>(*this, handle);
  link_task(*state);
  // Marked queued like any wake-up: the ready queue links a task through the task
  // itself, so it must never be queued twice.
  state->scheduled_ = true;
  schedule(detail::ReadyQueue::task_step(*state));
  return Future<T>(state->share());
}

template <class T>
T EventLoop::run_until_complete(Future<T> future) {
  check_open();
  if (running_) throw RuntimeError("run_until_complete: this loop is already running");
  if (!future.done()) {
    // Removed on every way out, as Python's finally does: a callback left behind
    // would stop a later run, or touch this loop after it is gone.
    detail::StopOnDone stopper(*this, *future.raw_state());
    run_forever();
    if (!future.done())
      throw RuntimeError("run_until_complete: the loop stopped before the future completed");
  }
  if constexpr (std::is_void_v<T>) {
    future.result();
  } else {
    return future.result();
  }
}

template <class T>
T run(Task<T> main, RunOptions options) {
  if (detail::current_loop() != nullptr)
    throw RuntimeError("lanes::run cannot be called while an event loop runs on this thread");
  EventLoop loop(options.backend);
  if (options.debug) loop.set_debug(true);
  auto main_future = loop.create_task(std::move(main));
  detail::SigintCancel sigint(loop, *main_future.raw_state());
  try {
    loop.run_until_complete(main_future);
  } catch (...) {
    loop.cancel_all_tasks();
    loop.close();
    if (sigint.interrupted() && main_future.cancelled()) detail::throw_keyboard_interrupt();
    throw;
  }
  loop.cancel_all_tasks();
  loop.close();
  if constexpr (std::is_void_v<T>) {
    main_future.result();
  } else {
    return main_future.result();
  }
}

}  // namespace lanes
