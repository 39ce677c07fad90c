// The work-stealing scheduler of ThreadPoolExecutor: workers, parking, helping waits.
#include <pthread.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <thread>

#include "lanes/detail/threads/asymmetric_fence.hpp"
#include "lanes/detail/threads/parker.hpp"
#include "lanes/detail/threads/thread_pool_core.hpp"
#include "lanes/detail/threads/work_stealing_deque.hpp"
#include "lanes/errors.hpp"
#include "lanes/future.hpp"

namespace lanes::detail {

namespace {

using Clock = std::chrono::steady_clock;

/// Rounds of looking for work (with a growing pause) before a worker parks: a
/// few microseconds, enough to catch the next job of a busy producer.
constexpr int kSpinRounds = 12;

void backoff(int round) noexcept {
  for (int i = 0; i < (1 << std::min(round, 6)); ++i) cpu_relax();
}

}  // namespace

class ThreadPoolWorker final : public BlockingWaitHook {
 public:
  ThreadPoolWorker(ThreadPoolCore& pool, std::size_t index) : pool(pool), index(index), rng(index * 2 + 1) {}

  bool wait_until(FutureStateBase& state, Clock::time_point deadline) override;

  ThreadPoolCore& pool;
  const std::size_t index;
  WorkStealingDeque<ThreadPoolJob*> deque;
  Parker parker;
  bool asleep = false;  // guarded by pool.sleep_mutex_: listed in sleepers_
  std::uint64_t rng;    // victim choice; owner only
  std::thread thread;

  std::size_t next_victim(std::size_t n) noexcept {
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return static_cast<std::size_t>(rng % n);
  }
};

namespace {

thread_local ThreadPoolWorker* tls_worker = nullptr;

/// Wakes a helping worker when the future it waits for completes. It lives on the
/// waiter's stack, so its last act is to say it is finished with itself.
struct WakeOnDone : DoneCallback {
  ThreadPoolWorker* worker;
  // Invariant: set (release) by invoke() after its last access to this node; a
  // waiter that could not remove the node spins on it before leaving.
  std::atomic<bool> fired{false};

  explicit WakeOnDone(ThreadPoolWorker* w) noexcept : worker(w) { invoke = &WakeOnDone::on_done; }
  static void on_done(DoneCallback* self, FutureStateBase&) noexcept {
    auto* node = static_cast<WakeOnDone*>(self);
    ThreadPoolWorker* w = node->worker;
    node->fired.store(true, std::memory_order_release);
    w->parker.unpark();
  }
};

}  // namespace

// ---- helping waits --------------------------------------------------------------

bool ThreadPoolWorker::wait_until(FutureStateBase& state, Clock::time_point deadline) {
  int idle_rounds = 0;
  while (!state.done()) {
    if (ThreadPoolJob* job = pool.find_work(*this)) {
      pool.execute(job);
      idle_rounds = 0;
      continue;
    }
    if (deadline != Clock::time_point::max() && Clock::now() >= deadline) return state.done();
    if (idle_rounds < kSpinRounds) {
      backoff(idle_rounds++);
      continue;
    }
    // Nothing to help with: sleep until a job arrives or the future completes.
    WakeOnDone node(this);
    if (!state.add_callback(&node)) return true;
    pool.add_sleeper(*this);
    asymmetric_fence::heavy();  // pairs with light() in notify_one() (see sleeper_count_)
    if (!pool.has_work(*this) && !state.done()) parker.park_until(deadline);
    pool.remove_sleeper(*this);
    if (!state.remove_callback(&node)) {
      while (!node.fired.load(std::memory_order_acquire)) cpu_relax();
    }
    idle_rounds = 0;
  }
  return true;
}

// ---- the core -------------------------------------------------------------------

ThreadPoolCore::ThreadPoolCore(Config config)
    : initializer_(std::move(config.initializer)), name_prefix_(std::move(config.name_prefix)) {
  asymmetric_fence::init();  // before any worker exists
  const std::size_t n = std::max<std::size_t>(config.workers, 1);
  workers_.reserve(n);
  for (std::size_t i = 0; i < n; ++i) workers_.push_back(std::make_unique<ThreadPoolWorker>(*this, i));
  try {
    for (auto& w : workers_) {
      ThreadPoolWorker* raw = w.get();
      w->thread = std::thread([this, raw] { run_worker(*raw); });
    }
  } catch (...) {
    shutdown(true, true);
    throw;
  }
}

ThreadPoolCore::~ThreadPoolCore() {
  if (tls_worker != nullptr && &tls_worker->pool == this) {
    std::fputs(
        "lanes: a ThreadPoolExecutor was destroyed by one of its own jobs; it cannot wait for "
        "the thread it runs on. Aborting.\n",
        stderr);
    std::abort();
  }
  shutdown(true, false);
}

ThreadPoolCore::Admission ThreadPoolCore::submit(ThreadPoolJob* job) {
  ThreadPoolWorker* self = tls_worker;
  if (self != nullptr && &self->pool == this) {
    // From one of our own jobs: the worker's deque, where it (or a thief) finds it.
    if (closed()) return broken_.load(std::memory_order_acquire) ? Admission::broken
                                                                 : Admission::shut_down;
    self->deque.push(job);
  } else if (!inject(job)) {
    return broken_.load(std::memory_order_acquire) ? Admission::broken : Admission::shut_down;
  }
  notify_one();
  return Admission::accepted;
}

bool ThreadPoolCore::inject(ThreadPoolJob* job) noexcept {
  std::uintptr_t head = injected_.load(std::memory_order_relaxed);
  do {
    if (head & kClosed) return false;
    job->next_injected = reinterpret_cast<ThreadPoolJob*>(head);
  } while (!injected_.compare_exchange_weak(head, reinterpret_cast<std::uintptr_t>(job),
                                            std::memory_order_release,
                                            std::memory_order_relaxed));
  return true;
}

ThreadPoolJob* ThreadPoolCore::take_injected() noexcept {
  // A plain load first: idle workers poll this, and an RMW on an empty stack
  // would bounce its cache line between them for nothing.
  if ((injected_.load(std::memory_order_relaxed) & ~kClosed) == 0) return nullptr;
  const std::uintptr_t old = injected_.fetch_and(kClosed, std::memory_order_acq_rel);
  return reinterpret_cast<ThreadPoolJob*>(old & ~kClosed);
}

ThreadPoolJob* ThreadPoolCore::find_work(ThreadPoolWorker& self) noexcept {
  if (ThreadPoolJob* job = self.deque.pop()) return job;
  const std::size_t n = workers_.size();
  if (n > 1) {
    const std::size_t start = self.next_victim(n);
    for (std::size_t k = 0; k < n; ++k) {
      ThreadPoolWorker& victim = *workers_[(start + k) % n];
      if (&victim == &self) continue;
      if (ThreadPoolJob* job = victim.deque.steal()) return job;
    }
  }
  ThreadPoolJob* list = take_injected();
  if (list == nullptr) return nullptr;
  // The list is newest first. The oldest runs now; the rest go to our deque so
  // that we take them oldest first and thieves take the newest.
  ThreadPoolJob* oldest = list;
  bool more = false;
  while (oldest->next_injected != nullptr) {
    ThreadPoolJob* next = oldest->next_injected;
    try {
      self.deque.push(oldest);
    } catch (...) {
      std::fputs("lanes: out of memory growing a thread pool deque\n", stderr);
      std::abort();
    }
    more = true;
    oldest = next;
  }
  if (more) notify_one();  // a sleeper can steal the rest
  return oldest;
}

bool ThreadPoolCore::has_work(const ThreadPoolWorker& self) const noexcept {
  if (!self.deque.looks_empty()) return true;
  if ((injected_.load(std::memory_order_relaxed) & ~kClosed) != 0) return true;
  for (const auto& w : workers_) {
    if (!w->deque.looks_empty()) return true;
  }
  return false;
}

void ThreadPoolCore::execute(ThreadPoolJob* job) noexcept {
  if (broken_.load(std::memory_order_acquire)) {
    job->drop_unrun(std::make_exception_ptr(BrokenThreadPool(broken_reason())));
  } else if (cancel_queued_.load(std::memory_order_relaxed)) {
    job->drop_unrun(nullptr);
  } else {
    job->run();
  }
}

// ---- parking --------------------------------------------------------------------

void ThreadPoolCore::notify_one() noexcept {
  // Pairs with the heavy fence of a worker about to park (see sleeper_count_): on
  // this hot path, only a compiler barrier where membarrier(2) works.
  asymmetric_fence::light();
  if (sleeper_count_.load(std::memory_order_relaxed) != 0) wake_one();
}

void ThreadPoolCore::wake_one() noexcept {
  ThreadPoolWorker* w = nullptr;
  {
    std::lock_guard<std::mutex> guard(sleep_mutex_);
    if (sleepers_.empty()) return;
    w = sleepers_.back();
    sleepers_.pop_back();
    w->asleep = false;
    sleeper_count_.store(sleepers_.size(), std::memory_order_relaxed);
  }
  w->parker.unpark();
}

void ThreadPoolCore::wake_all() noexcept {
  std::vector<ThreadPoolWorker*> all;
  {
    std::lock_guard<std::mutex> guard(sleep_mutex_);
    all.swap(sleepers_);
    for (ThreadPoolWorker* w : all) w->asleep = false;
    sleeper_count_.store(0, std::memory_order_relaxed);
  }
  for (ThreadPoolWorker* w : all) w->parker.unpark();
}

void ThreadPoolCore::add_sleeper(ThreadPoolWorker& w) {
  std::lock_guard<std::mutex> guard(sleep_mutex_);
  sleepers_.push_back(&w);
  w.asleep = true;
  sleeper_count_.store(sleepers_.size(), std::memory_order_relaxed);
}

void ThreadPoolCore::remove_sleeper(ThreadPoolWorker& w) noexcept {
  std::lock_guard<std::mutex> guard(sleep_mutex_);
  if (!w.asleep) return;  // a waker took it off the list (and unparked it)
  sleepers_.erase(std::find(sleepers_.begin(), sleepers_.end(), &w));
  w.asleep = false;
  sleeper_count_.store(sleepers_.size(), std::memory_order_relaxed);
}

// ---- workers --------------------------------------------------------------------

void ThreadPoolCore::run_worker(ThreadPoolWorker& w) noexcept {
  tls_worker = &w;
  tls_blocking_wait_hook = &w;
  {
    // Linux limits thread names to 15 characters.
    std::string name = name_prefix_ + "_" + std::to_string(w.index);
    if (name.size() > 15) name.resize(15);
    pthread_setname_np(pthread_self(), name.c_str());
  }
  if (initializer_) {
    try {
      initializer_();
    } catch (...) {
      mark_broken("a thread initializer failed (" + describe_exception(std::current_exception()) +
                  "): the thread pool is not usable anymore");
    }
  }
  for (;;) {
    ThreadPoolJob* job = find_work(w);
    for (int round = 0; job == nullptr && round < kSpinRounds; ++round) {
      backoff(round);
      job = find_work(w);
    }
    if (job != nullptr) {
      execute(job);
      continue;
    }
    if (closed() && !has_work(w)) break;  // shut down and drained
    add_sleeper(w);
    // Pairs with light() in notify_one() (see sleeper_count_).
    asymmetric_fence::heavy();
    if (!has_work(w) && !closed()) w.parker.park_until(Clock::time_point::max());
    remove_sleeper(w);
  }
  tls_blocking_wait_hook = nullptr;
  tls_worker = nullptr;
}

void ThreadPoolCore::mark_broken(std::string reason) noexcept {
  {
    std::lock_guard<std::mutex> guard(broken_mutex_);
    if (broken_.load(std::memory_order_relaxed)) return;
    broken_reason_ = std::move(reason);
    broken_.store(true, std::memory_order_release);
  }
  // Refuse new jobs; every worker now fails the queued ones as it finds them.
  injected_.fetch_or(kClosed, std::memory_order_seq_cst);
  wake_all();
}

std::string ThreadPoolCore::broken_reason() const {
  std::lock_guard<std::mutex> guard(const_cast<std::mutex&>(broken_mutex_));
  return broken_reason_;
}

// ---- shutdown -------------------------------------------------------------------

void ThreadPoolCore::shutdown(bool wait, bool cancel_futures) {
  if (cancel_futures) cancel_queued_.store(true, std::memory_order_seq_cst);
  injected_.fetch_or(kClosed, std::memory_order_seq_cst);
  if (cancel_futures) cancel_queued();
  wake_all();
  if (wait) join_all();
}

void ThreadPoolCore::cancel_queued() noexcept {
  // Python cancels the queued futures before shutdown() returns: take them all
  // here. A worker pushing to its own deque meanwhile cancels what it then finds.
  for (ThreadPoolJob* job = take_injected(); job != nullptr;) {
    ThreadPoolJob* next = job->next_injected;
    job->drop_unrun(nullptr);
    job = next;
  }
  for (auto& w : workers_) {
    while (!w->deque.looks_empty()) {
      if (ThreadPoolJob* job = w->deque.steal()) job->drop_unrun(nullptr);
    }
  }
}

void ThreadPoolCore::join_all() {
  if (tls_worker != nullptr && &tls_worker->pool == this)
    throw RuntimeError(
        "ThreadPoolExecutor::shutdown(wait=true) was called from one of its own jobs, which "
        "would wait for itself: call shutdown(false) there, or shut down from outside the pool");
  std::lock_guard<std::mutex> guard(join_mutex_);
  for (auto& w : workers_) {
    if (w->thread.joinable()) w->thread.join();
  }
}

}  // namespace lanes::detail
