// ThreadPoolExecutor: submit, results and errors, cancellation (before start and
// through std::stop_token), shutdown, map, helping waits (fork-join), initializers.
#include <gtest/gtest.h>
#include <pthread.h>

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <ctime>
#include <latch>
#include <lanes/lanes.hpp>
#include <lanes/thread_pool.hpp>
#include <memory>
#include <mutex>
#include <stdexcept>
#include <stop_token>
#include <string>
#include <thread>
#include <vector>

#include "pool_test_support.hpp"

namespace {

#if defined(LANES_SANITIZED)
constexpr int kManyTasks = 200'000;  // sanitizers make each task ~10x dearer
#else
constexpr int kManyTasks = 1'000'000;
#endif

class ThreadPool : public lanes_test::WorkerCountTest {};

/// Occupies every worker of `pool` until release() (a plain latch: it does not help).
struct Blockers {
  std::latch started;
  std::latch gate{1};
  std::vector<lanes::Future<void>> futures;
  Blockers(lanes::ThreadPoolExecutor& pool, std::size_t n) : started(static_cast<std::ptrdiff_t>(n)) {
    for (std::size_t i = 0; i < n; ++i) {
      futures.push_back(pool.submit([this] {
        started.count_down();
        gate.wait();
      }));
    }
    started.wait();
  }
  void release() {
    gate.count_down();
    for (auto& f : futures) f.result();
  }
};

long fib_seq(int n) { return n < 2 ? n : fib_seq(n - 1) + fib_seq(n - 2); }

long fib_pool(lanes::ThreadPoolExecutor& pool, int n) {
  if (n < 12) return fib_seq(n);
  auto left = pool.submit(fib_pool, std::ref(pool), n - 1);
  const long right = fib_pool(pool, n - 2);
  return left.result() + right;  // helps while it waits
}

TEST_P(ThreadPool, SubmitReturnsTheValue) {
  lanes::ThreadPoolExecutor pool(workers());
  EXPECT_EQ(pool.max_workers(), workers());
  auto f = pool.submit([](int a, int b) { return a * b; }, 6, 7);
  EXPECT_EQ(f.result(), 42);
  EXPECT_TRUE(f.done());
  EXPECT_FALSE(f.cancelled());
}

TEST_P(ThreadPool, SubmitVoidAndMoveOnlyArguments) {
  lanes::ThreadPoolExecutor pool(workers());
  std::atomic<int> seen{0};
  auto f = pool.submit([&seen](std::unique_ptr<int> p) { seen = *p; }, std::make_unique<int>(5));
  f.result();
  EXPECT_EQ(seen.load(), 5);
  auto g = pool.submit([](std::unique_ptr<int> p) { return p; }, std::make_unique<int>(9));
  EXPECT_EQ(*g.result(), 9);
}

TEST_P(ThreadPool, ManyTinyTasks) {
  lanes::ThreadPoolExecutor pool(workers());
  std::vector<lanes::Future<int>> futures;
  futures.reserve(kManyTasks);
  for (int i = 0; i < kManyTasks; ++i) futures.push_back(pool.submit([i] { return i & 7; }));
  long total = 0;
  long expected = 0;
  for (int i = 0; i < kManyTasks; ++i) {
    total += futures[i].result();
    expected += i & 7;
  }
  EXPECT_EQ(total, expected);
}

TEST_P(ThreadPool, ManyTasksFromInsideThePool) {
  lanes::ThreadPoolExecutor pool(workers());
  std::atomic<long> ran{0};
  auto root = pool.submit([&] {
    std::vector<lanes::Future<void>> children;
    for (int i = 0; i < kManyTasks / 10; ++i) children.push_back(pool.submit([&] { ++ran; }));
    for (auto& c : children) c.result();
  });
  root.result();
  EXPECT_EQ(ran.load(), kManyTasks / 10);
}

TEST_P(ThreadPool, ExceptionTravelsThroughResult) {
  lanes::ThreadPoolExecutor pool(workers());
  auto f = pool.submit([]() -> int { throw std::runtime_error("boom"); });
  try {
    f.result();
    FAIL() << "result() did not throw";
  } catch (const std::runtime_error& e) {
    EXPECT_STREQ(e.what(), "boom");
  }
  EXPECT_TRUE(f.done());
  EXPECT_FALSE(f.cancelled());
  EXPECT_NE(f.exception(), nullptr);
}

TEST_P(ThreadPool, CancelBeforeStartMeansNeverRun) {
  lanes::ThreadPoolExecutor pool(workers());
  Blockers blockers(pool, workers());
  std::atomic<bool> ran{false};
  auto victim = pool.submit([&] { ran = true; });
  EXPECT_FALSE(victim.running());
  EXPECT_TRUE(victim.cancel());
  EXPECT_TRUE(victim.cancelled());
  EXPECT_FALSE(victim.cancel());  // already done
  EXPECT_THROW(victim.result(), lanes::CancelledError);
  blockers.release();
  pool.shutdown(true);
  EXPECT_FALSE(ran.load());
}

TEST_P(ThreadPool, StopTokenCancelsARunningTask) {
  lanes::ThreadPoolExecutor pool(workers());
  std::latch started(1);
  std::atomic<bool> saw_stop{false};
  auto f = pool.submit([&](std::stop_token stop) {
    started.count_down();
    std::mutex m;
    std::condition_variable_any cv;
    std::unique_lock lock(m);
    cv.wait(lock, stop, [] { return false; });  // returns once a stop is requested
    saw_stop = stop.stop_requested();
    return 7;
  });
  started.wait();
  EXPECT_TRUE(f.running());
  EXPECT_TRUE(f.cancel());
  EXPECT_THROW(f.result(), lanes::CancelledError);
  EXPECT_TRUE(f.cancelled());
  EXPECT_TRUE(saw_stop.load());
}

TEST_P(ThreadPool, RunningTaskWithoutStopTokenCannotBeCancelled) {
  lanes::ThreadPoolExecutor pool(workers());
  std::latch started(1);
  std::latch gate(1);
  auto f = pool.submit([&] {
    started.count_down();
    gate.wait();
    return 3;
  });
  started.wait();
  EXPECT_FALSE(f.cancel());
  gate.count_down();
  EXPECT_EQ(f.result(), 3);
  EXPECT_FALSE(f.cancelled());
}

TEST_P(ThreadPool, StoppedTaskThatThrowsKeepsItsError) {
  lanes::ThreadPoolExecutor pool(workers());
  std::latch started(1);
  auto f = pool.submit([&](std::stop_token stop) -> int {
    started.count_down();
    std::mutex m;
    std::condition_variable_any cv;
    std::unique_lock lock(m);
    cv.wait(lock, stop, [] { return false; });
    throw std::logic_error("cleanup failed");
  });
  started.wait();
  EXPECT_TRUE(f.cancel());
  EXPECT_THROW(f.result(), std::logic_error);
  EXPECT_FALSE(f.cancelled());
}

TEST_P(ThreadPool, CallableThrowingCancelledErrorEndsCancelled) {
  lanes::ThreadPoolExecutor pool(workers());
  auto f = pool.submit([] { throw lanes::CancelledError(); });
  EXPECT_THROW(f.result(), lanes::CancelledError);
  EXPECT_TRUE(f.cancelled());
}

TEST_P(ThreadPool, ShutdownWaitsForQueuedJobs) {
  std::atomic<int> ran{0};
  lanes::ThreadPoolExecutor pool(workers());
  std::vector<lanes::Future<void>> fs;
  for (int i = 0; i < 1000; ++i) fs.push_back(pool.submit([&] { ++ran; }));
  pool.shutdown(true);
  EXPECT_EQ(ran.load(), 1000);
  for (auto& f : fs) EXPECT_TRUE(f.done());
}

TEST_P(ThreadPool, SubmitAfterShutdownThrows) {
  lanes::ThreadPoolExecutor pool(workers());
  pool.shutdown();
  EXPECT_THROW(pool.submit([] {}), lanes::RuntimeError);
  pool.shutdown();  // idempotent
}

TEST_P(ThreadPool, ShutdownCancelFuturesCancelsQueuedJobs) {
  lanes::ThreadPoolExecutor pool(workers());
  Blockers blockers(pool, workers());
  std::atomic<int> ran{0};
  std::vector<lanes::Future<void>> queued;
  for (int i = 0; i < 100; ++i) queued.push_back(pool.submit([&] { ++ran; }));
  pool.shutdown(false, true);
  for (auto& f : queued) EXPECT_TRUE(f.cancelled());
  blockers.release();
  pool.shutdown(true);
  EXPECT_EQ(ran.load(), 0);
}

TEST_P(ThreadPool, ShutdownCancelFuturesRacesWithSubmit) {
  constexpr int kSubmitters = 3;
  lanes::ThreadPoolExecutor pool(workers());
  std::atomic<int> ran{0};
  std::latch warmed_up(kSubmitters);
  std::vector<std::vector<lanes::Future<void>>> accepted(kSubmitters);
  std::vector<std::thread> submitters;
  for (int t = 0; t < kSubmitters; ++t) {
    submitters.emplace_back([&, t] {
      for (int i = 0;; ++i) {
        if (i == 100) warmed_up.count_down();
        try {
          accepted[t].push_back(pool.submit([&] { ++ran; }));
        } catch (const lanes::RuntimeError&) {
          if (i < 100) warmed_up.count_down();
          return;  // shut down: nothing more is accepted
        }
      }
    });
  }
  warmed_up.wait();
  pool.shutdown(true, true);
  for (auto& t : submitters) t.join();
  int finished = 0;
  int cancelled = 0;
  for (auto& list : accepted) {
    for (auto& f : list) {
      ASSERT_TRUE(f.done());  // nothing accepted is left hanging
      if (f.cancelled()) {
        ++cancelled;
      } else {
        f.result();
        ++finished;
      }
    }
  }
  EXPECT_EQ(finished, ran.load());
  EXPECT_GE(finished + cancelled, 3 * 100);
}

TEST_P(ThreadPool, MapYieldsResultsInInputOrder) {
  lanes::ThreadPoolExecutor pool(workers());
  std::vector<int> inputs;
  for (int i = 0; i < 1000; ++i) inputs.push_back(i);
  for (std::size_t chunk : {std::size_t{1}, std::size_t{7}, std::size_t{5000}}) {
    auto results = pool.map([](int x) { return x * x; }, inputs, std::nullopt, chunk);
    ASSERT_EQ(results.size(), inputs.size());
    std::vector<int> got(results.begin(), results.end());
    ASSERT_EQ(got.size(), inputs.size());
    for (int i = 0; i < 1000; ++i) ASSERT_EQ(got[i], i * i) << "chunksize " << chunk;
  }
}

TEST_P(ThreadPool, MapRethrowsAtTheFailingItem) {
  lanes::ThreadPoolExecutor pool(workers());
  std::vector<int> inputs{1, 2, 3, 4};
  auto results = pool.map(
      [](int x) {
        if (x == 3) throw std::invalid_argument("three");
        return x;
      },
      inputs);
  auto it = results.begin();
  EXPECT_EQ(*it, 1);
  ++it;
  EXPECT_EQ(*it, 2);
  ++it;
  EXPECT_THROW(*it, std::invalid_argument);
  ++it;
  EXPECT_EQ(*it, 4);
}

TEST_P(ThreadPool, MapWithAChunkSizeFailsOnlyTheFailingItem) {
  // Python's thread pool ignores chunksize: every item succeeds or fails alone.
  lanes::ThreadPoolExecutor pool(workers());
  std::vector<int> inputs{1, 2, 3, 4, 5, 6, 7};
  for (std::size_t chunk : {std::size_t{1}, std::size_t{2}, std::size_t{3}, std::size_t{100}}) {
    std::atomic<int> calls{0};
    auto results = pool.map(
        [&calls](int x) {
          ++calls;
          if (x == 3) throw std::invalid_argument("three");
          return x * 10;
        },
        inputs, std::nullopt, chunk);
    auto it = results.begin();
    EXPECT_EQ(*it, 10) << "chunksize " << chunk;
    ++it;
    EXPECT_EQ(*it, 20) << "chunksize " << chunk;
    ++it;
    EXPECT_THROW(*it, std::invalid_argument) << "chunksize " << chunk;
    for (int x = 4; x <= 7; ++x) EXPECT_EQ(*++it, x * 10) << "chunksize " << chunk;
    EXPECT_EQ(calls.load(), 7);
  }
}

TEST_P(ThreadPool, MapWithAChunkSizeDeliversVoidResultsBeforeAFailure) {
  lanes::ThreadPoolExecutor pool(workers());
  std::atomic<int> calls{0};
  auto results = pool.map(
      [&calls](int x) {
        ++calls;
        if (x == 2) throw lanes::ValueError("two");
      },
      std::vector<int>{0, 1, 2, 3}, std::nullopt, 4);
  EXPECT_NO_THROW(results.at(0));
  EXPECT_NO_THROW(results.at(1));
  EXPECT_THROW(results.at(2), lanes::ValueError);
  EXPECT_NO_THROW(results.at(3));
  EXPECT_EQ(calls.load(), 4);
}

TEST_P(ThreadPool, MapTimeoutThrowsTimeoutError) {
  std::latch gate(1);  // outlives the pool, which waits for the job that uses it
  lanes::ThreadPoolExecutor pool(workers());
  std::vector<int> inputs{1};
  auto results = pool.map(
      [&](int x) {
        gate.wait();
        return x;
      },
      inputs, std::chrono::milliseconds(1));
  EXPECT_THROW(*results.begin(), lanes::TimeoutError);
  gate.count_down();
}

TEST_P(ThreadPool, MapOfNothingIsEmpty) {
  lanes::ThreadPoolExecutor pool(workers());
  auto results = pool.map([](int x) { return x; }, std::vector<int>{});
  EXPECT_EQ(results.size(), 0u);
  EXPECT_TRUE(results.begin() == results.end());
  EXPECT_THROW(pool.map([](int x) { return x; }, std::vector<int>{1}, std::nullopt, 0),
               lanes::ValueError);
}

TEST_P(ThreadPool, RecursiveForkJoinDoesNotDeadlock) {
  lanes::ThreadPoolExecutor pool(workers());
  EXPECT_EQ(pool.submit(fib_pool, std::ref(pool), 24).result(), fib_seq(24));
}

TEST_P(ThreadPool, ResultWithTimeoutOnABlockedJob) {
  lanes::ThreadPoolExecutor pool(workers());
  std::latch gate(1);
  auto f = pool.submit([&] { gate.wait(); });
  EXPECT_THROW(f.result(std::chrono::milliseconds(1)), lanes::TimeoutError);
  gate.count_down();
  f.result();
}

TEST_P(ThreadPool, InitializerRunsOnEveryWorker) {
  std::atomic<std::size_t> inits{0};
  {
    lanes::ThreadPoolExecutor pool(lanes::ThreadPoolOptions{workers(), [&] { ++inits; }, {}});
    pool.submit([] {}).result();
  }
  EXPECT_EQ(inits.load(), workers());
}

TEST_P(ThreadPool, FailingInitializerBreaksThePool) {
  lanes::ThreadPoolExecutor pool(lanes::ThreadPoolOptions{
      workers(), [] { throw std::runtime_error("no database"); }, {}});
  // Until some worker fails its initializer, a submit may still be accepted; its
  // future then fails. Either way BrokenThreadPool is what the user sees.
  for (;;) {
    lanes::Future<int> f;
    try {
      f = pool.submit([] { return 1; });
    } catch (const lanes::BrokenThreadPool& e) {
      EXPECT_NE(std::string(e.what()).find("no database"), std::string::npos);
      break;
    }
    EXPECT_THROW(f.result(), lanes::BrokenThreadPool);
  }
}

TEST_P(ThreadPool, WorkersAreNamedAfterThePrefix) {
  lanes::ThreadPoolExecutor pool(lanes::ThreadPoolOptions{workers(), {}, "crunch"});
  auto name = pool.submit([] {
                    char buf[16] = {};
                    pthread_getname_np(pthread_self(), buf, sizeof buf);
                    return std::string(buf);
                  }).result();
  EXPECT_EQ(name.rfind("crunch_", 0), 0u) << name;
}

TEST_P(ThreadPool, ShutdownWithWaitFromItsOwnJobThrows) {
  lanes::ThreadPoolExecutor pool(workers());
  auto f = pool.submit([&] { pool.shutdown(true); });
  EXPECT_THROW(f.result(), lanes::RuntimeError);
}

TEST_P(ThreadPool, DestructorRunsEveryQueuedJob) {
  std::atomic<int> ran{0};
  {
    lanes::ThreadPoolExecutor pool(workers());
    for (int i = 0; i < 500; ++i) (void)pool.submit([&] { ++ran; });
  }
  EXPECT_EQ(ran.load(), 500);
}

// ---- the lock-free job protocol (issue 15): races of start, cancel, callbacks ----------

// cancel() and a worker starting the job race with a CAS each from pending: exactly one
// wins. cancel() true means the callable never runs and the future ends cancelled;
// false means it ran (or runs) and the future gets its value.
TEST_P(ThreadPool, CancelRacingTheStartHasOneWinner) {
  lanes::ThreadPoolExecutor pool(workers());
  constexpr int kJobs = 20'000 / lanes_test::kScale;
  std::vector<std::atomic<int>> ran(kJobs);
  std::vector<lanes::Future<int>> futures;
  futures.reserve(kJobs);
  for (int i = 0; i < kJobs; ++i) futures.push_back(pool.submit([&ran, i] {
    ran[i].fetch_add(1);
    return i;
  }));
  std::vector<bool> cancelled(kJobs);
  for (int i = kJobs - 1; i >= 0; --i) cancelled[i] = futures[i].cancel();  // newest first
  pool.shutdown(true);
  int won = 0;
  for (int i = 0; i < kJobs; ++i) {
    ASSERT_TRUE(futures[i].done());
    if (cancelled[i]) {
      ++won;
      EXPECT_EQ(ran[i].load(), 0) << "job " << i << " ran after cancel() returned true";
      EXPECT_TRUE(futures[i].cancelled());
      EXPECT_THROW(futures[i].result(), lanes::CancelledError);
    } else {
      EXPECT_EQ(ran[i].load(), 1) << "job " << i;
      EXPECT_EQ(futures[i].result(), i);
    }
  }
  // Not a timing assertion: the counts only say the race was exercised when it was.
  RecordProperty("cancelled", won);
}

// A callback added while the job completes: the completer publishes with one CAS when
// no callback was ever added, so add_callback must make that CAS fail or see the done
// status. Every callback runs exactly once either way.
TEST_P(ThreadPool, DoneCallbackAddedWhileTheJobCompletesRunsOnce) {
  lanes::ThreadPoolExecutor pool(workers());
  constexpr int kJobs = 50'000 / lanes_test::kScale;
  std::atomic<long> calls{0};
  std::atomic<long> sum{0};
  std::vector<lanes::Future<int>> futures;
  futures.reserve(kJobs);
  for (int i = 0; i < kJobs; ++i) {
    futures.push_back(pool.submit([i] { return i; }));
    futures.back().add_done_callback([&](lanes::Future<int> f) {
      sum.fetch_add(f.result());
      calls.fetch_add(1);
    });
  }
  for (auto& f : futures) f.result(std::chrono::seconds(60));
  pool.shutdown(true);  // a callback runs on the completing worker, before it is joined
  EXPECT_EQ(calls.load(), kJobs);
  EXPECT_EQ(sum.load(), static_cast<long>(kJobs) * (kJobs - 1) / 2);
}

// Plain threads block in result() (a futex wait announced by a bit of the state word)
// while workers complete the jobs with the lock-free CAS: no wake-up is lost.
TEST_P(ThreadPool, BlockedWaitersAreWokenByTheLockFreeCompletion) {
  lanes::ThreadPoolExecutor pool(workers());
  constexpr int kRounds = 2'000 / lanes_test::kScale;
  std::atomic<int> go{0};
  for (int r = 0; r < kRounds; ++r) {
    auto f = pool.submit([&go, r] {
      while (go.load() < r) std::this_thread::yield();  // until the waiters are in place
      return r;
    });
    std::vector<std::thread> waiters;
    std::atomic<int> ok{0};
    for (int w = 0; w < 2; ++w)
      waiters.emplace_back([&] { ok += f.result(std::chrono::seconds(60)) == r; });
    go.store(r);
    for (auto& t : waiters) t.join();
    ASSERT_EQ(ok.load(), 2) << "round " << r;
  }
}

// Futures dropped at once, before or while their jobs run: the last owner (the job or
// the handle) frees the block exactly once (ASan sees a double free or a leak).
TEST_P(ThreadPool, DroppedFuturesFreeTheirJobsOnce) {
  std::atomic<long> ran{0};
  {
    lanes::ThreadPoolExecutor pool(workers());
    for (int i = 0; i < kManyTasks / 10; ++i) (void)pool.submit([&ran] { ran.fetch_add(1); });
    auto kept = pool.submit([&ran] { return ran.load(); });
    kept.result(std::chrono::seconds(60));
  }
  EXPECT_EQ(ran.load(), kManyTasks / 10);
}

INSTANTIATE_TEST_SUITE_P(Workers, ThreadPool, ::testing::Values(1, 2, 4, 8),
                         lanes_test::worker_count_name);

TEST(ThreadPoolOptions, ZeroWorkersIsRefused) {
  EXPECT_THROW(lanes::ThreadPoolExecutor(std::size_t{0}), lanes::ValueError);
}

TEST(ThreadPoolOptions, DefaultIsPythonsMinOf32AndCoresPlus4) {
  // Python 3.8+: min(32, (os.cpu_count() or 1) + 4).
  const std::size_t cores = std::max(1u, std::thread::hardware_concurrency());
  const std::size_t expected = std::min<std::size_t>(32, cores + 4);
  lanes::ThreadPoolExecutor pool;
  EXPECT_EQ(pool.max_workers(), expected);
  EXPECT_EQ(lanes::ThreadPoolExecutor::default_workers(), expected);
  lanes::ThreadPoolExecutor with_options(lanes::ThreadPoolOptions{});
  EXPECT_EQ(with_options.max_workers(), expected);
}

}  // namespace

// ---- an idle pool uses no CPU ----------------------------------------------------------

class ThreadPoolIdleCpu : public lanes_test::WorkerCountTest {};

// After a burst, the workers' bounded spin ends and they park: over a 3 s window the
// process (workers included) uses no measurable CPU. A spinning worker would use
// about the whole window.
TEST_P(ThreadPoolIdleCpu, IdlePoolUsesNoMeasurableCpu) {
  lanes::ThreadPoolExecutor pool(GetParam());
  std::vector<lanes::Future<int>> futures;
  for (int i = 0; i < 10000; ++i) futures.push_back(pool.submit([i] { return i; }));
  for (auto& f : futures) f.result();
  auto cpu_s = [] {
    timespec ts{};
    ::clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) / 1e9;
  };
  const double before = cpu_s();
  std::this_thread::sleep_for(std::chrono::seconds(3));  // the window measured, no sync
  const double used = cpu_s() - before;
  EXPECT_LT(used, 0.05) << "an idle pool of " << GetParam() << " workers used " << used
                        << " s of CPU in 3 s";
}

INSTANTIATE_TEST_SUITE_P(Workers, ThreadPoolIdleCpu, ::testing::Values(1, 2, 8),
                         lanes_test::worker_count_name);
