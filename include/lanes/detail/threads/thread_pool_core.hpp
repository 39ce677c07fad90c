// lanes/detail/threads/thread_pool_core.hpp — the work-stealing scheduler behind ThreadPoolExecutor.
//
// The typed front (thread_pool.hpp) makes ThreadPoolJobs; this core only moves them:
//   - every worker owns a Chase-Lev deque: a job submitted from inside the pool
//     goes to the submitting worker's own deque (no shared cache line touched);
//   - a job submitted from outside goes to the injection stack, a lock-free list
//     that a worker takes whole (one atomic exchange) and spreads in its deque;
//   - an idle worker looks in its own deque, then steals from the others, then
//     takes the injection stack; after a short bounded spin it parks on a futex;
//   - a worker that blocks in Future::result() helps: it runs other jobs of the
//     pool while it waits (a BlockingWaitHook), so recursive fork-join never
//     deadlocks, even with one worker.
// The code is in src/threads/thread_pool_core.cpp.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <exception>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "lanes/detail/threads/thread_pool_job.hpp"

namespace lanes::detail {

class ThreadPoolWorker;

class ThreadPoolCore {
 public:
  struct Config {
    std::size_t workers = 1;
    std::function<void()> initializer;
    std::string name_prefix;
  };

  /// Starts the workers. Throws std::system_error if a thread cannot be started
  /// (the ones already started are stopped first).
  explicit ThreadPoolCore(Config config);
  ThreadPoolCore(const ThreadPoolCore&) = delete;
  ThreadPoolCore& operator=(const ThreadPoolCore&) = delete;
  /// shutdown(wait=true). Aborts, with a message, if run on one of its own
  /// workers: a pool cannot wait for the thread that destroys it.
  ~ThreadPoolCore();

  enum class Admission { accepted, shut_down, broken };
  /// Queues `job` (the queue takes over the job's reference). On refusal the job
  /// is untouched and still the caller's. Throws std::bad_alloc only.
  Admission submit(ThreadPoolJob* job);

  /// Refuses new jobs; with cancel_futures, cancels every job not yet started;
  /// with wait, returns once every worker has finished. Idempotent. Throws
  /// RuntimeError if asked to wait on one of its own workers.
  void shutdown(bool wait, bool cancel_futures);

  std::size_t worker_count() const noexcept { return workers_.size(); }
  /// Why the pool broke (an initializer threw); empty if it did not.
  std::string broken_reason() const;

 private:
  friend class ThreadPoolWorker;
  static constexpr std::uintptr_t kClosed = 1;

  bool closed() const noexcept {
    return (injected_.load(std::memory_order_acquire) & kClosed) != 0;
  }
  bool inject(ThreadPoolJob* job) noexcept;
  ThreadPoolJob* take_injected() noexcept;
  ThreadPoolJob* find_work(ThreadPoolWorker& self) noexcept;
  bool has_work(const ThreadPoolWorker& self) const noexcept;
  void execute(ThreadPoolJob* job) noexcept;
  void notify_one() noexcept;
  void wake_one() noexcept;
  void wake_all() noexcept;
  void add_sleeper(ThreadPoolWorker& w);
  void remove_sleeper(ThreadPoolWorker& w) noexcept;
  void mark_broken(std::string reason) noexcept;
  void cancel_queued() noexcept;
  void join_all();
  void run_worker(ThreadPoolWorker& w) noexcept;

  std::vector<std::unique_ptr<ThreadPoolWorker>> workers_;
  std::function<void()> initializer_;
  std::string name_prefix_;

  // Invariant: the top of the injection stack (newest job first, linked through
  // ThreadPoolJob::next_injected), with bit 0 (kClosed) set once the pool refuses new
  // jobs. Pushes are release CASes that fail once kClosed is set, so no job can
  // enter after a shutdown saw the stack; takers use an acq_rel fetch_and that
  // keeps kClosed, so they see every job's contents.
  alignas(64) std::atomic<std::uintptr_t> injected_{0};

  // Invariant: equal to sleepers_.size(), written under sleep_mutex_. A submitter
  // reads it after asymmetric_fence::light() that follows its push; a worker
  // registers before asymmetric_fence::heavy() that precedes its last look at the
  // queues. So either the worker sees the job or the submitter sees the sleeper
  // (Dekker; asymmetric_fence.hpp says why the submitter's side may be that cheap).
  alignas(64) std::atomic<std::size_t> sleeper_count_{0};
  std::mutex sleep_mutex_;
  std::vector<ThreadPoolWorker*> sleepers_;  // guarded by sleep_mutex_

  // Invariant: once true, stays true; jobs taken afterwards are cancelled instead
  // of run (shutdown(cancel_futures=true)). Relaxed: shutdown also drains the
  // queues itself, so a worker that reads it late only delays the cancellation.
  std::atomic<bool> cancel_queued_{false};
  // Invariant: once true, stays true; broken_reason_ was written before the
  // release store and is never written again, so an acquire load may read it.
  std::atomic<bool> broken_{false};
  std::mutex broken_mutex_;
  std::string broken_reason_;

  std::mutex join_mutex_;  // one joiner at a time; joined threads are not joinable
};

}  // namespace lanes::detail
